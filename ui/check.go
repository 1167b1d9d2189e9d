package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
)

type checkDoneMsg struct {
	id     uint64
	report *steps.CheckReport
	err    error
}

// checkModel is screen 3: what exists and what is missing, as a checklist.
type checkModel struct {
	screenBase
	e       *env
	sub     steps.SubaccountInfo
	plan    string
	runtime steps.Runtime
	vp      viewport.Model

	work   task
	report *steps.CheckReport
	err    error
}

func newCheck(e *env, sub steps.SubaccountInfo, plan string, rt steps.Runtime) *checkModel {
	return &checkModel{e: e, sub: sub, plan: plan, runtime: rt, work: newTask(e), vp: newScroller(e)}
}

// newScroller is a viewport that scrolls with arrows and page keys only,
// leaving letters to the screen.
func newScroller(e *env) viewport.Model {
	vp := viewport.New(0, 0)
	vp.KeyMap = viewport.KeyMap{
		PageDown: e.keys.PgDn, PageUp: e.keys.PgUp,
		Up: e.keys.Up, Down: e.keys.Down,
	}
	return vp
}

func (m *checkModel) id() screen { return screenCheck }

func (m *checkModel) init() tea.Cmd {
	m.err, m.report = nil, nil
	flow, sub, plan, rt := m.e.flow, m.sub, m.plan, m.runtime
	return m.work.start("Checking entitlements, Cloud Foundry and plan visibility", func(ctx context.Context, id uint64) tea.Msg {
		r, err := flow.Check(ctx, sub, plan, rt)
		return checkDoneMsg{id: id, report: r, err: err}
	})
}

// blocker is why the flow cannot go on from here ("" = it can).
func (m *checkModel) blocker() string {
	if m.report == nil {
		return ""
	}
	if b := m.report.Suite.Blocker(); b != "" {
		return sentence(b) + "."
	}
	if !m.report.GlobalAccountHasService && !m.report.Suite.NeedsSetup() {
		return sentence(steps.ErrNoServiceInGlobalAccount.Error()) + "."
	}
	return ""
}

func (m *checkModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case checkDoneMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.report, m.err = msg.report, msg.err
		if m.report != nil && m.blocker() != "" {
			m.err = nil // the report shows it, with what to do
		} else if m.err != nil {
			m.report = nil
		}
		m.refresh()
		return nil, nil
	case tea.KeyMsg:
		k := m.e.keys
		switch {
		case m.work.running():
			if key.Matches(msg, k.Back) { // a read: safe to abandon
				m.work.stop()
				return nil, goBack{}
			}
		case key.Matches(msg, k.Back):
			return nil, goBack{}
		case m.err != nil && key.Matches(msg, k.Retry):
			return m.init(), nil
		case key.Matches(msg, k.Enter):
			if m.report != nil && m.blocker() == "" {
				return nil, checked{report: m.report}
			}
		default:
			var cmd tea.Cmd
			m.vp, cmd = m.vp.Update(msg)
			return cmd, nil
		}
	}
	return nil, nil
}

func (m *checkModel) refresh() {
	st := m.e.st
	var b strings.Builder
	if m.report != nil {
		for _, it := range m.report.Items {
			glyph := st.fail
			if it.OK {
				glyph = st.ok
			}
			b.WriteString(glyph(it.Title) + "\n")
			if it.Detail != "" {
				b.WriteString("  " + wrap(st.Subtle.Render(inert(it.Detail)), m.w, 2) + "\n")
			}
		}
		b.WriteString("\n")
		switch {
		case m.blocker() != "":
			b.WriteString(wrap(st.fail(m.blocker()), m.w, 2) + "\n")
		case m.report.Suite.NeedsSetup():
			b.WriteString(wrap("Press enter to set up SAP Integration Suite first (you see every step before anything is done), esc to go back.", m.w, 0) + "\n")
		case len(m.report.MissingPlans) > 0:
			b.WriteString(wrap(fmt.Sprintf("Press enter to assign %s to %s (needs global account administrator rights), esc to go back.",
				planList(m.report.MissingPlans), inert(m.sub.Name)), m.w, 0) + "\n")
		default:
			b.WriteString(st.ok("Everything needed is in place.") + "\n")
		}
	}
	m.vp.SetContent(strings.TrimRight(b.String(), "\n"))
}

func planList(plans []string) string {
	out := make([]string, len(plans))
	for i, p := range plans {
		out[i] = steps.ServiceName + "/" + p
	}
	return strings.Join(out, " and ")
}

func (m *checkModel) resume() tea.Cmd {
	m.refresh()
	return nil
}

func (m *checkModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.vp.Width, m.vp.Height = w, max(1, h-3)
	m.refresh()
	clampViewport(&m.vp)
}

func (m *checkModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	if m.work.running() {
		return []key.Binding{k.Back}, nil
	}
	if m.err != nil {
		return []key.Binding{k.Retry, k.Back}, nil
	}
	if m.blocker() != "" {
		return []key.Binding{k.Back}, nil
	}
	enter := k.Enter
	switch {
	case m.report != nil && m.report.Suite.NeedsSetup():
		enter = withHelp(k.Enter, "enter", "set up Integration Suite")
	case m.report != nil && len(m.report.MissingPlans) > 0:
		enter = withHelp(k.Enter, "enter", "assign")
	}
	return []key.Binding{enter, k.Back}, [][]key.Binding{{enter, k.Back}, {k.Up, k.Down, k.Page}}
}

func (m *checkModel) view() string {
	st := m.e.st
	head := fmt.Sprintf("Subaccount %s (%s, %s)", st.Title.Render(inert(m.sub.Name)), inert(m.sub.Subdomain), inert(m.sub.Region))
	switch {
	case m.work.running():
		return head + "\n\n" + m.work.line(st)
	case m.err != nil:
		return head + "\n\n" + wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n  " + st.Subtle.Render("Press r to try again.")
	}
	return head + "\n\n" + m.vp.View() + "\n" + scrollHint(st, m.vp)
}

// clampViewport keeps a viewport's content on screen after a resize: a
// taller window shows the lines that were scrolled off above instead of
// blank lines below.
func clampViewport(vp *viewport.Model) {
	if vp.PastBottom() {
		vp.GotoBottom()
	}
}

// scrollHint tells that a viewport has more below (or above).
func scrollHint(st *styles, vp viewport.Model) string {
	switch {
	case !vp.AtBottom():
		return st.Subtle.Render("more below: " + st.g.Down + " / pgdn")
	case !vp.AtTop():
		return st.Subtle.Render("end; " + st.g.Up + " / pgup scrolls back")
	}
	return ""
}
