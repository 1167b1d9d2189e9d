// Package browser opens a web page (the SSO login) in the user's browser.
// The caller always prints the URL as well: opening a browser is a
// convenience that fails on SSH sessions and minimal machines.
package browser

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/cpikey/cpikey/adapters/childenv"
)

// Opener opens URLs; the zero value uses the real OS.
type Opener struct {
	GOOS     string                                  // "": runtime.GOOS
	Getenv   func(string) string                     // nil: os.Getenv (reads $BROWSER)
	LookPath func(string) (string, error)            // nil: exec.LookPath
	Run      func(name string, args ...string) error // nil: start the command detached (see run)
}

// Open opens url with the real OS.
func Open(url string) error { return Opener{}.Open(url) }

// quickFail is how long startDetached waits for an opener that fails at once
// ("xdg-open: no method available for opening ...") before assuming success.
var quickFail = 1500 * time.Millisecond

// Open opens rawURL in a browser. Only http and https URLs are accepted, so a
// hostile server cannot make cpikey launch a file or another protocol handler.
// Errors never include the URL (it may carry login state).
func (o Opener) Open(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.ContainsAny(rawURL, " \t\r\n\"") {
		return errors.New("browser: refusing to open a URL that is not a plain http(s) address")
	}
	goos, getenv, lookPath, run := o.GOOS, o.Getenv, o.LookPath, o.Run
	if goos == "" {
		goos = runtime.GOOS
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if run == nil {
		run = startDetached
	}
	target := u.String()

	var name string
	var args []string
	switch goos {
	case "darwin":
		name, args = "open", []string{target}
	case "windows":
		// Not "cmd /c start": cmd.exe would interpret & and ^ in the URL.
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", target}
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos":
		if b := firstBrowser(getenv("BROWSER")); b != "" {
			name, args = browserCommand(b, target)
			break
		}
		for _, cand := range []string{"xdg-open", "wslview"} {
			if _, err := lookPath(cand); err == nil {
				name, args = cand, []string{target}
				break
			}
		}
		if name == "" {
			return errors.New("browser: cannot open a browser: xdg-open not found (install xdg-utils or set $BROWSER); open the URL shown yourself")
		}
	default:
		return fmt.Errorf("browser: opening a browser is not supported on %s; open the URL shown yourself", goos)
	}
	if err := run(name, args...); err != nil {
		return fmt.Errorf("browser: %s failed (%v); open the URL shown yourself", name, scrub(err, target))
	}
	return nil
}

// firstBrowser returns the first entry of a $BROWSER list ("a:b:c").
func firstBrowser(v string) string {
	for _, b := range strings.Split(v, ":") {
		if b = strings.TrimSpace(b); b != "" {
			return b
		}
	}
	return ""
}

// browserCommand follows the $BROWSER convention: "%s" is replaced by the
// URL, otherwise the URL is appended. No shell is involved.
func browserCommand(b, target string) (string, []string) {
	f := strings.Fields(b)
	args := f[1:]
	replaced := false
	for i, a := range args {
		if strings.Contains(a, "%s") {
			args[i] = strings.ReplaceAll(a, "%s", target)
			replaced = true
		}
	}
	if !replaced {
		args = append(args, target)
	}
	return f[0], args
}

// startDetached starts the opener without a terminal (its chatter would
// corrupt the TUI) and reports an immediate failure; an opener still running
// after quickFail (a browser started in the foreground) counts as success.
// The browser gets no credentials from cpikey's environment.
func startDetached(name string, args ...string) error {
	cmd := childenv.Command(name, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(quickFail):
		return nil
	}
}

func scrub(err error, target string) string {
	return strings.ReplaceAll(err.Error(), target, "<url>")
}
