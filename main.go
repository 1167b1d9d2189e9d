// Command cpikey takes an SAP consultant from "I have a BTP subaccount" to
// working OAuth client credentials for SAP Cloud Integration (it-rt).
//
// main.go only parses flags and the environment and wires the pieces: the
// flow lives in steps/, the wizard in ui/, the SAP protocols in btp/.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/cpikey/cpikey/adapters/browser"
	"github.com/cpikey/cpikey/adapters/clipboard"
	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/headless"
	"github.com/cpikey/cpikey/profiles"
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

type options struct {
	steps.HeadlessInput
	yes, jsonOut, showSecret, debug, demo, demoReset, showVersion bool
	roles                                                         string
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("cpikey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := &o.HeadlessInput
	fs.StringVar(&in.GlobalAccount, "global-account", getenv("BTP_GLOBALACCOUNT"), "global account `SUBDOMAIN` (env BTP_GLOBALACCOUNT)")
	fs.StringVar(&in.Subaccount, "subaccount", "", "subaccount display name, GUID or subdomain")
	fs.StringVar((*string)(&in.Runtime), "runtime", string(steps.RuntimeCF), "where the instance lives: cf|other")
	fs.StringVar(&in.Org, "org", "", "Cloud Foundry org `NAME` (default: the org of the subaccount's Cloud Foundry environment)")
	fs.StringVar(&in.Space, "space", steps.DefaultSpace, "Cloud Foundry space `NAME`")
	fs.StringVar(&in.Plan, "plan", steps.DefaultPlan, "it-rt plan: integration-flow|api")
	fs.StringVar(&in.Instance, "instance", steps.DefaultInstance, "service instance `NAME`")
	fs.StringVar(&in.Key, "key", "", "service key `NAME` (default <instance>-key)")
	fs.StringVar(&o.roles, "roles", steps.DefaultRole, "instance roles, comma separated")
	fs.BoolVar(&in.SSO, "sso", false, "browser login instead of user/password")
	fs.StringVar(&in.IdP, "idp", getenv("BTP_IDP"), "custom identity provider `ORIGIN` (env BTP_IDP)")
	fs.BoolVar(&o.yes, "yes", false, "run without prompts (headless); progress on stderr, result on stdout")
	fs.BoolVar(&o.jsonOut, "json", false, "with --yes: result as JSON on stdout")
	fs.BoolVar(&o.showSecret, "show-secret", false, "include clientsecret in --json output")
	fs.BoolVar(&in.NoKeychain, "no-keychain", false, "do not store the secret in the OS keychain")
	fs.BoolVar(&o.debug, "debug", false, "HTTP trace on stderr, secrets redacted")
	fs.BoolVar(&o.demo, "demo", false, "run against the embedded simulator")
	fs.BoolVar(&o.demoReset, "demo-reset", false, "with --demo: start the simulated landscape afresh")
	fs.BoolVar(&o.showVersion, "version", false, "print version information")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	in.Roles = splitList(o.roles)
	in.User = getenv("BTP_USERNAME")
	in.Password = getenv("BTP_PASSWORD")
	return o, fs, nil
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprint(w, `cpikey: OAuth client credentials for SAP Cloud Integration (it-rt), without the cockpit.

Examples:
  cpikey --demo                                  # the wizard against the embedded simulator
  cpikey                                         # the wizard against SAP BTP
  BTP_USERNAME=me@example.com BTP_PASSWORD=... \
    cpikey --yes --json --global-account my-ga --subaccount my-dev-subaccount
  curl -H "Authorization: Bearer $(cpikey token)" "$CPI_URL/http/your/endpoint"

Commands (after a run, each key is kept as a profile; cpikey COMMAND --help for more):
`)
	for _, name := range subcommandOrder {
		fmt.Fprintf(w, "  %-8s %s\n", name, subcommands[name].summary)
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.PrintDefaults()
	fmt.Fprint(w, `
Environment: BTP_CLI_SERVER_URL (default https://cli.btp.cloud.sap), BTP_USERNAME, BTP_PASSWORD,
BTP_GLOBALACCOUNT, BTP_IDP. Passwords are read from the environment or a masked prompt, never a flag.
Exit codes: 0 done; 1 failed; 2 usage error or missing input with --yes; 130 interrupted.
`)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		if _, ok := subcommands[args[0]]; ok {
			return runSubcommand(args[0], args[1:], stdin, stdout, stderr, getenv)
		}
	}
	o, fs, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "cpikey:", err)
		return exitUsage
	}
	if o.showVersion {
		return printVersion(stdout, o.jsonOut)
	}
	if err := checkCombinations(o); err != nil {
		fmt.Fprintln(stderr, "cpikey:", err)
		return exitUsage
	}
	transport.UserAgent = "cpikey/" + version

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	serverURL := getenv("BTP_CLI_SERVER_URL")
	if serverURL == "" {
		serverURL = "https://cli.btp.cloud.sap"
	}
	if o.demo {
		s, err := startDemo(o.demoReset)
		if err != nil {
			fmt.Fprintln(stderr, "cpikey: cannot start the demo simulator:", err)
			return exitFailed
		}
		defer s.Close()
		serverURL = s.CLIServerURL()
		demoDefaults(&o.HeadlessInput)
	}

	var trace io.Writer
	if o.debug {
		trace = stderr
		if f, ok := stderr.(*os.File); ok && !o.yes && isTerminal(f) {
			// The wizard owns the terminal: trace lines there would tear
			// its screen, so they go to a file (no secrets are traced).
			log, path, err := openDebugLog()
			if err != nil {
				fmt.Fprintln(stderr, "cpikey: --debug:", err)
				return exitFailed
			}
			defer func() {
				log.Close()
				fmt.Fprintln(stderr, "cpikey: HTTP trace written to", path)
			}()
			trace = log
		}
	}
	cfg := steps.Config{
		CLIServerURL: serverURL,
		HTTPClient:   transport.NewHTTPClient(transport.Options{Trace: trace}),
	}
	if !o.NoKeychain {
		cfg.Keyring = keychain.New(keychain.Options{})
	}

	if o.yes {
		cfg.Reporter = headless.NewTextReporter(stderr)
		cfg.CFPasscode = passcodePrompt(stdin, stderr)
		cfg.OpenURL = browser.Opener{}.Open
		flow := steps.New(cfg)
		res, err := steps.RunHeadless(ctx, flow, o.HeadlessInput)
		if err != nil {
			return reportError(stderr, err)
		}
		if !o.demo {
			keepProfile(stderr, flow, res, profiles.HeadlessTarget(o.HeadlessInput))
		}
		if o.jsonOut {
			err = headless.WriteJSON(stdout, res, o.showSecret)
		} else {
			err = headless.WriteText(stdout, res)
		}
		if err != nil {
			fmt.Fprintln(stderr, "cpikey:", err)
			return exitFailed
		}
		return exitOK
	}

	reporter, passcode := ui.NewReporter(), ui.NewPasscode()
	cfg.Reporter, cfg.CFPasscode = reporter, passcode.Ask
	flow := steps.New(cfg)
	var saveProfile func(*steps.Result, steps.Target) (profiles.Profile, error)
	if !o.demo { // the simulator's keys die with it: keep no profile of them
		saveProfile = func(r *steps.Result, t steps.Target) (profiles.Profile, error) {
			store, err := profiles.Open("")
			if err != nil {
				return profiles.Profile{}, err
			}
			return (&profiles.Manager{Store: store}).SaveResult(flow, r, t)
		}
	}
	err = ui.Run(ui.Options{
		Flow:              flow,
		SaveProfile:       saveProfile,
		Reporter:          reporter,
		Passcode:          passcode,
		Prefill:           prefill(fs, o.HeadlessInput),
		LastGlobalAccount: steps.LoadPrefs().LastGlobalAccount,
		Clipboard:         clipboard.New(clipboard.Options{}),
		Browser:           browser.Opener{},
		Demo:              o.demo,
		ASCII:             asciiTerminal(getenv),
	})
	return reportError(stderr, err)
}

// keepProfile stores the profile of a headless run; a failure is shown,
// never fatal (the key exists and was printed).
func keepProfile(stderr io.Writer, flow *steps.Flow, res *steps.Result, t steps.Target) {
	store, err := profiles.Open("")
	var p profiles.Profile
	if err == nil {
		p, err = (&profiles.Manager{Store: store}).SaveResult(flow, res, t)
	}
	if err != nil {
		fmt.Fprintln(stderr, "! Profile not kept:", err)
		return
	}
	fmt.Fprintf(stderr, "✓ Profile %s kept (cpikey token prints a token, cpikey --help lists the commands)\n", p.Name)
}

// prefill keeps only what the user gave (flags set, environment), so the
// wizard still asks the questions whose answers are mere defaults.
func prefill(fs *flag.FlagSet, in steps.HeadlessInput) steps.HeadlessInput {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	unset := func(name string, v *string) {
		if !set[name] {
			*v = ""
		}
	}
	unset("runtime", (*string)(&in.Runtime))
	unset("space", &in.Space)
	unset("plan", &in.Plan)
	unset("instance", &in.Instance)
	if !set["roles"] {
		in.Roles = nil
	}
	return in
}

func checkCombinations(o *options) error {
	switch {
	case o.jsonOut && !o.yes:
		return errors.New("--json needs --yes (the wizard shows its result on screen)")
	case o.showSecret && !o.jsonOut:
		return errors.New("--show-secret needs --json")
	case o.demoReset && !o.demo:
		return errors.New("--demo-reset needs --demo")
	case o.Runtime != steps.RuntimeCF && o.Runtime != steps.RuntimeOther:
		return fmt.Errorf("--runtime must be cf or other, not %q", o.Runtime)
	case o.Plan != "integration-flow" && o.Plan != "api":
		return fmt.Errorf("--plan must be integration-flow or api, not %q", o.Plan)
	}
	return nil
}

// reportError prints err (which never carries a secret) and maps it to the
// exit code contract.
func reportError(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var usageErr *steps.UsageError
	switch {
	case errors.Is(err, ui.ErrNoTerminal):
		fmt.Fprintln(stderr, "cpikey:", err)
		return exitUsage
	case errors.Is(err, context.Canceled), errors.Is(err, ui.ErrInterrupted):
		fmt.Fprintln(stderr, "\ncpikey: interrupted.", err)
		return exitInterrupted
	case errors.As(err, &usageErr):
		fmt.Fprintln(stderr, "cpikey:", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "cpikey:", err)
	return exitFailed
}

// startDemo starts the embedded simulator with its state under the user's
// cache directory, so a second run finds what the first created.
func startDemo(reset bool) (*sim.Server, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	state := filepath.Join(dir, "cpikey", "demo-state.json")
	if reset {
		if err := os.Remove(state); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	// Durations long enough to watch the spinners, short enough to wait for.
	return sim.Start(sim.Config{
		StateFile:     state,
		ProvisionTime: 4 * time.Second,
		BindTime:      1500 * time.Millisecond,
		EntitleTime:   1500 * time.Millisecond,
		Seed:          uint64(time.Now().UnixNano()),
	})
}

// demoDefaults fills what a newcomer would otherwise have to know.
func demoDefaults(in *steps.HeadlessInput) {
	if in.GlobalAccount == "" {
		in.GlobalAccount = sim.GASubdomain
	}
	if in.User == "" {
		in.User, in.Password = sim.AdminUser, sim.AdminPassword
	}
	if in.Subaccount == "" {
		in.DefaultSubaccount = sim.SubFreshSubdomain
	}
}

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
		fmt.Fprintf(stderr, "! Cloud Foundry needs a one-time passcode: open %s, log in, and paste the code here: ", url)
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("read passcode: %w", err)
		}
		return strings.TrimSpace(line), nil
	}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// printVersion prints what --version promises, as text or (--json) JSON.
func printVersion(stdout io.Writer, asJSON bool) int {
	v, c := buildVersion()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]string{"version": v, "commit": c, "date": date, "go": runtime.Version(), //nolint:errcheck
			"protocol": cliserver.ProtocolVersion})
		return exitOK
	}
	fmt.Fprintf(stdout, "cpikey %s (commit %s, built %s, %s, BTP CLI protocol %s)\n", v, c, date, runtime.Version(), cliserver.ProtocolVersion)
	return exitOK
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

// openDebugLog creates the wizard's --debug trace file in the cache dir.
func openDebugLog() (*os.File, string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "cpikey", "debug.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, "", err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	return f, path, err
}
