package headless_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/cpikey/cpikey/headless"
	"github.com/cpikey/cpikey/steps"
)

// The --json keys scripts depend on; new keys are added, none renamed or
// removed.
var fixedKeys = []string{"subaccount", "runtime", "org", "space", "plan", "instance", "key", "credentials", "verified", "keychain"}

func TestWriteJSON_TenantCheckIsANewFieldBesideTheFixedOnes(t *testing.T) {
	r := &steps.Result{Plan: "integration-flow", Verified: true,
		Credentials: steps.Credentials{ClientID: "id", ClientSecret: "8d1c-canary$Zm9v=", URL: "https://t.example"}}
	for _, tc := range []struct {
		name   string
		tenant *steps.TenantCheck
		want   string
	}{
		{"not sent", nil, "null"},
		{"sent", &steps.TenantCheck{Method: "GET", URL: "https://t.example/http/__cpikey_probe__", Status: 404, Outcome: steps.TenantAccepted, Message: "the runtime accepted the token"},
			`{"request":"GET https://t.example/http/__cpikey_probe__","status":404,"outcome":"accepted","message":"the runtime accepted the token"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.Tenant = tc.tenant
			var b bytes.Buffer
			if err := headless.WriteJSON(&b, r, false); err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range fixedKeys {
				if _, ok := m[k]; !ok {
					t.Errorf("fixed key %q is gone", k)
				}
			}
			var compact bytes.Buffer
			json.Compact(&compact, m["tenantCheck"]) //nolint:errcheck
			if compact.String() != tc.want {
				t.Errorf("tenantCheck = %s, want %s", compact.String(), tc.want)
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			if want := append(slices.Clone(fixedKeys), "tenantCheck"); len(keys) != len(want) {
				t.Errorf("keys %v, want %v", keys, want)
			}
			if bytes.Contains(b.Bytes(), []byte("canary")) {
				t.Error("the secret without --show-secret")
			}
		})
	}
}
