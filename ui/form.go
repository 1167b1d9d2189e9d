package ui

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/steps"
)

// existingDebounce is how long typing must pause before the form asks SAP
// whether the names exist.
const existingDebounce = 300 * time.Millisecond

type (
	existingDebounceMsg struct{ id uint64 }
	existingMsg         struct {
		id            uint64
		instance, key string
		ex            *steps.Existing
		err           error
	}
)

const (
	formPlan = iota
	formInstance
	formRoles
	formKey
	formFields
)

const planAPI = itrt.PlanAPI

// formModel is screen 6: plan, instance name, roles, key name.
type formModel struct {
	screenBase
	e    *env
	base steps.Target // subaccount, runtime, org, space

	plan      picker
	instance  textinput.Model
	flowRoles textinput.Model // integration-flow: free text, comma separated
	apiRoles  picker          // api: multi-select of the valid roles
	key       textinput.Model
	keyEdited bool
	focus     int

	// Existing-name lookup, debounced and tagged.
	checkID  uint64
	checking bool
	exFor    [2]string // instance, key the result belongs to
	ex       *steps.Existing
	exErr    error
	cancel   context.CancelFunc

	submitErr error
	auto      bool
}

func newForm(e *env, base steps.Target) *formModel {
	p := e.opts.Prefill
	m := &formModel{e: e, base: base}
	m.plan = newPicker([]pickItem{
		{label: steps.DefaultPlan, note: "call your iFlow endpoints (sender)"},
		{label: planAPI, note: "use the Cloud Integration OData API"},
	})
	if p.Plan == planAPI {
		m.plan.cursor = 1
	}
	m.instance = newInput(steps.DefaultInstance, 64) // longer than allowed, so the reason shows
	m.instance.SetValue(cmp.Or(p.Instance, steps.DefaultInstance))
	m.key = newInput("", 64)
	m.key.SetValue(cmp.Or(p.Key, steps.DefaultKeyName(m.instance.Value())))
	m.keyEdited = p.Key != ""
	m.flowRoles = newInput(steps.DefaultRole, 256)
	m.flowRoles.SetValue(steps.DefaultRole)
	items := make([]pickItem, len(steps.APIRoles))
	for i, r := range steps.APIRoles {
		items[i] = pickItem{label: r}
	}
	m.apiRoles = newPicker(items)
	m.apiRoles.multi = true
	if len(p.Roles) > 0 {
		if p.Plan == planAPI {
			for _, r := range p.Roles {
				m.apiRoles.tickLabel(r)
			}
		} else {
			m.flowRoles.SetValue(strings.Join(p.Roles, ","))
		}
	}
	if len(m.apiRoles.tickedLabels()) == 0 {
		m.apiRoles.tickLabel("MonitoringDataRead")
		m.apiRoles.selectLabel("MonitoringDataRead")
	}
	m.auto = p.Instance != "" && p.Key != "" && p.Plan != ""
	m.setFocus(formPlan)
	return m
}

func (m *formModel) id() screen { return screenForm }

func (m *formModel) init() tea.Cmd {
	if m.auto {
		m.auto = false
		if t := m.submit(); t != nil {
			return autoTransition(m, t)
		}
	}
	return m.scheduleExisting()
}

func (m *formModel) planName() string { return m.plan.items[m.plan.cursor].label }

func (m *formModel) roles() []string {
	if m.planName() == planAPI {
		return m.apiRoles.tickedLabels()
	}
	var out []string
	for _, r := range strings.Split(m.flowRoles.Value(), ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func (m *formModel) setFocus(f int) {
	m.focus = f
	for i, in := range map[int]*textinput.Model{formInstance: &m.instance, formRoles: &m.flowRoles, formKey: &m.key} {
		if i == f {
			in.Focus()
			in.CursorEnd()
		} else {
			in.Blur()
		}
	}
}

// scheduleExisting starts the debounce timer; only the latest one fires a
// lookup.
func (m *formModel) scheduleExisting() tea.Cmd {
	m.checkID = m.e.newID()
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.checking = false
	if steps.ValidateName("instance", m.instance.Value()) != nil {
		return nil
	}
	id := m.checkID
	return tea.Tick(existingDebounce, func(time.Time) tea.Msg { return existingDebounceMsg{id: id} })
}

func (m *formModel) lookup() tea.Cmd {
	t := m.target()
	ctx, cancel := context.WithCancel(m.e.ctx)
	m.cancel = cancel
	m.checking = true
	id, flow := m.checkID, m.e.flow
	return func() tea.Msg {
		ex, err := flow.Existing(ctx, t)
		return existingMsg{id: id, instance: t.Instance, key: t.Key, ex: ex, err: err}
	}
}

func (m *formModel) target() steps.Target {
	t := m.base
	t.Plan = m.planName()
	t.Instance = strings.TrimSpace(m.instance.Value())
	t.Key = strings.TrimSpace(m.key.Value())
	t.Roles = m.roles()
	return t
}

func (m *formModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case existingDebounceMsg:
		if msg.id != m.checkID {
			return nil, nil
		}
		return m.lookup(), nil
	case existingMsg:
		if msg.id != m.checkID {
			return nil, nil
		}
		m.checking, m.cancel = false, nil
		m.ex, m.exErr, m.exFor = msg.ex, msg.err, [2]string{msg.instance, msg.key}
		return nil, nil
	case tea.KeyMsg:
		return m.keyMsg(msg)
	}
	return m.updateInput(msg), nil
}

func (m *formModel) keyMsg(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	m.submitErr = nil
	switch {
	case key.Matches(msg, k.Enter):
		if m.focus == formKey {
			if t := m.submit(); t != nil {
				return nil, t
			}
			return nil, nil
		}
		m.setFocus(m.focus + 1)
		return nil, nil
	case key.Matches(msg, k.Back):
		return nil, goBack{}
	case key.Matches(msg, k.Next):
		m.setFocus(min(formKey, m.focus+1))
		return nil, nil
	case key.Matches(msg, k.Prev):
		m.setFocus(max(formPlan, m.focus-1))
		return nil, nil
	case m.focus == formPlan:
		before := m.plan.cursor
		if m.plan.update(msg, k) && before != m.plan.cursor {
			return m.scheduleExisting(), nil
		}
		return nil, nil
	case m.focus == formRoles && m.planName() == planAPI:
		m.apiRoles.update(msg, k)
		return nil, nil
	case key.Matches(msg, k.Up):
		m.setFocus(max(formPlan, m.focus-1))
		return nil, nil
	case key.Matches(msg, k.Down):
		m.setFocus(min(formKey, m.focus+1))
		return nil, nil
	}
	return m.updateInput(msg), nil
}

func (m *formModel) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	inst, keyName := m.instance.Value(), m.key.Value()
	switch m.focus {
	case formInstance:
		m.instance, cmd = m.instance.Update(msg)
		if !m.keyEdited && m.instance.Value() != inst {
			m.key.SetValue(steps.DefaultKeyName(m.instance.Value()))
		}
	case formRoles:
		m.flowRoles, cmd = m.flowRoles.Update(msg)
	case formKey:
		m.key, cmd = m.key.Update(msg)
		if m.key.Value() != keyName {
			m.keyEdited = true
		}
	default:
		return nil
	}
	if m.instance.Value() != inst || m.key.Value() != keyName {
		return tea.Batch(cmd, m.scheduleExisting())
	}
	return cmd
}

// problems validates every field; the map is field -> reason.
func (m *formModel) problems() map[int]string {
	out := map[int]string{}
	if err := steps.ValidateName("instance", strings.TrimSpace(m.instance.Value())); err != nil {
		out[formInstance] = err.Error()
	}
	if err := steps.ValidateName("key", strings.TrimSpace(m.key.Value())); err != nil {
		out[formKey] = err.Error()
	}
	if err := steps.ValidateRoles(m.planName(), m.roles()); err != nil {
		out[formRoles] = err.Error()
	}
	if ex := m.currentExisting(); ex != nil && ex.InstanceExists && ex.InstancePlan != "" && ex.InstancePlan != m.planName() {
		out[formInstance] = fmt.Sprintf("an instance %q with plan %s exists; choose another name or plan %s", m.instance.Value(), ex.InstancePlan, ex.InstancePlan)
	}
	return out
}

// currentExisting is the lookup result if it is for the names shown now.
func (m *formModel) currentExisting() *steps.Existing {
	if m.ex == nil || m.exFor != [2]string{strings.TrimSpace(m.instance.Value()), strings.TrimSpace(m.key.Value())} {
		return nil
	}
	return m.ex
}

func (m *formModel) submit() transition {
	probs := m.problems()
	for f := formPlan; f < formFields; f++ {
		if _, bad := probs[f]; bad {
			m.setFocus(f)
			m.submitErr = fmt.Errorf("fix the marked field first")
			return nil
		}
	}
	t := formDone{plan: m.planName(), instance: strings.TrimSpace(m.instance.Value()), key: strings.TrimSpace(m.key.Value()), roles: m.roles()}
	if ex := m.currentExisting(); ex != nil && ex.InstanceExists && ex.InstanceState == "failed" {
		t.recreateFailed = true
	}
	return t
}

func (m *formModel) resume() tea.Cmd { return m.scheduleExisting() }

func (m *formModel) typing() bool {
	return m.focus == formInstance || m.focus == formKey || (m.focus == formRoles && m.planName() != planAPI)
}

func (m *formModel) setSize(w, h int) {
	m.w, m.h = w, h
	for _, in := range []*textinput.Model{&m.instance, &m.key, &m.flowRoles} {
		in.Width = max(10, min(40, w-8))
	}
	m.apiRoles.setHeight(max(3, h-16))
}

func (m *formModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	enter := withHelp(k.Enter, "enter", "next")
	if m.focus == formKey {
		enter = withHelp(k.Enter, "enter", "review")
	}
	short := []key.Binding{enter, withHelp(k.Next, "tab", "next field"), k.Back}
	switch {
	case m.focus == formPlan:
		short = append(short, withHelp(k.Up, m.e.st.g.UpDown, "plan"))
	case m.focus == formRoles && m.planName() == planAPI:
		short = append(short, k.Toggle, withHelp(k.Up, m.e.st.g.UpDown, "move"))
	}
	return short, [][]key.Binding{{enter, k.Next, k.Prev, k.Back}, {k.Up, k.Down, k.Toggle, k.Page}}
}

func (m *formModel) view() string {
	st := m.e.st
	probs := m.problems()
	var b strings.Builder
	label := func(f int, text string) {
		b.WriteString(st.cursor(m.focus == f) + " " + st.Label.Render(text) + "\n")
	}
	status := func(f int, good string) {
		if p, bad := probs[f]; bad {
			b.WriteString("    " + wrap(st.fail(p), m.w-4, 6) + "\n")
		} else if good != "" {
			b.WriteString("    " + good + "\n")
		}
	}

	label(formPlan, "Plan")
	b.WriteString(indent(m.plan.view(st, m.w-4, m.focus == formPlan), 4) + "\n\n")

	label(formInstance, "Instance name")
	b.WriteString("    " + m.instance.View() + "\n")
	status(formInstance, m.instanceNote())

	b.WriteString("\n")
	if m.planName() == planAPI {
		label(formRoles, fmt.Sprintf("Roles (%d ticked)", len(m.roles())))
		b.WriteString(indent(m.apiRoles.view(st, m.w-4, m.focus == formRoles), 4) + "\n")
	} else {
		label(formRoles, "Roles (comma separated)")
		b.WriteString("    " + m.flowRoles.View() + "\n")
	}
	status(formRoles, "")

	b.WriteString("\n")
	label(formKey, "Key name")
	b.WriteString("    " + m.key.View() + "\n")
	status(formKey, m.keyNote())

	if m.submitErr != nil {
		b.WriteString("\n" + st.fail(sentence(m.submitErr.Error())) + "\n")
	}
	return b.String()
}

func (m *formModel) instanceNote() string {
	st := m.e.st
	if m.checking {
		return st.Subtle.Render("checking whether it exists" + st.g.Ellipsis)
	}
	if m.exErr != nil && m.exFor[0] == strings.TrimSpace(m.instance.Value()) {
		return st.warn("could not check whether it exists: " + m.exErr.Error())
	}
	ex := m.currentExisting()
	switch {
	case ex == nil:
		return ""
	case !ex.InstanceExists:
		return st.ok("new: will be created")
	case ex.InstanceState == "failed":
		return st.warn("exists but its creation failed: will be deleted and created again")
	}
	state := ex.InstanceState
	if state == "" {
		state = "exists"
	}
	return st.warn(fmt.Sprintf("exists (%s): will be reused", state))
}

func (m *formModel) keyNote() string {
	st := m.e.st
	ex := m.currentExisting()
	switch {
	case ex == nil:
		return ""
	case ex.KeyExists:
		return st.warn("exists: will be reused")
	}
	return st.ok("new: will be created")
}
