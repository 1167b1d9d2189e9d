package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/sim"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRun_ExitCodesAndUsage(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	cases := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		wantErr  string
		wantOut  string
		stdinTTY bool
	}{
		{"version", []string{"--version"}, nil, 0, "", "BTP CLI protocol v2.106.1", false},
		{"version json", []string{"--version", "--json"}, nil, 0, "", `"protocol": "v2.106.1"`, false},
		{"help", []string{"--help"}, nil, 0, "", "--global-account", false},
		{"help command", []string{"help"}, nil, 0, "", "--global-account", false},
		{"single-dash long flags of the flag package still work", []string{"-json"}, nil, 2, "--json needs --yes", "", false},
		{"unknown flag", []string{"--frobnicate"}, nil, 2, "unknown flag: --frobnicate (see `cpikey --help`)", "", false},
		{"unknown command", []string{"frobnicate"}, nil, 2, `unexpected argument "frobnicate"`, "", false},
		{"json without yes", []string{"--json"}, nil, 2, "--json needs --yes", "", false},
		{"show-secret without json", []string{"--yes", "--show-secret"}, nil, 2, "--show-secret needs --json", "", false},
		{"bad runtime", []string{"--yes", "--runtime", "kyma"}, nil, 2, "--runtime must be cf or other", "", false},
		{"bad plan", []string{"--yes", "--plan", "iflow"}, nil, 2, "--plan must be integration-flow or api", "", false},
		{"api without roles", []string{"--yes", "--plan", "api", "--roles", ""}, nil, 2, "--roles", "", false},
		{"bad instance name", []string{"--yes", "--instance", "my instance"}, nil, 2, "at most 32 characters", "", false},
		{"missing password with yes", []string{"--yes", "--global-account", "ga", "--subaccount", "x"}, nil, 2, "BTP_USERNAME and BTP_PASSWORD", "", false},
		{"no terminal for the wizard", nil, nil, 2, "--yes", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr, envFunc(tc.env))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.wantErr)
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tc.wantOut)
			}
		})
	}
}

// TestRun_HeadlessJSONContract runs `cpikey --yes --json` against the
// simulator and checks the documented JSON shape field by field.
func TestRun_HeadlessJSONContract(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := envFunc(map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
		"BTP_PASSWORD": sim.AdminPassword, "BTP_GLOBALACCOUNT": sim.GASubdomain})
	for _, showSecret := range []bool{false, true} {
		args := []string{"--yes", "--json", "--no-keychain", "--subaccount", sim.SubReady}
		if showSecret {
			args = append(args, "--show-secret")
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr, env); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		var got map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
		}
		for _, k := range []string{"subaccount", "runtime", "org", "space", "plan", "instance", "key", "credentials", "verified", "keychain"} {
			if _, ok := got[k]; !ok {
				t.Errorf("JSON lacks %q", k)
			}
		}
		sub := got["subaccount"].(map[string]any)
		for _, k := range []string{"id", "name", "subdomain"} {
			if sub[k] == "" || sub[k] == nil {
				t.Errorf("subaccount.%s empty", k)
			}
		}
		for _, r := range []string{"instance", "key"} {
			ref := got[r].(map[string]any)
			if _, ok := ref["reused"].(bool); !ok || ref["name"] == "" || ref["id"] == "" {
				t.Errorf("%s = %v", r, ref)
			}
		}
		creds := got["credentials"].(map[string]any)
		_, hasSecret := creds["clientsecret"]
		if hasSecret != showSecret {
			t.Errorf("clientsecret present = %v with --show-secret = %v", hasSecret, showSecret)
		}
		if got["keychain"] != nil || got["verified"] != true || got["runtime"] != "cf" || got["space"] != "dev" || got["plan"] != "integration-flow" {
			t.Errorf("unexpected values: %v", got)
		}
		if strings.Contains(stderr.String(), sim.AdminPassword) {
			t.Fatal("password on stderr")
		}
	}
}
