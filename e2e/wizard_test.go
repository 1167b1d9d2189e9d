package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

// tmux drives the wizard in a real terminal: a private server (-L) with no
// configuration (-f /dev/null), one 120x40 window, all output piped to a file.
type tmux struct {
	t      *testing.T
	socket string
}

func (m *tmux) cmd(args ...string) ([]byte, error) {
	return exec.Command("tmux", append([]string{"-L", m.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
}

func (m *tmux) must(args ...string) string {
	m.t.Helper()
	out, err := m.cmd(args...)
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (m *tmux) screen() string {
	out, _ := m.cmd("capture-pane", "-p", "-t", "w")
	return string(out)
}

func (m *tmux) keys(k ...string) { m.must(append([]string{"send-keys", "-t", "w"}, k...)...) }

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestSecretCanary_Wizard(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it)")
	}
	w := newWorld(t, sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1})
	bin := binary(t)
	home := w.home(t)
	run := t.TempDir() // outside HOME: the pane log and stderr are scanned separately
	paneLog, errLog, codeFile := filepath.Join(run, "pane.log"), filepath.Join(run, "stderr.log"), filepath.Join(run, "exit.code")

	env := w.env(home, "TERM=xterm-256color", "DISPLAY=:99", "BTP_GLOBALACCOUNT="+sim.GASubdomain,
		"BTP_USERNAME="+sim.AdminUser, "BTP_PASSWORD="+w.password)
	var line strings.Builder
	line.WriteString("env -i")
	for _, kv := range env {
		line.WriteString(" " + shellQuote(kv))
	}
	for _, a := range []string{bin, "--debug", "--subaccount", sim.SubReady} {
		line.WriteString(" " + shellQuote(a))
	}
	line.WriteString(" 2>" + shellQuote(errLog) + "; echo $? >" + shellQuote(codeFile))

	m := &tmux{t: t, socket: "cpikey-e2e-" + randHex(t)}
	m.must("new-session", "-d", "-s", "w", "-x", "120", "-y", "40", "sh", "-c", "sleep 0.2; "+line.String())
	t.Cleanup(func() { m.cmd("kill-server") }) //nolint:errcheck
	m.must("pipe-pane", "-o", "-t", "w", "cat >> "+shellQuote(paneLog))

	var screens []string // for the failure report
	fail := func(format string, args ...any) {
		t.Helper()
		for _, s := range screens {
			t.Log("screen:\n" + s)
		}
		stderr, _ := os.ReadFile(errLog)
		t.Logf("stderr:\n%s", stderr)
		t.Fatalf(format, args...)
	}

	// Answer every question with its default (enter once the screen is
	// still); on the reveal screen copy the secret, then leave.
	var last string
	lastChange := time.Now()
	copied, quit := false, false
	deadline := time.Now().Add(45 * time.Second)
	for {
		if _, err := os.Stat(codeFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			fail("the wizard did not finish")
		}
		time.Sleep(40 * time.Millisecond)
		s := m.screen()
		if s != last {
			last, lastChange = s, time.Now()
			screens = append(screens, s)
			if len(screens) > 12 {
				screens = screens[1:]
			}
			continue
		}
		if time.Since(lastChange) < 200*time.Millisecond {
			continue
		}
		switch {
		case strings.Contains(s, "Your OAuth client") && !copied:
			m.keys("2") // copy the secret
			copied = true
		case strings.Contains(s, "Your OAuth client") && !quit:
			if b, _ := os.ReadFile(w.clipStore); len(b) == 0 {
				continue // wait for the copy to land
			}
			m.keys("q")
			quit = true
		case !quit:
			m.keys("Enter")
		}
		lastChange = time.Now()
	}
	time.Sleep(100 * time.Millisecond) // let pipe-pane flush
	if os.Getenv("CPIKEY_E2E_DUMP") != "" {
		for _, s := range screens {
			t.Log("screen:\n" + s)
		}
	}
	code, _ := os.ReadFile(codeFile)
	if strings.TrimSpace(string(code)) != "0" || !copied {
		fail("exit %q, copied %v", strings.TrimSpace(string(code)), copied)
	}

	pane, _ := os.ReadFile(paneLog)
	stderr, _ := os.ReadFile(errLog)
	if !bytes.Contains(stderr, []byte("http: POST")) {
		t.Errorf("no --debug trace on stderr:\n%s", stderr)
	}
	var clientID string
	w.sim.Do(func(sw *sim.World) {
		for _, k := range sw.Keys {
			if !k.Deleted {
				clientID = k.ClientID
			}
		}
	})
	if clientID == "" || !bytes.Contains(pane, []byte(clientID)) {
		t.Errorf("the wizard never showed the clientid %q", clientID)
	}
	// The secret went to the clipboard through stdin, and was cleared on exit.
	argv, _ := os.ReadFile(w.argvLog)
	if !bytes.Contains(argv, []byte("xclip [-in]")) && !bytes.Contains(argv, []byte("xsel")) {
		t.Errorf("the clipboard tool was never called:\n%s", argv)
	}
	if left, _ := os.ReadFile(w.clipStore); len(left) != 0 {
		t.Errorf("the copied secret was not cleared from the clipboard on exit (%d bytes left)", len(left))
	}
	w.record("wizard: terminal output", pane)
	w.record("wizard: stderr", stderr)
	w.recordHome(t, "wizard", home)
	w.scanAll(t)
}
