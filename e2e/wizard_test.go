package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	w := newWorld(t, sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1, SSODelay: 20 * time.Millisecond})
	user := []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password}

	t.Run("password, cloud foundry, secret copied", func(t *testing.T) {
		r := runWizard(t, w, user, wizardCopySecret, "--debug", "--subaccount", sim.SubReady)
		// The secret went to the clipboard through stdin, and was cleared on exit.
		if !bytes.Contains(r.argv, []byte("xclip [-in]")) && !bytes.Contains(r.argv, []byte("xsel")) {
			t.Errorf("the clipboard tool was never called:\n%s", r.argv)
		}
		if left, _ := os.ReadFile(w.clipStore); len(left) != 0 {
			t.Errorf("the copied secret was not cleared from the clipboard on exit (%d bytes left)", len(left))
		}
	})
	t.Run("sso, runtime other, a call tried on the reveal screen", func(t *testing.T) {
		r := runWizard(t, w, nil, wizardTryCall, "--debug", "--sso", "--runtime", "other", "--subaccount", sim.SubNoCF)
		if !bytes.Contains(r.argv, []byte("xdg-open [http")) {
			t.Errorf("the browser was not opened for the SSO login:\n%s", r.argv)
		}
		// The CSRF handshake ran in the terminal: a session id and a CSRF
		// token were issued, and the scan below looks for them too.
		if !bytes.Contains(r.pane, []byte("CSRF protected")) || !bytes.Contains(r.stderr, []byte("http: GET ")) {
			t.Errorf("the inline call did not reach the CSRF-protected iFlow")
		}
	})
	t.Run("certificate key, verified over mTLS", func(t *testing.T) {
		// The binary trusts the simulator's CA the way a user would trust a
		// corporate one (SSL_CERT_FILE); the product itself trusts only the
		// system's CAs outside --demo.
		env := append([]string{"SSL_CERT_FILE=" + w.caFile(t)}, user...)
		r := runWizard(t, w, env, wizardCertificate, "--debug", "--subaccount", sim.SubReady, "--instance", "CANARY_CERT")
		for _, want := range []string{"never shown; kept in the OS keychain", "CN=SAP PKI Certificate Service Client CA", "days left", "verified: got a token"} {
			if !bytes.Contains(r.pane, []byte(want)) {
				t.Errorf("the reveal screen lacks %q", want)
			}
		}
		if !bytes.Contains(r.stderr, []byte("http: POST "+w.sim.CertTokenURL()+"/oauth/token -> 200")) {
			t.Errorf("no token from the certificate host in the --debug trace:\n%s", r.stderr)
		}
	})
	t.Run("secret shown on request (the test of the test)", func(t *testing.T) {
		r := runWizard(t, w, user, wizardShowSecret, "--subaccount", sim.SubReady)
		rec := &recordingTB{TB: t}
		scanForSecrets(rec, "terminal output", r.pane, w.sim.IssuedSecrets())
		if len(rec.errs) == 0 {
			t.Fatal("the wizard showed the secret (s), yet the scanner saw nothing in the terminal output")
		}
	})
	w.scanAll(t)
}

// What runWizard does besides answering with defaults and leaving.
const (
	wizardCopySecret  = 1 << iota // 2: copy the secret
	wizardShowSecret              // s: show it on screen (its output is then not scanned)
	wizardTryCall                 // c: POST to the CSRF-protected iFlow from the reveal screen
	wizardCertificate             // on the form, key type Certificate (defaults 365 days, 2048 bits)
)

type wizardRun struct{ pane, stderr, argv []byte }

// runWizard runs the wizard in tmux, answers every question with its
// default (enter once the screen is still), on the reveal screen copies the
// secret when asked to, then leaves with q. Output is recorded for the scan.
func runWizard(t *testing.T, w *world, env []string, do int, args ...string) wizardRun {
	t.Helper()
	bin := binary(t)
	home := w.home(t)
	run := t.TempDir() // outside HOME: the pane log and stderr are scanned separately
	paneLog, errLog, codeFile := filepath.Join(run, "pane.log"), filepath.Join(run, "stderr.log"), filepath.Join(run, "exit.code")
	os.Remove(w.clipStore)

	full := w.env(home, append([]string{"TERM=xterm-256color", "DISPLAY=:99", "BTP_GLOBALACCOUNT=" + sim.GASubdomain}, env...)...)
	var line strings.Builder
	line.WriteString("env -i")
	for _, kv := range full {
		line.WriteString(" " + shellQuote(kv))
	}
	for _, a := range append([]string{bin}, args...) {
		line.WriteString(" " + shellQuote(a))
	}
	line.WriteString(" 2>" + shellQuote(errLog) + "; echo $? >" + shellQuote(codeFile))

	m := &tmux{t: t, socket: "cpikey-e2e-" + randHex(t)}
	m.must("new-session", "-d", "-s", "w", "-x", "120", "-y", "40", "sh", "-c", "sleep 0.2; "+line.String())
	t.Cleanup(func() { m.cmd("kill-server") }) //nolint:errcheck
	m.must("pipe-pane", "-o", "-t", "w", "cat >> "+shellQuote(paneLog))

	var screens []string // the last few, for a failure report
	fail := func(format string, args ...any) {
		t.Helper()
		for _, s := range screens {
			t.Log("screen:\n" + s)
		}
		stderr, _ := os.ReadFile(errLog)
		t.Logf("stderr:\n%s", stderr)
		t.Fatalf(format, args...)
	}
	var last string
	lastChange := time.Now()
	copySecret, showSecret := do&wizardCopySecret != 0, do&wizardShowSecret != 0
	tryCall := do&wizardTryCall != 0
	copied, shown, tried, closed, quit := false, false, false, false, false
	certChosen := do&wizardCertificate == 0
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
			if screens = append(screens, s); len(screens) > 12 {
				screens = screens[1:]
			}
			continue
		}
		if time.Since(lastChange) < 120*time.Millisecond {
			continue
		}
		reveal := strings.Contains(s, "Your OAuth client")
		switch {
		case !certChosen && strings.Contains(s, "Key type"):
			m.keys("Tab", "Tab", "Tab", "Tab", "Down") // plan, instance, roles, key name, key type: Certificate
			certChosen = true
		case reveal && copySecret && !copied:
			m.keys("2") // copy the secret
			copied = true
		case reveal && showSecret && !shown:
			m.keys("s")
			shown = true
		case reveal && tryCall && !tried:
			m.keys("c")
			m.keys("C-u") // clear the suggested path
			m.keys("-l", "POST "+sim.FlowCSRF)
			m.keys("Enter")
			tried = true
		case tried && !closed:
			if !strings.Contains(s, " 200 OK in ") {
				continue // the call is still running
			}
			m.keys("Escape")
			closed = true
		case reveal && !quit:
			if b, _ := os.ReadFile(w.clipStore); copySecret && len(b) == 0 {
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
	if strings.TrimSpace(string(code)) != "0" || !quit {
		fail("exit %q, reached the reveal screen: %v", strings.TrimSpace(string(code)), quit)
	}

	r := wizardRun{}
	r.pane, _ = os.ReadFile(paneLog)
	r.stderr, _ = os.ReadFile(errLog)
	r.argv, _ = os.ReadFile(w.argvLog)
	if slices.Contains(args, "--debug") && !bytes.Contains(r.stderr, []byte("http: POST")) {
		t.Errorf("no --debug trace on stderr:\n%s", r.stderr)
	}
	shownID := false // the reveal screen showed a live key's clientid
	w.sim.Do(func(sw *sim.World) {
		for _, k := range sw.Keys {
			shownID = shownID || (!k.Deleted && bytes.Contains(r.pane, []byte(k.ClientID)))
		}
	})
	if !shownID {
		t.Error("the wizard never showed a clientid of the simulator")
	}
	label := "wizard " + t.Name()
	if !showSecret {
		w.record(label+": terminal output", r.pane)
	}
	w.record(label+": stderr", r.stderr)
	w.recordHome(t, label, home)
	return r
}
