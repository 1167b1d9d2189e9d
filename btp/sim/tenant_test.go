package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// Tests of the tenant (runtime and management hosts) with raw net/http.

// tenantKey puts a ready key of plan with roles into subaccount "CPI QA"
// and returns its clientid and secret.
func tenantKey(t *testing.T, s *Server, plan string, roles ...string) (id, secret string) {
	t.Helper()
	s.Do(func(w *World) {
		var sa *Subaccount
		for _, x := range w.Subaccounts {
			if x.Subdomain == SubReadySubdomain {
				sa = x
			}
		}
		now := s.now()
		params := map[string]any{}
		if roles != nil {
			rs := []any{}
			for _, r := range roles {
				rs = append(rs, r)
			}
			params["roles"] = rs
		}
		inst := &Instance{GUID: s.nextID(), Name: "T_" + plan, Subaccount: sa.GUID, Plan: plan, Parameters: params,
			Op: Operation{Type: "create", Started: now, ReadyAt: now}, Created: now}
		kg := s.nextID()
		k := &Key{GUID: kg, Name: "k", Instance: inst.GUID, KeyType: "client_id_secret", ClientID: clientIDFor(kg, plan, sa.Subdomain),
			Op: Operation{Type: "create", Started: now, ReadyAt: now}, Created: now}
		w.Instances = append(w.Instances, inst)
		w.Keys = append(w.Keys, k)
		id, secret = k.ClientID, w.clientSecret(kg)
	})
	return id, secret
}

func xsuaaToken(t *testing.T, s *Server, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.TokenBaseURL()+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken
}

type tenantReq struct {
	method, url, auth, body string
	hdr                     map[string]string
	cookie                  *http.Cookie
}

func (tr tenantReq) do(t *testing.T) resp {
	t.Helper()
	req, err := http.NewRequest(tr.method, tr.url, strings.NewReader(tr.body))
	if err != nil {
		t.Fatal(err)
	}
	if tr.auth != "" {
		req.Header.Set("Authorization", tr.auth)
	}
	for k, v := range tr.hdr {
		req.Header.Set(k, v)
	}
	if tr.cookie != nil {
		req.AddCookie(tr.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func basicAuth(id, secret string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}

func TestTenant_KeysPointAtTheirHost(t *testing.T) {
	s, _ := startCF(t, Config{})
	if s.RuntimeURL() == s.TenantAPIURL() || !strings.HasPrefix(s.RuntimeURL(), "http://127.0.0.1:") {
		t.Fatalf("runtime %s, api %s", s.RuntimeURL(), s.TenantAPIURL())
	}
	for plan, want := range map[string]string{itrt.PlanIntegrationFlow: s.RuntimeURL(), itrt.PlanAPI: s.TenantAPIURL()} {
		var got any
		s.Do(func(w *World) {
			inst := &Instance{GUID: "i", Plan: plan}
			got = s.keyCredentials(&Key{GUID: "k", KeyType: "client_id_secret"}, inst, w.Subaccounts[0])["oauth"].(map[string]any)["url"]
		})
		if got != want {
			t.Errorf("%s key url %v, want %s", plan, got, want)
		}
	}
}

func TestTenant_RuntimeAnswersLikeCloudIntegration(t *testing.T) {
	s, clk := startCF(t, Config{})
	id, secret := tenantKey(t, s, itrt.PlanIntegrationFlow, SendRole)
	tok := "Bearer " + xsuaaToken(t, s, id, secret)
	customID, customSecret := tenantKey(t, s, itrt.PlanIntegrationFlow, OrdersRole)
	custom := "Bearer " + xsuaaToken(t, s, customID, customSecret)
	apiID, apiSecret := tenantKey(t, s, itrt.PlanAPI, "MonitoringDataRead")
	apiTok := "Bearer " + xsuaaToken(t, s, apiID, apiSecret)
	cfTok, _ := login(t, s, AdminUser, AdminPassword)
	rt := s.RuntimeURL()
	envelope := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Order/></soap:Body></soap:Envelope>`

	cases := []struct {
		name       string
		req        tenantReq
		status     int
		mpl        bool   // SAP_MessageProcessingLogID set
		bodyHas    string // part of the body
		csrfHeader string
	}{
		{"echo with a token", tenantReq{method: "POST", url: rt + FlowEcho, auth: tok, body: "<a/>", hdr: map[string]string{"Content-Type": "application/xml"}}, 200, true, "<a/>", ""},
		{"echo without a body says so", tenantReq{method: "GET", url: rt + FlowEcho, auth: tok}, 200, true, "without a body", ""},
		{"echo with Basic clientid/secret", tenantReq{method: "POST", url: rt + FlowEcho, auth: basicAuth(id, secret), body: "hi"}, 200, true, "hi", ""},
		{"Basic with a wrong secret", tenantReq{method: "POST", url: rt + FlowEcho, auth: basicAuth(id, secret+"x"), body: "hi"}, 401, false, "", ""},
		{"no credentials", tenantReq{method: "GET", url: rt + FlowEcho}, 401, false, "", ""},
		{"a forged token", tenantReq{method: "GET", url: rt + FlowEcho, auth: tok[:len(tok)-4] + "AAAA"}, 401, false, "", ""},
		{"a Cloud Foundry token", tenantReq{method: "GET", url: rt + FlowEcho, auth: "Bearer " + cfTok}, 401, false, "", ""},
		{"custom role endpoint with ESBMessaging.send", tenantReq{method: "POST", url: rt + FlowOrders, auth: tok, body: "x"}, 403, false, "", ""},
		{"custom role endpoint with the custom role", tenantReq{method: "POST", url: rt + FlowOrders, auth: custom, body: "x"}, 200, true, "x", ""},
		{"echo with only the custom role", tenantReq{method: "POST", url: rt + FlowEcho, auth: custom, body: "x"}, 403, false, "", ""},
		{"an api token on the runtime", tenantReq{method: "POST", url: rt + FlowEcho, auth: apiTok, body: "x"}, 403, false, "", ""},
		{"CSRF endpoint without a token", tenantReq{method: "POST", url: rt + FlowCSRF, auth: tok, body: "x"}, 403, false, "", "Required"},
		{"CSRF endpoint read without a token", tenantReq{method: "GET", url: rt + FlowCSRF, auth: tok}, 200, true, "", ""},
		{"failing iFlow", tenantReq{method: "POST", url: rt + FlowFail, auth: tok, body: "x"}, 500, true, "The MPL ID for the failed message is : AG", ""},
		{"SOAP envelope", tenantReq{method: "POST", url: rt + FlowSOAP, auth: tok, body: envelope, hdr: map[string]string{"Content-Type": "text/xml"}}, 200, true, "<status>received</status>", ""},
		{"SOAP without an envelope", tenantReq{method: "POST", url: rt + FlowSOAP, auth: tok, body: "{}"}, 500, false, "soap:Fault", ""},
		{"SOAP WSDL", tenantReq{method: "GET", url: rt + FlowSOAP + "?wsdl", auth: tok}, 200, false, "wsdl:definitions", ""},
		{"SOAP flow under /http", tenantReq{method: "POST", url: rt + "/http/demo/orders-soap", auth: tok, body: envelope}, 404, false, "Apache Tomcat", ""},
		{"HTTP flow under /cxf", tenantReq{method: "POST", url: rt + "/cxf/demo/echo", auth: tok, body: "x"}, 404, false, "Apache Tomcat", ""},
		{"undeployed flow", tenantReq{method: "GET", url: rt + itrt.ProbePath, auth: tok}, 404, false, "Apache Tomcat", ""},
		{"undeployed flow without a token", tenantReq{method: "GET", url: rt + itrt.ProbePath}, 401, false, "", ""},
		{"wrong prefix", tenantReq{method: "GET", url: rt + "/demo/echo", auth: tok}, 404, false, "Apache Tomcat", ""},
		{"the API on the runtime host", tenantReq{method: "GET", url: rt + "/api/v1/MessageProcessingLogs", auth: apiTok}, 404, false, "Apache Tomcat", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req.do(t)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := r.header.Get(itrt.MPLHeader); (got != "") != tc.mpl || (got != "" && (len(got) != 28 || !strings.HasPrefix(got, "AG"))) {
				t.Errorf("MPL header %q, want set: %v", got, tc.mpl)
			}
			if !strings.Contains(string(r.body), tc.bodyHas) {
				t.Errorf("body lacks %q: %s", tc.bodyHas, r.body)
			}
			if got := r.header.Get(itrt.CSRFHeader); got != tc.csrfHeader {
				t.Errorf("X-CSRF-Token %q, want %q", got, tc.csrfHeader)
			}
			if tc.status == 404 && !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("404 is not HTML: %s", r.header.Get("Content-Type"))
			}
		})
	}

	t.Run("the MPL id of a failure is in header and body alike", func(t *testing.T) {
		r := tenantReq{method: "POST", url: rt + FlowFail, auth: tok}.do(t)
		if id := r.header.Get(itrt.MPLHeader); !strings.Contains(string(r.body), id) {
			t.Errorf("body %q lacks the header's id %s", r.body, id)
		}
	})
	t.Run("an expired token", func(t *testing.T) {
		clk.Add(time.Hour)
		if r := (tenantReq{method: "GET", url: rt + FlowEcho, auth: tok}).do(t); r.status != 401 {
			t.Errorf("status %d after expiry", r.status)
		}
	})
}

func TestTenant_CSRFTokenAndCookieTogether(t *testing.T) {
	s, _ := startCF(t, Config{})
	id, secret := tenantKey(t, s, itrt.PlanIntegrationFlow, SendRole)
	tok := "Bearer " + xsuaaToken(t, s, id, secret)
	u := s.RuntimeURL() + FlowCSRF
	fetch := tenantReq{method: "GET", url: u, auth: tok, hdr: map[string]string{"X-CSRF-Token": "Fetch"}}.do(t)
	csrf := fetch.header.Get("X-CSRF-Token")
	cookies := (&http.Response{Header: fetch.header}).Cookies()
	if fetch.status != 200 || csrf == "" || csrf == "Required" || len(cookies) != 1 || cookies[0].Name != "JSESSIONID" {
		t.Fatalf("fetch: %d token %q cookies %v", fetch.status, csrf, cookies)
	}
	cases := []struct {
		name   string
		token  string
		cookie *http.Cookie
		want   int
	}{
		{"token and cookie", csrf, cookies[0], 200},
		{"token without its cookie", csrf, nil, 403},
		{"cookie without the token", "", cookies[0], 403},
		{"another token", "0123", cookies[0], 403},
	}
	for _, tc := range cases {
		r := tenantReq{method: "POST", url: u, auth: tok, body: "m", hdr: map[string]string{"X-CSRF-Token": tc.token}, cookie: tc.cookie}.do(t)
		if r.status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.status, tc.want)
		}
	}
	secrets := strings.Join(s.IssuedSecrets(), " ")
	if !strings.Contains(secrets, csrf) || !strings.Contains(secrets, cookies[0].Value) {
		t.Error("the CSRF token and session id are not among the issued secrets the canary scans for")
	}
}

func TestTenant_APIReadsNeedTheirRole(t *testing.T) {
	s, _ := startCF(t, Config{})
	id, secret := tenantKey(t, s, itrt.PlanAPI, "MonitoringDataRead")
	tok := "Bearer " + xsuaaToken(t, s, id, secret)
	flowID, flowSecret := tenantKey(t, s, itrt.PlanIntegrationFlow, SendRole)
	flowTok := "Bearer " + xsuaaToken(t, s, flowID, flowSecret)
	// A message, so the log has an entry of this subaccount.
	failed := tenantReq{method: "POST", url: s.RuntimeURL() + FlowFail, auth: flowTok}.do(t).header.Get(itrt.MPLHeader)
	api := s.TenantAPIURL()

	cases := []struct {
		name    string
		req     tenantReq
		status  int
		bodyHas string
	}{
		{"logs as JSON", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs?$top=1&$format=json", auth: tok}, 200, `"MessageGuid":"` + failed + `"`},
		{"logs as Atom by default", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs", auth: tok}, 200, "<d:MessageGuid>" + failed + "</d:MessageGuid>"},
		{"one log by id", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs('" + failed + "')", auth: tok, hdr: map[string]string{"Accept": "application/json"}}, 200, `"Status":"FAILED"`},
		{"an unknown log", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs('AGnope')?$format=json", auth: tok}, 404, "Resource not found"},
		{"packages without WorkspacePackagesRead", tenantReq{method: "GET", url: api + "/api/v1/IntegrationPackages?$format=json", auth: tok}, 403, "Forbidden"},
		{"Basic is not for the api plan", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs", auth: basicAuth(id, secret)}, 401, ""},
		{"no token", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs"}, 401, ""},
		{"an integration-flow token", tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs", auth: flowTok}, 403, ""},
		{"an unknown entity set", tenantReq{method: "GET", url: api + "/api/v1/Nope", auth: tok}, 404, "segment 'Nope'"},
		{"the service document", tenantReq{method: "GET", url: api + "/api/v1/", auth: tok}, 200, "MessageProcessingLogs"},
		{"no writes", tenantReq{method: "POST", url: api + "/api/v1/MessageProcessingLogs", auth: tok}, 405, "read-only"},
		{"iFlows are not on the management host", tenantReq{method: "POST", url: api + FlowEcho, auth: flowTok}, 404, "Apache Tomcat"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req.do(t)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.bodyHas) {
				t.Fatalf("%d %s, want %d with %q", r.status, r.body, tc.status, tc.bodyHas)
			}
		})
	}

	t.Run("another subaccount's logs stay apart", func(t *testing.T) {
		s.Do(func(w *World) {
			for _, k := range w.Keys {
				if k.ClientID == id {
					w.instance(k.Instance).Subaccount = w.Subaccounts[0].GUID
				}
			}
		})
		other := "Bearer " + xsuaaToken(t, s, id, secret)
		r := tenantReq{method: "GET", url: api + "/api/v1/MessageProcessingLogs?$format=json", auth: other}.do(t)
		if r.status != 200 || strings.Contains(string(r.body), failed) {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
}

func TestTenant_ScriptedOutage(t *testing.T) {
	s, _ := startCF(t, Config{})
	s.Inject(Fault{Kind: FaultHTTPStatus, Match: "rt:POST " + FlowEcho, Status: 503, RetryAfter: 2 * time.Second})
	r := tenantReq{method: "POST", url: s.RuntimeURL() + FlowEcho}.do(t)
	if r.status != 503 || r.header.Get("Retry-After") != "2" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	if got := s.Requests(); len(got) != 1 || got[0] != "rt:POST "+FlowEcho {
		t.Errorf("requests %v", got)
	}
}
