package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// TestDefaultKeyName_ValidForEveryValidInstanceName: the key name nobody
// typed is never the one refused, whatever the instance name's length.
func TestDefaultKeyName_ValidForEveryValidInstanceName(t *testing.T) {
	for n := 1; n <= itrt.MaxNameLen; n++ {
		instance := strings.Repeat("i", n)
		key := steps.DefaultKeyName(instance)
		if err := itrt.ValidateName(key); err != nil {
			t.Errorf("instance of %d characters: default key %q: %v", n, key, err)
		}
		if !strings.HasSuffix(key, "-key") || !strings.HasPrefix(instance, strings.TrimSuffix(key, "-key")) {
			t.Errorf("instance %q: default key %q does not read as <instance>-key", instance, key)
		}
	}
	if got := steps.DefaultKeyName(steps.DefaultInstance); got != "CPI_SAMPLE_INSTANCE-key" {
		t.Errorf("default key of the default instance = %q", got)
	}
	// A 32-character instance runs headless with its default key.
	e := newEnv(t, sim.Config{EntitlementPadding: -1})
	in := e.input(sim.SubReady)
	in.Instance = strings.Repeat("I", 32)
	res, err := e.run(t, in)
	if err != nil || res.Key.Name != strings.Repeat("I", 28)+"-key" {
		t.Fatalf("%v %+v", err, res)
	}
}

// TestInvalidNames_RefusedBeforeAnyRequestWithTheRule covers both entry
// points: headless input and the wizard's Target (Actions and Provision).
func TestInvalidNames_RefusedBeforeAnyRequestWithTheRule(t *testing.T) {
	long := strings.Repeat("x", 33)
	cases := []struct {
		name      string
		instance  string
		key       string
		plan      string
		roles     []string
		want      string // besides the rule, when names are at fault
		ruleShown bool
	}{
		{"instance too long", long, "", "", nil, "33 characters long", true},
		{"instance with a space", "my instance", "", "", nil, `' '`, true},
		{"instance with a slash", "a/b", "", "", nil, `'/'`, true},
		{"instance with an umlaut", "Prüfung", "", "", nil, `'ü'`, true},
		{"key with a colon", "CPI_SAMPLE_INSTANCE", "key:1", "", nil, `':'`, true},
		{"key too long", "CPI_SAMPLE_INSTANCE", long, "", nil, "33 characters long", true},
		{"api plan without roles", "CPI_SAMPLE_INSTANCE", "", "api", nil, "--roles is required", false},
		{"api plan with a flow role", "CPI_SAMPLE_INSTANCE", "", "api", []string{"ESBMessaging.send"}, "not a role of plan api", false},
		{"role with a comma", "CPI_SAMPLE_INSTANCE", "", "", []string{"a,b"}, "commas", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sim.Config{EntitlementPadding: -1})
			check := func(where string, err error) {
				t.Helper()
				var ue *steps.UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("%s: err = %v, want a usage error", where, err)
				}
				if tc.ruleShown && !strings.Contains(err.Error(), itrt.NameRule) {
					t.Errorf("%s: %q does not show the naming rule", where, err)
				}
				if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: %q lacks %s", where, err, tc.want)
				}
				if r := e.sim.Requests(); len(r) != 0 {
					t.Fatalf("%s: requests were sent: %v", where, r)
				}
			}

			in := e.input(sim.SubReady)
			in.Instance, in.Key, in.Plan, in.Roles = tc.instance, tc.key, tc.plan, tc.roles
			_, err := e.run(t, in)
			check("headless", err)

			if tc.plan == "api" && tc.roles == nil {
				return // the wizard's form always sends roles for api
			}
			key := tc.key
			if key == "" {
				key = steps.DefaultKeyName(tc.instance)
			}
			plan := tc.plan
			if plan == "" {
				plan = steps.DefaultPlan
			}
			target := steps.Target{Subaccount: steps.SubaccountInfo{ID: "sub", Name: sim.SubReady}, Runtime: steps.RuntimeCF,
				OrgID: "org", OrgName: "org", Space: "dev", Plan: plan, Instance: tc.instance, Key: key, Roles: tc.roles}
			f := steps.New(e.cfg)
			_, err = f.Actions(context.Background(), target)
			check("review", err)
			_, err = f.Provision(context.Background(), target)
			check("provision", err)
		})
	}
}
