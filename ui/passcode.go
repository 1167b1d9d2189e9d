package ui

import (
	"context"
	"errors"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// Passcode lets the flow ask for a Cloud Foundry one-time passcode inside
// the wizard (after SSO or a btp CLI session no password is known). Pass
// Ask as steps.Config.CFPasscode and the value as Options.Passcode.
type Passcode struct {
	req chan passcodeRequest
}

type passcodeRequest struct {
	url   string
	reply chan passcodeReply // buffered: the wizard never blocks on it
}

type passcodeReply struct {
	code string
	err  error
}

// ErrPasscodeCancelled is returned by Ask when the user pressed Esc.
var ErrPasscodeCancelled = errors.New("Cloud Foundry passcode entry cancelled; log in with user and password, or choose runtime Other")

// NewPasscode returns a prompt bridge.
func NewPasscode() *Passcode { return &Passcode{req: make(chan passcodeRequest)} }

// Ask blocks the flow's goroutine (never the wizard's) until the user
// answers or ctx ends.
func (p *Passcode) Ask(ctx context.Context, passcodeURL string) (string, error) {
	r := passcodeRequest{url: passcodeURL, reply: make(chan passcodeReply, 1)}
	select {
	case p.req <- r:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case a := <-r.reply:
		return a.code, a.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

type passcodeAskMsg struct{ r passcodeRequest }

// wait is the Cmd that receives the next question.
func (p *Passcode) wait(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		select {
		case r := <-p.req:
			return passcodeAskMsg{r: r}
		case <-ctx.Done():
			return nil
		}
	}
}

// passcodePrompt is shown over the current screen while the flow waits.
type passcodePrompt struct {
	r          passcodeRequest
	in         textinput.Model
	browserErr error
	opened     bool
}

type passcodeBrowserMsg struct {
	url string
	err error
}

func newPasscodePrompt(e *env, r passcodeRequest) (*passcodePrompt, tea.Cmd) {
	in := newInput("paste the passcode", 128)
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = []rune(e.st.g.Mask)[0]
	p := &passcodePrompt{r: r, in: in}
	focus := p.in.Focus()
	if b := e.opts.Browser; b != nil {
		url := r.url
		return p, tea.Batch(focus, func() tea.Msg { return passcodeBrowserMsg{url: url, err: b.Open(url)} })
	}
	p.browserErr = errors.New("no browser configured")
	return p, focus
}

// update handles keys; done reports that the prompt is answered.
func (p *passcodePrompt) update(msg tea.Msg, k keyMap) (cmd tea.Cmd, done bool) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, k.Enter):
			code := strings.TrimSpace(p.in.Value())
			if code == "" {
				return nil, false
			}
			p.r.reply <- passcodeReply{code: code}
			return nil, true
		case key.Matches(km, k.Back):
			p.r.reply <- passcodeReply{err: ErrPasscodeCancelled}
			return nil, true
		}
	}
	p.in, cmd = p.in.Update(msg)
	return cmd, false
}

func (p *passcodePrompt) help(k keyMap) []key.Binding {
	return []key.Binding{withHelp(k.Enter, "enter", "send passcode"), withHelp(k.Back, "esc", "cancel")}
}

func (p *passcodePrompt) view(st *styles, w int) string {
	var b strings.Builder
	b.WriteString(st.Label.Render("Cloud Foundry needs a one-time passcode") + "\n\n")
	b.WriteString(wrap("You logged in without a password, so Cloud Foundry asks for a passcode. Log in on this page, copy the passcode it shows and paste it here:", w, 0) + "\n\n")
	b.WriteString(indent(ansi.Hardwrap(inert(p.r.url), max(20, w-2), false), 2) + "\n")
	switch {
	case p.opened:
		b.WriteString("  " + st.ok("Opened in your browser.") + "\n")
	case p.browserErr != nil:
		b.WriteString("  " + st.warn("Open it yourself ("+p.browserErr.Error()+").") + "\n")
	}
	b.WriteString("\n" + st.Label.Render("Passcode") + "\n  " + p.in.View() + "\n")
	return b.String()
}
