package tenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/tenant"
)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// key is a ClientId/Secret key made through Cloud Foundry in the simulator.
type key struct {
	oauth.Credentials
	URL   string
	token string
}

func newKey(t *testing.T, s *sim.Server, plan, name, instParams string) key {
	t.Helper()
	c, err := cf.New(s.CFAPIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoginPassword(ctx(t), sim.AdminUser, sim.AdminPassword, ""); err != nil {
		t.Fatal(err)
	}
	org, err := c.GetOrgByName(ctx(t), sim.SubReadySubdomain+"_qa")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := c.GetSpaceByName(ctx(t), org.GUID, "dev")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.FindPlan(ctx(t), "it-rt", plan, sp.GUID)
	if err != nil || p == nil {
		t.Fatalf("plan %s: %v", plan, err)
	}
	poll := cf.PollInterval{Min: time.Millisecond, Max: 3 * time.Millisecond}
	job, err := c.CreateInstance(ctx(t), name, sp.GUID, p.GUID, json.RawMessage(instParams))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.WaitJob(ctx(t), job, poll, nil)
	if err != nil {
		t.Fatal(err)
	}
	kjob, err := c.CreateKey(ctx(t), name+"-key", j.ResourceGUID, nil)
	if err != nil {
		t.Fatal(err)
	}
	kj, err := c.WaitJob(ctx(t), kjob, poll, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.KeyDetails(ctx(t), kj.ResourceGUID)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		OAuth struct {
			ClientID     string `json:"clientid"`
			ClientSecret string `json:"clientsecret"`
			TokenURL     string `json:"tokenurl"`
			URL          string `json:"url"`
		} `json:"oauth"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	k := key{Credentials: oauth.Credentials{ClientID: d.OAuth.ClientID, ClientSecret: d.OAuth.ClientSecret, TokenURL: d.OAuth.TokenURL}, URL: d.OAuth.URL}
	tok, err := oauth.Fetch(ctx(t), nil, k.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	k.token = tok.AccessToken
	return k
}

func startSim(t *testing.T) *sim.Server {
	t.Helper()
	s, err := sim.Start(sim.Config{ProvisionTime: time.Millisecond, BindTime: time.Millisecond, EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestResolve_RelativePathsAndTheKeysHostOnly(t *testing.T) {
	const base = "https://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com"
	cases := []struct {
		path, want, err string
		host            bool // a HostError
	}{
		{path: "/http/demo/echo", want: base + "/http/demo/echo"},
		{path: "/api/v1/MessageProcessingLogs?$top=1&$format=json", want: base + "/api/v1/MessageProcessingLogs?$top=1&$format=json"},
		{path: "/api/v1/MessageProcessingLogs('AGx%20y')", want: base + "/api/v1/MessageProcessingLogs('AGx%20y')"},
		{path: base + "/cxf/orders", want: base + "/cxf/orders"},
		{path: "https://ACME.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com:443/http/x", want: "https://ACME.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com:443/http/x"},
		{path: "https://evil.example/http/x", host: true, err: "refusing to send the key's credentials to https://evil.example"},
		{path: "https://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com.evil.example/http/x", host: true},
		{path: "https://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com:8443/http/x", host: true},
		{path: "http://acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com/http/x", host: true},
		{path: "https://u:p@acme.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com/http/x", err: "user information"},
		{path: "//evil.example/http/x", err: "starts with //"},
		{path: "http/demo/echo", err: "must start with /"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			u, err := tenant.Resolve(base, tc.path)
			var he *tenant.HostError
			if errors.As(err, &he) != tc.host {
				t.Fatalf("host error %v, want %v (%v)", err, tc.host, err)
			}
			if tc.err != "" || tc.host {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || u.String() != tc.want {
				t.Fatalf("%v %v, want %s", u, err, tc.want)
			}
		})
	}
	if _, err := tenant.Resolve("http://acme.example", "/http/x"); err == nil {
		t.Error("a plain http key url (not loopback) was accepted")
	}
}

func TestDo_EachStatusWithItsDiagnosis(t *testing.T) {
	s := startSim(t)
	send := newKey(t, s, itrt.PlanIntegrationFlow, "FLOW", `{"roles":["ESBMessaging.send"]}`)
	api := newKey(t, s, itrt.PlanAPI, "API", `{"roles":["MonitoringDataRead"]}`)
	soap := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Order/></soap:Body></soap:Envelope>`
	flowFacts := tenant.Facts{Plan: itrt.PlanIntegrationFlow, Roles: []string{"ESBMessaging.send"}, FreshToken: true}
	apiFacts := tenant.Facts{Plan: itrt.PlanAPI, Roles: []string{"MonitoringDataRead"}, FreshToken: true}

	cases := []struct {
		name      string
		k         key
		facts     tenant.Facts
		method    string
		path      string
		body      string
		auth      func(k key) tenant.Auth
		status    int
		diagnosis []string // parts of the one line; none for a success
		trips     int
	}{
		{name: "echo", k: send, facts: flowFacts, method: "POST", path: sim.FlowEcho, body: "<a/>", status: 200, trips: 1},
		{name: "SOAP", k: send, facts: flowFacts, method: "POST", path: sim.FlowSOAP, body: soap, status: 200, trips: 1},
		{name: "Basic", k: send, facts: flowFacts, method: "POST", path: sim.FlowEcho, body: "x", status: 200, trips: 1,
			auth: func(k key) tenant.Auth { return tenant.Basic(k.ClientID, k.ClientSecret) }},
		{name: "Basic with a wrong secret", k: send, facts: tenant.Facts{Plan: itrt.PlanIntegrationFlow, Basic: true}, method: "POST", path: sim.FlowEcho, status: 401, trips: 1,
			auth:      func(k key) tenant.Auth { return tenant.Basic(k.ClientID, "wrong") },
			diagnosis: []string{"401 Unauthorized: the runtime rejected clientid/secret as Basic", "cpikey rotate"}},
		{name: "a reused token rejected", k: send, facts: tenant.Facts{Plan: itrt.PlanIntegrationFlow}, method: "GET", path: sim.FlowEcho, status: 401, trips: 1,
			auth: func(k key) tenant.Auth { // a signature that is surely not the token's
				i := strings.LastIndex(k.token, ".")
				return tenant.Bearer(k.token[:i+1] + strings.Repeat("A", len(k.token)-i-1))
			},
			diagnosis: []string{"401 Unauthorized: the tenant rejected the token", "--fresh-token"}},
		{name: "a fresh token rejected", k: send, facts: flowFacts, method: "GET", path: sim.FlowEcho, status: 401, trips: 1,
			auth:      func(k key) tenant.Auth { return tenant.Bearer("not-a-token") },
			diagnosis: []string{"rejected a token fresh from the token server", "tokenurl"}},
		{name: "custom role missing", k: send, facts: flowFacts, method: "POST", path: sim.FlowOrders, body: "x", status: 403, trips: 1,
			diagnosis: []string{"403 Forbidden: the endpoint's user role", "instance's roles (ESBMessaging.send)", "less than an hour"}},
		{name: "CSRF-protected, resent", k: send, facts: flowFacts, method: "POST", path: sim.FlowCSRF, body: "x", status: 200, trips: 3},
		{name: "wrong prefix", k: send, facts: flowFacts, method: "GET", path: "/demo/echo", status: 404, trips: 1,
			diagnosis: []string{"404 Not Found (no message processing log)", "start with /http/ (HTTPS sender) or /cxf/ (SOAP sender)", "/http/demo/echo"}},
		{name: "HTTP flow under /cxf", k: send, facts: flowFacts, method: "POST", path: "/cxf/demo/echo", body: "x", status: 404, trips: 1,
			diagnosis: []string{"no SOAP endpoint is deployed at /cxf/demo/echo", "try /http/demo/echo"}},
		{name: "undeployed flow", k: send, facts: flowFacts, method: "GET", path: "/http/demo/nothing", status: 404, trips: 1,
			diagnosis: []string{"nothing is deployed at /http/demo/nothing", "deployed and started", "try /cxf/demo/nothing"}},
		{name: "failing iFlow", k: send, facts: flowFacts, method: "POST", path: sim.FlowFail, body: "x", status: 500, trips: 1,
			diagnosis: []string{"500 Internal Server Error: the iFlow ran and failed", "MPL AG", "MessageProcessingLogs('AG"}},
		{name: "SOAP without an envelope", k: send, facts: flowFacts, method: "POST", path: sim.FlowSOAP, body: "{}", status: 500, trips: 1,
			diagnosis: []string{"without a message processing log", "SOAP envelope"}},
		{name: "SOAP with GET", k: send, facts: flowFacts, method: "GET", path: sim.FlowSOAP, status: 405, trips: 1,
			diagnosis: []string{"405 Method Not Allowed: the endpoint does not accept GET", "-d @message.xml", "?wsdl"}},
		{name: "API on the runtime host", k: send, facts: flowFacts, method: "GET", path: "/api/v1/MessageProcessingLogs", status: 404, trips: 1,
			diagnosis: []string{"management host", "key of plan api"}},
		{name: "API read", k: api, facts: apiFacts, method: "GET", path: "/api/v1/MessageProcessingLogs?$top=1&$format=json", status: 200, trips: 1},
		{name: "API read without its role", k: api, facts: apiFacts, method: "GET", path: "/api/v1/IntegrationPackages?$format=json", status: 403, trips: 1,
			diagnosis: []string{"reading IntegrationPackages needs the api role WorkspacePackagesRead, and the instance has MonitoringDataRead", "up to an hour"}},
		{name: "API with Basic", k: api, facts: tenant.Facts{Plan: itrt.PlanAPI, Basic: true}, method: "GET", path: "/api/v1/MessageProcessingLogs", status: 401, trips: 1,
			auth:      func(k key) tenant.Auth { return tenant.Basic(k.ClientID, k.ClientSecret) },
			diagnosis: []string{"the API does not take clientid/secret as Basic: drop --basic"}},
		{name: "an iFlow with an api key", k: api, facts: apiFacts, method: "POST", path: sim.FlowEcho, body: "x", status: 404, trips: 1,
			diagnosis: []string{"plan api", "integration-flow key (its url has -rt)"}},
		{name: "an unknown entity set", k: api, facts: apiFacts, method: "GET", path: "/api/v1/Nope", status: 404, trips: 1,
			diagnosis: []string{"the API has nothing at /api/v1/Nope"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := tenant.Resolve(tc.k.URL, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			auth := tenant.Bearer(tc.k.token)
			if tc.auth != nil {
				auth = tc.auth(tc.k)
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r, err := (&tenant.Client{}).Do(ctx(t), tenant.Request{Method: tc.method, URL: u, Body: body}, auth)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.status || r.RoundTrips != tc.trips {
				t.Fatalf("status %d in %d round trips, want %d in %d: %s", r.Status, r.RoundTrips, tc.status, tc.trips, r.Body)
			}
			f := tc.facts
			f.Method, f.Path = tc.method, u.Path
			d := tenant.Diagnose(r, f)
			t.Logf("diagnosis: %s", d)
			if (d == "") != (len(tc.diagnosis) == 0) || strings.Contains(d, "\n") {
				t.Fatalf("diagnosis %q", d)
			}
			for _, want := range tc.diagnosis {
				if !strings.Contains(d, want) {
					t.Errorf("diagnosis lacks %q:\n%s", want, d)
				}
			}
			for _, secret := range []string{tc.k.token, tc.k.ClientSecret} {
				if strings.Contains(d, secret) {
					t.Error("the diagnosis holds a credential")
				}
			}
		})
	}
}

func TestDo_CSRFFetchesKeepsTheCookieAndResendsOnce(t *testing.T) {
	s := startSim(t)
	k := newKey(t, s, itrt.PlanIntegrationFlow, "CSRF", `{"roles":["ESBMessaging.send"]}`)
	u, _ := tenant.Resolve(k.URL, sim.FlowCSRF)
	s.ResetRequests()
	r, err := (&tenant.Client{}).Do(ctx(t), tenant.Request{Method: "POST", URL: u, Body: []byte("order")}, tenant.Bearer(k.token))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 200 || string(r.Body) != "order" || r.CSRF != tenant.CSRFResent {
		t.Fatalf("%d %q csrf %q", r.Status, r.Body, r.CSRF)
	}
	want := []string{"rt:POST " + sim.FlowCSRF, "rt:GET " + sim.FlowCSRF, "rt:POST " + sim.FlowCSRF}
	if got := s.Requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if n := tenant.CSRFNote(u.Path); !strings.Contains(n, "CSRF protected") || !strings.Contains(n, sim.FlowCSRF) {
		t.Errorf("note %q", n)
	}
}

// A CSRF fetch that yields no token: the first 403 stands, said as such.
func TestDo_CSRFFetchWithoutATokenIsDiagnosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-CSRF-Token", "Required")
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	u, _ := tenant.Resolve(srv.URL, "/http/x")
	r, err := (&tenant.Client{}).Do(ctx(t), tenant.Request{Method: "POST", URL: u, Body: []byte("x")}, tenant.Bearer("t"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 403 || r.CSRF != tenant.CSRFFetchFailed || r.RoundTrips != 2 {
		t.Fatalf("%d %q %d", r.Status, r.CSRF, r.RoundTrips)
	}
	if d := tenant.Diagnose(r, tenant.Facts{Plan: itrt.PlanIntegrationFlow, Path: u.Path}); !strings.Contains(d, "CSRF protected") || !strings.Contains(d, "switch CSRF protection off") {
		t.Errorf("diagnosis %q", d)
	}
}

func TestDo_RedirectsAreTheAnswerAndNothingIsRetried(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/http/moved" {
			http.Redirect(w, r, "https://elsewhere.example/x", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	moved, _ := tenant.Resolve(srv.URL, "/http/moved")
	r, err := (&tenant.Client{}).Do(ctx(t), tenant.Request{Method: "POST", URL: moved, Body: []byte("x")}, tenant.Bearer("t"))
	if err != nil || r.Status != 302 || !r.OK() || hits != 1 {
		t.Fatalf("%v %v hits %d", r, err, hits)
	}
	busy, _ := tenant.Resolve(srv.URL, "/http/busy")
	r, err = (&tenant.Client{}).Do(ctx(t), tenant.Request{Method: "POST", URL: busy, Body: []byte("x")}, tenant.Bearer("t"))
	if err != nil || r.Status != 503 || hits != 2 {
		t.Fatalf("a 503 was retried: %v %v hits %d", r, err, hits)
	}
	if d := tenant.Diagnose(r, tenant.Facts{Path: "/http/busy"}); !strings.Contains(d, "not answering") {
		t.Errorf("diagnosis %q", d)
	}
}

func TestDo_NoAnswerIsDiagnosedWithoutCredentials(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	u, _ := tenant.Resolve("http://"+addr, "/http/x")
	_, err := (&tenant.Client{}).Do(ctx(t), tenant.Request{Method: "GET", URL: u}, tenant.Basic("id", "s3cr3t-$x"))
	var ne *tenant.NetError
	if !errors.As(err, &ne) {
		t.Fatalf("err %v", err)
	}
	d := tenant.DiagnoseError(err, tenant.Facts{})
	if !strings.Contains(d, "cannot reach the tenant at "+addr) || !strings.Contains(d, "HTTPS_PROXY") || strings.Contains(d, "s3cr3t") {
		t.Errorf("diagnosis %q", d)
	}
}

func TestAuth_PrintsRedacted(t *testing.T) {
	for _, a := range []tenant.Auth{tenant.Bearer("tok-secret"), tenant.Basic("id", "pw-secret")} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, a); strings.Contains(s, "secret") {
				t.Errorf("%s prints %q", verb, s)
			}
		}
	}
}

func TestMPLID_FromHeaderOrBodyAndOnlyIfWellFormed(t *testing.T) {
	cases := []struct {
		header, body, want string
	}{
		{"AGabcdefghijklmnopqrstuvwxyz", "", "AGabcdefghijklmnopqrstuvwxyz"},
		{"", "An internal server error occured: x.\nThe MPL ID for the failed message is : AGxyz123_-abcdefgh\nFor more", "AGxyz123_-abcdefgh"},
		{"AG\x1b[31mred", "", ""},
		{"", "The MPL ID for the failed message is : <script>", ""},
	}
	for _, tc := range cases {
		r := &tenant.Response{Header: http.Header{}, Body: []byte(tc.body)}
		if tc.header != "" {
			r.Header.Set(itrt.MPLHeader, tc.header)
		}
		if got := r.MPLID(); got != tc.want {
			t.Errorf("MPLID(%q, %q) = %q, want %q", tc.header, tc.body, got, tc.want)
		}
	}
}
