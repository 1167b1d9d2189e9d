package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
	"github.com/cpikey/cpikey/steps/keychain"
	"github.com/cpikey/cpikey/steps/manage"
	"github.com/cpikey/cpikey/steps/profile"
)

// subcommand describes one of the commands that work on stored profiles.
type subcommand struct {
	summary  string // one line, for cpikey --help
	usage    string // the synopsis
	examples string // shown first in --help
	notes    string // after the flags
}

var subcommands = map[string]subcommand{
	"list": {
		summary: "list the stored profiles, one a line",
		usage:   "cpikey list [--json]",
		examples: `  cpikey list
  cpikey list --json | jq -r '.[].clientid'`,
	},
	"show": {
		summary: "show a profile; the secret stays masked unless --show-secret",
		usage:   "cpikey show [PROFILE] [--show-secret] [--json]",
		examples: `  cpikey show
  cpikey show acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --json`,
	},
	"token": {
		summary: "print a fresh OAuth access token of a profile (nothing else on stdout)",
		usage:   "cpikey token [PROFILE] [--json]",
		examples: `  curl -H "Authorization: Bearer $(cpikey token)" "$CPI_URL/http/your/endpoint"
  cpikey token acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --json`,
		notes: "The client secret is read from the OS keychain. --json prints the token endpoint's answer\n(access_token, token_type, expires_in, scope), never the client secret.",
	},
	"export": {
		summary: "write a profile as a Postman environment, .env file, curl script, Terraform configuration or docker env file",
		usage:   "cpikey export [PROFILE] --format postman|env|curl|terraform|docker-env [-o FILE] [--force]",
		examples: `  cpikey export --format env -o .env
  cpikey export --format postman -o cpi.postman_environment.json
  cpikey export --format curl -o get-token.sh && sh get-token.sh
  cpikey export --format terraform > cpi.tf
  cpikey export --format docker-env -o cpi.docker.env && docker run --env-file cpi.docker.env IMAGE`,
		notes: "postman, env and docker-env contain the client secret (read from the OS keychain); curl reads it from the\nkeychain when run, terraform has none. env is for sh and docker compose, docker-env for docker run --env-file.\nFiles are written with mode 0600 and never overwritten without --force.",
	},
	"rotate": {
		summary: "replace a profile's key: new key, verified, swapped in, old key deleted",
		usage:   "cpikey rotate [PROFILE] [--json]",
		examples: `  BTP_USERNAME=me@example.com BTP_PASSWORD=... cpikey rotate
  cpikey rotate acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --json`,
		notes: "Logs in to SAP BTP with BTP_USERNAME/BTP_PASSWORD (or the btp CLI's session). On any failure before the\nswap, the new key is deleted again and the old key, its keychain entry and the profile stay as they were.",
	},
	"forget": {
		summary: "remove a profile and its keychain entry (and with --delete-key the key in SAP)",
		usage:   "cpikey forget [PROFILE] [--delete-key]",
		examples: `  cpikey forget acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key
  BTP_USERNAME=me@example.com BTP_PASSWORD=... cpikey forget acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --delete-key`,
		notes: "Without --delete-key the key stays valid in SAP. --delete-key logs in like rotate and needs the PROFILE\nnamed explicitly; if deleting fails, nothing is removed.",
	},
}

// subcommandOrder is the order of cpikey --help.
var subcommandOrder = []string{"list", "show", "token", "export", "rotate", "forget"}

type subOptions struct {
	jsonOut, showSecret, force, deleteKey, debug bool
	format, output, globalAccount                string
}

func subUsage(fs *flag.FlagSet, name string) {
	sc := subcommands[name]
	w := fs.Output()
	fmt.Fprintf(w, "cpikey %s: %s.\n\nExamples:\n%s\n\nUsage: %s\n", name, sc.summary, sc.examples, sc.usage)
	if name != "list" {
		fmt.Fprint(w, "PROFILE defaults to the most recently created profile (cpikey list shows the names).\n")
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.PrintDefaults()
	if sc.notes != "" {
		fmt.Fprintf(w, "\n%s\n", sc.notes)
	}
	fmt.Fprint(w, "\nProfiles live in the user config directory (cpikey/profiles.json), secrets in the OS keychain.\nExit codes: 0 done; 1 failed; 2 usage error; 130 interrupted.\n")
}

// parseInterspersed parses flags before and after positional arguments
// (cpikey show NAME --json).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// runSubcommand parses one subcommand's flags and runs it (steps/manage).
func runSubcommand(name string, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	o := &subOptions{}
	fs := flag.NewFlagSet("cpikey "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonHelp := map[string]string{"list": "all profiles as a JSON array", "show": "the profile as JSON",
		"token": "the token response as JSON", "rotate": "the rotated profile as JSON"}
	if h, ok := jsonHelp[name]; ok {
		fs.BoolVar(&o.jsonOut, "json", false, h)
	}
	switch name {
	case "show":
		fs.BoolVar(&o.showSecret, "show-secret", false, "print the client secret (read from the OS keychain)")
	case "export":
		fs.StringVar(&o.format, "format", "", "export `FORMAT`: "+strings.Join(profile.Formats, "|"))
		fs.StringVar(&o.output, "o", "", "write to `FILE` (mode 0600) instead of stdout")
		fs.StringVar(&o.output, "output", "", "same as -o `FILE`")
		fs.BoolVar(&o.force, "force", false, "overwrite an existing FILE")
	case "forget":
		fs.BoolVar(&o.deleteKey, "delete-key", false, "also delete the service key in SAP BTP")
	}
	if name == "rotate" || name == "forget" {
		fs.StringVar(&o.globalAccount, "global-account", "", "global account `SUBDOMAIN` (default: the profile's)")
	}
	if name == "token" || name == "rotate" || name == "forget" {
		fs.BoolVar(&o.debug, "debug", false, "HTTP trace on stderr, secrets redacted")
	}
	fs.Usage = func() { subUsage(fs, name) }
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		err = checkSubArgs(name, o, pos)
	}
	if err != nil {
		fmt.Fprintf(stderr, "cpikey %s: %v (see cpikey %s --help)\n", name, err, name)
		return exitUsage
	}
	profileName := ""
	if len(pos) == 1 {
		profileName = pos[0]
	}
	transport.UserAgent = "cpikey/" + version

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var trace io.Writer
	if o.debug {
		trace = stderr
	}
	httpClient := transport.NewHTTPClient(transport.Options{Trace: trace})
	store, err := profile.Open("")
	if err != nil {
		return reportError(stderr, err)
	}
	kc := keychain.New(keychain.Options{Getenv: getenv})
	mgr := &manage.Manager{Store: store, Keyring: kc, HTTPClient: httpClient, Notes: stderr}
	login := manage.Login{User: getenv("BTP_USERNAME"), Password: getenv("BTP_PASSWORD"), IdP: getenv("BTP_IDP"), GlobalAccount: o.globalAccount}
	flow := func() *steps.Flow {
		serverURL := getenv("BTP_CLI_SERVER_URL")
		if serverURL == "" {
			serverURL = "https://cli.btp.cloud.sap"
		}
		return steps.New(steps.Config{CLIServerURL: serverURL, HTTPClient: httpClient, Keyring: kc,
			Reporter: steps.NewTextReporter(stderr), CFPasscode: passcodePrompt(stdin, stderr)})
	}

	switch name {
	case "list":
		err = mgr.List(stdout, o.jsonOut)
	case "show":
		err = mgr.Show(ctx, stdout, profileName, o.showSecret, o.jsonOut)
	case "token":
		err = mgr.Token(ctx, stdout, profileName, o.jsonOut)
	case "export":
		err = mgr.Export(ctx, stdout, profileName, o.format, o.output, o.force)
	case "rotate":
		var res *manage.RotateResult
		res, err = mgr.Rotate(ctx, flow(), profileName, login)
		if res != nil && o.jsonOut {
			if jerr := manage.WriteProfile(stdout, res.Profile); err == nil {
				err = jerr
			}
		}
	case "forget":
		var f *steps.Flow
		if o.deleteKey {
			f = flow()
		}
		err = mgr.Forget(ctx, f, profileName, o.deleteKey, login)
	}
	return reportError(stderr, err)
}

func checkSubArgs(name string, o *subOptions, pos []string) error {
	switch {
	case name == "list" && len(pos) > 0:
		return fmt.Errorf("unexpected argument %q", pos[0])
	case len(pos) > 1:
		return fmt.Errorf("unexpected argument %q (one PROFILE at most)", pos[1])
	case name == "export" && o.format == "":
		return fmt.Errorf("--format is required: %s", strings.Join(profile.Formats, ", "))
	case o.force && o.output == "":
		return errors.New("--force needs -o FILE")
	case o.deleteKey && len(pos) == 0:
		return errors.New("--delete-key deletes a key in SAP: name the PROFILE explicitly")
	}
	return nil
}
