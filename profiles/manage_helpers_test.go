package profiles_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// env is a fast simulator, a flow config pointing at it, go-keyring's
// in-memory mock and a profile store under a temporary config directory.
type env struct {
	sim   *sim.Server
	cfg   steps.Config
	mgr   *profiles.Manager
	notes *bytes.Buffer
}

var fixedNow = time.Date(2026, 8, 20, 9, 14, 3, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home+"/.config")
	t.Setenv("XDG_CACHE_HOME", home+"/.cache")
	keyring.MockInit()
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	kc := keychain.New(keychain.Options{Getenv: func(k string) string {
		if k == "DBUS_SESSION_BUS_ADDRESS" {
			return "unix:path=/test/bus"
		}
		return ""
	}})
	hc := transport.NewHTTPClient(transport.Options{Timeout: 10 * time.Second, RootCAs: s.CACertPool()}) // as --demo does
	store, err := profiles.Open("")
	if err != nil {
		t.Fatal(err)
	}
	notes := &bytes.Buffer{}
	clock := fixedNow
	return &env{sim: s, notes: notes,
		cfg: steps.Config{
			CLIServerURL: s.CLIServerURL(), HTTPClient: hc, Keyring: kc,
			PollMin: 2 * time.Millisecond, PollMax: 10 * time.Millisecond, ProvisionTimeout: 5 * time.Second,
			Retry: transport.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxElapsed: 2 * time.Second},
		},
		mgr: &profiles.Manager{Store: store, Keyring: kc, HTTPClient: hc, Notes: notes, GOOS: "linux",
			VerifyWait: 40 * time.Millisecond,
			Now:        func() time.Time { clock = clock.Add(time.Second); return clock }},
	}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) login() profiles.Login {
	return profiles.Login{User: sim.AdminUser, Password: sim.AdminPassword}
}

// provision runs the headless flow on sub and keeps the profile, as
// `cpikey --yes` does; it returns the profile and the client secret.
func (e *env) provision(t *testing.T, sub string, rt steps.Runtime, noKeychain bool) (profiles.Profile, string) {
	t.Helper()
	in := steps.HeadlessInput{GlobalAccount: sim.GASubdomain, Subaccount: sub, User: sim.AdminUser, Password: sim.AdminPassword,
		Runtime: rt, NoKeychain: noKeychain}
	f := steps.New(e.cfg)
	res, err := steps.RunHeadless(ctx(t), f, in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.mgr.SaveResult(f, res, profiles.HeadlessTarget(in))
	if err != nil {
		t.Fatal(err)
	}
	return p, res.Credentials.ClientSecret
}

// flow is a new flow (a new cpikey process) against the simulator.
func (e *env) flow() *steps.Flow { return steps.New(e.cfg) }

func creds(p profiles.Profile, secret string) oauth.Credentials {
	return oauth.Credentials{ClientID: p.ClientID, ClientSecret: secret, TokenURL: p.TokenURL}
}

// works reports whether the client credentials yield a token.
func (e *env) works(t *testing.T, c oauth.Credentials) bool {
	t.Helper()
	_, err := oauth.Verify(ctx(t), e.cfg.HTTPClient, c)
	if err != nil && !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("token request failed for another reason than the credentials: %v", err)
	}
	return err == nil
}

// liveKeys lists the names of keys the simulator still has (not deleted,
// not being deleted).
func (e *env) liveKeys() []string {
	var out []string
	e.sim.Do(func(w *sim.World) {
		for _, k := range w.Keys {
			if !k.Deleted && k.Op.Type != "delete" {
				out = append(out, k.Name)
			}
		}
	})
	return out
}

func mustNotContain(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, x := range secrets {
		if x != "" && strings.Contains(s, x) {
			t.Fatalf("%s contains a secret", what)
		}
	}
}
