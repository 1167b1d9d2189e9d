package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/steps"
)

// Minimum terminal size; below it the wizard shows a notice instead of a
// broken layout.
const (
	minWidth  = 60
	minHeight = 16
)

// choices is what the user decided so far.
type choices struct {
	account *steps.Account
	sub     steps.SubaccountInfo
	report  *steps.CheckReport
	where   whereChosen
	target  steps.Target
	result  *steps.Result
	// recheck: the form chose a plan the first check did not cover; after
	// the new check (and entitle) go straight to review.
	recheck bool
	// entitled lists plans assigned in this session.
	entitled []string
}

// model is the root: a stack of screens (Esc pops), shared env, help bar.
type model struct {
	e     *env
	stack []screenModel
	c     choices
	help  help.Model
	w, h  int

	prompt *passcodePrompt // a Cloud Foundry passcode question over the screen

	interrupted bool
	pendingWork string // what SAP was still doing when the user quit
	done        bool
}

func (m *model) cur() screenModel { return m.stack[len(m.stack)-1] }

// screen is the current screen's enum value.
func (m *model) screen() screen { return m.cur().id() }

// Init starts the first screen and the progress-event waiter.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.cur().init()}
	if r := m.e.opts.Reporter; r != nil {
		cmds = append(cmds, r.waitForEvent(m.e.ctx))
	}
	if p := m.e.opts.Passcode; p != nil {
		cmds = append(cmds, p.wait(m.e.ctx))
	}
	return tea.Batch(cmds...)
}

// Update: global keys, window size, progress events, then the screen.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.e.keys.Quit):
			return m, m.quit(true)
		case m.prompt != nil:
			cmd, done := m.prompt.update(msg, m.e.keys)
			if done {
				m.prompt = nil
				m.resize()
			}
			return m, cmd
		case key.Matches(msg, m.e.keys.Help) && !m.cur().typing():
			m.help.ShowAll = !m.help.ShowAll
			m.resize()
			return m, nil
		}
		if m.tooSmall() {
			return m, nil
		}
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.resize()
		return m, nil
	case passcodeAskMsg:
		var cmd tea.Cmd
		m.prompt, cmd = newPasscodePrompt(m.e, msg.r)
		m.resize()
		return m, tea.Batch(cmd, m.e.opts.Passcode.wait(m.e.ctx))
	case passcodeBrowserMsg:
		if m.prompt != nil && m.prompt.r.url == msg.url {
			m.prompt.opened, m.prompt.browserErr = msg.err == nil, msg.err
		}
		return m, nil
	case autoTransitionMsg:
		if msg.from != m.cur() {
			return m, nil
		}
		return m, m.apply(msg.t)
	case flowEventsMsg:
		var cmds []tea.Cmd
		if r := m.e.opts.Reporter; r != nil {
			cmds = append(cmds, r.waitForEvent(m.e.ctx))
		}
		cmd, t := m.cur().update(msg)
		cmds = append(cmds, cmd, m.apply(t))
		return m, tea.Batch(cmds...)
	}
	cmd, t := m.cur().update(msg)
	return m, tea.Batch(cmd, m.apply(t))
}

// quit ends the program at once. SAP keeps working on whatever it was
// asked to do; pending says what, for the exit message.
func (m *model) quit(interrupt bool) tea.Cmd {
	if m.screen() == screenReveal {
		interrupt = false // everything is done; nothing was interrupted
	}
	m.interrupted = interrupt
	m.pendingWork = m.cur().pending()
	m.done = !interrupt
	m.e.cancel()
	return tea.Quit
}

// apply performs a screen's transition.
func (m *model) apply(t transition) tea.Cmd {
	switch t := t.(type) {
	case nil:
		return nil
	case goBack:
		if len(m.stack) == 1 || m.cur().busy() {
			return nil
		}
		m.stack = m.stack[:len(m.stack)-1]
		m.help.ShowAll = false
		m.resize()
		return m.cur().resume()
	case loggedIn:
		m.c.account = t.acct
		sm := newSubaccount(m.e)
		if last := m.e.opts.LastSubaccount; last != nil && t.acct != nil {
			sm.prefer = cmp.Or(last(t.acct.GlobalAccountSubdomain), sm.prefer)
		}
		return m.push(sm)
	case subaccountChosen:
		m.c.sub = t.sub
		m.c.recheck = false
		return m.push(newCheck(m.e, t.sub, cmp.Or(m.e.opts.Prefill.Plan, steps.DefaultPlan), m.runtime()))
	case checked:
		m.c.report = t.report
		if t.report.Suite.NeedsSetup() {
			return m.push(newSuite(m.e, t.report))
		}
		if len(t.report.MissingPlans) > 0 {
			return m.push(newEntitle(m.e, t.report))
		}
		return m.afterEntitle()
	case entitled:
		m.c.entitled = append(m.c.entitled, t.plans...)
		return m.afterEntitle()
	case whereChosen:
		m.c.where = t
		return m.push(newForm(m.e, m.baseTarget(), m.remembered()))
	case formDone:
		tg := m.baseTarget()
		tg.Plan, tg.Instance, tg.Key, tg.Roles, tg.RecreateFailed = t.plan, t.instance, t.key, t.roles, t.recreateFailed
		tg.UpdateRoles, tg.AcceptRoles = t.updateRoles, t.acceptRoles
		tg.KeySpec = t.keySpec
		m.c.target = tg
		if !m.planEntitled(t.plan) {
			// The first check was for another plan; check (and entitle)
			// this one, then continue at review.
			m.c.recheck = true
			return m.push(newCheck(m.e, m.c.sub, t.plan, tg.Runtime))
		}
		return m.push(newReview(m.e, tg))
	case runRequested:
		return tea.Batch(m.rememberChoices(), m.push(newProgress(m.e, m.c.target)))
	case provisioned:
		m.c.result = t.result
		return m.push(newReveal(m.e, t.result, m.c.target))
	case finished:
		return m.quit(false)
	case suiteDone: // back to the check screen, which checks again
		m.stack = m.stack[:len(m.stack)-1]
		m.resize()
		return m.cur().init()
	}
	return nil
}

func (m *model) afterEntitle() tea.Cmd {
	if m.c.recheck {
		m.c.recheck = false
		return m.push(newReview(m.e, m.c.target))
	}
	return m.push(newWhere(m.e, m.c.report, m.remembered()))
}

// remembered are the last run's choices in the chosen subaccount.
func (m *model) remembered() configdir.Choices {
	if r := m.e.opts.Remembered; r != nil && m.c.sub.ID != "" {
		return r(m.c.sub.ID)
	}
	return configdir.Choices{}
}

// rememberChoices keeps the target about to run (it writes a file, so in a
// Cmd): a rerun after Ctrl+C resumes the same instance.
func (m *model) rememberChoices() tea.Cmd {
	save := m.e.opts.RememberChoices
	if save == nil {
		return nil
	}
	t, ga := m.c.target, ""
	if m.c.account != nil {
		ga = m.c.account.GlobalAccountSubdomain
	}
	c := configdir.Choices{Runtime: string(t.Runtime), Org: t.OrgName, Space: t.Space, Plan: t.Plan,
		Instance: t.Instance, Key: t.Key, Roles: slices.Clone(t.Roles)}
	sub := t.Subaccount.ID
	return func() tea.Msg { save(ga, sub, c); return nil }
}

func (m *model) runtime() steps.Runtime {
	if m.e.opts.Prefill.Runtime != "" {
		return m.e.opts.Prefill.Runtime
	}
	return steps.RuntimeCF
}

// planEntitled says whether plan is entitled: found so by the last check,
// assigned in this session, or not looked at (Provision will tell).
func (m *model) planEntitled(plan string) bool {
	if m.c.report == nil || slices.Contains(m.c.entitled, plan) {
		return true
	}
	for _, p := range m.c.report.Plans {
		if p.Plan == plan {
			return p.Entitled
		}
	}
	return true
}

func (m *model) baseTarget() steps.Target {
	w := m.c.where
	return steps.Target{
		Subaccount: m.c.sub, Runtime: w.runtime,
		OrgID: w.org.ID, OrgName: w.org.Name, SpaceID: w.space.ID, Space: w.space.Name,
		NoKeychain: m.e.opts.Prefill.NoKeychain,
	}
}

func (m *model) push(s screenModel) tea.Cmd {
	m.stack = append(m.stack, s)
	m.help.ShowAll = false
	m.resize()
	return s.init()
}

func (m *model) tooSmall() bool { return m.w < minWidth || m.h < minHeight }

// Layout: header (2 lines), body, blank, help.
func (m *model) bodySize() (int, int) {
	short, full := m.helpBindings()
	hh := lineCount(m.helpView(short, full))
	return max(1, m.w-2), max(1, m.h-3-hh)
}

func (m *model) resize() {
	if m.w == 0 {
		return
	}
	m.help.Width = m.w - 2
	w, h := m.bodySize()
	m.cur().setSize(w, h)
}

// helpBindings are the passcode prompt's while it is shown, else the
// screen's.
func (m *model) helpBindings() ([]key.Binding, [][]key.Binding) {
	if m.prompt != nil {
		return m.prompt.help(m.e.keys), nil
	}
	return m.cur().help()
}

func (m *model) helpView(short []key.Binding, full [][]key.Binding) string {
	k := m.e.keys
	if m.help.ShowAll {
		groups := append([][]key.Binding{}, full...)
		if len(groups) == 0 {
			groups = [][]key.Binding{short}
		}
		groups = append(groups, []key.Binding{k.Help, k.Quit})
		return fit(m.help.FullHelpView(groups), max(1, m.w-2), lineCount(m.help.FullHelpView(groups)))
	}
	bindings := append(append([]key.Binding{}, short...), k.Help, k.Quit)
	// help truncates with an ellipsis only when one fits; never overflow.
	return ansi.Truncate(m.help.ShortHelpView(bindings), max(1, m.w-2), "")
}

func lineCount(s string) int { return strings.Count(s, "\n") + 1 }

// View renders header, the screen and the help bar at exactly the window
// height.
func (m *model) View() string {
	if m.w == 0 {
		return ""
	}
	st := m.e.st
	if m.tooSmall() {
		msg := fmt.Sprintf("Terminal too small: cpikey needs at least %d%s%d, this one is %d%s%d. Enlarge the window (Ctrl+C quits).",
			minWidth, st.g.Times, minHeight, m.w, st.g.Times, m.h)
		return ansi.Wrap(msg, max(10, m.w), "")
	}
	header := m.header()
	w, h := m.bodySize()
	var body string
	if m.prompt != nil {
		body = fit(m.prompt.view(st, w), w, h)
	} else {
		body = fit(m.cur().view(), w, h)
	}
	short, full := m.helpBindings()
	helpBar := m.helpView(short, full)
	return header + "\n\n" + indent(body, 1) + "\n\n" + indent(helpBar, 1)
}

// header is the title, the demo badge and the step counter; the counter
// always shows: the badge shortens, then the title is cut, to make room.
func (m *model) header() string {
	st := m.e.st
	s := m.screen()
	step := fmt.Sprintf("step %d of %d", s.step(), int(numScreens))
	if m.w < 70 {
		step = fmt.Sprintf("%d/%d", s.step(), int(numScreens))
	}
	room := m.w - 3 - len(step) // a space before, at least one between
	title := fmt.Sprintf("cpikey %s %s", st.g.Dot, s.title())
	left := st.Header.Render(title)
	if m.e.opts.Demo {
		badge := "DEMO"
		if ansi.StringWidth(title)+2+len("DEMO (simulated SAP BTP)") <= room {
			badge = "DEMO (simulated SAP BTP)"
		}
		left += "  " + st.Badge.Render(badge)
	}
	if ansi.StringWidth(left) > room {
		left = ansi.Truncate(left, room, st.g.Ellipsis)
	}
	gap := max(1, m.w-2-ansi.StringWidth(left)-len(step))
	return " " + left + strings.Repeat(" ", gap) + st.Subtle.Render(step)
}

// fit clips or pads s to exactly h lines of at most w cells, trimming
// trailing blanks so frames and goldens stay clean.
func fit(s string, w, h int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			l = ansi.Truncate(l, w, "")
		}
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
