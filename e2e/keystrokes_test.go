package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// maxDemoKeystrokes is the budget from launch to revealed credentials on
// --demo with every default accepted.
const maxDemoKeystrokes = 7

// TestWizardKeystrokes_Demo counts the keys a newcomer presses in `cpikey
// --demo` (a real terminal, fresh HOME) from launch to the reveal screen,
// accepting every default: Enter whenever the screen waits (it stopped
// changing: no spinner runs). Each screen passed on the way is logged.
func TestWizardKeystrokes_Demo(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (CI installs it)")
	}
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := binary(t)
	home := t.TempDir()
	run := t.TempDir()
	codeFile := filepath.Join(run, "exit.code")
	// No D-Bus session: the keychain is missing, which the review must say.
	line := "env -i HOME=" + shellQuote(home) + " PATH=" + shellQuote(os.Getenv("PATH")) + " TERM=xterm-256color " +
		shellQuote(bin) + " --demo 2>" + shellQuote(filepath.Join(run, "stderr.log")) + "; echo $? >" + shellQuote(codeFile)
	m := &tmux{t: t, socket: "cpikey-keys-" + randHex(t)}
	m.must("new-session", "-d", "-s", "w", "-x", "100", "-y", "32", "sh", "-c", "sleep 0.2; "+line)
	t.Cleanup(func() { m.cmd("kill-server") }) //nolint:errcheck

	title := regexp.MustCompile(`cpikey . ([^\n]*?)\s{2,}`)
	var screens []string
	keys := 0
	var last string
	lastChange := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	var review string
	for {
		if time.Now().After(deadline) {
			t.Fatalf("never reached the revealed credentials after %d keys; screens:\n%s\nlast:\n%s", keys, strings.Join(screens, "\n"), last)
		}
		time.Sleep(40 * time.Millisecond)
		s := m.screen()
		if s != last {
			last, lastChange = s, time.Now()
			continue
		}
		if strings.Contains(s, "Your OAuth client") && regexp.MustCompile(`clientid\s+sb-`).MatchString(s) {
			break
		}
		// Still for a moment: the screen waits for the user.
		if time.Since(lastChange) < 400*time.Millisecond {
			continue
		}
		name := "?"
		if mm := title.FindStringSubmatch(s); mm != nil {
			name = mm[1]
		}
		if strings.Contains(name, "Review") {
			review = s
		}
		screens = append(screens, "Enter on: "+name)
		m.keys("Enter")
		keys++
		lastChange = time.Now()
	}
	t.Logf("%d keystrokes from launch to the revealed credentials:\n%s", keys, strings.Join(screens, "\n"))
	if keys > maxDemoKeystrokes {
		t.Errorf("%d keystrokes, want at most %d", keys, maxDemoKeystrokes)
	}
	if review == "" {
		t.Fatal("the wizard never stopped at the review screen")
	}
	// The review still shows every choice, and says the truth about the
	// keychain (there is none here) and how to get the secret anyway.
	for _, want := range []string{"CPI Dev", "dev", "integration-flow", "CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key", "ESBMessaging.send"} {
		if !strings.Contains(review, want) {
			t.Errorf("the review does not show %q:\n%s", want, review)
		}
	}
	if !strings.Contains(review, "keychain") || !strings.Contains(review, "--show-secret") {
		t.Errorf("the review does not say the keychain is missing and how to get the secret:\n%s", review)
	}
	m.keys("q")
	for end := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(codeFile); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the wizard did not exit after q")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The demo wrote into its own namespace only, file by file.
	var files []string
	err := filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(home, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	want := []string{".cache/cpikey/demo/state.json", ".config/cpikey/demo/prefs.json", ".config/cpikey/demo/prefs.json.lock",
		".config/cpikey/demo/profiles.json", ".config/cpikey/demo/profiles.json.lock"}
	if !slices.Equal(files, want) {
		t.Errorf("files the demo wizard wrote under a fresh HOME:\n  %s\nwant:\n  %s", strings.Join(files, "\n  "), strings.Join(want, "\n  "))
	}
	prefs, _ := os.ReadFile(filepath.Join(home, ".config/cpikey/demo/prefs.json"))
	for _, remembered := range []string{`"lastGlobalAccount": "acme-global"`, `"instance": "CPI_SAMPLE_INSTANCE"`} {
		if !strings.Contains(string(prefs), remembered) {
			t.Errorf("the demo's prefs lack %s:\n%s", remembered, prefs)
		}
	}
}
