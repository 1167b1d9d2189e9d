package steps_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

func TestRolesFromScopes(t *testing.T) {
	got := steps.RolesFromScopes([]string{"uaa.resource", "it-rt-acme-dev!b56186.ESBMessaging.send", "it!b2.MonitoringDataRead",
		"it-rt-x!b7.Custom.Role.v2", "it-rt-x!bx.NotARole", "it-rt-x!b7.", "openid", "it-rt-x!b7.ESBMessaging.send"})
	want := []string{"Custom.Role.v2", "ESBMessaging.send", "MonitoringDataRead"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// instanceRoles are the roles the simulator's instance of that name has.
func instanceRoles(e *env, name string) []string {
	var out []string
	e.sim.Do(func(w *sim.World) {
		for _, in := range w.Instances {
			if in.Name == name && !in.Deleted {
				p := in.Parameters
				if in.NextParameters != nil {
					p = in.NextParameters
				}
				for _, r := range p["roles"].([]any) {
					out = append(out, r.(string))
				}
			}
		}
	})
	slices.Sort(out)
	return out
}

// TestRolesDrift_NeverSilent: reusing an instance whose roles differ from
// the requested ones stops with the difference and the flags, before
// anything is created; --accept-roles uses it as it is, --update-roles
// changes its roles; both in Cloud Foundry and the Service Manager, and
// whether the instance has a key to read its roles from or not.
func TestRolesDrift_NeverSilent(t *testing.T) {
	for _, rt := range []steps.Runtime{steps.RuntimeCF, steps.RuntimeOther} {
		for _, withKey := range []bool{true, false} {
			name := string(rt) + map[bool]string{true: ", instance has a key", false: ", instance has no key"}[withKey]
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, sim.Config{})
				sub := sim.SubReady
				if rt == steps.RuntimeOther {
					sub = sim.SubNoCF
				}
				in := e.input(sub)
				in.Runtime, in.NoKeychain = rt, true
				// Someone created the instance with other roles.
				first := in
				first.Roles, first.Key = []string{"ESBMessaging.send", "Custom.role"}, "theirs"
				if _, err := e.run(t, first); err != nil {
					t.Fatal(err)
				}
				if !withKey {
					deleteKeys(t, e)
				}

				e.sim.ResetRequests()
				_, err := e.run(t, in)
				var drift *steps.RolesDriftError
				if !errors.As(err, &drift) {
					t.Fatalf("want a roles drift error, got %v", err)
				}
				for _, want := range []string{"Custom.role, ESBMessaging.send", "extra Custom.role", "--update-roles", "--accept-roles", "up to an hour"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%q lacks %q", err, want)
					}
				}
				if c := creates(e.sim.Requests()); withKey && len(c) != 0 {
					t.Errorf("created before stopping: %v", c)
				}

				accept := in
				accept.AcceptRoles = true
				res, err := e.run(t, accept)
				if err != nil || res.RolesUpdated || !res.Verified {
					t.Fatalf("--accept-roles: %v %+v", err, res)
				}
				if got := instanceRoles(e, steps.DefaultInstance); !slices.Equal(got, []string{"Custom.role", "ESBMessaging.send"}) {
					t.Errorf("--accept-roles changed the roles: %v", got)
				}

				update := in
				update.UpdateRoles = true
				res, err = e.run(t, update)
				if err != nil || !res.RolesUpdated || !res.Verified {
					t.Fatalf("--update-roles: %v %+v", err, res)
				}
				if got := instanceRoles(e, steps.DefaultInstance); !slices.Equal(got, []string{"ESBMessaging.send"}) {
					t.Errorf("roles after --update-roles: %v", got)
				}
				if !slices.Equal(steps.RolesFromScopes(res.Scopes), []string{"ESBMessaging.send"}) {
					t.Errorf("the token after the update still has %v", res.Scopes)
				}
				// Now they agree: a plain rerun passes.
				if _, err := e.run(t, in); err != nil {
					t.Errorf("rerun after the update: %v", err)
				}
			})
		}
	}
}

// deleteKeys removes every key of the simulated landscape.
func deleteKeys(t *testing.T, e *env) {
	t.Helper()
	e.sim.Do(func(w *sim.World) {
		for _, k := range w.Keys {
			k.Deleted = true
		}
	})
}

// TestRolesDrift_ShownBeforeTheRun: the wizard's review reads the roles of
// an existing instance and refuses to plan a silent reuse.
func TestRolesDrift_ShownBeforeTheRun(t *testing.T) {
	e := newEnv(t, sim.Config{})
	first := e.input(sim.SubReady)
	first.Roles, first.NoKeychain = []string{"Custom.role"}, true
	res, err := e.run(t, first)
	if err != nil {
		t.Fatal(err)
	}
	f := steps.New(e.cfg)
	if _, err := f.Login(context.Background(), steps.LoginInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	report, err := f.Check(context.Background(), res.Subaccount, steps.DefaultPlan, steps.RuntimeCF)
	if err != nil {
		t.Fatal(err)
	}
	tg := steps.Target{Subaccount: res.Subaccount, Runtime: steps.RuntimeCF, OrgID: report.CF.OrgID, OrgName: report.CF.OrgName,
		Space: "dev", Plan: steps.DefaultPlan, Instance: steps.DefaultInstance, Key: "new-key", Roles: []string{steps.DefaultRole}}
	ex, err := f.Existing(context.Background(), tg)
	if err != nil || !ex.InstanceExists || !ex.RolesKnown || !slices.Equal(ex.InstanceRoles, []string{"Custom.role"}) {
		t.Fatalf("Existing: %+v %v", ex, err)
	}
	var drift *steps.RolesDriftError
	if _, err := f.Actions(context.Background(), tg); !errors.As(err, &drift) || drift.Difference() != "missing ESBMessaging.send; extra Custom.role" {
		t.Fatalf("Actions: %v", err)
	}
	tg.UpdateRoles = true
	actions, err := f.Actions(context.Background(), tg)
	if err != nil || !strings.Contains(strings.Join(actions, "\n"), "Update its roles from Custom.role to ESBMessaging.send") {
		t.Errorf("Actions with UpdateRoles: %v\n%s", err, strings.Join(actions, "\n"))
	}
}
