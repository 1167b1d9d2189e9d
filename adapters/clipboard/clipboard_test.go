package clipboard

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
)

const secret = "Cl1ent-S3cret-Value$+/="

// fakeNative is an in-memory system clipboard.
type fakeNative struct {
	mu       sync.Mutex
	content  string
	writes   int
	writeErr error
	readErr  error
	panics   bool
}

func (f *fakeNative) WriteAll(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics {
		panic("boom")
	}
	if f.writeErr != nil {
		return f.writeErr
	}
	f.writes++
	f.content = s
	return nil
}

func (f *fakeNative) ReadAll() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.content, f.readErr
}

func (f *fakeNative) get() string { s, _ := f.ReadAll(); return s }

func (f *fakeNative) set(s string) { f.mu.Lock(); f.content = s; f.mu.Unlock() }

// fakeClock fires timers only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2025, 11, 26, 10, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

func (c *fakeClock) active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func lookPathOK(string) (string, error) { return "/mnt/c/Windows/system32/clip.exe", nil }
func lookPathNo(string) (string, error) { return "", errors.New("not found") }

type rig struct {
	c      *Clipboard
	out    *bytes.Buffer
	native *fakeNative
	clock  *fakeClock
}

func newRig(goos string, env func(string) string, lookPath func(string) (string, error)) *rig {
	r := &rig{out: &bytes.Buffer{}, native: &fakeNative{}, clock: newClock()}
	if lookPath == nil {
		lookPath = lookPathNo
	}
	r.c = New(Options{Out: r.out, Native: r.native, GOOS: goos, Getenv: env, LookPath: lookPath, Clock: r.clock})
	return r
}

func osc52Set(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\x07"
}

const osc52ClearSeq = "\x1b]52;c;!\x07"

func TestCopy_ChoosesClipboard(t *testing.T) {
	text := "https://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com"
	tests := []struct {
		name       string
		goos       string
		env        func(string) string
		lookPath   func(string) (string, error)
		wantNative bool
		wantOut    string // exact bytes written to the terminal
	}{
		{"X11", "linux", envOf("DISPLAY", ":0"), nil, true, osc52Set(text)},
		{"Wayland", "linux", envOf("WAYLAND_DISPLAY", "wayland-0"), nil, true, osc52Set(text)},
		{"macOS", "darwin", envOf(), nil, true, osc52Set(text)},
		{"Windows", "windows", envOf(), nil, true, osc52Set(text)},
		{"WSL with clip.exe", "linux", envOf("WSL_DISTRO_NAME", "Ubuntu"), lookPathOK, true, osc52Set(text)},
		{"WSL without clip.exe", "linux", envOf("WSL_DISTRO_NAME", "Ubuntu"), lookPathNo, false, osc52Set(text)},
		{"headless linux", "linux", envOf(), nil, false, osc52Set(text)},
		{"SSH with X forwarding sets both", "linux", envOf("DISPLAY", "localhost:10.0", "SSH_CONNECTION", "1 2 3 4"), nil, true, osc52Set(text)},
		{"tmux", "linux", envOf("TMUX", "/tmp/tmux-0/default,1,0", "TERM", "screen-256color"), nil, false,
			"\x1bPtmux;\x1b" + osc52Set(text) + "\x1b\\"},
		{"screen (chunked DCS)", "linux", envOf("TERM", "screen.xterm-256color"), nil, false, osc52.New(text).Screen().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(tt.goos, tt.env, tt.lookPath)
			res := r.c.Copy(text, false)
			if res.Err != nil || !res.OK() {
				t.Fatalf("Copy: %+v", res)
			}
			if res.Native != tt.wantNative {
				t.Errorf("Native = %v, want %v", res.Native, tt.wantNative)
			}
			if got := r.native.get(); (got == text) != tt.wantNative {
				t.Errorf("system clipboard = %q", got)
			}
			if res.OSC52 != (tt.wantOut != "") || r.out.String() != tt.wantOut {
				t.Errorf("OSC52 = %v, terminal got %q, want %q", res.OSC52, r.out.String(), tt.wantOut)
			}
			if !res.ClearAt.IsZero() {
				t.Errorf("non-secret scheduled a clear at %s", res.ClearAt)
			}
		})
	}
}

func TestCopy_Failures(t *testing.T) {
	tests := []struct {
		name     string
		env      func(string) string
		noOut    bool
		writeErr error
		wantOK   bool
	}{
		{"system clipboard fails, OSC 52 takes over", envOf("DISPLAY", ":0"), false, errors.New("exit status 1"), true},
		{"system clipboard fails, no terminal", envOf("DISPLAY", ":0"), true, errors.New("Error: Can't open display: (null)"), false},
		{"no display, no terminal", envOf(), true, nil, false},
		{"dumb terminal", envOf("TERM", "dumb"), false, nil, false},
		{"error echoes the secret", envOf("DISPLAY", ":0"), true, errors.New("xclip: cannot write " + secret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			native := &fakeNative{writeErr: tt.writeErr}
			opts := Options{Native: native, GOOS: "linux", Getenv: tt.env, LookPath: lookPathNo, Clock: newClock()}
			out := &bytes.Buffer{}
			if !tt.noOut {
				opts.Out = out
			}
			res := New(opts).Copy(secret, true)
			if res.OK() != tt.wantOK {
				t.Fatalf("OK = %v, want %v (%+v)", res.OK(), tt.wantOK, res)
			}
			if tt.wantOK {
				if res.Err != nil || !res.OSC52 || out.String() != osc52Set(secret) {
					t.Fatalf("fallback to OSC 52 failed: %+v, out %q", res, out)
				}
				return
			}
			if !errors.Is(res.Err, ErrUnavailable) {
				t.Fatalf("Err = %v, want ErrUnavailable", res.Err)
			}
			msg := res.Err.Error()
			if !strings.Contains(msg, "no clipboard available: install xclip/wl-clipboard, or use a terminal that supports OSC 52") {
				t.Errorf("unhelpful message %q", msg)
			}
			if strings.Contains(msg, secret) || strings.Contains(res.Summary(), secret) {
				t.Errorf("secret in error %q", msg)
			}
			if !res.ClearAt.IsZero() {
				t.Errorf("clear scheduled although nothing was copied")
			}
		})
	}
}

func TestCopy_NeverPanics(t *testing.T) {
	r := newRig("linux", envOf("DISPLAY", ":0"), nil)
	r.native.panics = true
	res := r.c.Copy(secret, true)
	if !errors.Is(res.Err, ErrUnavailable) {
		t.Fatalf("Err = %v", res.Err)
	}
	r.native.panics = false
	if res := r.c.Copy("after", false); !res.Native { // the mutex was released
		t.Fatalf("clipboard unusable after a panic: %+v", res)
	}
}

func TestCopy_SecretAutoClear(t *testing.T) {
	tests := []struct {
		name       string
		env        func(string) string
		userCopies string // what the user copies in between; "" = nothing
		readErr    error
		wantNative string // system clipboard after 30 s
		wantClear  bool   // OSC 52 clear written
	}{
		{"system clipboard and OSC 52 cleared", envOf("DISPLAY", ":0"), "", nil, "", true},
		{"user copied something else", envOf("DISPLAY", ":0"), "user text", nil, "user text", false},
		{"paste tool added a newline", envOf("DISPLAY", ":0"), secret + "\r\n", nil, "", true},
		{"unreadable clipboard is left alone", envOf("DISPLAY", ":0"), "", errors.New("xclip failed"), secret, false},
		{"OSC 52 only: clear sequence", envOf(), "", nil, "", true},
		{"SSH: both cleared", envOf("DISPLAY", ":0", "SSH_TTY", "/dev/pts/1"), "", nil, "", true},
		{"SSH: user copied, neither cleared", envOf("DISPLAY", ":0", "SSH_TTY", "/dev/pts/1"), "user text", nil, "user text", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig("linux", tt.env, nil)
			res := r.c.Copy(secret, true)
			if want := r.clock.Now().Add(30 * time.Second); !res.ClearAt.Equal(want) {
				t.Fatalf("ClearAt = %s, want %s", res.ClearAt, want)
			}
			if tt.userCopies != "" {
				r.native.set(tt.userCopies)
			}
			r.native.readErr = tt.readErr
			r.out.Reset()

			r.clock.Advance(29 * time.Second)
			if !r.c.Pending() || r.out.Len() != 0 {
				t.Fatal("cleared before 30 s")
			}
			r.clock.Advance(time.Second)
			if r.c.Pending() {
				t.Error("still pending after the clear ran")
			}
			if res.Native {
				if got := r.native.get(); got != tt.wantNative {
					t.Errorf("system clipboard = %q, want %q", got, tt.wantNative)
				}
			}
			if got := r.out.String() == osc52ClearSeq; got != tt.wantClear {
				t.Errorf("terminal got %q, want clear = %v", r.out.String(), tt.wantClear)
			}
			if err := r.c.ClearNow(); err != nil || r.clock.active() != 0 {
				t.Errorf("ClearNow after the clear: %v, %d timers", err, r.clock.active())
			}
		})
	}
}

func TestClearNow(t *testing.T) {
	tests := []struct {
		name       string
		env        func(string) string
		secret     bool
		wantNative string
		wantOut    string
	}{
		{"secret in system clipboard (and OSC 52)", envOf("DISPLAY", ":0"), true, "", osc52ClearSeq},
		{"secret via OSC 52", envOf(), true, "", osc52ClearSeq},
		{"non-secret stays", envOf("DISPLAY", ":0"), false, "https://example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig("linux", tt.env, nil)
			text := "https://example"
			if tt.secret {
				text = secret
			}
			res := r.c.Copy(text, tt.secret)
			r.out.Reset()
			if err := r.c.ClearNow(); err != nil {
				t.Fatalf("ClearNow: %v", err)
			}
			if res.Native && r.native.get() != tt.wantNative {
				t.Errorf("system clipboard = %q, want %q", r.native.get(), tt.wantNative)
			}
			if r.out.String() != tt.wantOut {
				t.Errorf("terminal got %q, want %q", r.out.String(), tt.wantOut)
			}
			if r.clock.active() != 0 {
				t.Error("timer still armed after ClearNow")
			}
			writes := r.native.writes
			r.clock.Advance(time.Minute)
			if r.native.writes != writes || r.out.String() != tt.wantOut {
				t.Error("cleared twice")
			}
		})
	}
}

func TestCopy_LaterCopyCancelsPendingClear(t *testing.T) {
	r := newRig("linux", envOf("DISPLAY", ":0"), nil)
	r.c.Copy(secret, true)
	r.clock.Advance(10 * time.Second)
	r.c.Copy("client-id", false)
	if r.c.Pending() || r.clock.active() != 0 {
		t.Fatal("the earlier secret's clear is still scheduled")
	}
	r.clock.Advance(time.Minute)
	if r.native.get() != "client-id" {
		t.Fatalf("later copy was cleared: %q", r.native.get())
	}

	// A second secret restarts the 30 s.
	r.c.Copy(secret, true)
	r.clock.Advance(20 * time.Second)
	res := r.c.Copy(secret+"2", true)
	r.clock.Advance(20 * time.Second)
	if r.native.get() != secret+"2" {
		t.Fatal("second secret cleared by the first secret's timer")
	}
	r.clock.Advance(10 * time.Second)
	if r.native.get() != "" || !res.ClearAt.Equal(r.clock.Now()) {
		t.Fatalf("second secret not cleared at ClearAt: %q", r.native.get())
	}
}

func TestCopy_RealClockConcurrent(t *testing.T) {
	native := &fakeNative{}
	c := New(Options{Out: &bytes.Buffer{}, Native: native, GOOS: "darwin", ClearAfter: time.Millisecond})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Copy(secret, true)
			_ = c.ClearNow()
		}()
	}
	wg.Wait()
	c.Copy(secret, true)
	deadline := time.Now().Add(2 * time.Second)
	for c.Pending() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if native.get() != "" {
		t.Fatal("real-clock clear did not run")
	}
}

func TestNew_NoTerminalNoOSC52(t *testing.T) {
	// Under go test stderr is usually not a terminal; then the secret must
	// not be written to it base64-encoded.
	c := New(Options{Native: &fakeNative{}, GOOS: "linux", Getenv: envOf()})
	if c.out != nil && c.out != os.Stderr {
		t.Fatalf("unexpected default writer %T", c.out)
	}
	if c.out == nil {
		if res := c.Copy(secret, true); res.OK() {
			t.Fatalf("copied without a terminal or display: %+v", res)
		}
	}
	if c.clearAfter != DefaultClearAfter || DefaultClearAfter != 30*time.Second {
		t.Fatalf("clear after %s", c.clearAfter)
	}
}

func TestResult_Summary(t *testing.T) {
	at := time.Date(2025, 1, 1, 12, 0, 30, 0, time.UTC)
	for _, tt := range []struct {
		r    Result
		want string
	}{
		{Result{Native: true, ClearAt: at}, "Copied to the clipboard. It will be cleared at 12:00:30."},
		{Result{OSC52: true}, "OSC 52"},
		{Result{Err: ErrUnavailable}, "install xclip/wl-clipboard"},
	} {
		if got := tt.r.Summary(); !strings.Contains(got, tt.want) {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
	}
}
