package ui

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/steps"
)

type (
	orgsLoadedMsg struct {
		id   uint64
		orgs []steps.Org
		err  error
	}
	spacesLoadedMsg struct {
		id     uint64
		spaces []steps.Space
		err    error
	}
)

const (
	focusRuntime = iota
	focusOrg
	focusSpace
)

// whereModel is screen 5: runtime, Cloud Foundry org and space, all on one
// screen. The orgs and spaces load as soon as the screen opens (reads
// only), with the subaccount's org and the space "dev" (or the last run's)
// selected, so enter accepts the whole screen; tab moves between the three
// choices, which stay changeable.
type whereModel struct {
	screenBase
	e      *env
	report *steps.CheckReport

	runtime picker
	orgs    picker
	spaces  picker
	orgList []steps.Org
	spList  []steps.Space
	spOrg   string // the org spList belongs to
	focus   int

	work   task
	err    error
	accept bool // enter was pressed while loading: go on once loaded

	// From headless flags (all three given: chosen without asking, once)
	// or the last run in this subaccount.
	auto               bool
	prefOrg, prefSpace string
}

func newWhere(e *env, report *steps.CheckReport, rem configdir.Choices) *whereModel {
	p := e.opts.Prefill
	m := &whereModel{e: e, report: report, work: newTask(e),
		prefOrg: cmp.Or(p.Org, rem.Org), prefSpace: cmp.Or(p.Space, rem.Space),
		auto: p.Runtime == steps.RuntimeOther || (p.Runtime != "" && p.Org != "" && p.Space != "")}
	cfNote := "default"
	if report != nil && report.CF == nil {
		cfNote = "not enabled in this subaccount"
	}
	m.runtime = newPicker([]pickItem{
		{label: "Cloud Foundry", note: cfNote},
		{label: "Other", note: "no Cloud Foundry org/space (service manager)"},
	})
	if cmp.Or(p.Runtime, steps.Runtime(rem.Runtime)) == steps.RuntimeOther {
		m.runtime.cursor = 1
	}
	return m
}

func (m *whereModel) id() screen { return screenWhere }

func (m *whereModel) init() tea.Cmd {
	if m.auto && m.rt() == steps.RuntimeOther {
		m.auto = false
		return autoTransition(m, whereChosen{runtime: steps.RuntimeOther})
	}
	return m.loadOrgs()
}

func (m *whereModel) rt() steps.Runtime {
	if m.runtime.cursor == 1 {
		return steps.RuntimeOther
	}
	return steps.RuntimeCF
}

func (m *whereModel) hasCF() bool { return m.report != nil && m.report.CF != nil }

// loadOrgs reads the orgs once Cloud Foundry is the runtime.
func (m *whereModel) loadOrgs() tea.Cmd {
	if m.rt() != steps.RuntimeCF || !m.hasCF() || len(m.orgList) > 0 {
		return nil
	}
	flow, cf := m.e.flow, m.report.CF
	return m.start("Loading Cloud Foundry orgs", func(ctx context.Context, id uint64) tea.Msg {
		orgs, err := flow.Orgs(ctx, cf)
		return orgsLoadedMsg{id: id, orgs: orgs, err: err}
	})
}

// loadSpaces reads the spaces of the selected org (unless shown already).
func (m *whereModel) loadSpaces() tea.Cmd {
	org, ok := m.org()
	if !ok || org.ID == m.spOrg {
		return nil
	}
	m.spList, m.spOrg = nil, ""
	flow := m.e.flow
	return m.start("Loading spaces of "+org.Name, func(ctx context.Context, id uint64) tea.Msg {
		sp, err := flow.Spaces(ctx, org.ID)
		return spacesLoadedMsg{id: id, spaces: sp, err: err}
	})
}

func (m *whereModel) org() (steps.Org, bool) {
	if m.orgs.cursor >= len(m.orgList) {
		return steps.Org{}, false
	}
	return m.orgList[m.orgs.cursor], true
}

// chosen is the screen's answer, or nil while it is not complete.
func (m *whereModel) chosen() transition {
	if m.rt() == steps.RuntimeOther {
		return whereChosen{runtime: steps.RuntimeOther}
	}
	org, ok := m.org()
	if !ok || m.spOrg != org.ID || m.spaces.cursor >= len(m.spList) {
		return nil
	}
	return whereChosen{runtime: steps.RuntimeCF, org: org, space: m.spList[m.spaces.cursor]}
}

func (m *whereModel) start(what string, work func(ctx context.Context, id uint64) tea.Msg) tea.Cmd {
	m.err = nil
	return m.work.start(what, work)
}

func (m *whereModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case orgsLoadedMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		if msg.err != nil {
			m.err = fmt.Errorf("list Cloud Foundry orgs: %w", msg.err)
			return nil, nil
		}
		if len(msg.orgs) == 0 {
			m.err = fmt.Errorf("you cannot see any Cloud Foundry org of this subaccount: ask an org manager to add you (Org Manager or Space Developer)")
			return nil, nil
		}
		m.orgList = msg.orgs
		items := make([]pickItem, len(msg.orgs))
		for i, o := range msg.orgs {
			items[i] = pickItem{label: o.Name}
		}
		m.orgs = newPicker(items)
		m.orgs.setHeight(m.listHeight())
		if !m.orgs.selectLabel(cmp.Or(m.prefOrg, m.report.CF.OrgName)) && m.prefOrg != "" {
			m.orgs.selectLabel(m.report.CF.OrgName)
			m.auto, m.accept = false, false
			m.err = fmt.Errorf("no org named %q that you can see; pick one", m.prefOrg)
		}
		return m.loadSpaces(), nil
	case spacesLoadedMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		org, _ := m.org()
		if msg.err != nil {
			m.err = fmt.Errorf("list spaces: %w", msg.err)
			return nil, nil
		}
		if len(msg.spaces) == 0 {
			m.err = fmt.Errorf("org %s has no space you can see: create one (cf create-space %s -o %s) or ask a space manager", org.Name, steps.DefaultSpace, org.Name)
			return nil, nil
		}
		m.spList, m.spOrg = msg.spaces, org.ID
		items := make([]pickItem, len(msg.spaces))
		for i, s := range msg.spaces {
			items[i] = pickItem{label: s.Name}
		}
		m.spaces = newPicker(items)
		m.spaces.setHeight(m.listHeight())
		if !m.spaces.selectLabel(cmp.Or(m.prefSpace, steps.DefaultSpace)) && m.prefSpace != "" {
			m.spaces.selectLabel(steps.DefaultSpace)
			m.auto, m.accept = false, false
			m.err = fmt.Errorf("no space named %q in org %s; pick one", m.prefSpace, org.Name)
		}
		if m.auto || m.accept {
			m.auto, m.accept = false, false
			return nil, m.chosen()
		}
		return nil, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil, nil
}

func (m *whereModel) key(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	switch {
	case key.Matches(msg, k.Enter):
		if m.rt() == steps.RuntimeCF && !m.hasCF() {
			m.err = fmt.Errorf("this subaccount has no Cloud Foundry environment: enable it in the BTP cockpit (subaccount overview, Enable Cloud Foundry) and run cpikey again, or choose Other")
			return nil, nil
		}
		if t := m.chosen(); t != nil {
			return nil, t
		}
		if m.work.running() {
			m.accept = true // go on as soon as the lists are in
			return nil, nil
		}
		if m.err != nil { // a failed read: enter tries again
			return m.retry(), nil
		}
		return nil, nil
	case key.Matches(msg, k.Back):
		m.work.stop()
		return nil, goBack{}
	case m.err != nil && key.Matches(msg, k.Retry):
		return m.retry(), nil
	case key.Matches(msg, k.Next):
		m.moveFocus(+1)
		return nil, nil
	case key.Matches(msg, k.Prev):
		m.moveFocus(-1)
		return nil, nil
	}
	p := m.focused()
	if p == nil {
		return nil, nil
	}
	before := p.cursor
	if !p.update(msg, k) || p.cursor == before {
		return nil, nil
	}
	m.err, m.accept = nil, false
	switch m.focus {
	case focusRuntime:
		return m.loadOrgs(), nil
	case focusOrg:
		return m.loadSpaces(), nil
	}
	return nil, nil
}

// retry reads again what failed to load.
func (m *whereModel) retry() tea.Cmd {
	m.err = nil
	if len(m.orgList) == 0 {
		return m.loadOrgs()
	}
	m.spOrg = ""
	return m.loadSpaces()
}

// moveFocus goes to the next (or previous) choice on screen.
func (m *whereModel) moveFocus(d int) {
	last := focusRuntime
	if m.rt() == steps.RuntimeCF && len(m.orgList) > 0 {
		last = focusOrg
		if len(m.spList) > 0 {
			last = focusSpace
		}
	}
	m.focus = max(focusRuntime, min(last, m.focus+d))
}

func (m *whereModel) focused() *picker {
	switch m.focus {
	case focusRuntime:
		return &m.runtime
	case focusOrg:
		return &m.orgs
	case focusSpace:
		return &m.spaces
	}
	return nil
}

func (m *whereModel) resume() tea.Cmd {
	m.err, m.accept = nil, false
	if len(m.orgList) == 0 {
		return m.loadOrgs()
	}
	return nil
}

func (m *whereModel) busy() bool { return false } // reads only: esc abandons them

// listHeight gives the focused org or space picker what is left.
func (m *whereModel) listHeight() int { return max(2, m.h-10) }

func (m *whereModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.orgs.setHeight(m.listHeight())
	m.spaces.setHeight(m.listHeight())
}

func (m *whereModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	accept := withHelp(k.Enter, "enter", "accept all")
	short := []key.Binding{accept, withHelp(k.Next, "tab", "next choice"), withHelp(k.Up, m.e.st.g.UpDown, "change"), k.Back}
	if m.err != nil {
		short = append(short, k.Retry)
	}
	return short, [][]key.Binding{{accept, k.Next, k.Prev}, {k.Up, k.Down, k.Page}, {k.Back}}
}

func (m *whereModel) view() string {
	st := m.e.st
	var b strings.Builder
	// section shows a choice: its list when focused, else its value.
	section := func(f int, title string, p *picker, value string) {
		b.WriteString(st.cursor(m.focus == f) + " " + st.Label.Render(title))
		if m.focus == f {
			b.WriteString("\n" + indent(p.view(st, m.w-4, true), 4) + "\n")
		} else {
			b.WriteString("  " + inert(value) + "\n") // an org or space name
		}
	}
	section(focusRuntime, "Runtime", &m.runtime, m.runtime.items[m.runtime.cursor].label)
	if m.rt() == steps.RuntimeCF && m.hasCF() {
		missing := st.Subtle.Render("not loaded")
		if m.work.running() {
			missing = st.Subtle.Render("loading" + st.g.Ellipsis)
		}
		switch org, ok := m.org(); {
		case ok:
			section(focusOrg, "Cloud Foundry org", &m.orgs, org.Name)
		default:
			b.WriteString("  " + st.Label.Render("Cloud Foundry org") + "  " + missing + "\n")
		}
		switch {
		case len(m.spList) > 0 && m.spaces.cursor < len(m.spList):
			section(focusSpace, "Space", &m.spaces, m.spList[m.spaces.cursor].Name)
		default:
			b.WriteString("  " + st.Label.Render("Space") + "  " + missing + "\n")
		}
	}
	b.WriteString("\n")
	switch {
	case m.err != nil:
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
	case m.work.running():
		b.WriteString(m.work.line(st) + "\n")
	case m.chosen() != nil:
		b.WriteString(wrap(st.Subtle.Render("Press enter to accept, tab to change a choice."), m.w, 0) + "\n")
	}
	return b.String()
}
