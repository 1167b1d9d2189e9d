package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/adapters/clipboard"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

type (
	copiedMsg struct {
		id     uint64
		what   string
		secret bool
		res    clipboard.Result
	}
	keychainSavedMsg struct {
		id  uint64
		ref *steps.KeychainRef
		err error
	}
	profileSavedMsg struct {
		id      uint64
		profile profiles.Profile
		err     error
	}
)

// revealAction is one key of the reveal screen. Further actions (exports,
// another issue) are appended to revealModel.actions; help follows the list.
type revealAction struct {
	binding key.Binding
	run     func(m *revealModel) tea.Cmd
}

// revealModel is screen 9: the credentials, the secret masked until
// toggled, copy keys, keychain status, token verification, next step.
type revealModel struct {
	screenBase
	e       *env
	result  *steps.Result
	spin    spinner.Model
	vp      viewport.Model
	actions []revealAction

	showSecret bool
	status     string // last copy/keychain outcome, one line
	copyID     uint64
	copied     bool // a secret went to the clipboard (Run clears it on exit)

	saving   bool
	saveID   uint64
	saveErr  error
	keychain *steps.KeychainRef

	target steps.Target
	// The profile kept of this key (Options.SaveProfile).
	profSaving bool
	profID     uint64
	profSaved  *profiles.Profile
	profErr    error

	export exportChooser
	try    tryCall
}

func newReveal(e *env, r *steps.Result, t steps.Target) *revealModel {
	m := &revealModel{e: e, result: r, target: t, spin: e.newSpinner(), vp: newScroller(e),
		keychain: r.Keychain, saveErr: r.KeychainErr}
	c := r.Credentials
	k := e.keys
	m.actions = []revealAction{
		{k.CopyID, func(m *revealModel) tea.Cmd { return m.copy("clientid", c.ClientID, false) }},
		{k.CopySecret, func(m *revealModel) tea.Cmd { return m.copy("clientsecret", c.ClientSecret, true) }},
		{k.CopyTokenURL, func(m *revealModel) tea.Cmd { return m.copy("tokenurl", c.TokenURL, false) }},
		{k.CopyURL, func(m *revealModel) tea.Cmd { return m.copy("url", c.URL, false) }},
		{k.CopyJSON, func(m *revealModel) tea.Cmd { return m.copy("the key as JSON", keyJSON(c), true) }},
		{k.ShowSecret, func(m *revealModel) tea.Cmd { m.showSecret = !m.showSecret; m.refresh(); return nil }},
		{k.SaveKeychain, func(m *revealModel) tea.Cmd { return m.save() }},
		{k.Export, func(m *revealModel) tea.Cmd { m.export.open = true; m.status = ""; return nil }},
	}
	if c.KeyType.IsCertificate() {
		// No secret to show or copy: 2 copies the certificate (public);
		// the private key never reaches the screen or the clipboard.
		m.actions[1] = revealAction{withHelp(k.CopySecret, "2", "copy certificate"), func(m *revealModel) tea.Cmd { return m.copy("the certificate", c.Certificate, false) }}
		m.actions[4] = revealAction{k.CopyJSON, func(m *revealModel) tea.Cmd {
			return m.copy("the key as JSON (without the private key)", keyJSON(c), false)
		}}
		m.actions = append(m.actions[:5], m.actions[6:]...) // no s: nothing to show
	}
	if e.opts.TryCall != nil {
		m.actions = append(m.actions, revealAction{k.TryCall, func(m *revealModel) tea.Cmd { return m.openTry() }})
	}
	return m
}

// current is the result as it stands, with a keychain retry applied.
func (m *revealModel) current() steps.Result {
	r := *m.result
	if m.keychain != nil {
		r.Keychain, r.KeychainErr = m.keychain, nil
	}
	return r
}

// saveProfile keeps the key as a profile (in a Cmd); no-op without the hook.
func (m *revealModel) saveProfile() tea.Cmd {
	save := m.e.opts.SaveProfile
	if save == nil {
		return nil
	}
	m.profSaving = true
	m.profID = m.e.newID()
	id, r, t := m.profID, m.current(), m.target
	return tea.Batch(m.spin.Tick, func() tea.Msg {
		p, err := save(&r, t)
		return profileSavedMsg{id: id, profile: p, err: err}
	})
}

// keyJSON is the service key's oauth part as users paste it into tools;
// for a certificate key without its private key.
func keyJSON(c steps.Credentials) string {
	m := map[string]string{"clientid": c.ClientID, "clientsecret": c.ClientSecret, "tokenurl": c.TokenURL, "url": c.URL}
	if c.KeyType.IsCertificate() {
		delete(m, "clientsecret")
		m["certificate"] = c.Certificate
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return string(b)
}

func (m *revealModel) id() screen { return screenReveal }
func (m *revealModel) init() tea.Cmd {
	cmd := m.saveProfile()
	m.refresh()
	return cmd
}

func (m *revealModel) copy(what, text string, secret bool) tea.Cmd {
	cb := m.e.opts.Clipboard
	m.copyID = m.e.newID()
	id := m.copyID
	if cb == nil {
		m.status = m.e.st.warn("No clipboard here; the values are shown above.")
		return nil
	}
	if secret {
		m.copied = true // even a failed copy may have reached OSC 52
	}
	return func() tea.Msg {
		return copiedMsg{id: id, what: what, secret: secret, res: cb.Copy(text, secret)}
	}
}

// canSave: the keychain is in use and the secret is not (yet) in it.
func (m *revealModel) canSave() bool {
	return !m.saving && m.keychain == nil && m.saveErr != nil
}

func (m *revealModel) save() tea.Cmd {
	if !m.canSave() {
		return nil
	}
	m.saving, m.status = true, ""
	m.saveID = m.e.newID()
	id, flow, ctx := m.saveID, m.e.flow, m.e.ctx
	r := *m.result // a copy: the Cmd must not share what View reads
	m.refresh()
	return tea.Batch(m.spin.Tick, func() tea.Msg {
		err := flow.SaveSecret(ctx, &r)
		return keychainSavedMsg{id: id, ref: r.Keychain, err: err}
	})
}

func (m *revealModel) update(msg tea.Msg) (tea.Cmd, transition) {
	cmd, t := m.handle(msg)
	m.layout() // the status may have changed its height
	return cmd, t
}

func (m *revealModel) handle(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if !m.saving && !m.profSaving && !m.try.running {
			return nil, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		m.refresh()
		return cmd, nil
	case copiedMsg:
		if msg.id != m.copyID {
			return nil, nil
		}
		st := m.e.st
		switch {
		case msg.res.OK():
			m.status = st.ok("Copied " + msg.what + ". " + strings.TrimPrefix(msg.res.Summary(), "Copied to the clipboard. "))
		case msg.secret:
			m.status = st.warn(fmt.Sprintf("Could not copy %s (%v). Press s to show the secret and copy it by hand.", msg.what, msg.res.Err))
		default:
			m.status = st.warn(fmt.Sprintf("Could not copy %s (%v); it is shown above.", msg.what, msg.res.Err))
		}
		return nil, nil
	case keychainSavedMsg:
		if msg.id != m.saveID {
			return nil, nil
		}
		m.saving, m.saveErr = false, msg.err
		var cmd tea.Cmd
		if msg.err == nil {
			m.keychain = msg.ref
			if m.keychain == nil {
				m.keychain = &steps.KeychainRef{Service: m.e.keychainService()}
			}
			cmd = m.saveProfile() // the profile now knows where the secret is
		}
		m.refresh()
		return cmd, nil
	case profileSavedMsg:
		if msg.id != m.profID {
			return nil, nil
		}
		m.profSaving, m.profErr = false, msg.err
		if msg.err == nil {
			p := msg.profile
			m.profSaved = &p
		}
		m.refresh()
		return nil, nil
	case exportedMsg:
		m.exported(msg)
		return nil, nil
	case triedMsg:
		m.tried(msg)
		return nil, nil
	case tea.KeyMsg:
		k := m.e.keys
		if m.try.open {
			return m.tryKey(msg), nil
		}
		if m.export.open {
			return m.exportKey(msg), nil
		}
		if key.Matches(msg, k.Done) {
			return nil, finished{}
		}
		for _, a := range m.actions {
			if key.Matches(msg, a.binding) {
				return a.run(m), nil
			}
		}
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd, nil
	}
	return nil, nil
}

func (m *revealModel) busy() bool   { return true } // nothing to go back to
func (m *revealModel) typing() bool { return m.try.open }

func (m *revealModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.sizeTry()
	m.refresh()
}

// layout gives the viewport what the status line(s) leave, keeping the
// content on screen when the window (or the room) grows.
func (m *revealModel) layout() {
	m.vp.Width, m.vp.Height = m.w, max(1, m.h-1-lineCount(m.statusView()))
	clampViewport(&m.vp)
}

// statusView is the last copy/keychain/export outcome, wrapped.
func (m *revealModel) statusView() string { return wrap(m.status, m.w, 2) }

func (m *revealModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	if m.try.open {
		keys := []key.Binding{withHelp(k.Enter, "enter", "call"), withHelp(k.Back, "esc", "back")}
		return keys, [][]key.Binding{keys}
	}
	if m.export.open {
		all := append(append([]key.Binding{}, k.ExportFormat...), withHelp(k.Back, "esc", "cancel"))
		return []key.Binding{withHelp(k.ExportFormat[0], "p/e/c/t", "write file"), withHelp(k.Back, "esc", "cancel")}, [][]key.Binding{all}
	}
	var all []key.Binding
	for _, a := range m.actions {
		if a.binding.Help().Key == k.SaveKeychain.Help().Key && !m.canSave() {
			continue
		}
		all = append(all, a.binding)
	}
	done := withHelp(k.Done, "q", "done")
	short := []key.Binding{done, withHelp(k.CopyID, "1-4", "copy"), withHelp(k.ShowSecret, "s", "show"), withHelp(k.CopyJSON, "j", "JSON")}
	if m.result.Credentials.KeyType.IsCertificate() {
		short = append(short[:2], short[3]) // nothing to show
	}
	if m.canSave() {
		short = append(short, withHelp(k.SaveKeychain, "k", "retry keychain"))
	}
	short = append(short, withHelp(k.Export, "e", "export"))
	if m.e.opts.TryCall != nil {
		short = append(short, withHelp(k.TryCall, "c", "try a call"))
	}
	return short, [][]key.Binding{all, {done, k.Up, k.Down, k.Page}}
}

func (m *revealModel) refresh() {
	st := m.e.st
	r := m.result
	c := r.Credentials
	var b strings.Builder
	b.WriteString(wrap(st.ok(fmt.Sprintf("Your OAuth client is ready: instance %s, key %s.", r.Instance.Name, r.Key.Name)), m.w, 2) + "\n\n")

	secret := st.mask() + "  " + st.Subtle.Render("(s to show)")
	if m.showSecret {
		secret = c.ClientSecret + "  " + st.Subtle.Render("(s to hide)")
	}
	const labelW = 18
	field := func(n, name, value string) {
		head := fmt.Sprintf("[%s] %-13s", n, name)
		v := ansi.Hardwrap(inert(value), max(10, m.w-labelW), false)
		b.WriteString(st.Label.Render(head) + " " + strings.ReplaceAll(v, "\n", "\n"+strings.Repeat(" ", labelW)) + "\n")
	}
	field("1", "clientid", c.ClientID)
	switch {
	case c.KeyType.IsCertificate():
		m.certificateFields(&b, field)
	case m.showSecret:
		field("2", "clientsecret", c.ClientSecret)
	default:
		b.WriteString(st.Label.Render(fmt.Sprintf("[2] %-13s", "clientsecret")) + " " + secret + "\n")
	}
	field("3", "tokenurl", c.TokenURL)
	field("4", "url", c.URL)
	b.WriteString("\n")

	b.WriteString(st.Label.Render(fmt.Sprintf("%-9s", "Keychain")) + " " + m.keychainLine() + "\n")
	b.WriteString(st.Label.Render(fmt.Sprintf("%-9s", "Token")) + " " + m.verifyLine() + "\n")
	if r.Tenant != nil {
		b.WriteString(st.Label.Render(fmt.Sprintf("%-9s", "Tenant")) + " " + m.tenantLine() + "\n")
	}
	if m.e.opts.SaveProfile != nil {
		b.WriteString(st.Label.Render(fmt.Sprintf("%-9s", "Profile")) + " " + m.profileLine() + "\n")
	}
	b.WriteString("\n")

	b.WriteString(st.Label.Render("Next step") + "\n")
	b.WriteString(m.nextStep())
	m.vp.SetContent(strings.TrimRight(b.String(), "\n"))
	m.layout()
}

func (m *revealModel) keychainLine() string {
	st := m.e.st
	switch {
	case m.saving:
		return m.spin.View() + " saving the " + m.keptWhat() + st.g.Ellipsis
	case m.keychain != nil:
		s := m.keptWhat() + " saved in the OS keychain"
		if m.keychain.Account != "" {
			s += fmt.Sprintf(" (service %s, account %s)", m.keychain.Service, m.keychain.Account)
		}
		return wrap(st.ok(s), m.w, 10)
	case m.saveErr != nil:
		return wrap(st.fail(fmt.Sprintf("not saved: %v. Press k to try again.", m.saveErr)), m.w, 10)
	}
	if m.result.Credentials.KeyType.IsCertificate() {
		return wrap(st.warn("not saved (--no-keychain): cpikey keeps the private key nowhere; run cpikey again without --no-keychain to keep it."), m.w, 10)
	}
	return wrap(st.warn("not saved (--no-keychain): copy the secret now, cpikey keeps it nowhere."), m.w, 10)
}

// keptWhat is what the keychain holds of this key.
func (m *revealModel) keptWhat() string {
	if m.result.Credentials.KeyType.IsCertificate() {
		return "certificate and private key"
	}
	return "client secret"
}

func (m *revealModel) profileLine() string {
	st := m.e.st
	switch {
	case m.profSaving:
		return m.spin.View() + " keeping this key as a profile" + st.g.Ellipsis
	case m.profErr != nil:
		return wrap(st.fail(fmt.Sprintf("not kept: %v. The key works anyway; cpikey token and export need a profile.", m.profErr)), m.w, 10)
	case m.profSaved != nil:
		return wrap(st.ok("kept as "+m.profSaved.Name+"; "+m.e.command()+" list shows it"), m.w, 10)
	}
	return ""
}

func (m *revealModel) verifyLine() string {
	st := m.e.st
	r := m.result
	if !r.Verified {
		why := "no token could be fetched with the new client yet"
		if r.VerifyErr != nil {
			why = r.VerifyErr.Error()
		}
		return wrap(st.fail("not verified: "+why+". SAP can take a minute; try the command below."), m.w, 10)
	}
	s := "verified: got a token"
	if len(r.Scopes) > 0 {
		s += " with scope " + strings.Join(r.Scopes, ", ")
	}
	return wrap(st.ok(s), m.w, 10)
}

// nextStep shows how to get a token without pasting the secret: it is read
// from the keychain by the OS tool.
func (m *revealModel) nextStep() string {
	st := m.e.st
	c := m.result.Credentials
	var b strings.Builder
	lead := "Get a token"
	if m.callStep(&b) {
		lead = "Or get a token yourself"
	}
	if c.KeyType.IsCertificate() {
		return b.String() + m.certNextStep()
	}
	if m.keychain == nil || m.keychain.Account == "" {
		b.WriteString(wrap("Get a token with client credentials: copy the secret (2) into your tool, or the whole key as JSON (j).", m.w, 0) + "\n")
		return b.String()
	}
	acct := m.keychain.Account
	var lookup string
	switch m.e.goos {
	case "darwin":
		// go-keyring stores "go-keyring-base64:<base64>" on macOS.
		lookup = fmt.Sprintf("security find-generic-password -s %s -a '%s' -w | sed 's/^go-keyring-base64://' | base64 -D", m.keychain.Service, acct)
	case "windows":
		b.WriteString(wrap(fmt.Sprintf("The secret is in Windows Credential Manager as %s:%s (Generic Credentials). PowerShell has no built-in reader; copy it with 2 or use the CredentialManager module.", m.keychain.Service, inert(acct)), m.w, 0) + "\n")
		m.tokenStep(&b, "curl.exe")
		return b.String()
	default:
		lookup = fmt.Sprintf("secret-tool lookup service %s username '%s'", m.keychain.Service, acct)
	}
	b.WriteString(wrap(lead+"; the secret is read from the keychain, never pasted:", m.w, 0) + "\n")
	cmd := []string{
		"secret=$(" + lookup + ")",
		fmt.Sprintf("curl -s -u '%s':\"$secret\" \\", c.ClientID),
		fmt.Sprintf("  -d grant_type=client_credentials '%s'", c.TokenURL),
	}
	for _, l := range cmd { // they quote the key's values from SAP
		b.WriteString(indent(st.Code.Render(ansi.Hardwrap(inert(l), max(10, m.w-2), false)), 2) + "\n")
	}
	m.tokenStep(&b, "curl")
	return b.String()
}

// tokenStep shows cpikey token, which needs the profile.
func (m *revealModel) tokenStep(b *strings.Builder, curl string) {
	if m.e.opts.SaveProfile == nil {
		return
	}
	b.WriteString(wrap("Or let cpikey read the keychain and call your iFlow with a fresh token:", m.w, 0) + "\n")
	l := fmt.Sprintf("%s -H \"Authorization: Bearer $(%s token)\" '%s/http/your/endpoint'", curl, m.e.command(), m.result.Credentials.URL)
	b.WriteString(indent(m.e.st.Code.Render(ansi.Hardwrap(inert(l), max(10, m.w-2), false)), 2) + "\n")
}

func (m *revealModel) view() string {
	status := m.statusView()
	if m.try.open {
		return m.tryView() + "\n" + status
	}
	if m.export.open {
		return m.exportView() + "\n" + status
	}
	return m.vp.View() + "\n" + scrollHint(m.e.st, m.vp) + "\n" + status
}
