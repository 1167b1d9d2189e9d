package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

const profileNote = "PROFILE defaults to the most recently created profile (cpikey list shows the names)."

const profilesFooter = `Profiles live in the user config directory (cpikey/profiles.json), secrets in the OS keychain.
Exit codes: 0 done; 1 failed; 2 usage error; 130 interrupted.`

// profileCmd is one command that works on stored profiles.
type profileCmd struct {
	name, summary, usage, examples, notes string
	maxArgs                               int // positional PROFILE arguments allowed
	run                                   func(cmd *cobra.Command, f *factory, profile string) error
	flags                                 func(cmd *cobra.Command)
}

// newProfileCmds builds the table of profile commands as cobra commands.
func newProfileCmds(f *factory) []*cobra.Command {
	var (
		jsonOut, showSecret, force, deleteKey bool
		format, output, globalAccount         string
		renew                                 steps.KeyFlags
	)
	login := func() profiles.Login {
		if f.demo {
			return demoLogin(globalAccount)
		}
		return profiles.Login{User: f.getenv("BTP_USERNAME"), Password: f.getenv("BTP_PASSWORD"), IdP: f.getenv("BTP_IDP"), GlobalAccount: globalAccount}
	}
	jsonFlag := func(help string) func(*cobra.Command) {
		return func(c *cobra.Command) { c.Flags().BoolVar(&jsonOut, "json", false, help) }
	}
	table := []profileCmd{
		{
			name: "list", summary: "list the stored profiles, one a line", usage: "list [--json]",
			examples: `  cpikey list
  cpikey list --json | jq -r '.[].clientid'`,
			flags: jsonFlag("all profiles as a JSON array"),
			run: func(_ *cobra.Command, f *factory, _ string) error {
				mgr, err := f.Manager()
				if err != nil {
					return err
				}
				return mgr.List(f.stdout, jsonOut)
			},
		},
		{
			name: "show", summary: "show a profile; the secret stays masked unless --show-secret",
			usage: "show [PROFILE] [--show-secret] [--json]", maxArgs: 1,
			examples: `  cpikey show
  cpikey show acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --json`,
			flags: func(c *cobra.Command) {
				jsonFlag("the profile as JSON")(c)
				c.Flags().BoolVar(&showSecret, "show-secret", false, "print the client secret (read from the OS keychain)")
			},
			run: func(cmd *cobra.Command, f *factory, name string) error {
				mgr, err := f.Manager()
				if err != nil {
					return err
				}
				return mgr.Show(cmd.Context(), f.stdout, name, showSecret, jsonOut)
			},
		},
		{
			name: "token", summary: "print a fresh OAuth access token of a profile (nothing else on stdout)",
			usage: "token [PROFILE] [--json]", maxArgs: 1,
			examples: `  curl -H "Authorization: Bearer $(cpikey token)" "$CPI_URL/http/your/endpoint"
  cpikey token acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --json`,
			notes: "The client secret is read from the OS keychain. --json prints the token endpoint's answer\n(access_token, token_type, expires_in, scope), never the client secret.",
			flags: jsonFlag("the token response as JSON"),
			run: func(cmd *cobra.Command, f *factory, name string) error {
				mgr, err := f.Manager()
				if err != nil {
					return err
				}
				return mgr.Token(cmd.Context(), f.stdout, name, jsonOut)
			},
		},
		{
			name: "export", summary: "write a profile as a Postman environment or collection, .env file, curl script, Terraform configuration or docker env file",
			usage: "export [PROFILE] --format " + strings.Join(profiles.Formats, "|") + " [-o FILE] [--force]", maxArgs: 1,
			examples: `  cpikey export --format env -o .env
  cpikey export --format postman -o cpi.postman_environment.json
  cpikey export --format postman-collection -o cpi.postman_collection.json
  cpikey export --format curl -o get-token.sh && sh get-token.sh
  cpikey export --format terraform > cpi.tf
  cpikey export --format docker-env -o cpi.docker.env && docker run --env-file cpi.docker.env IMAGE`,
			notes: "postman, env and docker-env contain the client secret (read from the OS keychain); curl reads it from the\nkeychain when run, terraform has none. env is for sh and docker compose, docker-env for docker run --env-file.\npostman-collection has one request and gets its own token with the postman environment's variables: import\nboth files into Postman, or run them with newman run COLLECTION -e ENVIRONMENT; it holds no secret.\nFiles are written with mode 0600 and never overwritten without --force.",
			flags: func(c *cobra.Command) {
				c.Flags().StringVar(&format, "format", "", "export `FORMAT`: "+strings.Join(profiles.Formats, "|"))
				c.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` (mode 0600) instead of stdout")
				c.Flags().BoolVar(&force, "force", false, "overwrite an existing FILE")
				c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(profiles.Formats, cobra.ShellCompDirectiveNoFileComp)) //nolint:errcheck // the flag exists
			},
			run: func(cmd *cobra.Command, f *factory, name string) error {
				switch {
				case format == "":
					return &flagError{fmt.Errorf("--format is required: %s", strings.Join(profiles.Formats, ", "))}
				case force && output == "":
					return &flagError{errors.New("--force needs -o FILE")}
				}
				mgr, err := f.Manager()
				if err != nil {
					return err
				}
				return mgr.Export(cmd.Context(), f.stdout, name, format, output, force)
			},
		},
		{
			name: "rotate", summary: "replace a profile's key: new key, verified, swapped in, old key deleted",
			usage: "rotate [PROFILE] [--json]", maxArgs: 1,
			examples: `  BTP_USERNAME=me@example.com BTP_PASSWORD=... cpikey rotate
  cpikey rotate acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --json`,
			notes: "Logs in to SAP BTP with BTP_USERNAME/BTP_PASSWORD (or the btp CLI's session). On any failure before the\nswap, the new key is deleted again and the old key, its keychain entry and the profile stay as they were.\n" +
				"A certificate key is renewed with the same validity and key length unless --validity/--key-length say\notherwise; an external certificate key only with the renewed certificate: --cert FILE [--cert-key FILE].",
			flags: func(c *cobra.Command) {
				jsonFlag("the rotated profile as JSON")(c)
				c.Flags().StringVar(&globalAccount, "global-account", "", "global account `SUBDOMAIN` (default: the profile's)")
				c.Flags().IntVar(&renew.Validity, "validity", 0, "certificate key: the new certificate's validity in `DAYS` (default: as before)")
				c.Flags().IntVar(&renew.KeyLength, "key-length", 0, "certificate key: the new key's length in `BITS` (default: as before)")
				c.Flags().StringVar(&renew.Cert, "cert", "", "external certificate key: the renewed certificate `FILE` (PEM)")
				c.Flags().StringVar(&renew.CertKey, "cert-key", "", "external certificate key: its private key `FILE` (default: the key cpikey csr made)")
			},
			run: func(cmd *cobra.Command, f *factory, name string) error {
				mgr, err := f.Manager()
				if err != nil {
					return err
				}
				flow, err := f.Flow(steps.Config{})
				if err != nil {
					return err
				}
				spec, err := renewSpec(renew)
				if err != nil {
					return err
				}
				res, err := mgr.RotateWith(cmd.Context(), flow, name, login(), spec)
				f.RememberLogin(flow)
				if res != nil && jsonOut {
					if jerr := profiles.WriteProfile(f.stdout, res.Profile); err == nil {
						err = jerr
					}
				}
				return err
			},
		},
		{
			name: "forget", summary: "remove a profile and its keychain entry (and with --delete-key the key in SAP)",
			usage: "forget [PROFILE] [--delete-key]", maxArgs: 1,
			examples: `  cpikey forget acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key
  BTP_USERNAME=me@example.com BTP_PASSWORD=... cpikey forget acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key --delete-key`,
			notes: "Without --delete-key the key stays valid in SAP. --delete-key logs in like rotate and needs the PROFILE\nnamed explicitly; if deleting fails, nothing is removed.",
			flags: func(c *cobra.Command) {
				c.Flags().BoolVar(&deleteKey, "delete-key", false, "also delete the service key in SAP BTP")
				c.Flags().StringVar(&globalAccount, "global-account", "", "global account `SUBDOMAIN` (default: the profile's)")
			},
			run: func(cmd *cobra.Command, f *factory, name string) error {
				if deleteKey && name == "" {
					return &flagError{errors.New("--delete-key deletes a key in SAP: name the PROFILE explicitly")}
				}
				mgr, err := f.Manager()
				if err != nil {
					return err
				}
				var flow *steps.Flow
				if deleteKey {
					if flow, err = f.Flow(steps.Config{}); err != nil {
						return err
					}
				}
				err = mgr.Forget(cmd.Context(), flow, name, deleteKey, login())
				f.RememberLogin(flow)
				return err
			},
		},
	}
	cmds := make([]*cobra.Command, 0, len(table))
	for _, pc := range table {
		cmds = append(cmds, pc.command(f))
	}
	return cmds
}

// command turns a table row into a cobra command.
func (pc profileCmd) command(f *factory) *cobra.Command {
	notes := pc.notes
	if pc.maxArgs > 0 {
		notes = strings.TrimSpace(profileNote + "\n\n" + notes)
	}
	c := &cobra.Command{
		Use:                   pc.usage,
		DisableFlagsInUseLine: true,
		Short:                 pc.summary,
		Example:               pc.examples,
		Annotations:           map[string]string{notesKey: strings.TrimSpace(notes + "\n\n" + profilesFooter)},
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > pc.maxArgs && pc.maxArgs == 0:
				return &flagError{fmt.Errorf("unexpected argument %q", args[0])}
			case len(args) > pc.maxArgs:
				return &flagError{fmt.Errorf("unexpected argument %q (one PROFILE at most)", args[pc.maxArgs])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := f.signalContext()
			defer stop()
			cmd.SetContext(ctx)
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			err := pc.run(cmd, f, name)
			if f.demo && errors.Is(err, profiles.ErrNoProfiles) {
				return errors.New("no demo profile yet: run cpikey --demo first (each key it reveals is kept as a demo profile)")
			}
			return err
		},
	}
	if pc.maxArgs > 0 {
		c.ValidArgsFunction = f.completeProfiles
	}
	if pc.flags != nil {
		pc.flags(c)
	}
	c.Flags().SortFlags = false
	return c
}

// completeProfiles offers the stored profile names to shell completion.
func (f *factory) completeProfiles(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	// Completion runs no PersistentPreRun: take --demo from the line itself.
	if demo, err := cmd.Flags().GetBool("demo"); err == nil && demo {
		f.demo = true
	}
	store, err := f.Store()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, err := store.List()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(list))
	for _, p := range list {
		names = append(names, p.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
