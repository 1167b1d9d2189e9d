package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestWizardInTmux runs the built binary as a person would: `cpikey --demo`
// in a real terminal (a tmux pane), keys sent with send-keys, the screen read
// with capture-pane, from login to the reveal screen. The secret must not be
// on screen until toggled. Skipped where tmux is missing (.ci/run installs it).
func TestWizardInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (.ci/run installs it)")
	}
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	dir := t.TempDir()
	bin := testBinary(t)
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home, "TERM=xterm-256color")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// A clean environment: no real account, no D-Bus (the keychain failure
	// must be shown, not hidden), a fresh HOME for the demo state.
	shell := "env -u DBUS_SESSION_BUS_ADDRESS -u BTP_USERNAME -u BTP_PASSWORD HOME=" + home + " XDG_CACHE_HOME= XDG_CONFIG_HOME= " + bin + " --demo; sleep 60"
	tm("new-session", "-d", "-s", "cpikey", "-x", "110", "-y", "34", shell)
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() }) //nolint:errcheck

	screen := func() string { return tm("capture-pane", "-p", "-t", "cpikey") }
	waitFor := func(want string, d time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			s := screen()
			if strings.Contains(s, want) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("Log in to SAP BTP", 10*time.Second)
	// Every default accepted: Enter on each screen (e2e's keystroke test
	// counts them; here only the outcome matters).
	// Enter on the review screen starts the work; an Enter more, once the
	// reveal screen is up, would close it: stop pressing at "Creating".
	enterUntilAny := func(wants []string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			s := screen()
			for _, w := range wants {
				if strings.Contains(s, w) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %q; last screen:\n%s", wants, s)
			}
			tm("send-keys", "-t", "cpikey", "Enter")
			time.Sleep(400 * time.Millisecond)
		}
	}
	enterUntilAny([]string{"Creating", "Your OAuth client"}, 60*time.Second)
	waitFor("Your OAuth client", 60*time.Second)
	masked := waitFor("Token", 10*time.Second)

	if !strings.Contains(masked, "clientsecret") || !strings.Contains(masked, "•") {
		t.Fatalf("reveal screen does not show a masked secret:\n%s", masked)
	}
	if !regexp.MustCompile(`clientid\s+sb-`).MatchString(masked) {
		t.Fatalf("reveal screen lacks the clientid:\n%s", masked)
	}
	tm("send-keys", "-t", "cpikey", "s")
	secretLine := regexp.MustCompile(`clientsecret\s+([^\s•]+)`)
	var secret []string
	for deadline := time.Now().Add(5 * time.Second); secret == nil; {
		shown := screen()
		secret = secretLine.FindStringSubmatch(shown)
		if time.Now().After(deadline) {
			t.Fatalf("toggling did not show the secret:\n%s", shown)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(secret[1], "$") {
		t.Fatalf("the shown secret %d chars does not look like an it-rt secret", len(secret[1]))
	}
	if strings.Contains(masked, secret[1]) {
		t.Fatal("the secret was on screen before it was toggled")
	}
	if !strings.Contains(masked, "not saved") {
		t.Fatalf("without a Secret Service the reveal screen must say the secret was not saved:\n%s", masked)
	}
}
