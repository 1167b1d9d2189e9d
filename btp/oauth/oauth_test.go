package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func startSim(t *testing.T) *sim.Server {
	t.Helper()
	s, err := sim.Start(sim.Config{ProvisionTime: 10 * time.Millisecond, BindTime: 2 * time.Millisecond, EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// newKey creates an instance and a ClientId/Secret key through Cloud
// Foundry and returns the key's credentials.
func newKey(t *testing.T, s *sim.Server, plan, name, instParams string) oauth.Credentials {
	t.Helper()
	var d struct {
		ClientID     string `json:"clientid"`
		ClientSecret string `json:"clientsecret"`
		TokenURL     string `json:"tokenurl"`
	}
	newKeyOf(t, s, plan, name, instParams, nil, &d)
	return oauth.Credentials{ClientID: d.ClientID, ClientSecret: d.ClientSecret, TokenURL: d.TokenURL}
}

// newKeyOf creates an instance and a key with keyParams through Cloud
// Foundry and decodes the key's oauth object into v.
func newKeyOf(t *testing.T, s *sim.Server, plan, name, instParams string, keyParams json.RawMessage, v any) {
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
	kjob, err := c.CreateKey(ctx(t), name+"-key", j.ResourceGUID, keyParams)
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
		OAuth json.RawMessage `json:"oauth"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(d.OAuth, v); err != nil {
		t.Fatal(err)
	}
}

func countRequests(s *sim.Server, key string) int {
	n := 0
	for _, r := range s.Requests() {
		if r == key {
			n++
		}
	}
	return n
}

func TestVerify_ScopesOfBothPlans(t *testing.T) {
	s := startSim(t)
	tests := []struct {
		plan, params, suffix string
		expires              time.Duration
	}{
		{"integration-flow", `{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[],"token-validity":3600}`, ".ESBMessaging.send", 3599 * time.Second},
		{"api", `{"roles":["MonitoringDataRead"],"grant-types":["client_credentials"]}`, ".MonitoringDataRead", 43199 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			creds := newKey(t, s, tt.plan, "v-"+tt.plan, tt.params)
			s.ResetRequests()
			info, err := oauth.Verify(ctx(t), nil, creds)
			if err != nil {
				t.Fatal(err)
			}
			if !info.HasScopeSuffix(tt.suffix) || info.HasScopeSuffix(".NoSuchRole") {
				t.Errorf("scopes %v", info.Scopes)
			}
			if info.ExpiresIn != tt.expires || info.ClientID != creds.ClientID {
				t.Errorf("info %+v", info)
			}
			// One request: Basic, form-encoded and flagged, is accepted as is.
			if n := countRequests(s, "xsuaa:POST /oauth/token"); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
		})
	}
}

func TestVerify_FallsBackToFormBody(t *testing.T) {
	s := startSim(t)
	creds := newKey(t, s, "integration-flow", "fb", `{"roles":["ESBMessaging.send"]}`)
	s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "xsuaa:POST /oauth/token", Status: 401})
	s.ResetRequests()
	info, err := oauth.Verify(ctx(t), nil, creds)
	if err != nil || !info.HasScopeSuffix(".ESBMessaging.send") {
		t.Fatalf("%v %v", info, err)
	}
	if n := countRequests(s, "xsuaa:POST /oauth/token"); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestVerify_Errors(t *testing.T) {
	s := startSim(t)
	good := newKey(t, s, "integration-flow", "good", `{"roles":["ESBMessaging.send"]}`)
	noGrant := newKey(t, s, "integration-flow", "nogrant", `{"roles":["ESBMessaging.send"],"grant-types":["authorization_code"]}`)
	with := func(f func(c *oauth.Credentials)) oauth.Credentials {
		c := good
		f(&c)
		return c
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/oauth/token"
	ln.Close()
	tests := []struct {
		name  string
		creds oauth.Credentials
		fault *sim.Fault
		want  string
	}{
		{"wrong secret", with(func(c *oauth.Credentials) { c.ClientSecret += "x" }), nil,
			"the token server rejected the client id or secret (invalid_client) — the key may have been deleted or rotated; create a new key"},
		{"unknown client", with(func(c *oauth.Credentials) { c.ClientID = "sb-gone!b1|it-rt-x!b56186" }), nil,
			"the token server rejected the client id or secret (invalid_client)"},
		{"wrong path", with(func(c *oauth.Credentials) { c.TokenURL = s.TokenBaseURL() + "/uaa/oauth/token" }), nil,
			"did not answer like an OAuth token endpoint; check tokenurl"},
		{"cloud controller instead", with(func(c *oauth.Credentials) { c.TokenURL = s.CFAPIURL() + "/v3/organizations" }), nil,
			"did not answer like an OAuth token endpoint; check tokenurl"},
		{"plain http", with(func(c *oauth.Credentials) {
			c.TokenURL = "http://acme.authentication.eu10.hana.ondemand.com/oauth/token"
		}), nil,
			"tokenurl: refusing plain http://"},
		{"unreachable", with(func(c *oauth.Credentials) { c.TokenURL = dead }), nil, "cannot reach the token server"},
		{"no client_credentials grant", noGrant, nil, "refused the client_credentials grant"},
		{"certificate key", with(func(c *oauth.Credentials) { c.ClientSecret = "" }), nil, "only ClientId/Secret keys"},
		{"server error", good, &sim.Fault{Kind: sim.FaultHTTPStatus, Match: "xsuaa:POST /oauth/token", Status: 503}, "refused the token request: server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				s.Inject(*tt.fault)
			}
			_, err := oauth.Verify(ctx(t), transport.NewHTTPClient(transport.Options{Timeout: 3 * time.Second}), tt.creds)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
			for _, sec := range []string{good.ClientSecret, url.QueryEscape(good.ClientSecret), noGrant.ClientSecret} {
				if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), sec) {
					t.Errorf("error carries the client secret: %v", err)
				}
			}
		})
	}
}

// A token server echoing the credentials must not get them into our error.
func TestVerify_ScrubsEchoedSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm() //nolint:errcheck
		id, sec, _ := r.BasicAuth()
		if sec == "" {
			sec = r.PostForm.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":"client %s with secret %s"}`, id, sec)
	}))
	defer srv.Close()
	secret := "8d1c2b3a-4e5f$Zm9vYmFy/YmF6+cXV4="
	_, err := oauth.Verify(ctx(t), nil, oauth.Credentials{ClientID: "sb-x!b1|it-rt-y!b2", ClientSecret: secret, TokenURL: srv.URL + "/oauth/token"})
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), url.QueryEscape(secret)) {
		t.Errorf("err = %v", err)
	}
}

func jwt(payload string) string {
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestDecodeJWTPayload(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ok    bool
		scope int
	}{
		{"array scope", jwt(`{"scope":["a.ESBMessaging.send","uaa.resource"],"client_id":"x"}`), true, 2},
		{"padded", strings.Replace(jwt(`{"a":1}`), ".c2ln", "==.c2ln", 1), true, 0},
		{"standard alphabet", "h." + base64.RawStdEncoding.EncodeToString([]byte(`{"s":"?>?>"}`)) + ".s", true, 0},
		{"two parts", "a.b", false, 0},
		{"not base64", "a.!!!.c", false, 0},
		{"not an object", jwt(`[1,2]`), false, 0},
		{"null", jwt(`null`), false, 0},
		{"empty", "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := oauth.DecodeJWTPayload(tt.token)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil && tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error quotes the token")
			}
			if sc, _ := m["scope"].([]any); len(sc) != tt.scope {
				t.Errorf("scope %v", m["scope"])
			}
		})
	}
}

func FuzzDecodeJWTPayload(f *testing.F) {
	f.Add(jwt(`{"scope":["x.ESBMessaging.send"],"exp":1}`))
	f.Add("a.b.c")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		m, err := oauth.DecodeJWTPayload(tok)
		if err == nil && m == nil {
			t.Fatalf("nil claims without error")
		}
		if err != nil && len(tok) > 8 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error quotes the token")
		}
	})
}
