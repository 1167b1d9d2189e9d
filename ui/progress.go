package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
)

type provisionDoneMsg struct {
	id     uint64
	result *steps.Result
	err    error
}

// stepRow is one line of the progress checklist.
type stepRow struct {
	step    steps.Step
	label   string
	kind    steps.EventKind // "" = not started
	state   string          // the server's state text
	started time.Time
	took    time.Duration
	err     error
}

// progressModel is screen 8: Provision as a checklist with a spinner,
// elapsed time and the server's state text. Finished rows stay.
type progressModel struct {
	screenBase
	e      *env
	target steps.Target
	rows   []*stepRow

	work task
	err  error
}

func newProgress(e *env, t steps.Target) *progressModel {
	m := &progressModel{e: e, target: t, work: newTask(e)}
	m.reset()
	return m
}

func (m *progressModel) reset() {
	t := m.target
	m.rows = []*stepRow{
		{step: steps.StepInstance, label: fmt.Sprintf("Service instance %s (%s)", t.Instance, t.Plan)},
		{step: steps.StepKey, label: "Service key " + t.Key},
		{step: steps.StepReveal, label: "Read the credentials"},
		{step: steps.StepVerify, label: "Get a token with the new client"},
		{step: steps.StepTenant, label: "Call the tenant with the token"},
		{step: steps.StepKeychain, label: "Save the client secret in the OS keychain"},
	}
}

func (m *progressModel) id() screen { return screenProgress }

func (m *progressModel) init() tea.Cmd {
	m.reset()
	m.err = nil
	// Not cancelled by Esc: SAP finishes what it started anyway; a rerun
	// picks it up. Quitting cancels e.ctx, which stops our polling.
	flow, t := m.e.flow, m.target
	return m.work.start("Creating", func(ctx context.Context, id uint64) tea.Msg {
		r, err := flow.Provision(ctx, t)
		return provisionDoneMsg{id: id, result: r, err: err}
	})
}

func (m *progressModel) row(s steps.Step) *stepRow {
	for _, r := range m.rows {
		if r.step == s {
			return r
		}
	}
	r := &stepRow{step: s, label: string(s)}
	m.rows = append(m.rows, r)
	return r
}

func (m *progressModel) apply(ev steps.Event) {
	r := m.row(ev.Step)
	now := m.e.now()
	if ev.Message != "" && ev.Kind != steps.EventFailed {
		r.label = ev.Message // a failure keeps the step's label: its error shows below
	}
	switch ev.Kind {
	case steps.EventStarted:
		r.started, r.state, r.err = now, "", nil
	case steps.EventWaiting:
		if r.started.IsZero() {
			r.started = now.Add(-ev.Elapsed)
		}
		r.state = ev.State
	case steps.EventDone, steps.EventReused, steps.EventSkipped, steps.EventFailed:
		r.took = ev.Elapsed
		if r.took == 0 && !r.started.IsZero() {
			r.took = now.Sub(r.started)
		}
		r.err = ev.Err
	}
	r.kind = ev.Kind
	if ev.Kind != steps.EventWaiting && ev.State != "" {
		r.state = ev.State
	}
}

func (m *progressModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case flowEventsMsg:
		if m.work.running() {
			for _, ev := range msg.events {
				m.apply(ev)
			}
		}
		return nil, nil
	case provisionDoneMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		// Events reported just before Provision returned may still be
		// queued; take them now (never blocks) so the list is complete.
		if r := m.e.opts.Reporter; r != nil {
			for _, ev := range r.take() {
				m.apply(ev)
			}
		}
		if msg.err != nil {
			m.err = msg.err
			return nil, nil
		}
		return nil, provisioned{result: msg.result}
	case tea.KeyMsg:
		k := m.e.keys
		if m.work.running() {
			return nil, nil
		}
		switch {
		case m.err != nil && key.Matches(msg, k.Retry):
			return m.init(), nil
		case m.drift() != nil && key.Matches(msg, k.UpdateRoles):
			m.target.UpdateRoles, m.target.AcceptRoles = true, false
			return m.init(), nil
		case m.drift() != nil && key.Matches(msg, k.AcceptRoles):
			m.target.UpdateRoles, m.target.AcceptRoles = false, true
			return m.init(), nil
		case key.Matches(msg, k.Back):
			return nil, goBack{}
		}
	}
	return nil, nil
}

func (m *progressModel) busy() bool { return m.work.running() }

// pending names what SAP keeps doing if the user quits now.
func (m *progressModel) pending() string {
	if !m.work.running() {
		return ""
	}
	for _, r := range m.rows {
		if r.kind != steps.EventStarted && r.kind != steps.EventWaiting {
			continue
		}
		state := ""
		if r.state != "" {
			state = " (state: " + r.state + ")"
		}
		switch r.step {
		case steps.StepInstance:
			return fmt.Sprintf("SAP is still creating service instance %s%s", m.target.Instance, state)
		case steps.StepKey:
			return fmt.Sprintf("SAP is still creating service key %s%s", m.target.Key, state)
		}
	}
	return ""
}

func (m *progressModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	if m.work.running() {
		return nil, nil
	}
	if m.drift() != nil {
		return []key.Binding{k.UpdateRoles, k.AcceptRoles, withHelp(k.Back, "esc", "another name")}, nil
	}
	return []key.Binding{withHelp(k.Retry, "r", "retry (reuses what exists)"), k.Back}, nil
}

// drift is the run's failure when it is about the instance's roles.
func (m *progressModel) drift() *steps.RolesDriftError {
	var d *steps.RolesDriftError
	if errors.As(m.err, &d) {
		return d
	}
	return nil
}

func elapsed(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func (m *progressModel) view() string {
	st := m.e.st
	var b strings.Builder
	now := m.e.now()
	for _, r := range m.rows {
		var line string
		switch r.kind {
		case "":
			line = st.Subtle.Render(st.g.Pending + " " + r.label)
		case steps.EventStarted, steps.EventWaiting:
			glyph := m.work.spin.View()
			if !m.work.running() {
				glyph = st.Warn.Render(st.g.Warn)
			}
			extra := []string{}
			if r.state != "" {
				extra = append(extra, r.state)
			}
			if !r.started.IsZero() {
				extra = append(extra, elapsed(now.Sub(r.started)))
			}
			line = glyph + " " + r.label
			if len(extra) > 0 {
				line += " " + st.Subtle.Render("("+strings.Join(extra, ", ")+")")
			}
		case steps.EventDone:
			line = st.ok(r.label) + " " + st.Subtle.Render("("+elapsed(r.took)+")")
		case steps.EventReused:
			line = st.ok(r.label) + " " + st.Subtle.Render("(reused)")
		case steps.EventSkipped:
			line = st.Subtle.Render(st.g.Skip+" "+r.label) + " " + st.Subtle.Render("(skipped)")
		case steps.EventFailed:
			line = st.fail(r.label) + " " + st.Subtle.Render("(failed)")
		}
		b.WriteString(wrap(line, m.w, 2) + "\n")
	}
	b.WriteString("\n")
	switch {
	case m.work.running():
		b.WriteString(wrap(st.Subtle.Render("SAP usually needs a minute or two for the instance. Ctrl+C is safe: running cpikey again resumes."), m.w, 0) + "\n")
	case m.drift() != nil:
		d := m.drift()
		b.WriteString(wrap(st.warn(fmt.Sprintf("Instance %s has roles %s; you asked for %s (%s).", d.Instance, roleText(d.Have), roleText(d.Want), d.Difference())), m.w, 2) + "\n\n")
		b.WriteString(wrap(fmt.Sprintf("Press u to give it the requested roles (%s), a to keep its roles, or esc to go back and choose another instance name.", steps.RoleChangeDelay), m.w, 0) + "\n")
	case m.err != nil:
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n\n")
		b.WriteString(wrap("Press r to try again: what already exists is reused. Esc goes back to the review.", m.w, 0) + "\n")
	}
	return b.String()
}
