package clipboard

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const envChild = "CPIKEY_CLIPBOARD_ENV_CHILD"

// TestCopy_ClipboardToolGetsNoSecrets copies through the default system
// clipboard in a child process whose PATH starts with a fake xclip that
// writes down its environment and arguments: the tool gets the text on
// standard input (and the clear after reading it back), and neither the login credentials cpikey was started with
// nor the text in its environment or arguments. A child process, because
// the tool is looked up on PATH once per process.
func TestCopy_ClipboardToolGetsNoSecrets(t *testing.T) {
	if os.Getenv(envChild) == "1" {
		envChildCopy()
		return
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("the fake tool is xclip")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\ncase \"$*\" in\n" +
		"*-in*) env >> '" + dir + "/env.txt'; printf '%s\\n' \"$@\" >> '" + dir + "/args.txt'; cat > '" + dir + "/content'; " +
		"cat '" + dir + "/content' >> '" + dir + "/inputs'; echo '|' >> '" + dir + "/inputs' ;;\n" +
		"*) cat '" + dir + "/content' 2>/dev/null ;;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "xclip"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCopy_ClipboardToolGetsNoSecrets$", "-test.count=1")
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "PATH", "WAYLAND_DISPLAY", "DISPLAY":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, envChild+"=1", "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "DISPLAY=:99",
		"BTP_PASSWORD=CANARY-btp-password", "BTP_USERNAME=canary-user@example.com", "CPI_CLIENT_SECRET=CANARY-client-secret",
		"CPIKEY_CLIPBOARD_TEST_KEEP=kept")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("the fake xclip did not run (%v); child said:\n%s", err, out)
		}
		return string(b)
	}
	// The secret, then "" when ClearNow found it still there (read back
	// through xclip -out).
	if got := read("inputs"); got != secret+"|\n|\n" {
		t.Fatalf("the tool got %q on standard input, want the copied text, then the clear", got)
	}
	env, args := read("env.txt"), read("args.txt")
	if !strings.Contains(env, "CPIKEY_CLIPBOARD_TEST_KEEP=kept") || !strings.Contains(env, "DISPLAY=:99") {
		t.Fatalf("the tool lost the ordinary environment:\n%s", env)
	}
	for _, s := range []string{"BTP_PASSWORD", "BTP_USERNAME", "CPI_CLIENT_SECRET", "CANARY", "canary-user", secret} {
		if strings.Contains(env, s) {
			t.Errorf("the clipboard tool's environment holds %s", s)
		}
	}
	if strings.Contains(args, secret) {
		t.Errorf("the clipboard tool's arguments hold the text: %q", args)
	}
}

// envChildCopy runs in the child: copy a secret and clear it again
// through the default system clipboard.
func envChildCopy() {
	c := New(Options{GOOS: runtime.GOOS, Out: io.Discard})
	res := c.Copy(secret, true)
	if !res.Native {
		fmt.Println("child: the system clipboard was not used:", res.Err)
		os.Exit(3)
	}
	if err := c.ClearNow(); err != nil {
		fmt.Println("child: clear:", err)
		os.Exit(4)
	}
	fmt.Println("child: copied and cleared")
}
