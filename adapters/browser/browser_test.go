package browser

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const loginURL = "https://acme.authentication.eu10.hana.ondemand.com/oauth/authorize?client_id=cf&state=a&b=c"

type call struct {
	name string
	args []string
}

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func onPath(names ...string) func(string) (string, error) {
	return func(n string) (string, error) {
		for _, x := range names {
			if x == n {
				return "/usr/bin/" + n, nil
			}
		}
		return "", errors.New("not found")
	}
}

func recorder(calls *[]call, err error) func(string, ...string) error {
	return func(name string, args ...string) error {
		*calls = append(*calls, call{name, args})
		return err
	}
}

func TestOpen_PerOS(t *testing.T) {
	tests := []struct {
		name string
		goos string
		env  func(string) string
		path func(string) (string, error)
		want call
	}{
		{"linux xdg-open", "linux", envOf(), onPath("xdg-open", "wslview"), call{"xdg-open", []string{loginURL}}},
		{"freebsd xdg-open", "freebsd", envOf(), onPath("xdg-open"), call{"xdg-open", []string{loginURL}}},
		{"openbsd xdg-open", "openbsd", envOf(), onPath("xdg-open"), call{"xdg-open", []string{loginURL}}},
		{"WSL without xdg-open", "linux", envOf(), onPath("wslview"), call{"wslview", []string{loginURL}}},
		{"$BROWSER wins", "linux", envOf("BROWSER", "firefox"), onPath("xdg-open"), call{"firefox", []string{loginURL}}},
		{"$BROWSER list with %s", "linux", envOf("BROWSER", ":chromium --new-window %s:firefox"), onPath(),
			call{"chromium", []string{"--new-window", loginURL}}},
		{"darwin open", "darwin", envOf("BROWSER", "ignored"), onPath(), call{"open", []string{loginURL}}},
		{"windows rundll32", "windows", envOf(), onPath(), call{"rundll32", []string{"url.dll,FileProtocolHandler", loginURL}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []call
			o := Opener{GOOS: tt.goos, Getenv: tt.env, LookPath: tt.path, Run: recorder(&calls, nil)}
			if err := o.Open(loginURL); err != nil {
				t.Fatalf("Open: %v", err)
			}
			if len(calls) != 1 || !reflect.DeepEqual(calls[0], tt.want) {
				t.Fatalf("ran %+v, want %+v", calls, tt.want)
			}
		})
	}
}

func TestOpen_RefusesNonHTTP(t *testing.T) {
	for _, u := range []string{
		"file:///etc/passwd",
		"javascript:alert(1)",
		"ftp://example.com/x",
		"mailto:a@example.com",
		"smb://host/share",
		"https://",
		"https:///path-only",
		"",
		"example.com",
		"https://example.com/a b",
		"https://example.com/\"x",
		"https://example.com/\nx",
	} {
		for _, goos := range []string{"linux", "darwin", "windows"} {
			var calls []call
			o := Opener{GOOS: goos, Getenv: envOf(), LookPath: onPath("xdg-open"), Run: recorder(&calls, nil)}
			err := o.Open(u)
			if err == nil || len(calls) != 0 {
				t.Errorf("%s: Open(%q) = %v, ran %v", goos, u, err, calls)
			}
		}
	}
	var calls []call
	o := Opener{GOOS: "linux", Getenv: envOf(), LookPath: onPath("xdg-open"), Run: recorder(&calls, nil)}
	if err := o.Open("http://127.0.0.1:8080/login"); err != nil || len(calls) != 1 {
		t.Fatalf("plain http refused: %v", err)
	}
}

func TestOpen_Failures(t *testing.T) {
	tests := []struct {
		name string
		o    Opener
		want string
	}{
		{"no opener on linux", Opener{GOOS: "linux", Getenv: envOf(), LookPath: onPath()}, "install xdg-utils or set $BROWSER"},
		{"unsupported OS", Opener{GOOS: "plan9", Getenv: envOf(), LookPath: onPath()}, "not supported on plan9"},
		{"opener fails", Opener{GOOS: "darwin", Run: func(string, ...string) error {
			return errors.New("open " + loginURL + ": exit status 1")
		}}, "open failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Open(loginURL)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), loginURL) || !strings.Contains(err.Error(), "open the URL shown yourself") {
				t.Fatalf("bad message %q", err)
			}
		})
	}
}

// TestStartDetached runs real (harmless) commands through $BROWSER.
func TestStartDetached(t *testing.T) {
	old := quickFail
	quickFail = 100 * time.Millisecond
	defer func() { quickFail = old }()

	dir := t.TempDir()
	slow := filepath.Join(dir, "slow-browser")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		browser string
		wantErr bool
	}{
		{"true", false},
		{"false", true},
		{filepath.Join(dir, "missing"), true},
		{slow, false}, // still running after quickFail: a browser in the foreground
	}
	for _, tt := range tests {
		start := time.Now()
		err := Opener{GOOS: "linux", Getenv: envOf("BROWSER", tt.browser)}.Open(loginURL)
		if (err != nil) != tt.wantErr {
			t.Errorf("BROWSER=%s: err = %v, wantErr %v", tt.browser, err, tt.wantErr)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("BROWSER=%s: Open blocked", tt.browser)
		}
	}
}

// TestOpen_BrowserGetsNoSecrets starts a real "browser" that writes down its
// environment: the login credentials cpikey was given are not in it.
func TestOpen_BrowserGetsNoSecrets(t *testing.T) {
	t.Setenv("BTP_PASSWORD", "CANARY-btp-password")
	t.Setenv("BTP_USERNAME", "canary-user@example.com")
	t.Setenv("CPIKEY_BROWSER_TEST_KEEP", "kept")
	dir := t.TempDir()
	dump := filepath.Join(dir, "env.txt")
	script := filepath.Join(dir, "env-browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nenv > '"+dump+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (Opener{GOOS: "linux", Getenv: envOf("BROWSER", script)}).Open(loginURL); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	env := string(b)
	if !strings.Contains(env, "CPIKEY_BROWSER_TEST_KEEP=kept") {
		t.Fatalf("the browser did not get the ordinary environment:\n%s", env)
	}
	for _, s := range []string{"BTP_PASSWORD", "BTP_USERNAME", "CANARY-btp-password", "canary-user@example.com"} {
		if strings.Contains(env, s) {
			t.Errorf("the browser's environment holds %s", s)
		}
	}
}
