package steps_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// TestDeleteKey_LocatesByNamesAndRevokesTheSecret creates a key, then, in a
// fresh flow that knows only what a profile keeps (names, no check),
// locates the target, deletes the key and checks that its secret stops
// working; deleting it again is not an error.
func TestDeleteKey_LocatesByNamesAndRevokesTheSecret(t *testing.T) {
	for _, rt := range []steps.Runtime{steps.RuntimeCF, steps.RuntimeOther} {
		t.Run(string(rt), func(t *testing.T) {
			e := newEnv(t, sim.Config{})
			in := e.input(sim.SubReady)
			in.Runtime = rt
			res, err := e.run(t, in)
			if err != nil {
				t.Fatal(err)
			}
			creds := oauth.Credentials{ClientID: res.Credentials.ClientID, ClientSecret: res.Credentials.ClientSecret, TokenURL: res.Credentials.TokenURL}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			f := steps.New(e.cfg)
			if _, err := f.Login(ctx, steps.LoginInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
				t.Fatal(err)
			}
			tg := steps.Target{Subaccount: res.Subaccount, Runtime: rt, OrgName: res.Org, Space: res.Space, Plan: res.Plan,
				Instance: res.Instance.Name, Key: res.Key.Name}
			if err := f.Locate(ctx, &tg, ""); err != nil {
				t.Fatal(err)
			}
			if rt == steps.RuntimeCF && (tg.OrgID == "" || tg.SpaceID == "" || f.CFEnvironment(res.Subaccount.ID) == nil) {
				t.Fatalf("Locate left the target incomplete: %+v", tg)
			}
			if _, err := oauth.Verify(ctx, e.cfg.HTTPClient, creds); err != nil {
				t.Fatalf("the key should still work before the delete: %v", err)
			}
			if err := f.DeleteKey(ctx, tg, res.Key.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := oauth.Verify(ctx, e.cfg.HTTPClient, creds); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Fatalf("the deleted key's secret still works or fails oddly: %v", err)
			}
			if err := f.DeleteKey(ctx, tg, res.Key.ID); err != nil {
				t.Fatalf("deleting a deleted key: %v", err)
			}
			if !e.rec.has(steps.StepKey, steps.EventDone) {
				t.Fatal("no progress reported")
			}
		})
	}
}

func TestLocate_UnknownSpaceIsExplained(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := steps.New(e.cfg)
	if _, err := f.Login(ctx, steps.LoginInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	sub, err := f.ResolveSubaccount(ctx, sim.SubReady)
	if err != nil {
		t.Fatal(err)
	}
	tg := steps.Target{Subaccount: sub, Runtime: steps.RuntimeCF, Space: "no-such-space"}
	err = f.Locate(ctx, &tg, "")
	if err == nil || !strings.Contains(err.Error(), `space "no-such-space"`) {
		t.Fatalf("want a space error, got %v", err)
	}
	if f.Account() == nil || f.Account().GlobalAccountSubdomain != sim.GASubdomain {
		t.Fatalf("Account() = %+v", f.Account())
	}
}
