package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// The demo namespace: everything a --demo run keeps lives in the demo
// directories (configdir.Dirs.Demo) and under its own keychain service, so
// nothing of it can be mistaken for, or overwrite, a real key.
const (
	// demoStateFile keeps the simulated landscape between demo runs.
	demoStateFile = "state.json"
	// demoKeychainService holds the demo's client secrets.
	demoKeychainService = "cpikey-demo"
)

// demoTiming is how long the simulated SAP takes: long enough to watch the
// spinners, short enough to wait for. Tests shorten it.
var demoTiming = sim.Config{
	ProvisionTime: 4 * time.Second,
	BindTime:      1500 * time.Millisecond,
	EntitleTime:   1500 * time.Millisecond,
	SubscribeTime: 3 * time.Second,
}

// demoSimConfig is the demo landscape's simulator with its state in state.
func demoSimConfig(state string) sim.Config {
	cfg := demoTiming
	cfg.StateFile = state
	cfg.Seed = uint64(time.Now().UnixNano())
	return cfg
}

// startDemo starts the embedded simulator with its state in the demo
// namespace's cache directory, so a later run (or subcommand) finds what
// an earlier one created.
func startDemo(dirs configdir.Dirs) (*sim.Server, error) {
	// The simulator writes its state there: a directory only we can enter,
	// so nobody can plant a link for it to write through.
	if err := configdir.EnsurePrivate(dirs.Cache); err != nil {
		return nil, err
	}
	return sim.Start(demoSimConfig(filepath.Join(dirs.Cache, demoStateFile)))
}

// demoDefaults fills what a newcomer would otherwise have to know. The
// real account's environment (BTP_USERNAME, BTP_PASSWORD, BTP_GLOBALACCOUNT,
// BTP_IDP) is never used by the demo: explicit flags still are.
func demoDefaults(in *steps.HeadlessInput, changed func(flag string) bool) {
	if !changed("global-account") {
		in.GlobalAccount = sim.GASubdomain
	}
	if !changed("idp") {
		in.IdP = ""
	}
	in.User, in.Password = sim.AdminUser, sim.AdminPassword
	if in.Subaccount == "" {
		in.DefaultSubaccount = sim.SubFreshSubdomain
	}
}

// demoLogin is how rotate and forget --delete-key log in to the simulator.
func demoLogin(globalAccount string) profiles.Login {
	return profiles.Login{User: sim.AdminUser, Password: sim.AdminPassword, GlobalAccount: globalAccount}
}

// rebaseDemoProfiles points the demo profiles at the running simulator.
// The simulator listens on a new loopback port each run, so the token URL
// and Cloud Foundry API (and the tenant of the key's url) a profile
// recorded belong to a run that is gone;
// only their scheme and host change (the paths stay). Real profiles never
// pass through here.
func rebaseDemoProfiles(store *profiles.Store, s *sim.Server) error {
	all, err := store.List()
	if err != nil {
		return err
	}
	for _, p := range all {
		np := p
		tokenBase := s.TokenBaseURL()
		if p.IsCertificate() {
			tokenBase = s.CertTokenURL()
		}
		np.TokenURL = rebaseLoopback(p.TokenURL, tokenBase)
		np.CFAPIURL = rebaseLoopback(p.CFAPIURL, s.CFAPIURL())
		tenant := s.RuntimeURL() // the key's url: the tenant's host of its plan
		if p.Plan == itrt.PlanAPI {
			tenant = s.TenantAPIURL()
		}
		np.URL = rebaseLoopback(p.URL, tenant)
		if np.TokenURL == p.TokenURL && np.CFAPIURL == p.CFAPIURL && np.URL == p.URL {
			continue
		}
		if err := store.Save(np); err != nil {
			return err
		}
	}
	return nil
}

// rebaseLoopback moves a loopback URL to base's scheme and host; other
// URLs (and "") stay as they are.
func rebaseLoopback(raw, base string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return raw
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return raw
	}
	b, err := url.Parse(base)
	if err != nil {
		return raw
	}
	u.Scheme, u.Host = b.Scheme, b.Host
	return u.String()
}

// resetDemo removes every trace of earlier demo runs: the demo's keychain
// entries (of the demo profiles and of every key the simulated landscape
// ever held), then the demo directories with state, profiles and
// preferences. It says what it removed on the factory's stderr.
func (f *factory) resetDemo(ctx context.Context) error {
	dirs, err := f.Dirs()
	if err != nil {
		return err
	}
	if filepath.Base(dirs.Config) != "demo" || filepath.Base(dirs.Cache) != "demo" {
		return fmt.Errorf("refusing to reset %s: not the demo namespace", dirs.Config)
	}
	accounts := demoKeychainAccounts(dirs)
	removed := 0
	// Each account may hold a client secret and the token cpikey call kept.
	tokens := profiles.TokenService(profiles.Profile{KeychainService: demoKeychainService})
	if kc := f.Keyring(); kc != nil {
		for _, a := range accounts {
			for _, svc := range []string{demoKeychainService, tokens} {
				err := keychain.DeleteSplit(ctx, kc, svc, a) // a certificate key's entry has parts
				var unavailable *keychain.UnavailableError
				switch {
				case err == nil:
					removed++
				case errors.Is(err, keychain.ErrNotFound), errors.As(err, &unavailable):
					// Never stored, or no keychain here: nothing to remove.
				default:
					return fmt.Errorf("--demo-reset: remove the demo secret %s from the OS keychain: %w", a, err)
				}
			}
		}
	}
	for _, d := range []string{dirs.Config, dirs.Cache} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("--demo-reset: %w", err)
		}
	}
	fmt.Fprintf(f.stderr, "✓ Demo reset: state, profiles and preferences removed (%s, %s), %d keychain entries of services %s and %s removed.\n",
		dirs.Config, dirs.Cache, removed, demoKeychainService, tokens)
	return nil
}

// demoKeychainAccounts lists the keychain accounts demo runs may have
// written: those of the demo profiles and of every key in the saved
// simulated landscape (a profile may have failed to save).
func demoKeychainAccounts(dirs configdir.Dirs) []string {
	var out []string
	add := func(a string) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if store, err := profiles.Open(dirs.Config); err == nil {
		if all, err := store.List(); err == nil {
			for _, p := range all {
				add(p.KeychainAccount)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dirs.Cache, demoStateFile))
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return out
	}
	var w sim.World
	if json.Unmarshal(b, &w) != nil {
		return out
	}
	subdomain := map[string]string{}
	for _, s := range w.Subaccounts {
		subdomain[s.GUID] = s.Subdomain
	}
	instances := map[string]*sim.Instance{}
	for _, in := range w.Instances {
		instances[in.GUID] = in
	}
	for _, k := range w.Keys {
		if in := instances[k.Instance]; in != nil {
			add(keychain.AccountName(subdomain[in.Subaccount], in.Name, k.Name))
		}
	}
	return out
}
