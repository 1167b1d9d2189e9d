// Package ui is cpikey's terminal wizard (Bubble Tea): one root model with a
// screen enum and one child model per screen, driving steps.Flow. All I/O
// runs in tea.Cmds whose results are tagged with a request id, so Update
// never blocks and stale results are dropped.
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"

	"github.com/cpikey/cpikey/adapters/clipboard"
	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// Clipboard is what the reveal screen needs from adapters/clipboard.
type Clipboard interface {
	Copy(text string, secret bool) clipboard.Result
	ClearNow() error
}

// Browser opens the SSO login page (adapters/browser.Opener).
type Browser interface {
	Open(url string) error
}

// Options configure the wizard.
type Options struct {
	// Flow is the setup flow. Construct it with Reporter below as its
	// steps.Config.Reporter so progress reaches the screens.
	Flow *steps.Flow
	// Reporter delivers the flow's progress events; nil means the progress
	// screen only learns the final result.
	Reporter *Reporter
	// Passcode lets the flow ask for a Cloud Foundry one-time passcode
	// inside the wizard; pass its Ask as steps.Config.CFPasscode.
	Passcode *Passcode
	// Prefill holds what headless flags gave: those questions are skipped
	// or pre-selected. Pass the flags as given (not Normalize()d), so that
	// defaults still get asked.
	Prefill steps.HeadlessInput
	// LastGlobalAccount pre-fills the global account (remembered).
	LastGlobalAccount string
	// RememberGlobalAccount is called (in a Cmd) after a successful login,
	// so main can store it for the next run; nil: not remembered.
	RememberGlobalAccount func(subdomain string)
	// LastSubaccount is the subaccount (GUID) last used in a global account
	// (subdomain), selected first in the picker; nil: none.
	LastSubaccount func(globalAccount string) string
	// Remembered are the last run's choices in a subaccount (GUID), selected
	// first (flags still win), so a rerun resumes the same instance; nil:
	// none.
	Remembered func(subaccountID string) configdir.Choices
	// RememberChoices keeps the choices (in a Cmd) when a run starts; nil:
	// nothing is remembered.
	RememberChoices func(globalAccount, subaccountID string, c configdir.Choices)
	// Command is how the user runs cpikey here ("cpikey --demo"), for the
	// hints that name commands; "" means "cpikey".
	Command string
	// SaveProfile is called (in a Cmd) when the key is revealed, and again
	// after a keychain retry, to keep the key as a profile (main wires
	// profiles); the reveal screen shows the outcome, never fatal.
	// nil: no profile is kept (demo) and the screen does not mention it.
	SaveProfile func(r *steps.Result, t steps.Target) (profiles.Profile, error)
	// TryCall lets the reveal screen call the tenant with the new key (c);
	// nil: the key is not offered. TryPaths are paths to suggest (the
	// demo's iFlows); the first fills the field.
	TryCall  TryCallFunc
	TryPaths []string
	// ExportDir is where the reveal screen's exports are written; "" is
	// the current directory.
	ExportDir string
	Clipboard Clipboard // nil: copying says it is unavailable
	Browser   Browser   // nil: the SSO URL is only printed
	// ASCII uses v/!/x glyphs and an ASCII spinner (dumb terminals,
	// Windows classic console). Run turns it on for TERM=dumb.
	ASCII bool
	// In and Out default to os.Stdin and os.Stdout.
	In  io.Reader
	Out io.Writer
	// Demo shows a DEMO badge and never logs in without showing the login
	// screen.
	Demo bool
	// Now, Getenv and GOOS are for tests (clock, BTP_USERNAME and
	// BTP_PASSWORD, the OS-specific next-step hint); nil/"" use the real ones.
	Now    func() time.Time
	Getenv func(string) string
	GOOS   string
}

// ErrInterrupted is wrapped by the error Run returns when the user quit
// with Ctrl+C before the end; main exits 130 for it.
var ErrInterrupted = errors.New("interrupted")

// ErrNoTerminal is returned by Run when stdin or stdout is not a terminal.
var ErrNoTerminal = errors.New("the wizard needs a terminal (stdin and stdout must be a TTY); run headless instead: cpikey --yes with --global-account, --subaccount and the other flags (see cpikey --help)")

// InterruptedError says where the user quit and what SAP is still doing.
type InterruptedError struct {
	Screen  string // screen name, e.g. "progress"
	Pending string // e.g. "SAP is still creating service instance X"; "" if nothing
}

func (e *InterruptedError) Error() string {
	// main prefixes "interrupted."; the text says what it means for SAP.
	if e.Pending == "" {
		return fmt.Sprintf("Quit at the %s screen; nothing was left running at SAP.", e.Screen)
	}
	return fmt.Sprintf("%s. Run cpikey again with the same choices to resume; it reuses what exists.", e.Pending)
}

// Unwrap makes errors.Is(err, ErrInterrupted) true.
func (e *InterruptedError) Unwrap() error { return ErrInterrupted }

// New returns the root model of the wizard.
func New(opts Options) tea.Model {
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{opts: opts, st: newStyles(opts.ASCII), keys: newKeyMap(), now: opts.Now,
		ctx: ctx, cancel: cancel, goos: opts.GOOS, getenv: opts.Getenv}
	if opts.Flow != nil {
		e.flow = opts.Flow
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.getenv == nil {
		e.getenv = os.Getenv
	}
	if e.goos == "" {
		e.goos = runtime.GOOS
	}
	if opts.ASCII {
		e.keys.asciiHelp()
	}
	h := help.New()
	if opts.ASCII {
		h.ShortSeparator, h.Ellipsis = " - ", "..."
	} else {
		h.ShortSeparator = " · "
	}
	m := &model{e: e, help: h}
	m.stack = []screenModel{newLogin(e)}
	return m
}

// Run starts the wizard on the terminal and returns when it ends: nil when
// the user finished at the reveal screen, an *InterruptedError (wrapping
// ErrInterrupted) after Ctrl+C, ErrNoTerminal without a terminal.
func Run(opts Options) error {
	if opts.In == nil {
		opts.In = os.Stdin
	}
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if !isTerminal(opts.In) || !isTerminal(opts.Out) {
		return ErrNoTerminal
	}
	if os.Getenv("TERM") == "dumb" {
		opts.ASCII = true
	}
	p := tea.NewProgram(New(opts), tea.WithInput(opts.In), tea.WithOutput(opts.Out), tea.WithAltScreen(),
		// Bubble Tea draws on its frame tick; at the default 60 fps the first
		// frame waits up to 16.7 ms, most of the start-up budget.
		tea.WithFPS(120))
	final, err := p.Run()
	return finish(opts, final, err)
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(file.Fd())
}

// finish clears a copied secret, prints the summary and maps the end state
// to Run's error.
func finish(opts Options, final tea.Model, err error) error {
	m, _ := final.(*model)
	if opts.Clipboard != nil && m != nil && m.copiedSecret() {
		_ = opts.Clipboard.ClearNow() // best effort; the 30 s timer is gone with us
	}
	if err != nil {
		if errors.Is(err, tea.ErrInterrupted) || errors.Is(err, tea.ErrProgramKilled) {
			ie := &InterruptedError{Screen: "unknown"}
			if m != nil { // SIGINT from outside: same message as Ctrl+C
				ie.Screen, ie.Pending = m.screen().String(), m.cur().pending()
			}
			return ie
		}
		return fmt.Errorf("wizard: %w", err)
	}
	if m == nil {
		return nil
	}
	if m.interrupted {
		return &InterruptedError{Screen: m.screen().String(), Pending: m.pendingWork}
	}
	if m.c.result != nil && opts.Out != nil {
		fmt.Fprint(opts.Out, m.Summary())
	}
	return nil
}

// copiedSecret reports whether a secret went to the clipboard.
func (m *model) copiedSecret() bool {
	for _, s := range m.stack {
		if r, ok := s.(*revealModel); ok && r.copied {
			return true
		}
	}
	return false
}

// Summary is what stays in the terminal after the wizard: no secret.
func (m *model) Summary() string {
	r := m.c.result
	if r == nil {
		return ""
	}
	st := m.e.st
	s := fmt.Sprintf("%s OAuth client for %s ready (instance %s, key %s)\n  clientid: %s\n  tokenurl: %s\n  url:      %s\n",
		st.g.OK, inert(r.Subaccount.Name), inert(r.Instance.Name), inert(r.Key.Name), inert(r.Credentials.ClientID), inert(r.Credentials.TokenURL), inert(r.Credentials.URL))
	if rv, ok := m.cur().(*revealModel); ok && rv.keychain != nil && rv.keychain.Account != "" {
		s += fmt.Sprintf("  secret:   in the OS keychain (service %s, account %s)\n", inert(rv.keychain.Service), inert(rv.keychain.Account))
	} else {
		s += "  secret:   not stored; run cpikey again to reveal the key once more\n"
	}
	return s
}
