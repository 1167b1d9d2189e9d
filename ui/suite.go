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
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/steps"
)

// The SAP Integration Suite screen: a detour between check and entitle,
// shown only when Integration Suite is missing in the subaccount. It lists
// what cpikey will do (the user confirms, and picks the plan when the
// global account has several), does it with progress, then guides the
// browser step and waits for the activation (a check every few seconds, or
// at once on enter), offers the consultant's PI_* role collections, and
// hands back to the check screen, which checks again and goes on.

// screenSuite counts as part of the check step in the header.
func (s screen) step() int {
	if s == screenSuite {
		return int(screenCheck) + 1
	}
	return int(s) + 1
}

// activationPoll is how often the browser step looks for the activation.
const activationPoll = 5 * time.Second

type suiteStage int

const (
	suiteConfirm   suiteStage = iota // the actions, enter to do them
	suiteRunning                     // SetupSuite runs
	suiteBrowser                     // the user activates; cpikey waits
	suiteRoles                       // activated: offer the PI_* collections
	suiteAssigning                   // assigning them
)

type (
	suiteSetupMsg struct {
		id    uint64
		suite *steps.SuiteReport
		err   error
	}
	suiteActivationMsg struct {
		id  uint64
		pi  []string
		err error
	}
	suiteRolesMsg struct {
		id      uint64
		missing []string
		err     error
	}
	suiteAssignedMsg struct {
		id  uint64
		err error
	}
	suiteBrowserMsg struct{ err error }
	suitePollMsg    struct{ seq int }
)

var (
	suiteKeyOpen = key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "open in browser"))
	suiteKeySkip = key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip"))
)

type suiteModel struct {
	screenBase
	e      *env
	report *steps.CheckReport
	suite  *steps.SuiteReport

	stage suiteStage
	plans []string // choices; plan is the cursor
	plan  int

	work  task
	err   error
	last  *steps.Event // latest progress event while setting up
	since int64

	// browser step
	opened     bool
	browserErr error
	pollSeq    int       // tags the periodic re-check, so only the last timer counts
	checkedAt  time.Time // last activation check
	checkErr   error

	missing  []string // PI_* collections the user lacks (roles stage)
	rolesErr error
}

func newSuite(e *env, r *steps.CheckReport) *suiteModel {
	m := &suiteModel{e: e, report: r, suite: r.Suite, work: newTask(e), plans: r.Suite.PlanChoices()}
	return m
}

func (m *suiteModel) id() screen { return screenSuite }

func (m *suiteModel) sub() steps.SubaccountInfo { return m.report.Subaccount }

func (m *suiteModel) chosenPlan() string {
	if len(m.plans) == 0 {
		return ""
	}
	return m.plans[m.plan]
}

func (m *suiteModel) actions() []steps.SuiteAction { return m.suite.Actions(m.chosenPlan()) }

// init starts at the first step not done: with nothing left that an API
// can do, at the browser step.
func (m *suiteModel) init() tea.Cmd {
	m.err = nil
	if len(m.actions()) == 0 {
		return m.toBrowser()
	}
	m.stage = suiteConfirm
	return nil
}

func (m *suiteModel) run() tea.Cmd {
	m.stage, m.err, m.last = suiteRunning, nil, nil
	m.since = m.e.now().UnixNano()
	flow, sub, s, plan := m.e.flow, m.sub(), m.suite, m.chosenPlan()
	return m.work.start("Setting up SAP Integration Suite", func(ctx context.Context, id uint64) tea.Msg {
		got, err := flow.SetupSuite(ctx, sub, s, plan)
		return suiteSetupMsg{id: id, suite: got, err: err}
	})
}

// toBrowser shows the browser step, opens the page once and starts
// looking for the activation.
func (m *suiteModel) toBrowser() tea.Cmd {
	m.stage = suiteBrowser
	cmds := []tea.Cmd{m.checkActivation()}
	if !m.opened && m.suite.URL != "" {
		cmds = append(cmds, m.openBrowser())
	}
	return tea.Batch(cmds...)
}

func (m *suiteModel) openBrowser() tea.Cmd {
	m.opened = true
	b, url := m.e.opts.Browser, m.suite.URL
	if b == nil {
		return func() tea.Msg { return suiteBrowserMsg{err: fmt.Errorf("no browser configured")} }
	}
	return func() tea.Msg { return suiteBrowserMsg{err: b.Open(url)} }
}

// checkActivation reads the role collections once (a read: safe to drop).
func (m *suiteModel) checkActivation() tea.Cmd {
	flow, sub := m.e.flow, m.sub()
	return m.work.start("Looking for the activation", func(ctx context.Context, id uint64) tea.Msg {
		pi, err := flow.CheckActivation(ctx, sub)
		return suiteActivationMsg{id: id, pi: pi, err: err}
	})
}

func (m *suiteModel) schedulePoll() tea.Cmd {
	m.pollSeq++
	seq := m.pollSeq
	return tea.Tick(activationPoll, func(time.Time) tea.Msg { return suitePollMsg{seq: seq} })
}

func (m *suiteModel) readRoles() tea.Cmd {
	m.stage, m.rolesErr = suiteRoles, nil
	flow, sub, s := m.e.flow, m.sub(), m.suite
	return m.work.start("Reading your Cloud Integration role collections", func(ctx context.Context, id uint64) tea.Msg {
		missing, err := flow.MissingConsultantRoles(ctx, sub, s)
		return suiteRolesMsg{id: id, missing: missing, err: err}
	})
}

func (m *suiteModel) assign() tea.Cmd {
	m.stage, m.rolesErr = suiteAssigning, nil
	flow, sub, s, names := m.e.flow, m.sub(), m.suite, m.missing
	return m.work.start("Assigning "+strings.Join(names, " and "), func(ctx context.Context, id uint64) tea.Msg {
		return suiteAssignedMsg{id: id, err: flow.AssignRoles(ctx, sub, s, names)}
	})
}

func (m *suiteModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case flowEventsMsg:
		if m.stage == suiteRunning && m.work.running() {
			if ev := lastEvent(msg.events, steps.StepSuite); ev != nil {
				m.last = ev
			}
		}
		return nil, nil
	case suiteSetupMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		if msg.suite != nil {
			m.suite = msg.suite // as far as it got: a retry resumes there
		}
		if msg.err != nil {
			m.err = msg.err
			return nil, nil
		}
		if m.suite.Activated() {
			return m.readRoles(), nil
		}
		return m.toBrowser(), nil
	case suiteBrowserMsg:
		m.browserErr = msg.err
		return nil, nil
	case suiteActivationMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.checkedAt, m.checkErr = m.e.now(), msg.err
		if msg.err == nil && len(msg.pi) > 0 {
			m.suite.PI = msg.pi
			return m.readRoles(), nil
		}
		return m.schedulePoll(), nil
	case suitePollMsg:
		if m.stage != suiteBrowser || msg.seq != m.pollSeq || m.work.running() {
			return nil, nil
		}
		return m.checkActivation(), nil
	case suiteRolesMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.missing, m.rolesErr = msg.missing, msg.err
		if msg.err == nil && len(msg.missing) == 0 {
			return nil, suiteDone{}
		}
		return nil, nil
	case suiteAssignedMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		if msg.err != nil {
			m.stage, m.rolesErr = suiteRoles, msg.err
			return nil, nil
		}
		return nil, suiteDone{}
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil, nil
}

func (m *suiteModel) key(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	switch m.stage {
	case suiteConfirm:
		switch {
		case key.Matches(msg, k.Up) && m.plan > 0:
			m.plan--
		case key.Matches(msg, k.Down) && m.plan < len(m.plans)-1:
			m.plan++
		case key.Matches(msg, k.Enter):
			return m.run(), nil
		case key.Matches(msg, k.Back):
			return nil, goBack{}
		}
	case suiteRunning:
		if m.work.running() {
			return nil, nil // once asked, SAP goes on anyway: no going back
		}
		switch {
		case key.Matches(msg, k.Retry), key.Matches(msg, k.Enter):
			m.stage = suiteConfirm
			return m.run(), nil
		case key.Matches(msg, k.Back):
			m.stage = suiteConfirm
			return nil, goBack{}
		}
	case suiteBrowser:
		switch {
		case key.Matches(msg, k.Enter):
			if !m.work.running() {
				return m.checkActivation(), nil
			}
		case key.Matches(msg, suiteKeyOpen) && m.suite.URL != "":
			return m.openBrowser(), nil
		case key.Matches(msg, k.Back):
			m.work.stop()
			m.pollSeq++ // the pending timer no longer counts
			return nil, goBack{}
		}
	case suiteRoles:
		if m.work.running() {
			return nil, nil
		}
		switch {
		case key.Matches(msg, k.Enter) && m.rolesErr == nil && len(m.missing) > 0:
			return m.assign(), nil
		case key.Matches(msg, k.Retry) && m.rolesErr != nil && len(m.missing) == 0:
			return m.readRoles(), nil
		case key.Matches(msg, k.Retry) && m.rolesErr != nil:
			return m.assign(), nil
		case key.Matches(msg, suiteKeySkip), key.Matches(msg, k.Enter) && m.rolesErr != nil:
			return nil, suiteDone{}
		}
	}
	return nil, nil
}

func (m *suiteModel) busy() bool {
	return (m.stage == suiteRunning || m.stage == suiteAssigning) && m.work.running()
}

func (m *suiteModel) pending() string {
	if !m.busy() {
		return ""
	}
	if m.stage == suiteAssigning {
		return "SAP is still assigning " + strings.Join(m.missing, " and ") + " to you"
	}
	return "SAP is still setting up SAP Integration Suite in " + m.sub().Name + " (entitlement or subscription)"
}

func (m *suiteModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	switch m.stage {
	case suiteConfirm:
		short := []key.Binding{withHelp(k.Enter, "enter", "do these steps"), k.Back}
		if len(m.plans) > 1 {
			short = append(short, withHelp(k.Up, m.e.st.g.UpDown, "plan"))
		}
		return short, nil
	case suiteRunning:
		if m.work.running() {
			return nil, nil
		}
		return []key.Binding{k.Retry, k.Back}, nil
	case suiteBrowser:
		short := []key.Binding{withHelp(k.Enter, "enter", "check now")}
		if m.suite.URL != "" {
			short = append(short, suiteKeyOpen)
		}
		return append(short, k.Back), nil
	case suiteRoles:
		switch {
		case m.work.running():
			return nil, nil
		case m.rolesErr != nil:
			return []key.Binding{k.Retry, withHelp(suiteKeySkip, "s", "go on without")}, nil
		}
		return []key.Binding{withHelp(k.Enter, "enter", "assign"), withHelp(suiteKeySkip, "s", "skip")}, nil
	}
	return nil, nil
}

func (m *suiteModel) view() string {
	st := m.e.st
	sub := m.sub()
	var b strings.Builder
	b.WriteString(fmt.Sprintf("Subaccount %s (%s, %s)", st.Title.Render(inert(sub.Name)), inert(sub.Subdomain), inert(sub.Region)) + "\n\n")
	switch m.stage {
	case suiteConfirm, suiteRunning:
		m.viewActions(&b)
	case suiteBrowser:
		m.viewBrowser(&b)
	case suiteRoles, suiteAssigning:
		m.viewRoles(&b)
	}
	return b.String()
}

func (m *suiteModel) viewActions(b *strings.Builder) {
	st := m.e.st
	if len(m.plans) > 1 && m.stage == suiteConfirm {
		b.WriteString(st.Label.Render("Plan") + st.Subtle.Render(fmt.Sprintf(" (the global account has %d to subscribe with)", len(m.plans))) + "\n")
		for i, p := range m.plans {
			b.WriteString("  " + st.cursor(i == m.plan) + " " + inert(p) + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(wrap("SAP Integration Suite is missing here (it-rt needs it); cpikey can:", m.w, 0) + "\n")
	for _, a := range m.actions() {
		line := st.g.Pending + " " + inert(a.What)
		if a.Role != "" {
			line += st.Subtle.Render(" (needs " + a.Role + ")")
		}
		b.WriteString("  " + wrap(line, m.w, 4) + "\n")
	}
	b.WriteString("\n")
	switch {
	case m.work.running():
		what, extra := "Setting up", []string{}
		if m.last != nil {
			what = cmp.Or(inert(m.last.Message), what)
			if m.last.State != "" {
				extra = append(extra, inert(m.last.State))
			}
		}
		extra = append(extra, elapsed(time.Duration(m.e.now().UnixNano()-m.since)))
		b.WriteString(wrap(m.work.spin.View()+" "+what+st.g.Ellipsis+" "+st.Subtle.Render("("+strings.Join(extra, ", ")+")"), m.w, 2) + "\n")
	case m.err != nil:
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
		b.WriteString("  " + wrap(st.Subtle.Render("Press r to try again (cpikey resumes at the first step not done), esc to go back."), m.w, 2) + "\n")
	default:
		b.WriteString(wrap("Press enter to do these steps, esc to go back. Then you activate Cloud Integration in your browser; cpikey shows where and waits.", m.w, 0) + "\n")
	}
}

func (m *suiteModel) viewBrowser(b *strings.Builder) {
	st := m.e.st
	s := m.suite
	b.WriteString(wrap(st.ok(fmt.Sprintf("Subscribed (plan %s); %s is yours.", inert(cmp.Or(s.SubscribedPlan, s.Entitled)), itrt.RoleProvisioner)), m.w, 2) + "\n")
	switch {
	case m.work.running():
		b.WriteString(m.work.line(st) + "\n")
	case m.checkErr != nil:
		b.WriteString(wrap(st.warn("Could not look: "+m.checkErr.Error()), m.w, 2) + "\n")
	default:
		when := ""
		if !m.checkedAt.IsZero() {
			when = " (none yet at " + m.checkedAt.Format("15:04:05") + ")"
		}
		// What is checked, said where the wait is: the activation is inferred.
		b.WriteString(wrap(st.g.Pending+" Waiting: every "+activationPoll.String()+" cpikey looks for the PI_* role collections the activation creates"+when+".", m.w, 2) + "\n")
	}
	if m.h > 18 { // room for air; the smallest window needs every line
		b.WriteString("\n")
	}
	b.WriteString(wrap("Activate Cloud Integration in your browser (only a person can):", m.w, 0) + "\n")
	for i, line := range s.ActivationSteps()[:3] { // the fourth, waiting, is the line above
		if i == 0 && s.URL != "" {
			line = "Open " + ansi.Hardwrap(inert(s.URL), max(20, m.w-8), false)
			switch {
			case m.opened && m.browserErr == nil:
				line += st.Subtle.Render(" (opened in your browser)")
			case m.browserErr != nil:
				line += st.Subtle.Render(fmt.Sprintf(" (could not open a browser: %v; open it yourself)", m.browserErr))
			}
		}
		b.WriteString(wrap(fmt.Sprintf("  %d. %s", i+1, line), m.w, 5) + "\n")
	}
	if m.h > 18 {
		b.WriteString("\n")
	}
	b.WriteString(wrap(st.Subtle.Render(steps.ActivationHow()+"."), m.w, 0) + "\n")
}

func (m *suiteModel) viewRoles(b *strings.Builder) {
	st := m.e.st
	s := m.suite
	b.WriteString(wrap(st.ok("Cloud Integration looks activated: the role collections "+inert(strings.Join(s.PI, ", "))+" exist."), m.w, 2) + "\n\n")
	switch {
	case m.work.running():
		b.WriteString(m.work.line(st) + "\n")
	case m.rolesErr != nil:
		b.WriteString(wrap(st.fail(sentence(m.rolesErr.Error())), m.w, 2) + "\n")
		b.WriteString("  " + st.Subtle.Render("The key does not need them. Press r to try again, s to go on without.") + "\n")
	default:
		b.WriteString(wrap(fmt.Sprintf("For working in the Integration Suite UI (designing and deploying iFlows, security material) you lack %s. "+
			"cpikey can assign them to %s (origin %s; needs Subaccount Administrator). The key itself does not need them.",
			inert(strings.Join(m.missing, " and ")), inert(s.User), inert(s.Origin)), m.w, 0) + "\n\n")
		b.WriteString("Press enter to assign them, s to skip.\n")
	}
}
