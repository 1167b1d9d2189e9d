package ui

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/steps"
)

type loginMethod int

const (
	methodPassword loginMethod = iota
	methodSSO
	methodSession
)

// Login fields in focus order.
const (
	fieldMethod = iota
	fieldGA
	fieldUser
	fieldPass
)

type (
	sessionFoundMsg struct {
		id      uint64
		session *steps.ExistingSession
	}
	loginDoneMsg struct {
		id   uint64
		acct *steps.Account
		err  error
	}
	ssoStartedMsg struct {
		id    uint64
		login *steps.SSOLogin
		err   error
	}
	browserOpenedMsg struct {
		id  uint64
		err error
	}
)

// loginModel is screen 1: how to log in, global account, user/password.
type loginModel struct {
	screenBase
	e       *env
	method  picker
	methods []loginMethod
	ga      textinput.Model
	user    textinput.Model
	pass    textinput.Model
	focus   int
	idp     string
	session *steps.ExistingSession

	work       task // login, SSO start and wait, session check
	sso        *steps.SSOLogin
	browserErr error
	browserOK  bool
	err        error
	note       string // where pre-filled values came from
	auto       bool   // log in as soon as the screen opens (headless flags)
}

func newLogin(e *env) *loginModel {
	p := e.opts.Prefill
	m := &loginModel{e: e, idp: p.IdP, work: newTask(e)}
	m.ga = newInput("e.g. acme-global", 64)
	m.ga.SetValue(cmp.Or(p.GlobalAccount, e.opts.LastGlobalAccount))
	m.user = newInput("e.g. name@company.com", 128)
	m.pass = newInput("", 256)
	m.pass.EchoMode = textinput.EchoPassword
	m.pass.EchoCharacter = []rune(e.st.g.Mask)[0]

	user, pass := p.User, p.Password
	var from []string
	if user == "" && e.getenv("BTP_USERNAME") != "" {
		user = e.getenv("BTP_USERNAME")
		from = append(from, "BTP_USERNAME")
	}
	if pass == "" && e.getenv("BTP_PASSWORD") != "" {
		pass = e.getenv("BTP_PASSWORD")
		from = append(from, "BTP_PASSWORD")
	}
	if len(from) > 0 {
		m.note = "Pre-filled from " + strings.Join(from, " and ") + "."
	}
	m.user.SetValue(user)
	m.pass.SetValue(pass)
	m.buildMethods()
	if p.SSO {
		m.method.cursor = 1
	}
	// Everything headless flags give is enough to log in without asking.
	// The demo always shows the screen, so it can be seen.
	m.auto = !e.opts.Demo && p.GlobalAccount != "" && (p.SSO || (p.User != "" && p.Password != ""))
	m.setFocus(fieldMethod)
	return m
}

func newInput(placeholder string, limit int) textinput.Model {
	t := textinput.New()
	t.Prompt = ""
	t.Placeholder = placeholder
	t.CharLimit = limit
	return t
}

func (m *loginModel) buildMethods() {
	cur := methodPassword
	if len(m.methods) > 0 {
		cur = m.current()
	}
	m.methods = []loginMethod{methodPassword, methodSSO}
	items := []pickItem{{label: "User and password"}, {label: "Single sign-on in the browser"}}
	if m.session != nil {
		m.methods = append(m.methods, methodSession)
		items = append(items, pickItem{label: "Use my existing btp CLI session",
			note: fmt.Sprintf("%s on %s", m.session.User, m.session.GlobalAccount)})
	}
	m.method = newPicker(items)
	for i, x := range m.methods {
		if x == cur {
			m.method.cursor = i
		}
	}
}

func (m *loginModel) current() loginMethod { return m.methods[m.method.cursor] }

func (m *loginModel) id() screen { return screenLogin }

// init looks for a btp CLI session and, with complete flags, logs in.
func (m *loginModel) init() tea.Cmd {
	id := m.e.newID()
	flow := m.e.flow
	find := func() tea.Msg {
		s, ok := flow.FindExistingSession()
		if !ok {
			s = nil
		}
		return sessionFoundMsg{id: id, session: s}
	}
	if m.auto {
		m.auto = false
		return tea.Batch(find, m.submit())
	}
	return find
}

// fields lists the visible fields for the chosen method.
func (m *loginModel) fields() []int {
	switch m.current() {
	case methodSession:
		return []int{fieldMethod}
	case methodSSO:
		return []int{fieldMethod, fieldGA}
	}
	return []int{fieldMethod, fieldGA, fieldUser, fieldPass}
}

func (m *loginModel) setFocus(f int) {
	m.focus = f
	for i, in := range []*textinput.Model{&m.ga, &m.user, &m.pass} {
		if fieldGA+i == f {
			in.Focus()
			in.CursorEnd()
		} else {
			in.Blur()
		}
	}
}

func (m *loginModel) move(delta int) {
	fs := m.fields()
	i := 0
	for j, f := range fs {
		if f == m.focus {
			i = j
		}
	}
	i = max(0, min(len(fs)-1, i+delta))
	m.setFocus(fs[i])
}

func (m *loginModel) lastField() bool {
	fs := m.fields()
	return m.focus == fs[len(fs)-1]
}

func (m *loginModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case sessionFoundMsg:
		if msg.session != nil && m.session == nil {
			m.session = msg.session
			m.buildMethods()
		}
		return nil, nil
	case spinner.TickMsg:
		return m.work.tick(msg), nil
	case ssoStartedMsg:
		if !m.work.current(msg.id) {
			return nil, nil
		}
		if msg.err != nil {
			m.stop(fmt.Errorf("start single sign-on: %w", msg.err))
			return nil, nil
		}
		m.sso = msg.login
		flow, l := m.e.flow, msg.login
		wait := m.work.then("Waiting for you to finish logging in in the browser", func(ctx context.Context, id uint64) tea.Msg {
			acct, err := flow.WaitSSO(ctx, l)
			return loginDoneMsg{id: id, acct: acct, err: err}
		})
		return tea.Batch(m.openBrowser(msg.id, msg.login.URL), wait), nil
	case browserOpenedMsg:
		if m.work.current(msg.id) {
			m.browserErr = msg.err
			m.browserOK = msg.err == nil
		}
		return nil, nil
	case loginDoneMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		if msg.err != nil {
			m.stop(msg.err)
			return nil, nil
		}
		m.stop(nil)
		return m.remember(msg.acct), loggedIn{acct: msg.acct}
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m.updateInput(msg), nil
}

func (m *loginModel) key(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	if m.work.running() {
		// Only an SSO wait can be abandoned; a password login is quick.
		if m.sso != nil && key.Matches(msg, k.Back) {
			m.stop(nil)
			m.err = fmt.Errorf("single sign-on cancelled; press enter to start again")
		}
		return nil, nil
	}
	switch {
	case key.Matches(msg, k.Enter):
		// Enter accepts the screen once everything is filled in (a
		// pre-filled login is one key); until then it moves on.
		if m.complete() || m.lastField() {
			return m.submit(), nil
		}
		m.move(+1)
		return nil, nil
	case key.Matches(msg, k.Next):
		m.move(+1)
		return nil, nil
	case key.Matches(msg, k.Prev):
		m.move(-1)
		return nil, nil
	case m.focus == fieldMethod && m.method.update(msg, k):
		m.err = nil
		return nil, nil
	case key.Matches(msg, k.Up):
		m.move(-1)
		return nil, nil
	case key.Matches(msg, k.Down):
		m.move(+1)
		return nil, nil
	case key.Matches(msg, k.Back):
		return nil, nil // first screen: nothing to go back to
	}
	return m.updateInput(msg), nil
}

func (m *loginModel) updateInput(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch m.focus {
	case fieldGA:
		m.ga, cmd = m.ga.Update(msg)
	case fieldUser:
		m.user, cmd = m.user.Update(msg)
	case fieldPass:
		m.pass, cmd = m.pass.Update(msg)
	}
	return cmd
}

// complete reports whether every field the chosen method needs is filled.
func (m *loginModel) complete() bool {
	ga := strings.TrimSpace(m.ga.Value()) != ""
	switch m.current() {
	case methodSession:
		return true
	case methodSSO:
		return ga
	}
	return ga && strings.TrimSpace(m.user.Value()) != "" && m.pass.Value() != ""
}

// submit validates and starts the login in a Cmd.
func (m *loginModel) submit() tea.Cmd {
	m.err = nil
	m.browserErr, m.browserOK, m.sso = nil, false, nil
	ga := strings.TrimSpace(m.ga.Value())
	method := m.current()
	if method != methodSession && ga == "" {
		m.setFocus(fieldGA)
		m.err = fmt.Errorf("enter the global account subdomain (%s)", cliserver.SubdomainWhere)
		return nil
	}
	if method == methodPassword {
		switch {
		case strings.TrimSpace(m.user.Value()) == "":
			m.setFocus(fieldUser)
			m.err = fmt.Errorf("enter your user (e-mail or user name)")
			return nil
		case m.pass.Value() == "":
			m.setFocus(fieldPass)
			m.err = fmt.Errorf("enter your password")
			return nil
		}
	}
	flow := m.e.flow
	switch method {
	case methodPassword:
		in := steps.LoginInput{GlobalAccount: ga, User: strings.TrimSpace(m.user.Value()), Password: m.pass.Value(), IdP: m.idp}
		return m.work.start("Logging in as "+in.User, func(ctx context.Context, id uint64) tea.Msg {
			acct, err := flow.Login(ctx, in)
			return loginDoneMsg{id: id, acct: acct, err: err}
		})
	case methodSSO:
		idp := m.idp
		return m.work.start("Starting single sign-on", func(ctx context.Context, id uint64) tea.Msg {
			l, err := flow.StartSSO(ctx, ga, idp)
			return ssoStartedMsg{id: id, login: l, err: err}
		})
	case methodSession:
		return m.work.start("Checking the btp CLI session", func(ctx context.Context, id uint64) tea.Msg {
			acct, err := flow.UseExistingSession(ctx)
			return loginDoneMsg{id: id, acct: acct, err: err}
		})
	}
	return nil
}

func (m *loginModel) openBrowser(id uint64, url string) tea.Cmd {
	b := m.e.opts.Browser
	if b == nil {
		return func() tea.Msg { return browserOpenedMsg{id: id, err: fmt.Errorf("no browser configured")} }
	}
	return func() tea.Msg { return browserOpenedMsg{id: id, err: b.Open(url)} }
}

// remember passes the global account to Options.RememberGlobalAccount (it
// writes a file, so it runs in a Cmd).
func (m *loginModel) remember(acct *steps.Account) tea.Cmd {
	save := m.e.opts.RememberGlobalAccount
	if save == nil || acct == nil || acct.GlobalAccountSubdomain == "" {
		return nil
	}
	sub := acct.GlobalAccountSubdomain
	return func() tea.Msg { save(sub); return nil }
}

// stop ends whatever runs; err (if any) is shown for a retry.
func (m *loginModel) stop(err error) {
	m.work.stop()
	m.sso = nil
	m.err = err
}

func (m *loginModel) resume() tea.Cmd {
	m.stop(nil)
	m.setFocus(fieldMethod)
	return nil
}

func (m *loginModel) busy() bool   { return m.work.running() }
func (m *loginModel) typing() bool { return !m.work.running() && m.focus != fieldMethod }

func (m *loginModel) setSize(w, h int) {
	m.w, m.h = w, h
	for _, in := range []*textinput.Model{&m.ga, &m.user, &m.pass} {
		in.Width = max(10, min(60, w-6))
	}
}

func (m *loginModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	if m.work.running() {
		if m.sso != nil {
			return []key.Binding{withHelp(k.Back, "esc", "cancel")}, nil
		}
		return nil, nil
	}
	enter := withHelp(k.Enter, "enter", "next")
	if m.complete() || m.lastField() {
		enter = withHelp(k.Enter, "enter", "log in")
	}
	short := []key.Binding{enter, withHelp(k.Next, "tab/"+m.e.st.g.UpDown, "move")}
	if m.focus == fieldMethod {
		short = []key.Binding{enter, withHelp(k.Up, m.e.st.g.UpDown, "choose")}
	}
	return short, [][]key.Binding{{enter, k.Up, k.Down}, {k.Next, k.Prev}}
}

// withHelp returns b with other help text (same keys).
func withHelp(b key.Binding, keys, desc string) key.Binding {
	b.SetHelp(keys, desc)
	return b
}

func (m *loginModel) view() string {
	st := m.e.st
	var b strings.Builder
	field := func(f int, label string, in textinput.Model) {
		b.WriteString("\n" + st.cursor(m.focus == f && !m.work.running()) + " " + st.Label.Render(label) + "\n")
		b.WriteString("    " + in.View() + "\n")
	}
	b.WriteString(st.cursor(m.focus == fieldMethod && !m.work.running()) + " " + st.Label.Render("How do you want to log in?") + "\n")
	b.WriteString(indent(m.method.view(st, m.w-4, m.focus == fieldMethod && !m.work.running()), 4) + "\n")
	switch m.current() {
	case methodSession:
		b.WriteString("\n" + wrap(st.Subtle.Render("Uses the login the btp CLI saved on this machine; no password needed."), m.w, 2) + "\n")
	case methodSSO:
		field(fieldGA, "Global account subdomain", m.ga)
	default:
		field(fieldGA, "Global account subdomain", m.ga)
		field(fieldUser, "User", m.user)
		field(fieldPass, "Password", m.pass)
	}
	if m.idp != "" && m.current() != methodSession {
		b.WriteString("  " + st.Subtle.Render("Identity provider: "+m.idp) + "\n")
	}
	if m.note != "" && m.current() == methodPassword {
		b.WriteString("  " + st.Subtle.Render(m.note) + "\n")
	}
	b.WriteString("\n")
	switch {
	case m.work.running():
		b.WriteString(m.work.line(st) + "\n")
		if m.sso != nil {
			if m.browserOK {
				b.WriteString(st.ok("Opened your browser.") + " If it did not, open this URL:\n")
			} else {
				msg := "Open this URL in your browser:"
				if m.browserErr != nil {
					msg = fmt.Sprintf("Could not open a browser (%v). Open this URL yourself:", m.browserErr)
				}
				b.WriteString(wrap(st.warn(msg), m.w, 2) + "\n")
			}
			b.WriteString(indent(ansi.Hardwrap(inert(m.sso.URL), max(20, m.w-2), false), 2) + "\n")
		}
	case m.err != nil:
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
		b.WriteString("  " + st.Subtle.Render("Fix it and press enter to try again.") + "\n")
	}
	return b.String()
}

// sentence capitalises the first letter of an error for display.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// indent prefixes every non-empty line with n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}
