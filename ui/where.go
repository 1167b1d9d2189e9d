package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

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

// whereModel is screen 5: runtime, then Cloud Foundry org and space.
type whereModel struct {
	screenBase
	e      *env
	report *steps.CheckReport

	runtime picker
	orgs    picker
	spaces  picker
	orgList []steps.Org
	spList  []steps.Space
	focus   int

	work task
	err  error

	// From headless flags: chosen without asking (once).
	autoRuntime, autoOrg, autoSpace bool
	prefOrg, prefSpace              string
}

func newWhere(e *env, report *steps.CheckReport) *whereModel {
	p := e.opts.Prefill
	m := &whereModel{e: e, report: report, work: newTask(e),
		prefOrg: p.Org, prefSpace: p.Space,
		autoRuntime: p.Runtime != "", autoOrg: p.Org != "", autoSpace: p.Space != ""}
	cfNote := "default"
	if report != nil && report.CF == nil {
		cfNote = "not enabled in this subaccount"
	}
	m.runtime = newPicker([]pickItem{
		{label: "Cloud Foundry", note: cfNote},
		{label: "Other", note: "no Cloud Foundry org/space (service manager)"},
	})
	if p.Runtime == steps.RuntimeOther {
		m.runtime.cursor = 1
	}
	return m
}

func (m *whereModel) id() screen { return screenWhere }

func (m *whereModel) init() tea.Cmd {
	if m.autoRuntime {
		m.autoRuntime = false
		cmd, t := m.chooseRuntime()
		if t != nil {
			return autoTransition(m, t)
		}
		return cmd
	}
	return nil
}

func (m *whereModel) rt() steps.Runtime {
	if m.runtime.cursor == 1 {
		return steps.RuntimeOther
	}
	return steps.RuntimeCF
}

// chooseRuntime acts on the runtime choice: Other is done, CF loads orgs.
func (m *whereModel) chooseRuntime() (tea.Cmd, transition) {
	if m.rt() == steps.RuntimeOther {
		return nil, whereChosen{runtime: steps.RuntimeOther}
	}
	if m.report == nil || m.report.CF == nil {
		m.err = fmt.Errorf("this subaccount has no Cloud Foundry environment: enable it in the BTP cockpit (subaccount overview, Enable Cloud Foundry) and run cpikey again, or choose Other")
		return nil, nil
	}
	flow, cf := m.e.flow, m.report.CF
	return m.start("Loading Cloud Foundry orgs", func(ctx context.Context, id uint64) tea.Msg {
		orgs, err := flow.Orgs(ctx, cf)
		return orgsLoadedMsg{id: id, orgs: orgs, err: err}
	}), nil
}

func (m *whereModel) chooseOrg() tea.Cmd {
	if m.orgs.cursor >= len(m.orgList) {
		return nil
	}
	org := m.orgList[m.orgs.cursor]
	flow := m.e.flow
	return m.start("Loading spaces of "+org.Name, func(ctx context.Context, id uint64) tea.Msg {
		sp, err := flow.Spaces(ctx, org.ID)
		return spacesLoadedMsg{id: id, spaces: sp, err: err}
	})
}

func (m *whereModel) chosen() transition {
	return whereChosen{runtime: steps.RuntimeCF, org: m.orgList[m.orgs.cursor], space: m.spList[m.spaces.cursor]}
}

func (m *whereModel) start(what string, work func(ctx context.Context, id uint64) tea.Msg) tea.Cmd {
	m.err = nil
	return m.work.start(what, work)
}

func (m *whereModel) stop() { m.work.stop() }

func (m *whereModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case orgsLoadedMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.stop()
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
		want := m.report.CF.OrgName
		if m.prefOrg != "" {
			want = m.prefOrg
		}
		found := m.orgs.selectLabel(want)
		m.focus = focusOrg
		if m.autoOrg {
			m.autoOrg = false
			if found {
				return m.chooseOrg(), nil
			}
			m.err = fmt.Errorf("no org named %q; pick one", m.prefOrg)
		}
		return nil, nil
	case spacesLoadedMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.stop()
		if msg.err != nil {
			m.err = fmt.Errorf("list spaces: %w", msg.err)
			return nil, nil
		}
		if len(msg.spaces) == 0 {
			m.err = fmt.Errorf("org %s has no space you can see: create one (cf create-space %s -o %s) or ask a space manager", m.orgList[m.orgs.cursor].Name, steps.DefaultSpace, m.orgList[m.orgs.cursor].Name)
			return nil, nil
		}
		m.spList = msg.spaces
		items := make([]pickItem, len(msg.spaces))
		for i, s := range msg.spaces {
			items[i] = pickItem{label: s.Name}
		}
		m.spaces = newPicker(items)
		m.spaces.setHeight(m.listHeight())
		want := steps.DefaultSpace
		if m.prefSpace != "" {
			want = m.prefSpace
		}
		found := m.spaces.selectLabel(want)
		m.focus = focusSpace
		if m.autoSpace {
			m.autoSpace = false
			if found {
				return nil, m.chosen()
			}
			m.err = fmt.Errorf("no space named %q in this org; pick one", m.prefSpace)
		}
		return nil, nil
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil, nil
}

func (m *whereModel) key(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	if m.work.running() {
		if key.Matches(msg, k.Back) { // reads only: abandon
			m.stop()
		}
		return nil, nil
	}
	switch {
	case key.Matches(msg, k.Enter):
		m.err = nil
		switch m.focus {
		case focusRuntime:
			return m.chooseRuntime()
		case focusOrg:
			return m.chooseOrg(), nil
		case focusSpace:
			return nil, m.chosen()
		}
	case key.Matches(msg, k.Back):
		m.err = nil
		if m.focus == focusRuntime {
			return nil, goBack{}
		}
		m.focus--
		return nil, nil
	case m.err != nil && key.Matches(msg, k.Retry):
		m.err = nil
		switch m.focus {
		case focusRuntime:
			return m.chooseRuntime()
		case focusOrg:
			return m.chooseOrg(), nil
		}
	}
	p := m.focused()
	if p != nil && p.update(msg, k) {
		m.err = nil
	}
	return nil, nil
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
	m.stop()
	m.err = nil
	return nil
}

// listHeight gives org and space pickers what is left of the screen.
func (m *whereModel) listHeight() int { return max(2, (m.h-9)/2) }

func (m *whereModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.orgs.setHeight(m.listHeight())
	m.spaces.setHeight(m.listHeight())
}

func (m *whereModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	if m.work.running() {
		return []key.Binding{withHelp(k.Back, "esc", "stop")}, nil
	}
	choose := withHelp(k.Enter, "enter", "choose")
	short := []key.Binding{choose, withHelp(k.Up, m.e.st.g.UpDown, "move"), k.Back}
	if m.err != nil && m.focus != focusSpace {
		short = append(short, k.Retry)
	}
	return short, [][]key.Binding{{choose, k.Up, k.Down, k.Page}, {k.Back}}
}

func (m *whereModel) view() string {
	st := m.e.st
	var b strings.Builder
	section := func(f int, title, done string) {
		b.WriteString(st.cursor(m.focus == f && !m.work.running()) + " " + st.Label.Render(title))
		if done != "" && m.focus > f {
			b.WriteString("  " + st.ok(done))
		}
		b.WriteString("\n")
	}
	section(focusRuntime, "Runtime", m.runtime.items[m.runtime.cursor].label)
	if m.focus == focusRuntime {
		b.WriteString(indent(m.runtime.view(st, m.w-4, !m.work.running()), 4) + "\n")
	}
	if m.focus >= focusOrg {
		b.WriteString("\n")
		org := ""
		if m.orgs.cursor < len(m.orgList) {
			org = m.orgList[m.orgs.cursor].Name
		}
		section(focusOrg, "Cloud Foundry org", org)
		if m.focus == focusOrg {
			b.WriteString(indent(m.orgs.view(st, m.w-4, !m.work.running()), 4) + "\n")
		}
	}
	if m.focus >= focusSpace {
		b.WriteString("\n")
		section(focusSpace, "Space", "")
		b.WriteString(indent(m.spaces.view(st, m.w-4, !m.work.running()), 4) + "\n")
	}
	b.WriteString("\n")
	switch {
	case m.work.running():
		b.WriteString(m.work.line(st) + "\n")
	case m.err != nil:
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
	}
	return b.String()
}
