package profiles_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/tenant"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// provisionPlan keeps a profile of a new key of plan with roles in "CPI QA".
func (e *env) provisionPlan(t *testing.T, plan, instance string, roles ...string) (profiles.Profile, string) {
	t.Helper()
	in := steps.HeadlessInput{GlobalAccount: sim.GASubdomain, Subaccount: sim.SubReady, User: sim.AdminUser, Password: sim.AdminPassword,
		Runtime: steps.RuntimeCF, Plan: plan, Instance: instance, Roles: roles}
	f := steps.New(e.cfg)
	res, err := steps.RunHeadless(ctx(t), f, in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.mgr.SaveResult(f, res, profiles.HeadlessTarget(in))
	if err != nil {
		t.Fatal(err)
	}
	return p, res.Credentials.ClientSecret
}

// kept is the token the keychain holds for p ("" when none).
func kept(t *testing.T, p profiles.Profile) string {
	t.Helper()
	raw, err := keyring.Get(profiles.TokenService(p), p.KeychainAccount)
	if err != nil {
		return ""
	}
	var c struct {
		AccessToken string `json:"t"`
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	return c.AccessToken
}

func TestCall_SecondCallIsOneRoundTrip(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	calls := []struct {
		name   string
		req    profiles.CallRequest
		want   []string
		reused bool
	}{
		{"first call fetches a token", profiles.CallRequest{Path: sim.FlowEcho, Body: []byte("<a/>")}, []string{"xsuaa:POST /oauth/token", "rt:POST " + sim.FlowEcho}, false},
		{"second call reuses it", profiles.CallRequest{Path: sim.FlowEcho, Body: []byte("<b/>")}, []string{"rt:POST " + sim.FlowEcho}, true},
		{"and the third", profiles.CallRequest{Method: "GET", Path: sim.FlowEcho}, []string{"rt:GET " + sim.FlowEcho}, true},
		{"--fresh-token fetches a new one", profiles.CallRequest{Path: sim.FlowEcho, FreshToken: true}, []string{"xsuaa:POST /oauth/token", "rt:GET " + sim.FlowEcho}, false},
		{"which the next call reuses", profiles.CallRequest{Path: sim.FlowEcho}, []string{"rt:GET " + sim.FlowEcho}, true},
	}
	for _, c := range calls {
		e.sim.ResetRequests()
		res, err := e.mgr.Call(ctx(t), c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := e.sim.Requests()
		if !slices.Equal(got, c.want) || res.RoundTrips != len(c.want) || res.TokenReused != c.reused || !res.OK() {
			t.Errorf("%s: requests %v (round trips %d, reused %v, status %d), want %v", c.name, got, res.RoundTrips, res.TokenReused, res.Response.Status, c.want)
		}
	}
	tok := kept(t, p)
	if tok == "" {
		t.Fatal("no token in the OS keychain")
	}
	// Windows Credential Manager holds 2560 bytes of UTF-16: the entry is
	// the token and little else.
	if raw, _ := keyring.Get(profiles.TokenService(p), p.KeychainAccount); len(raw)-len(tok) > 64 {
		t.Errorf("the keychain entry adds %d bytes to the token", len(raw)-len(tok))
	}
}

func TestCall_TokenKeptOnlyInTheKeychainAndNotInItsLastMinute(t *testing.T) {
	e := newEnv(t)
	p, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	now := fixedNow
	e.mgr.Now = func() time.Time { return now }
	if _, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho}); err != nil {
		t.Fatal(err)
	}
	tok := kept(t, p)
	// Nowhere under HOME (profiles, caches) is the token or the secret.
	home, _ := os.UserHomeDir()
	filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error { //nolint:errcheck
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(path)
			if bytes.Contains(b, []byte(tok)) || bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the token or the secret", path)
			}
		}
		return nil
	})
	cases := []struct {
		after  time.Duration
		reused bool
	}{
		{58 * time.Minute, true},                 // 3599 s token: still 61 s left
		{59*time.Minute + 30*time.Second, false}, // its last minute: a new one
	}
	for _, tc := range cases {
		now = fixedNow.Add(tc.after)
		res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho})
		if err != nil {
			t.Fatal(err)
		}
		if res.TokenReused != tc.reused {
			t.Errorf("after %v: reused %v, want %v", tc.after, res.TokenReused, tc.reused)
		}
		now = fixedNow // the next case counts from the first token
	}
}

func TestCall_KeptTokenRefusedIsReplacedOnce(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	if _, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho}); err != nil {
		t.Fatal(err)
	}
	// The tenant no longer takes the kept token (a forged signature here).
	raw, _ := keyring.Get(profiles.TokenService(p), p.KeychainAccount)
	tok := kept(t, p)
	keyring.Set(profiles.TokenService(p), p.KeychainAccount, strings.Replace(raw, tok, tok[:len(tok)-4]+"AAAA", 1)) //nolint:errcheck
	e.sim.ResetRequests()
	res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho, Body: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rt:POST " + sim.FlowEcho, "xsuaa:POST /oauth/token", "rt:POST " + sim.FlowEcho}
	if got := e.sim.Requests(); !slices.Equal(got, want) || res.RoundTrips != 3 || !res.OK() {
		t.Fatalf("requests %v (%d), want %v", got, res.RoundTrips, want)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "refused the kept token") {
		t.Errorf("notes %v", res.Notes)
	}
	if kept(t, p) == tok || kept(t, p) == "" {
		t.Error("the new token was not kept")
	}
}

func TestCall_CSRFProtectedEndpointIsSaidAndResentOnce(t *testing.T) {
	e := newEnv(t)
	e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	e.sim.ResetRequests()
	res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowCSRF, Body: []byte("<order/>")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"xsuaa:POST /oauth/token", "rt:POST " + sim.FlowCSRF, "rt:GET " + sim.FlowCSRF, "rt:POST " + sim.FlowCSRF}
	if got := e.sim.Requests(); !slices.Equal(got, want) || res.RoundTrips != 4 || string(res.Response.Body) != "<order/>" {
		t.Fatalf("requests %v, round trips %d, body %q", got, res.RoundTrips, res.Response.Body)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "sender adapter of /http/demo/csrf is CSRF protected") {
		t.Errorf("notes %v", res.Notes)
	}
}

func TestCall_BasicSendsClientIDAndSecretAndNoTokenRequest(t *testing.T) {
	e := newEnv(t)
	e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	e.sim.ResetRequests()
	res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho, Body: []byte("hi"), Basic: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.sim.Requests(); !slices.Equal(got, []string{"rt:POST " + sim.FlowEcho}) || res.Auth != "basic" || !res.OK() {
		t.Fatalf("requests %v auth %s status %d", got, res.Auth, res.Response.Status)
	}
}

func TestCall_OtherHostOrBadPathRefusedBeforeAnyRequest(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	for _, path := range []string{"https://evil.example/http/demo/echo", "http://127.0.0.1:1/http/demo/echo", "http/demo/echo", "//evil.example/x"} {
		e.sim.ResetRequests()
		_, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: path, Basic: path == "http/demo/echo"})
		var ue *steps.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%s: %v, want a usage error", path, err)
		}
		if r := e.sim.Requests(); len(r) != 0 {
			t.Errorf("%s: sent %v", path, r)
		}
	}
	if _, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: p.URL + sim.FlowEcho}); err != nil {
		t.Errorf("a full URL on the key's host: %v", err)
	}
}

func TestCall_DiagnosisNamesTheInstancesRoles(t *testing.T) {
	e := newEnv(t)
	flow, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	api, _ := e.provisionPlan(t, "api", "CPI_API", "MonitoringDataRead")
	cases := []struct {
		profile, path string
		status        int
		want          string
	}{
		{flow.Name, sim.FlowOrders, 403, "is not among the instance's roles (ESBMessaging.send)"},
		{flow.Name, sim.FlowFail, 500, "the iFlow ran and failed; its message processing log is MPL AG"},
		{flow.Name, "/http/demo/ech0", 404, "nothing is deployed at /http/demo/ech0"},
		{api.Name, "/api/v1/IntegrationPackages?$format=json", 403, "needs the api role WorkspacePackagesRead, and the instance has MonitoringDataRead: add WorkspacePackagesRead to the roles of CPI_API"},
		{api.Name, "/api/v1/MessageProcessingLogs?$top=1&$format=json", 200, ""},
	}
	for _, tc := range cases {
		res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Profile: tc.profile, Path: tc.path})
		if err != nil {
			t.Fatal(err)
		}
		if res.Response.Status != tc.status || !strings.Contains(res.Diagnosis, tc.want) || (tc.want == "") != (res.Diagnosis == "") {
			t.Errorf("%s: %d %q, want %d with %q", tc.path, res.Response.Status, res.Diagnosis, tc.status, tc.want)
		}
	}
}

func TestCall_RotateAndForgetDropTheKeptToken(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	if _, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho}); err != nil || kept(t, p) == "" {
		t.Fatalf("no token kept: %v", err)
	}
	if _, err := e.mgr.Rotate(ctx(t), e.flow(), p.Name, e.login()); err != nil {
		t.Fatal(err)
	}
	if kept(t, p) != "" {
		t.Error("rotate left the old key's token in the keychain")
	}
	np, _ := e.mgr.Store.Resolve(p.Name)
	e.sim.ResetRequests()
	if res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho}); err != nil || res.TokenReused || !res.OK() {
		t.Fatalf("call after rotate: %v %+v", err, res)
	}
	if kept(t, np) == "" {
		t.Fatal("no token kept for the rotated key")
	}
	if err := e.mgr.Forget(ctx(t), nil, np.Name, false, profiles.Login{}); err != nil {
		t.Fatal(err)
	}
	if kept(t, np) != "" {
		t.Error("forget left the token in the keychain")
	}
}

func TestWriteCall_JSONAndHeadersHoldNoCredential(t *testing.T) {
	e := newEnv(t)
	p, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowFail, Body: []byte(`{"order":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := profiles.WriteCall(&stdout, &stderr, res, profiles.CallOutput{JSON: true, Include: true}); err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	for _, f := range []string{"status", "statusText", "headers", "timing", "bodyBytes", "body", "tokenReused", "roundTrips", "mplId", "diagnosis", "request"} {
		if _, ok := out[f]; !ok {
			t.Errorf("--json lacks %q", f)
		}
	}
	if out["status"] != 500.0 || !strings.Contains(out["body"].(string), out["mplId"].(string)) || out["request"].(map[string]any)["bodyBytes"] != 11.0 {
		t.Errorf("--json: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "500 Internal Server Error in ") || !strings.Contains(stderr.String(), "SAP_MessageProcessingLogID: AG") ||
		!strings.Contains(stderr.String(), "✗ 500 Internal Server Error: the iFlow ran and failed") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	all := stdout.String() + stderr.String()
	mustNotContain(t, "call output", all, secret, kept(t, p))
}

func TestWriteCall_BodyRawWhenPipedInertOnATerminal(t *testing.T) {
	body := "ok\x1b]52;c;ZXZpbA==\a\u202e\n"
	res := &profiles.CallResult{Response: &tenant.Response{Status: 200, StatusText: "OK", Body: []byte(body)}}
	var raw, term, errOut bytes.Buffer
	profiles.WriteCall(&raw, &errOut, res, profiles.CallOutput{})                //nolint:errcheck
	profiles.WriteCall(&term, &errOut, res, profiles.CallOutput{Terminal: true}) //nolint:errcheck
	if raw.String() != body {
		t.Errorf("piped body changed: %q", raw.String())
	}
	if want := `ok\x1b]52;c;ZXZpbA==\x07\u202e` + "\n"; term.String() != want {
		t.Errorf("terminal body %q, want %q", term.String(), want)
	}
}
