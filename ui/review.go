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

type actionsMsg struct {
	id      uint64
	actions []string
	err     error
	// keychainErr says why the OS keychain cannot take the secret (probed
	// before the run); nil when it can or is not wanted.
	keychainErr error
}

// reviewModel is screen 7: exactly what Provision will do; Enter runs it.
type reviewModel struct {
	screenBase
	e      *env
	target steps.Target
	vp     viewport.Model

	work        task
	actions     []string
	err         error
	keychainErr error
}

func newReview(e *env, t steps.Target) *reviewModel {
	return &reviewModel{e: e, target: t, work: newTask(e), vp: newScroller(e)}
}

func (m *reviewModel) id() screen { return screenReview }

func (m *reviewModel) init() tea.Cmd {
	m.err, m.actions = nil, nil
	flow, t := m.e.flow, m.target
	return m.work.start("Working out what needs doing", func(ctx context.Context, id uint64) tea.Msg {
		var kcErr error
		if !t.NoKeychain {
			// Say the truth before the run: a keychain that cannot take
			// the secret is reported here, not discovered at the end.
			if kcErr = flow.ProbeKeychain(ctx); kcErr != nil {
				t.NoKeychain = true // so the actions do not promise to save it
			}
		}
		a, err := flow.Actions(ctx, t)
		return actionsMsg{id: id, actions: a, err: err, keychainErr: kcErr}
	})
}

func (m *reviewModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case actionsMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.actions, m.err, m.keychainErr = msg.actions, msg.err, msg.keychainErr
		m.refresh()
		return nil, nil
	case tea.KeyMsg:
		k := m.e.keys
		switch {
		case key.Matches(msg, k.Back):
			m.work.stop()
			return nil, goBack{}
		case m.work.running():
		case m.err != nil && key.Matches(msg, k.Retry):
			return m.init(), nil
		case key.Matches(msg, k.Enter):
			if m.err == nil {
				return nil, runRequested{}
			}
		default:
			var cmd tea.Cmd
			m.vp, cmd = m.vp.Update(msg)
			return cmd, nil
		}
	}
	return nil, nil
}

func (m *reviewModel) refresh() {
	st := m.e.st
	t := m.target
	var b strings.Builder
	const labelW = 11
	// Values and actions name what SAP calls things: shown inert.
	row := func(k, v string) {
		b.WriteString(st.Label.Render(fmt.Sprintf("%-*s", labelW, k)) + " " + wrap(inert(v), m.w, labelW+1) + "\n")
	}
	row("Subaccount", fmt.Sprintf("%s (%s, %s)", t.Subaccount.Name, t.Subaccount.Subdomain, t.Subaccount.Region))
	if t.Runtime == steps.RuntimeCF {
		row("Where", fmt.Sprintf("Cloud Foundry org %s, space %s", t.OrgName, t.Space))
	} else {
		row("Where", "Other environment (service manager)")
	}
	row("Plan", steps.ServiceName+" / "+t.Plan)
	row("Roles", strings.Join(t.Roles, ", "))
	row("Instance", t.Instance)
	row("Key", t.Key)
	switch {
	case t.NoKeychain:
		row("Keychain", "not used (--no-keychain): "+secretStillHad)
	case m.keychainErr != nil:
		row("Keychain", fmt.Sprintf("none usable here, so the client secret will not be saved (%v). %s",
			m.keychainErr, sentence(secretStillHad)))
	default:
		row("Keychain", "the client secret is saved in the OS keychain (service "+m.e.keychainService()+")")
	}
	b.WriteString("\n" + st.Label.Render("cpikey will:") + "\n")
	for i, a := range m.actions {
		b.WriteString(wrap(fmt.Sprintf("%2d. %s", i+1, inert(a)), m.w, 4) + "\n")
	}
	m.vp.SetContent(strings.TrimRight(b.String(), "\n"))
}

// secretStillHad says how the secret can be had without a keychain.
const secretStillHad = "you can still get it on the next screen (s shows it, 2 copies it, e exports it), " +
	"or run headless with --json --show-secret"

func (m *reviewModel) resume() tea.Cmd { return m.init() }

func (m *reviewModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.vp.Width, m.vp.Height = w, max(1, h-2)
	m.refresh()
	clampViewport(&m.vp)
}

func (m *reviewModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	if m.work.running() {
		return []key.Binding{k.Back}, nil
	}
	if m.err != nil {
		return []key.Binding{k.Retry, k.Back}, nil
	}
	run := withHelp(k.Enter, "enter", "run")
	return []key.Binding{run, k.Back}, [][]key.Binding{{run, k.Back}, {k.Up, k.Down, k.Page}}
}

func (m *reviewModel) view() string {
	st := m.e.st
	switch {
	case m.work.running():
		return m.work.line(st)
	case m.err != nil:
		return wrap(st.fail(sentence(fmt.Sprintf("work out the actions: %v", m.err))), m.w, 2) + "\n  " + st.Subtle.Render("Press r to try again, esc to go back.")
	}
	return m.vp.View() + "\n" + scrollHint(st, m.vp) + "\n" + "Press enter to run these actions, esc to change something."
}
