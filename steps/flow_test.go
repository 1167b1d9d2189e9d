package steps_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// recorder collects progress events.
type recorder struct {
	mu     sync.Mutex
	events []steps.Event
}

func (r *recorder) Report(e steps.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) has(step steps.Step, kind steps.EventKind) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Step == step && e.Kind == kind {
			return true
		}
	}
	return false
}

type env struct {
	sim *sim.Server
	rec *recorder
	cfg steps.Config
}

// newEnv starts a fast simulator and a flow config pointing at it, with an
// isolated HOME and go-keyring's in-memory mock.
func newEnv(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home+"/.config")
	t.Setenv("XDG_CACHE_HOME", home+"/.cache")
	keyring.MockInit()
	if cfg.EntitlementPadding == 0 {
		cfg.EntitlementPadding = 64 << 10
	}
	s, err := sim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rec := &recorder{}
	return &env{sim: s, rec: rec, cfg: steps.Config{
		CLIServerURL: s.CLIServerURL(),
		HTTPClient:   transport.NewHTTPClient(transport.Options{Timeout: 10 * time.Second, RootCAs: s.CACertPool()}), // as --demo does
		Reporter:     rec,
		Keyring: keychain.New(keychain.Options{Getenv: func(k string) string {
			if k == "DBUS_SESSION_BUS_ADDRESS" {
				return "unix:path=/test/bus"
			}
			return ""
		}}),
		PollMin:          2 * time.Millisecond,
		PollMax:          10 * time.Millisecond,
		ProvisionTimeout: 5 * time.Second,
		Retry:            transport.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxElapsed: 2 * time.Second},
	}}
}

func (e *env) input(sub string) steps.HeadlessInput {
	return steps.HeadlessInput{GlobalAccount: sim.GASubdomain, Subaccount: sub, User: sim.AdminUser, Password: sim.AdminPassword}
}

func (e *env) run(t *testing.T, in steps.HeadlessInput) (*steps.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return steps.RunHeadless(ctx, steps.New(e.cfg), in)
}

// creates counts requests that create something in SAP.
func creates(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if strings.Contains(r, "POST /v3/service_instances") || strings.Contains(r, "POST /v3/service_credential_bindings") ||
			strings.HasSuffix(r, "?create") || strings.HasSuffix(r, "?assign") {
			out = append(out, r)
		}
	}
	return out
}

func TestFlow_FreshSubaccountEntitlesCreatesAndVerifies(t *testing.T) {
	e := newEnv(t, sim.Config{})
	res, err := e.run(t, e.input(sim.SubFresh))
	if err != nil {
		t.Fatal(err)
	}
	if res.Instance.Reused || res.Key.Reused || !res.Verified {
		t.Fatalf("want fresh instance and key, verified: %+v", res)
	}
	if !strings.HasPrefix(res.Credentials.ClientID, "sb-") || !strings.Contains(res.Credentials.ClientSecret, "$") {
		t.Fatalf("credentials do not look like it-rt credentials: clientid %q", res.Credentials.ClientID)
	}
	if res.Keychain == nil || res.Keychain.Service != "cpikey" || res.Keychain.Account != sim.SubFreshSubdomain+"/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key" {
		t.Fatalf("keychain ref %+v", res.Keychain)
	}
	got, err := keyring.Get("cpikey", res.Keychain.Account)
	if err != nil || got != res.Credentials.ClientSecret {
		t.Fatal("secret not in the keychain")
	}
	if !e.rec.has(steps.StepEntitle, steps.EventDone) {
		t.Fatal("no entitlement happened for a fresh subaccount")
	}
	if n := len(creates(e.sim.Requests())); n != 4 { // 2 assigns, instance, key
		t.Fatalf("creating requests = %d, want 4: %v", n, creates(e.sim.Requests()))
	}
}

// The result says how each plan is entitled, as the flow decided from the
// plan's category: integration-flow is ELASTIC_SERVICE (enabled), api is
// SERVICE (an amount: 1 when cpikey assigns it, else what the subaccount
// has). The Terraform export declares exactly this.
func TestFlow_ResultRecordsHowPlansAreEntitled(t *testing.T) {
	enabled := steps.PlanEntitlement{Plan: "integration-flow", Category: "ELASTIC_SERVICE"}
	cases := []struct {
		name  string
		setup func(e *env)
		want  []steps.PlanEntitlement
	}{
		{"fresh: cpikey assigns both", nil, []steps.PlanEntitlement{enabled, {Plan: "api", Category: "SERVICE", Amount: 1}}},
		{"api already assigned with amount 3", func(e *env) {
			e.sim.Do(func(w *sim.World) {
				for _, sa := range w.Subaccounts {
					if sa.Name == sim.SubFresh {
						w.Assignments = append(w.Assignments, &sim.Assignment{Subaccount: sa.GUID, Service: "it-rt", Plan: "api",
							Amount: 3, State: "OK", Created: time.Now(), ReadyAt: time.Now()})
					}
				}
			})
		}, []steps.PlanEntitlement{enabled, {Plan: "api", Category: "SERVICE", Amount: 3}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sim.Config{})
			if tc.setup != nil {
				tc.setup(e)
			}
			res, err := e.run(t, e.input(sim.SubFresh))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Entitlements, tc.want) {
				t.Errorf("entitlements %+v, want %+v", res.Entitlements, tc.want)
			}
			// A rerun finds both assigned and records the same.
			again, err := e.run(t, e.input(sim.SubFresh))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Entitlements, tc.want) {
				t.Errorf("rerun: entitlements %+v, want %+v", again.Entitlements, tc.want)
			}
		})
	}
}

func TestFlow_AlreadyEntitledSkipsEntitlement(t *testing.T) {
	e := newEnv(t, sim.Config{})
	res, err := e.run(t, e.input(sim.SubReadySubdomain))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range e.sim.Requests() {
		if strings.Contains(r, "entitlement?assign") {
			t.Fatalf("assigned an entitlement although both plans were entitled: %s", r)
		}
	}
	if !res.Verified {
		t.Fatal("not verified")
	}
}

func TestFlow_SecondRunReusesAndCreatesNothing(t *testing.T) {
	e := newEnv(t, sim.Config{})
	first, err := e.run(t, e.input(sim.SubFresh))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.ResetRequests()
	second, err := e.run(t, e.input(sim.SubFresh))
	if err != nil {
		t.Fatal(err)
	}
	if c := creates(e.sim.Requests()); len(c) != 0 {
		t.Fatalf("second run made creating requests: %v", c)
	}
	if !second.Instance.Reused || !second.Key.Reused || second.Instance.ID != first.Instance.ID || second.Key.ID != first.Key.ID {
		t.Fatalf("second run did not reuse: %+v vs %+v", second.Instance, first.Instance)
	}
	if second.Credentials.ClientSecret != first.Credentials.ClientSecret {
		t.Fatal("reused key yielded another secret")
	}
}

func TestFlow_CancelDuringProvisioningThenRerunCompletesWithoutDuplicates(t *testing.T) {
	e := newEnv(t, sim.Config{ProvisionTime: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	e.cfg.Reporter = steps.ReporterFunc(func(ev steps.Event) {
		if ev.Step == steps.StepInstance && ev.Kind == steps.EventWaiting {
			cancel()
		}
	})
	_, err := steps.RunHeadless(ctx, steps.New(e.cfg), e.input(sim.SubReady))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	e.cfg.Reporter = e.rec
	res, err := e.run(t, e.input(sim.SubReady))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Instance.Reused || !res.Verified {
		t.Fatalf("rerun should pick up the instance: %+v", res)
	}
	n := 0
	e.sim.Do(func(w *sim.World) {
		for _, i := range w.Instances {
			if i.Name == steps.DefaultInstance && !i.Deleted {
				n++
			}
		}
	})
	if n != 1 {
		t.Fatalf("%d instances named %s, want 1", n, steps.DefaultInstance)
	}
}

func TestFlow_Failures(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(e *env, in *steps.HeadlessInput)
		want   []string
		target error
	}{
		{"broker failure names the broker text and Integration Suite", func(e *env, in *steps.HeadlessInput) {
			// The PI_* role collections outlive an undone activation, so the
			// check still infers "activated"; the broker knows better.
			e.sim.SuiteOf(sim.SubFreshSubdomain)
			e.sim.Do(func(w *sim.World) {
				for _, s := range w.Subaccounts {
					s.TenantProvisioned = false
				}
			})
		}, []string{"not provisioned", "activate the Cloud Integration capability"}, nil},
		{"viewer cannot assign entitlements", func(e *env, in *steps.HeadlessInput) {
			in.User, in.Password = sim.ViewerUser, sim.ViewerPass
		}, []string{"Global Account Administrator"}, nil},
		{"not space developer in dev", func(e *env, in *steps.HeadlessInput) {
			in.User, in.Password, in.Subaccount = sim.NoDevUser, sim.NoDevPass, sim.SubReady
		}, []string{"Space Developer", "space dev", "cf set-space-role"}, nil},
		{"no cloud foundry environment", func(e *env, in *steps.HeadlessInput) {
			in.Subaccount = sim.SubNoCF
		}, []string{"no Cloud Foundry environment", "--runtime other"}, nil},
		{"wrong password", func(e *env, in *steps.HeadlessInput) {
			in.Password = "wrong-Pa$$"
		}, []string{"password"}, nil},
		{"unknown global account", func(e *env, in *steps.HeadlessInput) {
			in.GlobalAccount = "no-such-ga"
		}, []string{"no-such-ga"}, nil},
		{"global account without it-rt", func(e *env, in *steps.HeadlessInput) {
			e.sim.Do(func(w *sim.World) { w.GAHasITRT = false })
		}, []string{"SAP Integration Suite must be purchased or entitled at global-account level"}, steps.ErrNoServiceInGlobalAccount},
		{"api plan with an invalid role is refused before any request", func(e *env, in *steps.HeadlessInput) {
			in.Plan, in.Roles = "api", []string{"ESBMessaging.send"}
		}, []string{"not a role of plan api"}, nil},
		{"invalid instance name", func(e *env, in *steps.HeadlessInput) {
			in.Instance = "has space"
		}, []string{"at most 32 characters"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sim.Config{})
			in := e.input(sim.SubFresh)
			tc.setup(e, &in)
			e.sim.ResetRequests()
			_, err := e.run(t, in)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error is not %v", tc.target)
			}
			for _, secret := range []string{sim.AdminPassword, sim.ViewerPass, sim.NoDevPass, "wrong-Pa$$"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatal("error contains a password")
				}
			}
			if strings.Contains(tc.name, "before any request") && len(e.sim.Requests()) != 0 {
				t.Fatalf("requests were sent: %v", e.sim.Requests())
			}
		})
	}
}

func TestFlow_APIPlanWithValidRole(t *testing.T) {
	e := newEnv(t, sim.Config{})
	in := e.input(sim.SubReady)
	in.Plan, in.Roles = "api", []string{"MonitoringDataRead"}
	res, err := e.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || !strings.HasSuffix(res.Credentials.ClientID, "|it!b56186") {
		t.Fatalf("api key not verified or wrong client id shape: %+v", res.Credentials.ClientID)
	}
	found := false
	for _, s := range res.Scopes {
		found = found || strings.HasSuffix(s, ".MonitoringDataRead")
	}
	if !found {
		t.Fatalf("scopes %v lack MonitoringDataRead", res.Scopes)
	}
}

func TestFlow_RuntimeOtherEndToEnd(t *testing.T) {
	e := newEnv(t, sim.Config{})
	in := e.input(sim.SubNoCF)
	in.Runtime = steps.RuntimeOther
	res, err := e.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Org != "" || res.Instance.ID == "" || res.Key.ID == "" {
		t.Fatalf("unexpected result %+v", res)
	}
	for _, r := range e.sim.Requests() {
		if strings.HasPrefix(r, "cf:") || strings.HasPrefix(r, "uaa:") {
			t.Fatalf("runtime other talked to Cloud Foundry: %s", r)
		}
	}
	e.sim.ResetRequests()
	again, err := e.run(t, in)
	if err != nil || !again.Instance.Reused || !again.Key.Reused {
		t.Fatalf("second run other: %+v %v", again, err)
	}
	if c := creates(e.sim.Requests()); len(c) != 0 {
		t.Fatalf("second run made creating requests: %v", c)
	}
}

func TestFlow_CertificateKeyUnderRequestedName(t *testing.T) {
	e := newEnv(t, sim.Config{})
	// First create instance and a certificate key with the default key name
	// through the simulator's world, as another tool would have.
	if _, err := e.run(t, e.input(sim.SubReady)); err != nil {
		t.Fatal(err)
	}
	e.sim.Do(func(w *sim.World) {
		for _, k := range w.Keys {
			k.KeyType = "certificate"
		}
	})
	_, err := e.run(t, e.input(sim.SubReady))
	if !errors.Is(err, steps.ErrCertificateKey) || !strings.Contains(err.Error(), "certificate key") {
		t.Fatalf("want a certificate key error, got %v", err)
	}
}

// TestFlow_SSOWithCloudFoundryRefusesBeforeWriting: headless SSO with no
// way to get a Cloud Foundry passcode stops before anything is entitled or
// created; with BTP_PASSWORD set as well, that password logs in to Cloud
// Foundry and the run completes.
func TestFlow_SSOWithCloudFoundryRefusesBeforeWriting(t *testing.T) {
	e := newEnv(t, sim.Config{SSODelay: time.Millisecond})
	e.cfg.CFPasscode = func(context.Context, string) (string, error) {
		return "", &steps.UsageError{Msg: "stdin is not a terminal"}
	}
	in := e.input(sim.SubFresh)
	in.SSO, in.User, in.Password = true, "", ""
	if _, err := e.run(t, in); err == nil {
		t.Fatal("SSO without a passcode or password succeeded")
	}
	if c := creates(e.sim.Requests()); len(c) != 0 {
		t.Fatalf("wrote at SAP before refusing: %v", c)
	}
	in.User, in.Password = sim.AdminUser, sim.AdminPassword
	if res, err := e.run(t, in); err != nil || !res.Verified {
		t.Fatalf("SSO with BTP_PASSWORD for Cloud Foundry: %v", err)
	}
}

// TestResolveSubaccount_NoMatchListsCandidates: a --subaccount that matches
// nothing lists every subaccount with name, subdomain and GUID, so the
// right value can be copied.
func TestResolveSubaccount_NoMatchListsCandidates(t *testing.T) {
	e := newEnv(t, sim.Config{})
	in := e.input("CPI Prod")
	_, err := e.run(t, in)
	var usage *steps.UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("want a usage error, got %v", err)
	}
	var rows int
	e.sim.Do(func(w *sim.World) {
		for _, s := range w.Subaccounts {
			rows++
			if !strings.Contains(err.Error(), "\n  "+s.Name+"  "+s.Subdomain+"  "+s.GUID) {
				t.Errorf("the error does not list %s (%s, %s):\n%s", s.Name, s.Subdomain, s.GUID, err)
			}
		}
	})
	if !strings.Contains(err.Error(), `--subaccount "CPI Prod"`) || !strings.Contains(err.Error(), "candidates (name, subdomain, GUID)") || rows == 0 {
		t.Errorf("error:\n%s", err)
	}
}
