package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
)

func TestSubcommands_HelpAndUsage(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	keyring.MockInit()
	cases := []struct {
		args    []string
		code    int
		wantOut string // help goes to stdout
		wantErr string
	}{
		{[]string{"list", "--help"}, 0, "Examples:\n  cpikey list", ""},
		{[]string{"show", "-h"}, 0, "--show-secret", ""},
		{[]string{"token", "--help"}, 0, `Bearer $(cpikey token)`, ""},
		{[]string{"export", "--help"}, 0, "--format", ""},
		{[]string{"rotate", "--help"}, 0, "BTP_USERNAME", ""},
		{[]string{"forget", "--help"}, 0, "--delete-key", ""},
		{[]string{"help", "forget"}, 0, "--delete-key", ""},
		{[]string{"help", "token"}, 0, "Examples:\n  curl", ""},
		{[]string{"list", "--demo", "--help"}, 0, "--demo", ""},
		{[]string{"--demo", "list", "--frobnicate"}, 2, "", "cpikey list: unknown flag: --frobnicate (see `cpikey list --help`)"},
		{[]string{"--help"}, 0, "Commands", ""},
		{[]string{"list", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"show", "a", "b"}, 2, "", "one PROFILE at most"},
		{[]string{"export"}, 2, "", "--format is required"},
		{[]string{"export", "--format", "yaml"}, 2, "", "--format must be one of"},
		{[]string{"export", "--format", "env", "--force"}, 2, "", "--force needs -o FILE"},
		{[]string{"forget", "--delete-key"}, 2, "", "name the PROFILE"},
		{[]string{"token", "--frobnicate"}, 2, "", "cpikey token: unknown flag: --frobnicate (see `cpikey token --help`)"},
		{[]string{"token"}, 1, "", "no profile yet"},
		{[]string{"list"}, 0, "", "No profile yet"},
		{[]string{"call", "--help"}, 0, "-d @message.xml", ""},
		{[]string{"call"}, 2, "", "PATH is missing"},
		{[]string{"call", "/http/x", "-H", "nocolon"}, 2, "", "write a header as 'Name: value'"},
		{[]string{"call", "/http/x"}, 1, "", "no profile yet"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr, envFunc(nil))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, stdout.String())
			}
			if tc.wantOut == "" && stdout.Len() != 0 {
				t.Errorf("stdout not empty: %q", stdout.String())
			}
			if tc.code != 0 && strings.Count(stderr.String(), "\n") > 1 {
				t.Errorf("a usage error is one line:\n%s", stderr.String())
			}
			if tc.wantOut != "" && tc.args[0] != "--help" {
				if e, f := strings.Index(stdout.String(), "Examples:"), strings.Index(stdout.String(), "Flags:"); e < 0 || f < e {
					t.Errorf("examples do not come first:\n%s", stdout.String())
				}
			}
		})
	}
}

// TestSubcommands_AfterAHeadlessRun runs `cpikey --yes` against the
// simulator, then each subcommand on the profile it kept, as a user would.
func TestSubcommands_AfterAHeadlessRun(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/test/bus") // headless mode reads the real environment
	keyring.MockInit()
	// SAP's jobs finish at once here: main's flow polls at its real pace (1 s).
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := envFunc(map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
		"BTP_PASSWORD": sim.AdminPassword, "BTP_GLOBALACCOUNT": sim.GASubdomain, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/test/bus"})
	cpikey := func(t *testing.T, want int, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr, env); code != want {
			t.Fatalf("cpikey %s: exit %d, want %d; stderr: %s", strings.Join(args, " "), code, want, stderr.String())
		}
		for _, secret := range []string{sim.AdminPassword} {
			if strings.Contains(stderr.String(), secret) {
				t.Fatal("password on stderr")
			}
		}
		return stdout.String(), stderr.String()
	}

	out, errOut := cpikey(t, 0, "--yes", "--json", "--show-secret", "--subaccount", sim.SubReady)
	var res struct {
		Credentials struct{ ClientID, ClientSecret, TokenURL string } `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	secret := res.Credentials.ClientSecret
	name := sim.SubReadySubdomain + "/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"
	if !strings.Contains(errOut, "Profile "+name+" kept") {
		t.Fatalf("headless run did not say it kept the profile:\n%s", errOut)
	}
	if b, err := os.ReadFile(filepath.Join(home, ".config", "cpikey", "profiles.json")); err != nil || strings.Contains(string(b), secret) {
		t.Fatalf("profile file missing or holding the secret: %v", err)
	}

	if out, _ := cpikey(t, 0, "list"); out != name+"\n" {
		t.Errorf("list = %q", out)
	}
	if out, _ := cpikey(t, 0, "show", name); strings.Contains(out, secret) || !strings.Contains(out, res.Credentials.ClientID) {
		t.Errorf("show:\n%s", out)
	}
	if out, _ := cpikey(t, 0, "show", "--json", "--show-secret"); !strings.Contains(out, `"clientsecret": "`+secret+`"`) {
		t.Errorf("show --json --show-secret lacks the secret")
	}
	out, errOut = cpikey(t, 0, "token")
	tok := strings.TrimSuffix(out, "\n")
	if claims, err := oauth.DecodeJWTPayload(tok); err != nil || claims["client_id"] != res.Credentials.ClientID || errOut != "" {
		t.Fatalf("token stdout %q is not the token alone (stderr %q): %v", out, errOut, err)
	}
	if out, _ := cpikey(t, 0, "token", "--json", name); strings.Contains(out, secret) || !strings.Contains(out, `"access_token"`) {
		t.Errorf("token --json:\n%s", out)
	}

	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	cpikey(t, 0, "export", "--format", "env", "-o", envFile)
	if b, _ := os.ReadFile(envFile); !strings.Contains(string(b), secret) {
		t.Error(".env export lacks the secret")
	}
	if _, errOut := cpikey(t, 1, "export", name, "--format", "env", "-o", envFile); !strings.Contains(errOut, "--force") {
		t.Errorf("second export: %s", errOut)
	}
	cpikey(t, 0, "export", name, "--format", "env", "-o", envFile, "--force")

	// A wrong secret in the keychain: a clear error, exit 1, nothing on stdout.
	if err := keyring.Set("cpikey", name, "wrong-$ecret=/x"); err != nil {
		t.Fatal(err)
	}
	out, errOut = cpikey(t, 1, "token")
	if out != "" || !strings.Contains(errOut, "rejected the client id or secret") || strings.Contains(errOut, "wrong-$ecret") {
		t.Fatalf("token with a wrong secret: stdout %q, stderr %q", out, errOut)
	}
	if err := keyring.Set("cpikey", name, secret); err != nil {
		t.Fatal(err)
	}

	out, _ = cpikey(t, 0, "rotate", "--json")
	var rotated struct {
		Name     string `json:"name"`
		ClientID string `json:"clientid"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.Name != name || rotated.ClientID == res.Credentials.ClientID {
		t.Fatalf("rotate --json: %v\n%s", err, out)
	}
	if _, err := oauth.Verify(context.Background(), nil, oauth.Credentials{ClientID: res.Credentials.ClientID, ClientSecret: secret, TokenURL: res.Credentials.TokenURL}); err == nil {
		t.Error("the old key works after rotate")
	}
	cpikey(t, 0, "token", name)

	_, errOut = cpikey(t, 0, "forget", name, "--delete-key")
	if !strings.Contains(errOut, "deleted in SAP") {
		t.Errorf("forget: %s", errOut)
	}
	if out, _ := cpikey(t, 0, "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("list after forget: %q", out)
	}
}
