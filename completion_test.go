package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// testBinary builds cpikey once for the tests that run it as a user would.
func testBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cpikey-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "cpikey")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("build: %v\n%s", binErr, binPath)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" && binErr == nil {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestCompletion_ScriptsLoad generates every shell's completion script; bash
// loads its own as a user's .bashrc would, and the shells that are
// installed check theirs.
func TestCompletion_ScriptsLoad(t *testing.T) {
	bin := testBinary(t)
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_CACHE_HOME=", "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			cmd := exec.Command(bin, "completion", shell)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() != 0 {
				t.Fatalf("cpikey completion %s: %v\n%s", shell, err, stderr.String())
			}
			if !strings.Contains(stdout.String(), "__complete") {
				t.Fatalf("the %s script does not ask cpikey for completions:\n%.300s", shell, stdout.String())
			}
			var check *exec.Cmd
			switch shell {
			case "bash":
				check = exec.Command("bash", "-c", "source <(cpikey completion bash) && complete -p cpikey")
			case "zsh", "fish":
				script := filepath.Join(t.TempDir(), "cpikey."+shell)
				if err := os.WriteFile(script, stdout.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
				check = exec.Command(shell, "-n", script)
			case "powershell":
				return // no PowerShell on CI: generated and inspected above
			}
			if _, err := exec.LookPath(check.Path); err != nil {
				t.Skipf("%s is not installed", shell)
			}
			check.Env = env
			out, err := check.CombinedOutput()
			if err != nil {
				t.Fatalf("%s rejects the script: %v\n%s", shell, err, out)
			}
			if shell == "bash" && !strings.Contains(string(out), "-F __start_cpikey cpikey") {
				t.Fatalf("bash registered no completion for cpikey: %s", out)
			}
		})
	}
}

// TestCompletion_ProfileNames: `cpikey __complete show ""` (what every
// shell's script runs on Tab) lists the profile names, the demo's with
// --demo.
func TestCompletion_ProfileNames(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	demoProfiles := strings.ReplaceAll(strings.ReplaceAll(realProfiles, "REAL_INSTANCE", "DEMO_INSTANCE"), "real-sub", "demo-sub")
	for dir, content := range map[string]string{".config/cpikey": realProfiles, ".config/cpikey/demo": demoProfiles} {
		if err := os.MkdirAll(filepath.Join(home, dir), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, dir, "profiles.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		args       []string
		want, lack string
	}{
		{[]string{"__complete", "show", ""}, "real-sub/REAL_INSTANCE/REAL_INSTANCE-key", "demo-sub"},
		{[]string{"__complete", "token", "re"}, "real-sub/REAL_INSTANCE/REAL_INSTANCE-key", "demo-sub"},
		{[]string{"__complete", "show", "--demo", ""}, "demo-sub/DEMO_INSTANCE/DEMO_INSTANCE-key", "real-sub"},
		{[]string{"__complete", "--demo", "export", ""}, "demo-sub/DEMO_INSTANCE/DEMO_INSTANCE-key", "real-sub"},
		{[]string{"__complete", "export", "--format", ""}, "postman", "real-sub"},
		{[]string{"__complete", "show", "real-sub/REAL_INSTANCE/REAL_INSTANCE-key", ""}, ":4", "real-sub"}, // one PROFILE only
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, strings.NewReader(""), &stdout, &stderr, envFunc(nil)); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.want) || strings.Contains(stdout.String(), tc.lack) {
				t.Errorf("completions:\n%s\nwant %q, not %q", stdout.String(), tc.want, tc.lack)
			}
		})
	}
}
