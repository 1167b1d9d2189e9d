package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cpikey/cpikey/adapters/browser"
	"github.com/cpikey/cpikey/adapters/clipboard"
	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/headless"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
	"github.com/cpikey/cpikey/ui"
)

// webBrowser opens the SSO login page; tests replace it.
var webBrowser interface{ Open(url string) error } = browser.Opener{}

// setupOptions are the root command's flags: the wizard, or with --yes the
// headless run (the fixed interface scripts depend on).
type setupOptions struct {
	steps.HeadlessInput
	yes, jsonOut, showSecret, showVersion, demoReset bool
	roles                                            string
	keyFlags                                         steps.KeyFlags
}

// globalOptions are the flags every command takes.
type globalOptions struct {
	demo, debug bool
}

func newRootCmd(f *factory) *cobra.Command {
	o := &setupOptions{}
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "cpikey",
		Short: "cpikey: OAuth client credentials for SAP Cloud Integration (it-rt), without the cockpit",
		Example: `  cpikey --demo                                  # the wizard against the embedded simulator
  cpikey                                         # the wizard against SAP BTP
  BTP_USERNAME=me@example.com BTP_PASSWORD=... \
    cpikey --yes --json --global-account my-ga --subaccount my-dev-subaccount
  curl -H "Authorization: Bearer $(cpikey token)" "$CPI_URL/http/your/endpoint"`,
		Annotations: map[string]string{notesKey: `Environment: BTP_CLI_SERVER_URL (default ` + defaultCLIServerURL + `), BTP_USERNAME, BTP_PASSWORD,
BTP_GLOBALACCOUNT, BTP_IDP; BTP_ENABLE_SSO=true logs in in the browser (as SAP's Terraform provider);
BTP_CLIENTCONFIG is the btp CLI's config.json whose session cpikey may reuse; NO_COLOR turns colour off,
CPIKEY_ASCII=1 draws with ASCII only. --demo ignores the BTP_* variables.
Passwords are read from the environment or a masked prompt, never a flag.
Exit codes: 0 done; 1 failed; 2 usage error or missing input with --yes; 130 interrupted.`},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &flagError{fmt.Errorf("unexpected argument %q (not a command)", args[0])}
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return f.applyGlobal(cmd, g)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSetup(cmd, f, o)
		},
	}
	pf := root.PersistentFlags()
	pf.BoolVar(&g.demo, "demo", false, "run against the embedded simulator")
	pf.BoolVar(&g.debug, "debug", false, "HTTP trace on stderr, secrets redacted")

	fl := root.Flags()
	in := &o.HeadlessInput
	fl.StringVar(&in.GlobalAccount, "global-account", f.getenv("BTP_GLOBALACCOUNT"), "global account `SUBDOMAIN` (env BTP_GLOBALACCOUNT)")
	fl.StringVar(&in.Subaccount, "subaccount", "", "subaccount display name, GUID or subdomain")
	fl.StringVar((*string)(&in.Runtime), "runtime", string(steps.RuntimeCF), "where the instance lives: cf|other")
	fl.StringVar(&in.Org, "org", "", "Cloud Foundry org `NAME` (default: the org of the subaccount's Cloud Foundry environment)")
	fl.StringVar(&in.Space, "space", steps.DefaultSpace, "Cloud Foundry space `NAME`")
	fl.StringVar(&in.Plan, "plan", steps.DefaultPlan, "it-rt plan: integration-flow|api")
	fl.StringVar(&in.Instance, "instance", steps.DefaultInstance, "service instance `NAME`")
	fl.StringVar(&in.Key, "key", "", "service key `NAME` (default <instance>-key)")
	fl.StringVar(&o.roles, "roles", steps.DefaultRole, "instance roles, comma separated")
	fl.BoolVar(&in.UpdateRoles, "update-roles", false, "when the instance exists with other roles: give it --roles ("+steps.RoleChangeDelay+")")
	fl.BoolVar(&in.AcceptRoles, "accept-roles", false, "when the instance exists with other roles: use it with the roles it has")
	keyTypeFlags(fl, &o.keyFlags)
	fl.BoolVar(&in.SSO, "sso", false, "browser login instead of user/password")
	fl.StringVar(&in.IdP, "idp", f.getenv("BTP_IDP"), "custom identity provider `ORIGIN` (env BTP_IDP)")
	fl.BoolVar(&o.yes, "yes", false, "run without prompts (headless); progress on stderr, result on stdout")
	fl.BoolVar(&o.jsonOut, "json", false, "with --yes: result as JSON on stdout")
	fl.BoolVar(&o.showSecret, "show-secret", false, "include clientsecret in --json output")
	fl.BoolVar(&in.NoKeychain, "no-keychain", false, "do not store the secret in the OS keychain")
	fl.BoolVar(&in.SetupSuite, "setup-integration-suite", false, "with --yes: set up SAP Integration Suite if missing (entitle, subscribe, assign roles), then wait for its activation in the browser")
	fl.BoolVar(&o.demoReset, "demo-reset", false, "with --demo: remove the demo's state, profiles and keychain entries first, then start afresh")
	fl.BoolVar(&o.showVersion, "version", false, "print version information")
	fl.SortFlags = false

	root.AddCommand(newProfileCmds(f)...)
	root.AddCommand(newCallCmd(f))
	root.AddCommand(newSimCmd(f))
	root.AddCommand(newCSRCmd(f))
	setHelp(root)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	return root
}

// applyGlobal takes the global flags into the factory before any command.
func (f *factory) applyGlobal(_ *cobra.Command, g *globalOptions) error {
	f.demo = g.demo
	if g.debug {
		f.trace = f.stderr
	}
	return nil
}

// runSetup is the root command: the wizard, or headless with --yes.
func runSetup(cmd *cobra.Command, f *factory, o *setupOptions) error {
	if o.showVersion {
		return printVersion(f.stdout, o.jsonOut)
	}
	f.noKeychain = o.NoKeychain
	o.Roles = splitList(o.roles)
	if o.demoReset && !f.demo {
		return &flagError{errors.New("--demo-reset needs --demo")}
	}
	if err := checkCombinations(o); err != nil {
		return &flagError{err}
	}
	o.keyFlags.PinningSet = cmd.Flags().Changed("certificate-pinning")
	if err := o.ApplyKeyFlags(o.keyFlags, os.ReadFile); err != nil {
		return err
	}
	ctx, stop := f.signalContext()
	defer stop()

	if f.demo {
		if o.demoReset {
			if err := f.resetDemo(ctx); err != nil {
				return err
			}
		}
		if _, err := f.DemoServer(); err != nil {
			return err
		}
		demoDefaults(&o.HeadlessInput, cmd.Flags().Changed)
	} else {
		o.User = f.getenv("BTP_USERNAME")
		o.Password = f.getenv("BTP_PASSWORD")
		if err := ssoFromEnv(cmd.Flags(), f.getenv, &o.SSO); err != nil {
			return err
		}
	}
	if f.trace != nil && !o.yes {
		if out, ok := f.stderr.(*os.File); ok && isTerminal(out) {
			// The wizard owns the terminal: trace lines there would tear
			// its screen, so they go to a file (no secrets are traced).
			closeLog, err := f.traceToFile()
			if err != nil {
				return fmt.Errorf("--debug: %w", err)
			}
			defer closeLog()
		}
	}

	if o.yes {
		flow, err := f.Flow(steps.Config{OpenURL: webBrowser.Open})
		if err != nil {
			return err
		}
		res, err := steps.RunHeadless(ctx, flow, o.HeadlessInput)
		f.RememberLogin(flow)
		if err != nil {
			return err
		}
		keepProfile(f, flow, res, profiles.HeadlessTarget(o.HeadlessInput))
		if o.jsonOut {
			return headless.WriteJSON(f.stdout, res, o.showSecret)
		}
		return headless.WriteText(f.stdout, res)
	}

	reporter, passcode := ui.NewReporter(), ui.NewPasscode()
	flow, err := f.Flow(steps.Config{Reporter: reporter, CFPasscode: passcode.Ask})
	if err != nil {
		return err
	}
	// Demo keys are kept too, as profiles of the demo namespace: the
	// subcommands then tour them (cpikey list --demo).
	saveProfile := func(r *steps.Result, t steps.Target) (profiles.Profile, error) {
		mgr, err := f.Manager()
		if err != nil {
			return profiles.Profile{}, err
		}
		return mgr.SaveResult(flow, r, t)
	}
	dirs, _ := f.Dirs()
	prefs := dirs.LoadPrefs()
	var tryPaths []string
	if f.demo { // the simulated tenant's iFlows
		tryPaths = []string{sim.FlowEcho, sim.FlowCSRF, sim.FlowOrders, sim.FlowFail, sim.FlowSOAP + "?wsdl"}
	}
	return ui.Run(ui.Options{
		Flow:              flow,
		SaveProfile:       saveProfile,
		Reporter:          reporter,
		Passcode:          passcode,
		Prefill:           prefill(cmd.Flags(), o.HeadlessInput),
		LastGlobalAccount: prefs.LastGlobalAccount,
		RememberGlobalAccount: func(subdomain string) {
			dirs.RememberGlobalAccount(subdomain) //nolint:errcheck // convenience
		},
		LastSubaccount: func(ga string) string { return prefs.LastSubaccount[ga] },
		Remembered:     func(sub string) configdir.Choices { return prefs.Subaccounts[sub] },
		RememberChoices: func(ga, sub string, c configdir.Choices) {
			dirs.RememberChoices(ga, sub, c) //nolint:errcheck // convenience
		},
		Command: f.command(),
		TryCall: func(ctx context.Context, r *steps.Result, t steps.Target, method, path string) (*profiles.CallResult, error) {
			return profiles.TryCall(ctx, f.HTTPClient(), r, t.Roles, method, path)
		},
		TryPaths:  tryPaths,
		Clipboard: clipboard.New(clipboard.Options{}),
		Browser:   webBrowser,
		Demo:      f.demo,
		ASCII:     asciiTerminal(f.getenv),
	})
}

// keepProfile stores the profile of a headless run; a failure is shown,
// never fatal (the key exists and was printed).
func keepProfile(f *factory, flow *steps.Flow, res *steps.Result, t steps.Target) {
	mgr, err := f.Manager()
	var p profiles.Profile
	if err == nil {
		p, err = mgr.SaveResult(flow, res, t)
	}
	if err != nil {
		fmt.Fprintln(f.stderr, "! Profile not kept:", safetext.Text(err.Error()))
		return
	}
	fmt.Fprintf(f.stderr, "✓ Profile %s kept (%s token prints a token, cpikey --help lists the commands)\n", safetext.Line(p.Name), f.command())
}

// prefill keeps only what the user gave (flags set, environment), so the
// wizard still asks the questions whose answers are mere defaults.
func prefill(fs *pflag.FlagSet, in steps.HeadlessInput) steps.HeadlessInput {
	unset := func(name string, v *string) {
		if !fs.Changed(name) {
			*v = ""
		}
	}
	unset("runtime", (*string)(&in.Runtime))
	unset("space", &in.Space)
	unset("plan", &in.Plan)
	unset("instance", &in.Instance)
	if !fs.Changed("roles") {
		in.Roles = nil
	}
	return in
}

// ssoFromEnv reads BTP_ENABLE_SSO as SAP's Terraform provider does
// (strconv.ParseBool; true means the browser login, even with BTP_USERNAME
// and BTP_PASSWORD set). An explicit --sso wins.
func ssoFromEnv(fs *pflag.FlagSet, getenv func(string) string, sso *bool) error {
	v := strings.TrimSpace(getenv("BTP_ENABLE_SSO"))
	if v == "" || fs.Changed("sso") {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return &flagError{fmt.Errorf("BTP_ENABLE_SSO=%q: use true or false", v)}
	}
	*sso = b
	return nil
}

func checkCombinations(o *setupOptions) error {
	switch {
	case o.jsonOut && !o.yes:
		return errors.New("--json needs --yes (the wizard shows its result on screen)")
	case o.showSecret && !o.jsonOut:
		return errors.New("--show-secret needs --json")
	case o.Runtime != steps.RuntimeCF && o.Runtime != steps.RuntimeOther:
		return fmt.Errorf("--runtime must be cf or other, not %q", o.Runtime)
	case !slices.Contains(itrt.Plans, o.Plan):
		return fmt.Errorf("--plan must be integration-flow or api, not %q", o.Plan)
	}
	return nil
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

// traceToFile sends the --debug trace to the cache directory's debug.log.
func (f *factory) traceToFile() (func(), error) {
	dirs, err := f.Dirs()
	if err != nil {
		return nil, err
	}
	log, path, err := openDebugLog(dirs)
	if err != nil {
		return nil, err
	}
	f.trace = log
	f.httpClient = nil // rebuilt with the file as its trace
	return func() {
		log.Close()
		fmt.Fprintln(f.stderr, "cpikey: HTTP trace written to", path)
	}, nil
}
