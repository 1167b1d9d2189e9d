package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// asciiTerminal reports terminals whose fonts may lack ✓ and braille spinners.
func asciiTerminal(getenv func(string) string) bool {
	if getenv("TERM") == "dumb" || getenv("CPIKEY_ASCII") != "" {
		return true
	}
	// Classic Windows console (not Windows Terminal, which sets WT_SESSION).
	return runtime.GOOS == "windows" && getenv("WT_SESSION") == ""
}

// passcodePrompt asks for a Cloud Foundry one-time passcode on the terminal
// (headless SSO), or explains why it cannot.
func passcodePrompt(stdin io.Reader, stderr io.Writer) func(context.Context, string) (string, error) {
	return func(ctx context.Context, url string) (string, error) {
		f, ok := stdin.(*os.File)
		if !ok || !isTerminal(f) {
			return "", &steps.UsageError{Msg: "Cloud Foundry needs a one-time passcode from " + url +
				" but stdin is not a terminal: set BTP_USERNAME/BTP_PASSWORD, or use --runtime other"}
		}
		// The URL comes from the Cloud Foundry root document.
		fmt.Fprintf(stderr, "! Cloud Foundry needs a one-time passcode: open %s, log in, and paste the code here: ", safetext.Line(url))
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("read passcode: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// openDebugLog creates the wizard's --debug trace file in the cache dir.
func openDebugLog(dirs configdir.Dirs) (*os.File, string, error) {
	f, err := configdir.CreateFile(dirs.Cache, "debug.log")
	if err != nil {
		return nil, "", err
	}
	return f, f.Name(), nil
}
