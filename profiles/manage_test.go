package profiles_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

func TestSaveResult_KeepsTheProfileWithoutTheSecret(t *testing.T) {
	e := newEnv(t)
	p, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	wantName := sim.SubReadySubdomain + "/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"
	if p.Name != wantName || p.KeychainAccount != wantName || p.KeychainService != "cpikey" {
		t.Errorf("name %q, keychain %q/%q", p.Name, p.KeychainService, p.KeychainAccount)
	}
	if p.GlobalAccount != sim.GASubdomain || p.CFAPIURL != e.sim.CFAPIURL() || p.OrgID == "" || p.Key.ID == "" || p.Instance.ID == "" ||
		p.Org == "" || p.Space != "dev" || p.Plan != "integration-flow" || p.ClientID == "" || p.TokenURL == "" || p.URL == "" || p.CreatedAt.IsZero() {
		t.Errorf("profile incomplete: %+v", p)
	}
	cfg, _ := os.UserConfigDir()
	path := filepath.Join(cfg, "cpikey", profiles.FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("profile not under the user config dir: %v", err)
	}
	mustNotContain(t, "the profile file", string(b), secret)
	for f, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", f, st.Mode().Perm(), want, err)
		}
	}
	if got, err := keyring.Get("cpikey", p.KeychainAccount); err != nil || got != secret {
		t.Error("the secret is not in the keychain under the profile's account")
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	var out bytes.Buffer
	if err := e.mgr.List(&out, false); err != nil || out.Len() != 0 {
		t.Fatalf("empty store: %q, %v", out.String(), err)
	}
	if !strings.Contains(e.notes.String(), "No profile yet") {
		t.Errorf("no hint for an empty store: %q", e.notes.String())
	}
	out.Reset()
	if err := e.mgr.List(&out, true); err != nil || strings.TrimSpace(out.String()) != "[]" {
		t.Fatalf("empty store as JSON: %q, %v", out.String(), err)
	}
	a, s1 := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	b, s2 := e.provision(t, sim.SubNoCF, steps.RuntimeOther, false)
	out.Reset()
	if err := e.mgr.List(&out, false); err != nil {
		t.Fatal(err)
	}
	if want := a.Name + "\n" + b.Name + "\n"; out.String() != want { // sorted by name
		t.Errorf("list = %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := e.mgr.List(&out, true); err != nil {
		t.Fatal(err)
	}
	var got []profiles.Profile
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 || got[0].ClientID != a.ClientID || got[1].Runtime != steps.RuntimeOther || got[1].Space != "" {
		t.Fatalf("list --json: %v\n%s", err, out.String())
	}
	mustNotContain(t, "list --json", out.String(), s1, s2)
}

func TestShow(t *testing.T) {
	e := newEnv(t)
	p, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	cases := []struct {
		name             string
		showSecret, json bool
		want             []string
	}{
		{"masked", false, false, []string{"profile:", p.Name, p.ClientID, strings.Repeat("•", 12), "--show-secret", p.TokenURL, "org " + p.Org}},
		{"show-secret", true, false, []string{secret, p.ClientID}},
		{"json", false, true, []string{`"clientid": "` + p.ClientID + `"`, `"keychainAccount"`}},
		{"json show-secret", true, true, []string{`"clientsecret": "` + secret + `"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := e.mgr.Show(ctx(t), &out, "", tc.showSecret, tc.json); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if !tc.showSecret {
				mustNotContain(t, "show without --show-secret", out.String(), secret)
			}
			if tc.json && !json.Valid(out.Bytes()) {
				t.Errorf("not JSON: %s", out.String())
			}
		})
	}
	err := e.mgr.Show(ctx(t), &bytes.Buffer{}, "no/such/profile", false, false)
	if !errors.Is(err, profiles.ErrNotFound) || !strings.Contains(err.Error(), p.Name) {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	p, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	dir := t.TempDir()
	for _, tc := range []struct {
		format     string
		withSecret bool
		want       string
	}{
		{"postman", true, `"key": "clientSecret"`},
		{"env", true, "CPI_CLIENT_SECRET="},
		{"curl", false, "secret-tool lookup service 'cpikey' username '" + p.KeychainAccount + "'"},
		{"terraform", false, `resource "cloudfoundry_service_credential_binding"`},
	} {
		t.Run(tc.format, func(t *testing.T) {
			path := filepath.Join(dir, "out."+tc.format)
			if err := e.mgr.Export(ctx(t), nil, "", tc.format, path, false); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			if got := strings.Contains(string(b), secret); got != tc.withSecret {
				t.Errorf("export contains the secret: %v, want %v", got, tc.withSecret)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("export lacks %q:\n%s", tc.want, b)
			}
			// A second export does not overwrite without force.
			os.WriteFile(path, []byte("mine"), 0o600) //nolint:errcheck
			err = e.mgr.Export(ctx(t), nil, "", tc.format, path, false)
			if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("overwrote or odd error: %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != "mine" {
				t.Fatal("the existing file was changed")
			}
			if err := e.mgr.Export(ctx(t), nil, "", tc.format, path, true); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(path); !strings.Contains(string(b), tc.want) {
				t.Fatal("--force did not replace the file")
			}
		})
	}
	var out bytes.Buffer
	if err := e.mgr.Export(ctx(t), &out, p.Name, "curl", "", false); err != nil || !strings.HasPrefix(out.String(), "#!/bin/sh") {
		t.Fatalf("export to stdout: %v\n%s", err, out.String())
	}
	mustNotContain(t, "the notes", e.notes.String(), secret)
	var ue *steps.UsageError
	if err := e.mgr.Export(ctx(t), &out, "", "yaml", "", false); !errors.As(err, &ue) {
		t.Errorf("unknown format: %v", err)
	}
}

func TestExport_WithoutKeychainEntryLeavesTheSecretOut(t *testing.T) {
	e := newEnv(t)
	e.provision(t, sim.SubReady, steps.RuntimeCF, true)
	var out bytes.Buffer
	if err := e.mgr.Export(ctx(t), &out, "", "env", "", false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "CPI_CLIENT_SECRET=") || !strings.Contains(e.notes.String(), "leaves it out") {
		t.Errorf("env export without a keychain entry:\n%s\nnotes: %s", out.String(), e.notes.String())
	}
}
