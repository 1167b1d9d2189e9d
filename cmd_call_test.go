package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestCall_AfterAHeadlessRun runs `cpikey --yes` twice (an integration-flow
// and an api key), then `cpikey call` for each answer the tenant gives, as
// a user would: exit code, output, diagnosis, the round trips of a second
// call, and no token, secret or session id in any output or file.
func TestCall_AfterAHeadlessRun(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/test/bus")
	keyring.MockInit()
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := envFunc(map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
		"BTP_PASSWORD": sim.AdminPassword, "BTP_GLOBALACCOUNT": sim.GASubdomain, "DBUS_SESSION_BUS_ADDRESS": "unix:path=/test/bus"})
	var outputs []string
	cpikey := func(t *testing.T, stdin string, want int, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(stdin), &stdout, &stderr, env)
		outputs = append(outputs, stdout.String(), stderr.String())
		if code != want {
			t.Fatalf("cpikey %s: exit %d, want %d; stderr: %s", strings.Join(args, " "), code, want, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	cpikey(t, "", 0, "--yes", "--subaccount", sim.SubReady)
	cpikey(t, "", 0, "--yes", "--subaccount", sim.SubReady, "--plan", "api", "--roles", "MonitoringDataRead", "--instance", "CPI_API")
	flow := sim.SubReadySubdomain + "/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"
	api := sim.SubReadySubdomain + "/CPI_API/CPI_API-key"
	msg := filepath.Join(t.TempDir(), "message.xml")
	os.WriteFile(msg, []byte("<order id='1'/>"), 0o600) //nolint:errcheck

	t.Run("a second call is one round trip", func(t *testing.T) {
		s.ResetRequests()
		cpikey(t, "", 0, "call", flow, sim.FlowEcho, "-d", "one")
		first := s.Requests()
		s.ResetRequests()
		out, _ := cpikey(t, "", 0, "call", flow, sim.FlowEcho, "-d", "two")
		second := s.Requests()
		if !slices.Equal(first, []string{"xsuaa:POST /oauth/token", "rt:POST " + sim.FlowEcho}) || !slices.Equal(second, []string{"rt:POST " + sim.FlowEcho}) || out != "two" {
			t.Fatalf("first %v, second %v, stdout %q", first, second, out)
		}
		s.ResetRequests()
		cpikey(t, "", 0, "call", flow, sim.FlowEcho, "--fresh-token")
		if r := s.Requests(); len(r) != 2 {
			t.Errorf("--fresh-token: %v", r)
		}
	})

	cases := []struct {
		name      string
		stdin     string
		args      []string
		code      int
		stdout    string
		stderr    []string
		notStderr string
	}{
		{name: "text body, POST by default, trace with --debug", args: []string{"call", flow, sim.FlowEcho, "-d", "hello", "--debug"}, stdout: "hello",
			stderr: []string{"http: POST " + "http://127.0.0.1:", sim.FlowEcho + " -> 200"}},
		{name: "body from stdin", stdin: "from stdin", args: []string{"call", flow, "PUT", sim.FlowEcho, "-d", "-"}, stdout: "from stdin"},
		{name: "body from a file, -i", args: []string{"call", flow, sim.FlowEcho, "-d", "@" + msg, "-i"}, stdout: "<order id='1'/>",
			stderr: []string{"200 OK in ", "Content-Type: application/xml", "SAP_MessageProcessingLogID: AG"}},
		{name: "a header of the user's", args: []string{"call", flow, sim.FlowEcho, "-d", "{}", "-H", "Content-Type: text/x-custom", "-i"}, stdout: "{}",
			stderr: []string{"Content-Type: text/x-custom"}},
		{name: "CSRF", args: []string{"call", flow, sim.FlowCSRF, "-d", "x"}, stdout: "x",
			stderr: []string{"! the sender adapter of /http/demo/csrf is CSRF protected"}},
		{name: "Basic", args: []string{"call", flow, sim.FlowEcho, "-d", "b", "--basic"}, stdout: "b"},
		{name: "role", args: []string{"call", flow, sim.FlowOrders, "-d", "x"}, code: 1, stdout: "Forbidden",
			stderr: []string{"✗ 403 Forbidden: the endpoint's user role", "(ESBMessaging.send)"}},
		{name: "iFlow error", args: []string{"call", flow, sim.FlowFail, "-d", "x"}, code: 1,
			stderr: []string{"✗ 500 Internal Server Error: the iFlow ran and failed; its message processing log is MPL AG"}},
		{name: "prefix", args: []string{"call", flow, "/cxf/demo/echo", "-d", "x"}, code: 1, stderr: []string{"✗ 404 Not Found (no message processing log)", "try /http/demo/echo"}},
		{name: "deployment", args: []string{"call", flow, "/http/demo/missing"}, code: 1, stderr: []string{"nothing is deployed at /http/demo/missing"}},
		{name: "another host", args: []string{"call", flow, "https://evil.example/http/x"}, code: 2, stderr: []string{"refusing to send the key's credentials to https://evil.example"}},
		{name: "Authorization from -H", args: []string{"call", flow, sim.FlowEcho, "-H", "Authorization: Bearer x"}, code: 2, stderr: []string{"not settable here"}},
		{name: "no PATH", args: []string{"call", flow}, code: 2, stderr: []string{"PATH is missing"}},
		{name: "api read as JSON", args: []string{"call", api, "/api/v1/MessageProcessingLogs?$top=1&$format=json", "--json"}, stdout: `"status": 200`},
		{name: "api role missing", args: []string{"call", api, "/api/v1/IntegrationPackages?$format=json", "--json"}, code: 1, stdout: `"diagnosis": "403 Forbidden: reading IntegrationPackages`,
			stderr: []string{"needs the api role WorkspacePackagesRead, and the instance has MonitoringDataRead"}},
		{name: "Basic on the API", args: []string{"call", api, "/api/v1/MessageProcessingLogs", "--basic"}, code: 1,
			stderr: []string{"! api keys take a token", "401 Unauthorized: the API does not take clientid/secret as Basic"}},
		{name: "a success says nothing on stderr when piped", args: []string{"call", flow, sim.FlowEcho}, stdout: "without a body", notStderr: "✓"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut := cpikey(t, tc.stdin, tc.code, tc.args...)
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if tc.notStderr != "" && strings.Contains(errOut, tc.notStderr) {
				t.Errorf("stderr has %q:\n%s", tc.notStderr, errOut)
			}
			if tc.code == 1 && strings.Count(errOut, "✗ ") != 1 {
				t.Errorf("not one diagnosis line:\n%s", errOut)
			}
		})
	}

	t.Run("--json is one object with body and body size", func(t *testing.T) {
		out, _ := cpikey(t, "", 0, "call", flow, sim.FlowEcho, "-d", "<x/>", "--json")
		var r struct {
			Status     int                 `json:"status"`
			Headers    map[string][]string `json:"headers"`
			Timing     map[string]float64  `json:"timing"`
			BodyBytes  int                 `json:"bodyBytes"`
			Body       string              `json:"body"`
			RoundTrips int                 `json:"roundTrips"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Status != 200 || r.Body != "<x/>" || r.BodyBytes != 4 || r.Headers["Content-Type"] == nil || r.RoundTrips != 1 || r.Timing["totalMs"] <= 0 {
			t.Errorf("%+v", r)
		}
	})

	// Secret hygiene: nothing the simulator issued (tokens, client secrets,
	// CSRF tokens and session ids) in any output or any file under HOME.
	var ids []string
	s.Do(func(w *sim.World) {
		for _, k := range w.Keys {
			ids = append(ids, k.ClientID)
		}
	})
	secrets := s.IssuedSecrets()
	for _, id := range ids {
		for _, sec := range s.IssuedSecrets() {
			secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(id+":"+sec)))
		}
	}
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error { //nolint:errcheck
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			outputs = append(outputs, string(b))
		}
		return nil
	})
	n := 0
	for _, sec := range secrets {
		if len(sec) < 8 {
			continue
		}
		n++
		for _, o := range outputs {
			if strings.Contains(o, sec) {
				t.Fatalf("an output or a file holds a secret (%s…)", sec[:6])
			}
		}
	}
	if n < 8 {
		t.Fatalf("only %d secrets to look for", n)
	}
}
