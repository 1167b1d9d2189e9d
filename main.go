// Command cpikey takes an SAP consultant from "I have a BTP subaccount" to
// working OAuth client credentials for SAP Cloud Integration (it-rt).
//
// Package main parses flags and the environment (spf13/cobra), builds the
// one factory that wires the pieces, picks a front end and maps the result
// to the exit code contract. The flow lives in steps/, the wizard in ui/,
// headless printing in headless/, the key after the wizard in profiles/, the
// SAP protocols in btp/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
	"github.com/cpikey/cpikey/ui"
)

// Stamped by scripts/release.sh through -ldflags.
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// Exit codes (the headless contract).
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole program behind main, with its I/O injected for tests.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	f := newFactory(stdin, stdout, stderr, getenv)
	defer f.Close()
	root := newRootCmd(f)
	root.SetArgs(normalizeArgs(root, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err != nil && f.interrupted() && !errors.Is(err, ui.ErrInterrupted) {
		// Whatever the flow made of the cancellation, say what it means.
		err = &interruptedError{pending: f.pending()}
	}
	return exitCode(stderr, cmd, err)
}

// interruptedError is a headless command stopped by Ctrl+C; pending says
// what SAP is still doing.
type interruptedError struct{ pending string }

func (e *interruptedError) Error() string {
	const resume = " Run the same command again to resume: it reuses what exists."
	if e.pending == "" {
		return "interrupted; nothing was left running at SAP." + resume
	}
	return "interrupted. " + e.pending + "." + resume
}

// exitError carries an exit code whose message was already printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// flagError is a command line that cannot be parsed: one line, then where
// help is.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

// exitCode prints err once and maps it to the exit code contract. Errors
// quote SAP (names, broker and backend texts, CF and UAA errors): they are
// printed inert, here, for every command.
func exitCode(stderr io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	msg := safetext.Text(err.Error())
	var (
		ee       *exitError
		fe       *flagError
		ie       *interruptedError
		usageErr *steps.UsageError
	)
	name := "cpikey"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &fe):
		fmt.Fprintf(stderr, "%s: %s (see `%s --help`)\n", name, safetext.Text(fe.err.Error()), name)
		return exitUsage
	case errors.Is(err, ui.ErrNoTerminal):
		fmt.Fprintln(stderr, "cpikey:", msg)
		return exitUsage
	case errors.As(err, &ie):
		fmt.Fprintf(stderr, "\n%s: %s\n", name, msg)
		return exitInterrupted
	case errors.Is(err, context.Canceled), errors.Is(err, ui.ErrInterrupted):
		fmt.Fprintln(stderr, "\ncpikey: interrupted.", msg)
		return exitInterrupted
	case errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	return exitFailed
}

// normalizeArgs keeps scripts written for Go's flag package working: it
// accepted -yes and -json; pflag reads those as bundles of short flags, so a
// single-dash word naming a long flag of any command becomes --word.
func normalizeArgs(root *cobra.Command, args []string) []string {
	long := map[string]bool{}
	var collect func(c *cobra.Command)
	collect = func(c *cobra.Command) {
		c.Flags().VisitAll(func(fl *pflag.Flag) { long[fl.Name] = true })
		c.PersistentFlags().VisitAll(func(fl *pflag.Flag) { long[fl.Name] = true })
		for _, sub := range c.Commands() {
			collect(sub)
		}
	}
	collect(root)
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && long[name] {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// printVersion prints what --version promises, as text or (--json) JSON.
func printVersion(stdout io.Writer, asJSON bool) error {
	v, c := buildVersion()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]string{"version": v, "commit": c, "date": date, "go": runtime.Version(),
			"protocol": cliserver.ProtocolVersion})
	}
	_, err := fmt.Fprintf(stdout, "cpikey %s (commit %s, built %s, %s, BTP CLI protocol %s)\n", v, c, date, runtime.Version(), cliserver.ProtocolVersion)
	return err
}

// buildVersion prefers the stamped version; `go install …@vX` builds carry
// theirs in the build info instead.
func buildVersion() (string, string) {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "unknown" && len(s.Value) >= 7 {
				c = s.Value[:7]
			}
		}
	}
	return v, c
}
