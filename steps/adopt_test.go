package steps_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// TestInstances_OffersWhatExists lists the it-rt instances where the new
// one would go, with their keys, in Cloud Foundry and the Service Manager.
func TestInstances_OffersWhatExists(t *testing.T) {
	for _, rt := range []steps.Runtime{steps.RuntimeCF, steps.RuntimeOther} {
		t.Run(string(rt), func(t *testing.T) {
			e := newEnv(t, sim.Config{})
			sub := sim.SubReady
			if rt == steps.RuntimeOther {
				sub = sim.SubNoCF
			}
			in := e.input(sub)
			in.Runtime, in.NoKeychain = rt, true
			for _, run := range []struct{ instance, key, plan string }{{"B_FLOW", "b1", ""}, {"B_FLOW", "b2", ""}, {"a_api", "a1", "api"}} {
				r := in
				r.Instance, r.Key, r.Plan = run.instance, run.key, run.plan
				if run.plan == "api" {
					r.Roles = []string{sim.APIRoleDefault}
				}
				if _, err := e.run(t, r); err != nil {
					t.Fatal(err)
				}
			}
			f := steps.New(e.cfg)
			ctx := context.Background()
			if _, err := f.Login(ctx, steps.LoginInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
				t.Fatal(err)
			}
			sa, err := f.ResolveSubaccount(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			tg := steps.Target{Subaccount: sa, Runtime: rt}
			if rt == steps.RuntimeCF {
				report, err := f.Check(ctx, sa, steps.DefaultPlan, rt)
				if err != nil {
					t.Fatal(err)
				}
				tg.OrgID, tg.OrgName, tg.Space = report.CF.OrgID, report.CF.OrgName, "dev"
			}
			got, err := f.Instances(ctx, tg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("instances: %+v", got)
			}
			if got[0].Name != "a_api" || got[0].Plan != "api" || !slices.Equal(got[0].Keys, []string{"a1"}) ||
				got[1].Name != "B_FLOW" || got[1].Plan != "integration-flow" || !slices.Equal(got[1].Keys, []string{"b1", "b2"}) ||
				got[1].State != "succeeded" || got[1].ID == "" {
				t.Errorf("instances: %+v", got)
			}
		})
	}
}

// TestProbeKeychain tells before the run whether the secret can be saved.
func TestProbeKeychain(t *testing.T) {
	e := newEnv(t, sim.Config{})
	if err := steps.New(e.cfg).ProbeKeychain(context.Background()); err != nil {
		t.Errorf("a working keychain: %v", err)
	}
	cfg := e.cfg
	cfg.Keyring = nil
	if err := steps.New(cfg).ProbeKeychain(context.Background()); !errors.Is(err, steps.ErrNoKeychain) {
		t.Errorf("no keychain: %v", err)
	}
	cfg.Keyring = keychain.New(keychain.Options{GOOS: "linux", Getenv: func(string) string { return "" }}) // no D-Bus session
	var unavailable *keychain.UnavailableError
	if err := steps.New(cfg).ProbeKeychain(context.Background()); !errors.As(err, &unavailable) {
		t.Errorf("no Secret Service: %v", err)
	}
	keyring.MockInitWithError(errors.New("the keychain is locked"))
	if err := steps.New(e.cfg).ProbeKeychain(context.Background()); err == nil {
		t.Error("a failing keychain passed the probe")
	}
}
