package profiles_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

func TestForget(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rt        steps.Runtime
		deleteKey bool
	}{
		{"keeps the key in SAP", steps.RuntimeCF, false},
		{"delete-key cf", steps.RuntimeCF, true},
		{"delete-key other", steps.RuntimeOther, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			sub := sim.SubReady
			if tc.rt == steps.RuntimeOther {
				sub = sim.SubNoCF
			}
			p, secret := e.provision(t, sub, tc.rt, false)
			if err := e.mgr.Forget(ctx(t), e.flow(), p.Name, tc.deleteKey, e.login()); err != nil {
				t.Fatal(err)
			}
			if _, err := e.mgr.Store.Load(p.Name); !errors.Is(err, profiles.ErrNotFound) {
				t.Errorf("profile still stored: %v", err)
			}
			if _, err := keyring.Get("cpikey", p.KeychainAccount); !errors.Is(err, keyring.ErrNotFound) {
				t.Error("secret still in the keychain")
			}
			if works := e.works(t, creds(p, secret)); works == tc.deleteKey {
				t.Errorf("key works after forget: %v, with --delete-key %v", works, tc.deleteKey)
			}
			if got := slices.Contains(e.liveKeys(), p.Key.Name); got == tc.deleteKey {
				t.Errorf("key %s exists in SAP: %v", p.Key.Name, got)
			}
			if !tc.deleteKey && !strings.Contains(e.notes.String(), "still exists in SAP") {
				t.Errorf("no word that the key still works: %q", e.notes.String())
			}
		})
	}
}

func TestForget_DeleteKeyFailureRemovesNothing(t *testing.T) {
	e := newEnv(t)
	p, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	e.sim.Inject(sim.Fault{Kind: sim.FaultJobFailure, Match: "cf:DELETE /v3/service_credential_bindings/"})
	err := e.mgr.Forget(ctx(t), e.flow(), p.Name, true, e.login())
	if err == nil || !strings.Contains(err.Error(), "nothing was removed") {
		t.Fatalf("want a failure that removed nothing, got %v", err)
	}
	if _, err := e.mgr.Store.Load(p.Name); err != nil {
		t.Errorf("profile removed: %v", err)
	}
	if got, err := keyring.Get("cpikey", p.KeychainAccount); err != nil || got != secret {
		t.Error("secret removed from the keychain")
	}
}
