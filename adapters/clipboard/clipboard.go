// Package clipboard copies client IDs, URLs and secrets for the user.
//
// It uses the system clipboard (github.com/atotto/clipboard) when there is a
// display to own one, and the terminal's OSC 52 sequence otherwise (SSH,
// containers, no X11/Wayland), which lets the user's local terminal set its
// clipboard. A copied secret is cleared after 30 seconds, and by ClearNow on
// exit, but only while the clipboard still holds it: something the user
// copied since is never wiped (the KeePassXC rule).
package clipboard

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	atotto "github.com/atotto/clipboard"
	"github.com/aymanbagabas/go-osc52/v2"
	"github.com/charmbracelet/x/term"
)

// DefaultClearAfter is how long a copied secret stays in the clipboard.
const DefaultClearAfter = 30 * time.Second

// ErrUnavailable is wrapped by Result.Err when nothing could take the text.
var ErrUnavailable = errors.New("no clipboard available: install xclip/wl-clipboard, or use a terminal that supports OSC 52")

// Native is a system clipboard.
type Native interface {
	WriteAll(text string) error
	ReadAll() (string, error)
}

// Timer is a scheduled call that can be cancelled.
type Timer interface{ Stop() bool }

// Clock schedules the auto-clear; tests inject a fake one.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Options configures a Clipboard. The zero value is ready to use.
type Options struct {
	// Out receives OSC 52 sequences. nil means os.Stderr when it is a
	// terminal, and no OSC 52 at all otherwise (a secret must never end up
	// base64-encoded in a redirected log).
	Out        io.Writer
	Native     Native                       // nil: the platform's tools (see commandNative); atotto/clipboard on Windows
	GOOS       string                       // "": runtime.GOOS
	Getenv     func(string) string          // nil: os.Getenv
	LookPath   func(string) (string, error) // nil: exec.LookPath (finds WSL's clip.exe)
	Clock      Clock                        // nil: the real clock
	ClearAfter time.Duration                // 0: DefaultClearAfter
}

// Result says where the text went.
type Result struct {
	OSC52   bool      // the OSC 52 sequence was written to the terminal (delivery cannot be confirmed)
	Native  bool      // the system clipboard was set
	Err     error     // set when the text reached no clipboard; wraps ErrUnavailable
	ClearAt time.Time // when a copied secret will be cleared; zero for non-secrets
}

// OK reports whether the text reached a clipboard.
func (r Result) OK() bool { return r.OSC52 || r.Native }

// Summary is a one-line message for the user.
func (r Result) Summary() string {
	var s string
	switch {
	case r.Native:
		s = "Copied to the clipboard."
	case r.OSC52:
		s = "Sent to your terminal's clipboard (OSC 52); if pasting does not work, install xclip/wl-clipboard or enable OSC 52 in your terminal."
	default:
		if r.Err != nil {
			return r.Err.Error()
		}
		return ErrUnavailable.Error()
	}
	if !r.ClearAt.IsZero() {
		s += " It will be cleared at " + r.ClearAt.Format("15:04:05") + "."
	}
	return s
}

// Clipboard copies text and clears copied secrets again.
type Clipboard struct {
	out        io.Writer
	native     Native
	goos       string
	getenv     func(string) string
	lookPath   func(string) (string, error)
	clock      Clock
	clearAfter time.Duration

	mu      sync.Mutex
	pending *pendingClear // the secret currently believed to be in the clipboard
}

// pendingClear remembers a copied secret by its hash only.
type pendingClear struct {
	sum    [sha256.Size]byte
	native bool // went to the system clipboard
	osc52  bool // went to the terminal
	timer  Timer
}

// New returns a Clipboard.
func New(opts Options) *Clipboard {
	c := &Clipboard{
		out: opts.Out, native: opts.Native, goos: opts.GOOS, getenv: opts.Getenv,
		lookPath: opts.LookPath, clock: opts.Clock, clearAfter: opts.ClearAfter,
	}
	if c.out == nil && term.IsTerminal(os.Stderr.Fd()) {
		c.out = os.Stderr
	}
	if c.goos == "" {
		c.goos = runtime.GOOS
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if c.lookPath == nil {
		c.lookPath = exec.LookPath
	}
	if c.native == nil {
		// Windows' clipboard is an API (no child process); elsewhere the
		// tools run with a clean environment.
		c.native = commandNative{goos: c.goos, getenv: c.getenv, lookPath: c.lookPath}
		if c.goos == "windows" {
			c.native = atottoNative{}
		}
	}
	if c.clock == nil {
		c.clock = realClock{}
	}
	if c.clearAfter <= 0 {
		c.clearAfter = DefaultClearAfter
	}
	return c
}

// Copy puts text on the clipboard: always through OSC 52 (the terminal sets
// the clipboard of the machine the user sits at, which works over SSH), and
// also the system clipboard where a display is available.
// For secrets a clear is scheduled. Copy never panics; failures are in
// Result.Err and never contain text.
func (c *Clipboard) Copy(text string, secret bool) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Err: fmt.Errorf("%w (clipboard failed unexpectedly)", ErrUnavailable)}
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelLocked() // whatever we copied before is no longer in the clipboard

	var nativeErr error
	if c.nativeAvailable() {
		if err := c.native.WriteAll(text); err != nil {
			nativeErr = scrub(err, text)
		} else {
			res.Native = true
		}
	}
	res.OSC52 = c.writeOSC52(osc52.New(text))
	if !res.OK() {
		if nativeErr != nil {
			res.Err = fmt.Errorf("%w (system clipboard: %v)", ErrUnavailable, nativeErr)
		} else {
			res.Err = ErrUnavailable
		}
		return res
	}
	if secret {
		p := &pendingClear{sum: sha256.Sum256([]byte(text)), native: res.Native, osc52: res.OSC52}
		p.timer = c.clock.AfterFunc(c.clearAfter, func() { _ = c.clearIfOurs(p) })
		c.pending = p
		res.ClearAt = c.clock.Now().Add(c.clearAfter)
	}
	return res
}

// ClearNow clears a copied secret at once if the clipboard still holds it
// (call it on exit). It does nothing when no secret is pending.
func (c *Clipboard) ClearNow() error {
	c.mu.Lock()
	p := c.pending
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	return c.clearIfOurs(p)
}

// Pending reports whether a copied secret is waiting to be cleared.
func (c *Clipboard) Pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending != nil
}

func (c *Clipboard) clearIfOurs(p *pendingClear) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending != p {
		return nil // superseded by a later copy, or already cleared
	}
	c.cancelLocked()

	stillOurs := true // OSC 52 cannot be read back; trust it unless the system clipboard says otherwise
	var err error
	if p.native {
		cur, rerr := c.native.ReadAll()
		switch {
		case rerr != nil:
			stillOurs = false // cannot tell: leave it rather than wipe the user's data
			err = errors.New("clipboard: could not read the clipboard to clear the secret; clear it yourself")
		case !c.matches(p, cur):
			stillOurs = false
		default:
			if werr := c.native.WriteAll(""); werr != nil {
				err = errors.New("clipboard: could not clear the secret from the clipboard; clear it yourself")
			}
		}
	}
	if p.osc52 && stillOurs {
		c.writeOSC52(osc52.Clear())
	}
	return err
}

func (c *Clipboard) matches(p *pendingClear, cur string) bool {
	if sha256.Sum256([]byte(cur)) == p.sum {
		return true
	}
	// Some paste tools add a line ending.
	trimmed := strings.TrimRight(cur, "\r\n")
	return trimmed != cur && sha256.Sum256([]byte(trimmed)) == p.sum
}

func (c *Clipboard) cancelLocked() {
	if c.pending != nil {
		c.pending.timer.Stop()
		c.pending = nil
	}
}

func (c *Clipboard) writeOSC52(seq osc52.Sequence) bool {
	if c.out == nil || c.getenv("TERM") == "dumb" {
		return false
	}
	switch {
	case c.getenv("TMUX") != "":
		seq = seq.Tmux()
	case strings.HasPrefix(c.getenv("TERM"), "screen"):
		seq = seq.Screen()
	}
	_, err := seq.WriteTo(c.out)
	return err == nil
}

// nativeAvailable: only with a display can the system clipboard be owned;
// atotto checks for xclip but not for $DISPLAY, and fails over SSH.
func (c *Clipboard) nativeAvailable() bool {
	switch c.goos {
	case "darwin", "windows":
		return true
	}
	if c.getenv("DISPLAY") != "" || c.getenv("WAYLAND_DISPLAY") != "" {
		return true
	}
	if c.goos == "linux" && (c.getenv("WSL_DISTRO_NAME") != "" || c.getenv("WSL_INTEROP") != "") {
		if _, err := c.lookPath("clip.exe"); err == nil {
			return true
		}
	}
	return false
}

func (c *Clipboard) overSSH() bool {
	return c.getenv("SSH_TTY") != "" || c.getenv("SSH_CONNECTION") != ""
}

func scrub(err error, text string) error {
	if text == "" || !strings.Contains(err.Error(), text) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), text, "[redacted]"))
}

type atottoNative struct{}

func (atottoNative) WriteAll(text string) error { return atotto.WriteAll(text) }
func (atottoNative) ReadAll() (string, error)   { return atotto.ReadAll() }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, f)
}
