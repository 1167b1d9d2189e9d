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
	"github.com/cpikey/cpikey/configdir"
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
	instancesMsg struct {
		id        uint64
		instances []steps.InstanceChoice
		err       error
	}
)

const (
	formPlan = iota
	formInstance
	formRoles
	formKey
	formDrift // only while the instance to reuse has other roles
	formKeyType
	formCertA // certificate types only (form_keytype.go)
	formCertB
	formFields
)

const planAPI = itrt.PlanAPI

// Drift choices (the formDrift picker's rows).
const (
	driftUpdate = iota
	driftKeep
)

// formModel is screen 6: plan, instance, roles, key, key type. The instance and key
// fields offer what already exists in the space (or Service Manager)
// besides a new name; an instance whose roles differ from the requested
// ones asks whether to update its roles or keep them. Enter accepts the
// screen once every field is valid.
type formModel struct {
	screenBase
	e    *env
	base steps.Target // subaccount, runtime, org, space

	plan      picker
	instance  combo
	flowRoles textinput.Model // integration-flow: free text, comma separated
	apiRoles  picker          // api: multi-select of the valid roles
	key       combo
	keyEdited bool
	drift     picker
	driftSet  bool // the user chose in the drift picker
	keyType   keyTypeFields
	focus     int
	loadID    uint64 // the external certificate's files being read

	// What exists where the instance goes (listed once per screen).
	list      task
	instances []steps.InstanceChoice
	listErr   error

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

func newForm(e *env, base steps.Target, rem configdir.Choices) *formModel {
	p := e.opts.Prefill
	m := &formModel{e: e, base: base, list: newTask(e)}
	m.plan = newPicker([]pickItem{
		{label: steps.DefaultPlan, note: "call your iFlow endpoints (sender)"},
		{label: planAPI, note: "use the Cloud Integration OData API"},
	})
	// Flags first, then the last run in this subaccount, then defaults.
	if cmp.Or(p.Plan, rem.Plan) == planAPI {
		m.plan.cursor = 1
	}
	m.instance = newCombo(steps.DefaultInstance, 64) // longer than allowed, so the reason shows
	instance := cmp.Or(p.Instance, rem.Instance, steps.DefaultInstance)
	m.instance.setText(instance)
	m.key = newCombo("", 64)
	keyName := cmp.Or(p.Key, rem.Key)
	m.keyEdited = keyName != "" && keyName != steps.DefaultKeyName(instance)
	m.key.setText(cmp.Or(keyName, steps.DefaultKeyName(instance)))
	m.flowRoles = newInput(steps.DefaultRole, 256)
	m.flowRoles.SetValue(steps.DefaultRole)
	items := make([]pickItem, len(steps.APIRoles))
	for i, r := range steps.APIRoles {
		items[i] = pickItem{label: r}
	}
	m.apiRoles = newPicker(items)
	m.apiRoles.multi = true
	roles := p.Roles
	if len(roles) == 0 && rem.Plan == m.planName() {
		roles = rem.Roles
	}
	if len(roles) > 0 {
		if m.planName() == planAPI {
			for _, r := range roles {
				m.apiRoles.tickLabel(r)
			}
		} else {
			m.flowRoles.SetValue(strings.Join(roles, ","))
		}
	}
	if len(m.apiRoles.tickedLabels()) == 0 {
		m.apiRoles.tickLabel("MonitoringDataRead")
		m.apiRoles.selectLabel("MonitoringDataRead")
	}
	m.drift = newPicker([]pickItem{{label: "Update the instance's roles"}, {label: "Keep its roles"}})
	m.keyType = newKeyTypeFields(p.KeySpec)
	m.auto = p.Instance != "" && p.Key != "" && p.Plan != ""
	m.setFocus(formPlan)
	return m
}

func (m *formModel) id() screen { return screenForm }

func (m *formModel) init() tea.Cmd {
	if m.auto {
		m.auto = false
		cmd, t := m.submit()
		if t != nil {
			return autoTransition(m, t)
		}
		if cmd != nil {
			return cmd
		}
	}
	return tea.Batch(m.loadInstances(), m.scheduleExisting())
}

// loadInstances lists the it-rt instances (and keys) the space already has.
func (m *formModel) loadInstances() tea.Cmd {
	flow, t := m.e.flow, m.base
	return m.list.start("Looking for existing instances", func(ctx context.Context, id uint64) tea.Msg {
		if flow == nil {
			return instancesMsg{id: id}
		}
		list, err := flow.Instances(ctx, t)
		return instancesMsg{id: id, instances: list, err: err}
	})
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
	if f == formDrift && m.rolesDrift() == nil {
		f = formKey
		if m.focus < formDrift {
			f = formKeyType // on the way down
		}
	}
	m.focus = f
	m.instance.focus(f == formInstance)
	m.key.focus(f == formKey)
	for i, in := range map[int]*textinput.Model{formCertA: &m.keyType.a, formCertB: &m.keyType.b} {
		if i == f {
			in.Focus()
			in.CursorEnd()
		} else {
			in.Blur()
		}
	}
	if f == formRoles {
		m.flowRoles.Focus()
		m.flowRoles.CursorEnd()
	} else {
		m.flowRoles.Blur()
	}
}

// lastField is the bottom field shown now.
func (m *formModel) lastField() int { return m.keyType.lastField() }

// instanceChoice is the existing instance of that name, if listed.
func (m *formModel) instanceChoice(name string) *steps.InstanceChoice {
	for i := range m.instances {
		if m.instances[i].Name == name {
			return &m.instances[i]
		}
	}
	return nil
}

// instanceChanged follows a new instance value: the plan of an existing
// instance, its keys as the key field's options, and the derived key name.
func (m *formModel) instanceChanged() tea.Cmd {
	name := m.instance.value()
	var keys []pickItem
	if ch := m.instanceChoice(name); ch != nil {
		if ch.Plan != "" && ch.Plan != m.planName() {
			m.plan.selectLabel(ch.Plan)
		}
		for _, k := range ch.Keys {
			keys = append(keys, pickItem{label: k, note: "exists"})
		}
	}
	keyName := m.key.value()
	if !m.keyEdited {
		keyName = steps.DefaultKeyName(name)
	}
	m.key.setOptions(keys)
	if !m.key.pick(keyName) {
		m.key.setText(keyName)
	}
	m.key.focus(m.focus == formKey)
	m.driftSet = false
	return m.scheduleExisting()
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
	if steps.ValidateName("instance", m.instance.value()) != nil {
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
	t.Instance = m.instance.value()
	t.Key = m.key.value()
	t.Roles = m.roles()
	return t
}

func (m *formModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case instancesMsg:
		if !m.list.owns(msg.id) {
			return nil, nil
		}
		m.instances, m.listErr = msg.instances, msg.err
		items := make([]pickItem, len(msg.instances))
		for i, in := range msg.instances {
			items[i] = pickItem{label: in.Name, note: instanceNote(in)}
		}
		typed := m.instance.value()
		m.instance.setOptions(items)
		if !m.instance.picked() && m.instance.pick(typed) {
			return m.instanceChanged(), nil
		}
		return nil, nil
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
	case certFilesMsg:
		if msg.id != m.loadID {
			return nil, nil
		}
		m.loadID = 0
		if msg.err != nil {
			m.setFocus(formCertA)
			m.submitErr = msg.err
			return nil, nil
		}
		return nil, m.done(msg.spec)
	case tea.KeyMsg:
		return m.keyMsg(msg)
	}
	return m.updateInput(msg), nil
}

// instanceNote sums up an existing instance for its row.
func instanceNote(in steps.InstanceChoice) string {
	parts := []string{cmp.Or(in.Plan, "it-rt")}
	if in.State != "" && in.State != "succeeded" {
		parts = append(parts, in.State)
	}
	switch len(in.Keys) {
	case 0:
		parts = append(parts, "no keys")
	case 1:
		parts = append(parts, "key "+in.Keys[0])
	default:
		parts = append(parts, fmt.Sprintf("%d keys", len(in.Keys)))
	}
	return strings.Join(parts, " · ")
}

func (m *formModel) keyMsg(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	m.submitErr = nil
	switch {
	case key.Matches(msg, k.Enter):
		if m.focus == formDrift {
			m.driftSet = true
		}
		// Enter accepts the screen once every field is valid; until then
		// it goes to the first field that is not.
		return m.submit()
	case key.Matches(msg, k.Back):
		return nil, goBack{}
	case key.Matches(msg, k.Next):
		m.setFocus(min(m.lastField(), m.focus+1))
		return nil, nil
	case key.Matches(msg, k.Prev):
		m.setFocus(max(formPlan, m.focus-1))
		return nil, nil
	case m.focus == formPlan:
		before := m.plan.cursor
		if m.plan.update(msg, k) && before != m.plan.cursor {
			m.driftSet = false
			return m.scheduleExisting(), nil
		}
		if key.Matches(msg, k.Down) {
			m.setFocus(formInstance)
		}
		return nil, nil
	case m.focus == formRoles && m.planName() == planAPI:
		if !m.apiRoles.update(msg, k) && key.Matches(msg, k.Up) {
			m.setFocus(formInstance)
		}
		m.driftSet = false
		return nil, nil
	case m.focus == formDrift:
		if m.drift.update(msg, k) {
			m.driftSet = true
		} else if key.Matches(msg, k.Up) {
			m.setFocus(formKey)
		}
		return nil, nil
	case m.focus == formKeyType:
		before := m.keyType.kind.cursor
		switch {
		case m.keyType.kind.update(msg, k) && before != m.keyType.kind.cursor:
			m.keyType.setDefaults()
		case key.Matches(msg, k.Up):
			m.setFocus(formDrift)
		case key.Matches(msg, k.Down):
			m.setFocus(min(m.lastField(), formCertA))
		}
		return nil, nil
	case key.Matches(msg, k.Up), key.Matches(msg, k.Down):
		d := 1
		if key.Matches(msg, k.Up) {
			d = -1
		}
		switch c := m.focusedCombo(); {
		case c != nil && c.move(d):
			c.focus(true)
			if c == &m.instance {
				return m.instanceChanged(), nil
			}
			m.keyEdited = m.key.value() != steps.DefaultKeyName(m.instance.value())
			m.driftSet = false
			return m.scheduleExisting(), nil
		default:
			m.setFocus(max(formPlan, min(m.lastField(), m.focus+d)))
		}
		return nil, nil
	}
	return m.updateInput(msg), nil
}

func (m *formModel) focusedCombo() *combo {
	switch m.focus {
	case formInstance:
		return &m.instance
	case formKey:
		return &m.key
	}
	return nil
}

func (m *formModel) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	inst, keyName, roles := m.instance.value(), m.key.value(), m.flowRoles.Value()
	switch m.focus {
	case formInstance:
		cmd = m.instance.update(msg, m.e.keys)
		m.instance.focus(true)
		if m.instance.value() != inst {
			return tea.Batch(cmd, m.instanceChanged())
		}
		return cmd
	case formRoles:
		m.flowRoles, cmd = m.flowRoles.Update(msg)
		if m.flowRoles.Value() != roles {
			m.driftSet = false
		}
		return cmd
	case formKey:
		cmd = m.key.update(msg, m.e.keys)
		m.key.focus(true)
		if m.key.value() != keyName {
			m.keyEdited = true
			return tea.Batch(cmd, m.scheduleExisting())
		}
		return cmd
	case formCertA:
		m.keyType.a, cmd = m.keyType.a.Update(msg)
		return cmd
	case formCertB:
		m.keyType.b, cmd = m.keyType.b.Update(msg)
		return cmd
	}
	return nil
}

// rolesDrift is the difference between the requested roles and those of
// the existing instance to reuse, nil when they agree or are not known.
func (m *formModel) rolesDrift() *steps.RolesDriftError {
	ex := m.currentExisting()
	if ex == nil || !ex.InstanceExists || !ex.RolesKnown {
		return nil
	}
	return steps.RolesDrift(m.instance.value(), m.roles(), ex.InstanceRoles)
}

// problems validates every field; the map is field -> reason.
func (m *formModel) problems() map[int]string {
	out := map[int]string{}
	if err := steps.ValidateName("instance", m.instance.value()); err != nil {
		out[formInstance] = err.Error()
	}
	if err := steps.ValidateName("key", m.key.value()); err != nil {
		out[formKey] = err.Error()
	}
	if err := steps.ValidateRoles(m.planName(), m.roles()); err != nil {
		out[formRoles] = err.Error()
	}
	if ex := m.currentExisting(); ex != nil && ex.InstanceExists && ex.InstancePlan != "" && ex.InstancePlan != m.planName() {
		out[formInstance] = fmt.Sprintf("an instance %q with plan %s exists; choose another name or plan %s", m.instance.value(), ex.InstancePlan, ex.InstancePlan)
	}
	if d := m.rolesDrift(); d != nil && !m.driftSet {
		out[formDrift] = "choose: update the instance's roles, or keep them (or type another instance name above)"
	}
	m.keyType.problems(m.planName(), out)
	return out
}

// currentExisting is the lookup result if it is for the names shown now.
func (m *formModel) currentExisting() *steps.Existing {
	if m.ex == nil || m.exFor != [2]string{m.instance.value(), m.key.value()} {
		return nil
	}
	return m.ex
}

// submit checks the fields and finishes the form, or starts reading an
// external certificate's files (done follows their certFilesMsg).
func (m *formModel) submit() (tea.Cmd, transition) {
	probs := m.problems()
	for f := formPlan; f < formFields; f++ {
		if _, bad := probs[f]; bad {
			m.setFocus(f)
			m.submitErr = fmt.Errorf("fix the marked field first")
			return nil, nil
		}
	}
	spec, ready := m.keyType.spec()
	if !ready {
		m.loadID = m.e.newID()
		return m.keyType.load(m.loadID, m.planName()), nil
	}
	if err := spec.ValidatePending(m.planName(), time.Now()); err != nil {
		m.submitErr = err
		return nil, nil
	}
	return nil, m.done(spec)
}

func (m *formModel) done(spec steps.KeySpec) transition {
	t := formDone{plan: m.planName(), instance: m.instance.value(), key: m.key.value(), roles: m.roles(), keySpec: spec}
	if ex := m.currentExisting(); ex != nil && ex.InstanceExists && ex.InstanceState == "failed" {
		t.recreateFailed = true
	}
	if m.rolesDrift() != nil {
		t.updateRoles, t.acceptRoles = m.drift.cursor == driftUpdate, m.drift.cursor == driftKeep
	}
	return t
}

func (m *formModel) resume() tea.Cmd { return m.scheduleExisting() }

func (m *formModel) typing() bool {
	return (m.focus == formInstance && !m.instance.picked()) || (m.focus == formKey && !m.key.picked()) ||
		(m.focus == formRoles && m.planName() != planAPI) || m.focus == formCertA || m.focus == formCertB
}

func (m *formModel) setSize(w, h int) {
	m.w, m.h = w, h
	for _, in := range []*textinput.Model{&m.instance.in, &m.key.in, &m.flowRoles, &m.keyType.a, &m.keyType.b} {
		in.Width = max(10, min(40, w-12))
	}
	rows := max(1, (h-14)/2)
	m.instance.height, m.key.height = rows, rows
	m.instance.scroll()
	m.key.scroll()
	m.apiRoles.setHeight(max(3, h-16))
}

func (m *formModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	enter := withHelp(k.Enter, "enter", "review")
	short := []key.Binding{enter, withHelp(k.Next, "tab", "next field"), k.Back}
	switch {
	case m.focus == formPlan:
		short = append(short, withHelp(k.Up, m.e.st.g.UpDown, "plan"))
	case m.focus == formKeyType:
		short = append(short, withHelp(k.Up, m.e.st.g.UpDown, "key type"))
	case m.focus == formRoles && m.planName() == planAPI:
		short = append(short, k.Toggle, withHelp(k.Up, m.e.st.g.UpDown, "move"))
	case m.focusedCombo() != nil && len(m.focusedCombo().options) > 0:
		short = append(short, withHelp(k.Up, m.e.st.g.UpDown, "existing"))
	}
	return short, [][]key.Binding{{enter, k.Next, k.Prev, k.Back}, {k.Up, k.Down, k.Toggle, k.Page}}
}

func (m *formModel) view() string {
	st := m.e.st
	probs := m.problems()
	var b strings.Builder
	focusLine := 0
	label := func(f int, text string) {
		if m.focus == f {
			focusLine = strings.Count(b.String(), "\n")
		}
		b.WriteString(st.cursor(m.focus == f) + " " + st.Label.Render(text) + "\n")
	}
	status := func(f int, good string) {
		if p, bad := probs[f]; bad {
			b.WriteString("    " + wrap(st.fail(p), m.w-4, 6) + "\n")
		} else if good != "" {
			b.WriteString("    " + wrap(good, m.w-4, 4) + "\n")
		}
	}

	label(formPlan, "Plan")
	b.WriteString(indent(m.plan.view(st, m.w-4, m.focus == formPlan), 4) + "\n\n")

	instTitle := "Instance name"
	if len(m.instances) > 0 {
		instTitle = "Instance: a new name, or one that exists here"
	}
	label(formInstance, instTitle)
	b.WriteString(indent(m.instance.view(st, m.w-4, m.focus == formInstance, ""), 4) + "\n")
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
	b.WriteString(indent(m.key.view(st, m.w-4, m.focus == formKey, ""), 4) + "\n")
	status(formKey, m.keyNote())

	if d := m.rolesDrift(); d != nil {
		b.WriteString("\n")
		label(formDrift, "Roles differ")
		b.WriteString("    " + wrap(st.warn(fmt.Sprintf("instance %s has roles %s; you asked for %s (%s)",
			d.Instance, roleText(d.Have), roleText(d.Want), d.Difference())), m.w-4, 4) + "\n")
		m.drift.items[driftUpdate].note = "to " + roleText(d.Want)
		m.drift.items[driftKeep].note = roleText(d.Have)
		b.WriteString(indent(m.drift.view(st, m.w-4, m.focus == formDrift), 4) + "\n")
		b.WriteString("    " + wrap(st.Subtle.Render(steps.RoleChangeDelay+"."), m.w-4, 4) + "\n")
		status(formDrift, "")
	}

	b.WriteString("\n")
	label(formKeyType, "Key type")
	b.WriteString(indent(m.keyType.kind.view(st, m.w-4, m.focus == formKeyType), 4) + "\n")
	if m.keyType.typ() != steps.KeyTypeSecret {
		la, lb := m.keyType.labels()
		label(formCertA, la)
		b.WriteString("    " + m.keyType.a.View() + "\n")
		status(formCertA, m.preNote())
		label(formCertB, lb)
		b.WriteString("    " + m.keyType.b.View() + "\n")
		status(formCertB, "")
	}
	if m.loadID != 0 {
		b.WriteString("\n" + st.Subtle.Render("reading the certificate files"+st.g.Ellipsis) + "\n")
	}

	if m.submitErr != nil {
		b.WriteString("\n" + st.fail(sentence(m.submitErr.Error())) + "\n")
	}
	return cropAround(st, b.String(), focusLine, m.h)
}

// cropAround keeps a form taller than h lines usable: it shows the h lines
// around the focused field's label (and a few lines of that field), with a
// hint where more is above or below.
func cropAround(st *styles, s string, focus, h int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if h <= 2 || len(lines) <= h {
		return s
	}
	end := min(len(lines), max(h, focus+8))
	start := max(0, end-h)
	win := append([]string(nil), lines[start:end]...)
	if start > 0 {
		win[0] = st.Subtle.Render("  " + st.g.Up + " more above")
	}
	if end < len(lines) {
		win[len(win)-1] = st.Subtle.Render("  " + st.g.Down + " more below")
	}
	return strings.Join(win, "\n")
}

// preNote says an external certificate came with the flags.
func (m *formModel) preNote() string {
	if m.keyType.typ() == steps.KeyTypeExternal && m.keyType.pre.Certificate != "" && strings.TrimSpace(m.keyType.a.Value()) == "" {
		return m.e.st.ok("the certificate given with --cert")
	}
	return ""
}

func roleText(roles []string) string {
	if len(roles) == 0 {
		return "(none)"
	}
	return strings.Join(roles, ", ")
}

func (m *formModel) instanceNote() string {
	st := m.e.st
	if m.checking {
		return st.Subtle.Render("checking whether it exists" + st.g.Ellipsis)
	}
	if m.exErr != nil && m.exFor[0] == m.instance.value() {
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
	state := cmp.Or(ex.InstanceState, "exists")
	note := fmt.Sprintf("exists (%s): will be reused", state)
	if ex.RolesKnown {
		note += ", roles " + roleText(ex.InstanceRoles)
	}
	return st.warn(note)
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
