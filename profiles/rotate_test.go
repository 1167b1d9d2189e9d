package profiles_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

func TestRotatedKeyName(t *testing.T) {
	now := time.Unix(1787000000, 0) // 2026
	suffix := "-rtjxm0w"
	cases := []struct{ old, want string }{
		{"CPI_SAMPLE_INSTANCE-key", "CPI_SAMPLE_INSTANCE-key" + suffix},
		{"CPI_SAMPLE_INSTANCE-key-rtk0000", "CPI_SAMPLE_INSTANCE-key" + suffix}, // a second rotation replaces the suffix
		{strings.Repeat("k", 32), strings.Repeat("k", 32-len(suffix)) + suffix},
		{"k", "k" + suffix},
	}
	for _, tc := range cases {
		got := profiles.RotatedKeyName(tc.old, now)
		if got != tc.want {
			t.Errorf("RotatedKeyName(%q) = %q, want %q", tc.old, got, tc.want)
		}
		if err := itrt.ValidateName(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
	}
}

func TestRotate_ReplacesTheKey(t *testing.T) {
	for _, rt := range []steps.Runtime{steps.RuntimeCF, steps.RuntimeOther} {
		t.Run(string(rt), func(t *testing.T) {
			e := newEnv(t)
			sub := sim.SubReady
			if rt == steps.RuntimeOther {
				sub = sim.SubNoCF
			}
			old, oldSecret := e.provision(t, sub, rt, false)
			res, err := e.mgr.Rotate(ctx(t), e.flow(), "", e.login())
			if err != nil {
				t.Fatal(err)
			}
			np := res.Profile
			if np.Name != old.Name || np.Key.Name == old.Key.Name || !strings.HasPrefix(np.Key.Name, old.Key.Name+"-r") ||
				np.Key.ID == old.Key.ID || np.ClientID == old.ClientID || res.OldKey != old.Key.Name {
				t.Fatalf("rotated profile: %+v", np)
			}
			if stored, err := e.mgr.Store.Load(old.Name); err != nil || !reflect.DeepEqual(stored, np) {
				t.Fatalf("store holds %+v, %v", stored, err)
			}
			if e.works(t, creds(old, oldSecret)) {
				t.Error("the old key still works after rotation")
			}
			if slices.Contains(e.liveKeys(), old.Key.Name) || !slices.Contains(e.liveKeys(), np.Key.Name) {
				t.Errorf("live keys in SAP: %v", e.liveKeys())
			}
			if _, err := keyring.Get("cpikey", old.KeychainAccount); !errors.Is(err, keyring.ErrNotFound) {
				t.Error("the old secret is still in the keychain")
			}
			var out bytes.Buffer
			if err := e.mgr.Token(ctx(t), &out, old.Name, false); err != nil {
				t.Fatalf("token after rotation: %v", err)
			}
			mustNotContain(t, "notes", e.notes.String(), oldSecret)
			// A second rotation replaces the rotated key and keeps the name short.
			again, err := e.mgr.Rotate(ctx(t), e.flow(), old.Name, e.login())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(again.Profile.Key.Name, "-r") != 1 || slices.Contains(e.liveKeys(), np.Key.Name) {
				t.Errorf("second rotation: key %s, live %v", again.Profile.Key.Name, e.liveKeys())
			}
		})
	}
}

// TestRotate_FailureAfterTheNewKeyLeavesEverythingAsItWas injects a failure
// once SAP has created the new key: the old key keeps working, the profile
// and the keychain are unchanged, and the new key is deleted again.
func TestRotate_FailureAfterTheNewKeyLeavesEverythingAsItWas(t *testing.T) {
	cases := []struct {
		name string
		// fail runs when the new key has been created.
		fail           func(e *env)
		want           string
		keychainIntact bool // the mock keeps its content (not replaced)
	}{
		{"token endpoint refuses the new key", func(e *env) {
			e.sim.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "xsuaa:POST /oauth/token", Status: 401, Times: 1000})
		}, "does not yield a token", true},
		{"keychain refuses the new secret", func(e *env) {
			keyring.MockInitWithError(errors.New("simulated keychain failure"))
		}, "could not be stored in the OS keychain", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			old, oldSecret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
			var newKey string
			e.cfg.Reporter = steps.ReporterFunc(func(ev steps.Event) {
				if ev.Step == steps.StepKey && ev.Kind == steps.EventDone && strings.HasSuffix(ev.Message, " created") {
					newKey = strings.TrimSuffix(strings.TrimPrefix(ev.Message, "Service key "), " created")
					tc.fail(e)
				}
			})
			_, err := e.mgr.Rotate(ctx(t), e.flow(), old.Name, e.login())
			e.sim.ClearFaults()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "unchanged") {
				t.Fatalf("want a failure saying %q and that nothing changed, got %v", tc.want, err)
			}
			mustNotContain(t, "the error", err.Error(), oldSecret)
			if !e.works(t, creds(old, oldSecret)) {
				t.Fatal("the old key no longer works")
			}
			if stored, err := e.mgr.Store.Load(old.Name); err != nil || !reflect.DeepEqual(stored, old) {
				t.Fatalf("profile changed: %+v, %v", stored, err)
			}
			if live := e.liveKeys(); len(live) != 1 || live[0] != old.Key.Name {
				t.Errorf("keys left in SAP: %v, want only %s", live, old.Key.Name)
			}
			if tc.keychainIntact {
				if got, err := keyring.Get("cpikey", old.KeychainAccount); err != nil || got != oldSecret {
					t.Error("the keychain no longer holds the old secret")
				}
				if !strings.HasPrefix(newKey, old.Key.Name+"-r") {
					t.Fatalf("new key %q not seen", newKey)
				}
				if _, err := keyring.Get("cpikey", sim.SubReadySubdomain+"/CPI_SAMPLE_INSTANCE/"+newKey); !errors.Is(err, keyring.ErrNotFound) {
					t.Error("the new secret was left in the keychain")
				}
			}
		})
	}
}

func TestRotate_NeedsCredentials(t *testing.T) {
	e := newEnv(t)
	e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	e.sim.ResetRequests()
	_, err := e.mgr.Rotate(ctx(t), e.flow(), "", profiles.Login{})
	var ue *steps.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "BTP_USERNAME") {
		t.Fatalf("want a usage error naming BTP_USERNAME, got %v", err)
	}
	if n := len(e.sim.Requests()); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
}
