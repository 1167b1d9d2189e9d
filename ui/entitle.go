package ui

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
)

type entitleDoneMsg struct {
	id  uint64
	err error
}

// entitleModel is screen 4: it assigns the missing plans (confirmed with
// enter on the check screen, which lists them) and follows the assignment
// until SAP reports it OK.
type entitleModel struct {
	screenBase
	e      *env
	report *steps.CheckReport

	work    task
	started bool
	done    bool // assigned; enter goes on again after coming back
	err     error
	last    *steps.Event // latest progress event of the entitle step
	since   int64        // start, unix nanos from env.now
}

func newEntitle(e *env, report *steps.CheckReport) *entitleModel {
	return &entitleModel{e: e, report: report, work: newTask(e)}
}

func (m *entitleModel) id() screen { return screenEntitle }

// init assigns at once: the user confirmed on the check screen.
func (m *entitleModel) init() tea.Cmd { return m.run() }

func (m *entitleModel) run() tea.Cmd {
	m.started, m.err, m.last = true, nil, nil
	m.since = m.e.now().UnixNano()
	// Not cancelled by Esc: once asked, SAP assigns anyway.
	// Entitle updates the report it is given; hand it a copy so View
	// never reads what the Cmd writes.
	rc := *m.report
	rc.MissingPlans = append([]string(nil), m.report.MissingPlans...)
	rc.Plans = append([]steps.PlanStatus(nil), m.report.Plans...)
	rc.Items = append([]steps.CheckItem(nil), m.report.Items...)
	flow := m.e.flow
	return m.work.start("Assigning", func(ctx context.Context, id uint64) tea.Msg {
		return entitleDoneMsg{id: id, err: flow.Entitle(ctx, &rc)}
	})
}

func (m *entitleModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case flowEventsMsg:
		if m.work.running() {
			if ev := lastEvent(msg.events, steps.StepEntitle); ev != nil {
				m.last = ev
			}
		}
		return nil, nil
	case entitleDoneMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		if msg.err != nil {
			m.err = msg.err // the flow's error names the plan
			return nil, nil
		}
		m.done = true
		return nil, entitled{plans: m.report.MissingPlans}
	case tea.KeyMsg:
		k := m.e.keys
		if m.work.running() {
			return nil, nil
		}
		switch {
		case m.done && key.Matches(msg, k.Enter):
			return nil, entitled{plans: m.report.MissingPlans}
		case m.err != nil && (key.Matches(msg, k.Enter) || key.Matches(msg, k.Retry)):
			return m.run(), nil
		case key.Matches(msg, k.Back):
			return nil, goBack{}
		}
	}
	return nil, nil
}

func (m *entitleModel) resume() tea.Cmd { return nil }

func (m *entitleModel) busy() bool { return m.work.running() }

func (m *entitleModel) pending() string {
	if !m.work.running() {
		return ""
	}
	return fmt.Sprintf("SAP is still assigning %s to %s", planList(m.report.MissingPlans), m.report.Subaccount.Name)
}

func (m *entitleModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	switch {
	case m.work.running():
		return nil, nil
	case m.err != nil:
		return []key.Binding{k.Retry, k.Back}, nil
	}
	return []key.Binding{withHelp(k.Enter, "enter", "continue"), k.Back}, nil
}

func (m *entitleModel) view() string {
	st := m.e.st
	var b strings.Builder
	sub := m.report.Subaccount
	b.WriteString(wrap(fmt.Sprintf("Entitlements for subaccount %s (%s):", st.Title.Render(inert(sub.Name)), inert(sub.Subdomain)), m.w, 0) + "\n\n")
	for _, p := range m.report.MissingPlans {
		line := "service " + st.Code.Render(steps.ServiceName) + ", plan " + st.Code.Render(p)
		if m.done {
			b.WriteString("  " + st.ok(line) + "\n")
		} else {
			b.WriteString("  " + st.g.Pending + " " + line + "\n")
		}
	}
	b.WriteString("\n")
	switch {
	case m.work.running():
		what, extra := "Assigning", []string{}
		if m.last != nil {
			what = cmp.Or(m.last.Message, what)
			if m.last.State != "" {
				extra = append(extra, m.last.State)
			}
		}
		extra = append(extra, elapsed(time.Duration(m.e.now().UnixNano()-m.since)))
		line := m.work.spin.View() + " " + what + st.g.Ellipsis + " " + st.Subtle.Render("("+strings.Join(extra, ", ")+")")
		b.WriteString(line + "\n")
	case m.err != nil:
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
		b.WriteString("  " + st.Subtle.Render("Press r to try again, esc to go back.") + "\n")
	case m.done:
		b.WriteString(st.ok("Assigned.") + " Press enter to continue.\n")
	}
	return b.String()
}
