package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/safetext"
)

// The hostile matrix of the headless and CLI front end: every text path
// of `cpikey` (headless progress, result, errors, --debug, the profile
// commands) against a simulator whose every name and message carries
// terminal attacks (sim.Config.Hostile). No control byte may reach the
// output, each output must show the attacks escaped, and the names must
// stay exact where cpikey sends them and in --json. CI prints the summary
// line (go test -run 'TestHostile' -v .).

// hostileRun is one cpikey invocation against a fresh hostile simulator.
type hostileRun struct {
	name  string
	args  []string
	env   map[string]string // on top of the simulator's URL and the admin login
	code  int
	setup func(t *testing.T, s *sim.Server, home string)
	// stdout, stderr: the stream must show the server's text escaped.
	stdout, stderr bool
	// want: that stream shows this server text (escaped) as well.
	want  string
	check func(t *testing.T, s *sim.Server, stdout, stderr string)
}

func hostileRuns() []hostileRun {
	ready := []string{"--yes", "--no-keychain", "--subaccount", sim.SubReadySubdomain}
	fault := func(f sim.Fault) func(*testing.T, *sim.Server, string) {
		return func(_ *testing.T, s *sim.Server, _ string) { s.Inject(f) }
	}
	return []hostileRun{
		{name: "headless text", args: ready, stderr: true,
			check: func(t *testing.T, _ *sim.Server, stdout, stderr string) {
				if !strings.Contains(stdout, "clientid:") || !strings.Contains(stderr, "Profile not kept") {
					t.Errorf("stdout %q\nstderr %q", stdout, stderr)
				}
			}},
		{name: "headless --debug", args: append([]string{"--debug"}, ready...), stderr: true,
			check: func(t *testing.T, _ *sim.Server, _, stderr string) {
				if !strings.Contains(stderr, "http: POST ") {
					t.Errorf("no trace on stderr: %q", stderr)
				}
			}},
		{name: "headless --json keeps names exact", args: append([]string{"--json"}, ready...), stdout: true, stderr: true,
			check: func(t *testing.T, s *sim.Server, stdout, _ string) {
				var got struct {
					Subaccount struct{ Name string } `json:"subaccount"`
					Org, Space string
				}
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("stdout is not JSON: %v", err)
				}
				sa, _ := s.SubaccountBySubdomain(sim.SubReadySubdomain)
				if got.Subaccount.Name != sa.Name || !strings.HasPrefix(got.Org, sim.SubReadySubdomain) || !strings.Contains(got.Org, "\x1b]52;c;") {
					t.Errorf("--json changed the names: %+v, want subaccount %q", got, sa.Name)
				}
			}},
		{name: "headless in the hostile space", args: append([]string{"--space", sim.HostileSpace()}, ready...), stderr: true,
			want: `in space staging \x1b]52;c;`,
			check: func(t *testing.T, s *sim.Server, _, _ string) {
				// The space was found by its exact name: the instance is there.
				found := false
				s.Do(func(w *sim.World) {
					for _, in := range w.Instances {
						for _, sp := range w.Spaces {
							found = found || in.Space == sp.GUID && sp.Name == sim.HostileSpace()
						}
					}
				})
				if !found {
					t.Error("no instance in the hostile space")
				}
			}},
		{name: "unknown subaccount", args: []string{"--yes", "--no-keychain", "--subaccount", "no-such-subaccount"}, code: 2, stderr: true,
			want: `to ACME Global Account \x1b]52;c;`},
		{name: "entitlement failure text", args: []string{"--yes", "--no-keychain", "--subaccount", sim.SubFreshSubdomain}, code: 1, stderr: true,
			want:  `did not confirm the assignment. \x1b]52;c;`,
			setup: fault(sim.Fault{Kind: sim.FaultEntitlementFailure, Match: "cli:accounts/entitlement?assign"})},
		{name: "X-Cpcli-Backend-Message", args: []string{"--yes", "--no-keychain", "--subaccount", sim.SubFreshSubdomain}, code: 1, stderr: true,
			want: `not authorized to use this command. \u009d52;c;`,
			env:  map[string]string{"BTP_USERNAME": sim.ViewerUser, "BTP_PASSWORD": sim.ViewerPass}},
		{name: "CF broker failure text", args: ready, code: 1, stderr: true, want: `in SAP Integration Suite \x1b]52;c;`,
			setup: fault(sim.Fault{Kind: sim.FaultBrokerFailure, Match: "cf:POST /v3/service_instances"})},
		{name: "CF job failure text", args: ready, code: 1, stderr: true, want: `(simulated failure) \x1b]52;c;`,
			setup: fault(sim.Fault{Kind: sim.FaultJobFailure, Match: "cf:POST /v3/service_credential_bindings"})},
		{name: "CF error detail", args: ready, code: 1, stderr: true, want: `An unknown error occurred. \x1b]52;c;`,
			setup: fault(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cf:POST /v3/service_instances", Status: 422})},
		{name: "UAA error description", args: ready, code: 1, stderr: true, want: `Bad credentials \x1b]52;c;`,
			setup: fault(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "uaa:POST /oauth/token", Status: 401, Times: 9})},
		{name: "Service Manager broker text", args: []string{"--yes", "--no-keychain", "--runtime", "other", "--subaccount", sim.SubNoCFSubdomain}, code: 1, stderr: true,
			want:  `in SAP Integration Suite \x1b]52;c;`,
			setup: fault(sim.Fault{Kind: sim.FaultBrokerFailure, Match: "cli:services/instance?create"})},
		{name: "list", args: []string{"list"}, setup: hostileProfile, stdout: true},
		{name: "show", args: []string{"show"}, setup: hostileProfile, stdout: true},
		{name: "token error", args: []string{"token"}, setup: hostileProfile, code: 1, stderr: true},
		{name: "rotate error", args: []string{"rotate"}, setup: hostileProfile, code: 1, stderr: true},
		{name: "forget notes", args: []string{"forget"}, setup: hostileProfile, stderr: true},
	}
}

// hostileProfile writes a profiles.json whose names are the hostile
// simulator's (a file edited by hand or written by another tool: cpikey
// itself keeps no profile with control characters).
func hostileProfile(t *testing.T, s *sim.Server, home string) {
	t.Helper()
	sa, _ := s.SubaccountBySubdomain(sim.SubReadySubdomain)
	p := profiles.Profile{Name: sa.Subdomain + "/CPI_SAMPLE_INSTANCE/" + sim.HostileSpace(), GlobalAccount: sim.GASubdomain,
		Subaccount: profiles.Subaccount{ID: sa.GUID, Name: sa.Name, Subdomain: sa.Subdomain, Region: sa.Region},
		Runtime:    "cf", Org: sim.HostileSpace(), Space: sim.HostileSpace(), Plan: "integration-flow",
		Instance: profiles.Ref{Name: "CPI_SAMPLE_INSTANCE", ID: "00000000-0000-4000-8000-000000000001"},
		Key:      profiles.Ref{Name: "CPI_SAMPLE_INSTANCE-key", ID: "00000000-0000-4000-8000-000000000002"},
		ClientID: "sb-x", TokenURL: s.TokenBaseURL() + "/oauth/token", URL: "https://tenant.example",
		KeychainService: "cpikey", KeychainAccount: sim.HostileSpace(), CreatedAt: time.Now()}
	b, err := json.Marshal(map[string]any{"version": 1, "profiles": []profiles.Profile{p}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".config", "cpikey")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestHostile_HeadlessAndCLIShowServerTextInert(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/test/bus")
	keyring.MockInit()

	strs := map[string]bool{}
	outputs, controls := 0, 0
	for _, hr := range hostileRuns() {
		t.Run(hr.name, func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(home, ".config")); err != nil {
				t.Fatal(err)
			}
			// SAP's jobs finish at once here: main's flow polls at its real pace.
			s, err := sim.Start(sim.Config{Hostile: true, EntitlementPadding: -1, ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if hr.setup != nil {
				hr.setup(t, s, home)
			}
			env := map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
				"BTP_PASSWORD": sim.AdminPassword, "BTP_GLOBALACCOUNT": sim.GASubdomain, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/test/bus"}
			for k, v := range hr.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			code := run(hr.args, strings.NewReader(""), &stdout, &stderr, envFunc(env))
			if code != hr.code {
				t.Fatalf("exit %d, want %d\nstdout: %q\nstderr: %q", code, hr.code, stdout.String(), stderr.String())
			}
			for _, o := range []struct {
				name, text string
				hostile    bool
			}{{"stdout", stdout.String(), hr.stdout}, {"stderr", stderr.String(), hr.stderr}} {
				if c := safetext.Controls(o.text); len(c) > 0 {
					controls += len(c)
					t.Errorf("%s: control runes %q reach the terminal:\n%s", o.name, c, o.text)
				}
				if o.hostile {
					outputs++
					// Escaped by safetext (\x1b, \u009d) or by JSON (\u001b).
					if !strings.Contains(o.text, `\x1b]52;c;`) && !strings.Contains(o.text, `\u009d52;c;`) && !strings.Contains(o.text, `\u001b]52;c;`) {
						t.Errorf("%s does not show the server's text escaped:\n%s", o.name, o.text)
					}
					if hr.want != "" && !strings.Contains(o.text, hr.want) {
						t.Errorf("%s lacks %s:\n%s", o.name, hr.want, o.text)
					}
				}
			}
			if hr.check != nil {
				hr.check(t, s, stdout.String(), stderr.String())
			}
			for _, h := range s.HostileStrings() {
				strs[h] = true
			}
		})
	}
	if !t.Failed() {
		// stdout, so `go test -v` shows it at the start of a line (CI greps ^hostile:)
		fmt.Printf("hostile: %d strings x %d outputs, %d control bytes (headless, errors, --debug, profile commands)\n", len(strs), outputs, controls)
	}
}
