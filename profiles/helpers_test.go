package profiles

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/steps"
)

// Regenerate goldens with: go test ./profiles/ -update (then read the diff).
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// canary is a fake client secret shaped like a real one (it has a '$').
// Only explicit exports (postman/env with a secret) may ever contain it.
const canary = "8d1c-canary$Zm9v="

var fixedTime = time.Date(2026, 8, 20, 9, 14, 3, 0, time.UTC)

// fixture is a complete CF profile with fake but realistic values.
func fixture() Profile {
	name := "acme-dev-k3x9q2ab/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"
	return Profile{
		Name:          name,
		GlobalAccount: "acme-global",
		Subaccount:    Subaccount{ID: "7c1d0e2f-1111-4a2b-8c3d-00000000a001", Name: "CPI Dev", Subdomain: "acme-dev-k3x9q2ab", Region: "eu10"},
		Runtime:       steps.RuntimeCF,
		Org:           "acme-dev-k3x9q2ab_dev",
		OrgID:         "7c1d0e2f-2222-4a2b-8c3d-00000000b002",
		Space:         "dev",
		SpaceID:       "7c1d0e2f-3333-4a2b-8c3d-00000000c003",
		CFAPIURL:      "https://api.cf.eu10.hana.ondemand.com",
		Plan:          "integration-flow",
		Instance:      Ref{Name: "CPI_SAMPLE_INSTANCE", ID: "7c1d0e2f-4444-4a2b-8c3d-00000000d004"},
		Key:           Ref{Name: "CPI_SAMPLE_INSTANCE-key", ID: "7c1d0e2f-5555-4a2b-8c3d-00000000e005"},
		ClientID:      "sb-3f2a9c1e-0000-4d0e-9a51-2c6e8d0f1a7b!b123456|it-rt-acme-dev-k3x9q2ab!b56186",
		TokenURL:      "https://acme-dev-k3x9q2ab.authentication.eu10.hana.ondemand.com/oauth/token",
		URL:           "https://acme-dev-k3x9q2ab.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com",
		Roles:         []string{"ESBMessaging.send"},
		// As a fresh subaccount gets them: integration-flow enabled,
		// api with an amount.
		Entitlements: []Entitlement{{Plan: "integration-flow", Category: "ELASTIC_SERVICE"}, {Plan: "api", Category: "SERVICE", Amount: 1}},

		KeychainService: "cpikey",
		KeychainAccount: name,
		CreatedAt:       fixedTime,
	}
}

// apiOther is the same subaccount with an api-plan key in Service Manager.
func apiOther() Profile {
	p := fixture()
	p.Name = "acme-dev-k3x9q2ab/CPI_API/CPI_API-key"
	p.Runtime = steps.RuntimeOther
	p.Org, p.OrgID, p.Space, p.SpaceID, p.CFAPIURL = "", "", "", "", ""
	p.Plan = "api"
	p.Instance = Ref{Name: "CPI_API", ID: "7c1d0e2f-6666-4a2b-8c3d-00000000f006"}
	p.Key = Ref{Name: "CPI_API-key", ID: "7c1d0e2f-7777-4a2b-8c3d-00000000a007"}
	p.ClientID = "sb-9e8d7c6b-0000-4c3b-8d2e-1f0a9b8c7d6e!b123457|it!b56186"
	p.URL = "https://acme-dev-k3x9q2ab.it-cpi018.cfapps.eu10-003.hana.ondemand.com"
	p.Roles = []string{"MonitoringDataRead", "WorkspacePackagesRead"}
	p.KeychainAccount = p.Name
	return p
}

// golden compares got with testdata/<name>.golden (or rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./profiles/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// mustNotContain fails if s holds the canary.
func mustNotContain(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, canary) {
		t.Errorf("%s contains the client secret", what)
	}
}
