package cf_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/sim"
)

// TestErrors_NeverCarrySecrets scripts every failure class and proves no
// password, passcode, access/refresh/id token or client secret appears in
// the resulting errors.
func TestErrors_NeverCarrySecrets(t *testing.T) {
	s := startSim(t, sim.Config{})
	c, rec := newClient(t, s.CFAPIURL())
	if err := c.LoginPassword(ctx(t), sim.AdminUser, sim.AdminPassword, ""); err != nil {
		t.Fatal(err)
	}
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	plan, _ := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	inst := readyInstance(t, c, sp.GUID, "secret-test")
	kj, _ := c.CreateKey(ctx(t), "k", inst.GUID, nil)
	j, _ := c.WaitJob(ctx(t), kj, fastPoll, nil)
	raw, err := c.KeyDetails(ctx(t), j.ResourceGUID)
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		OAuth struct {
			ClientSecret string `json:"clientsecret"`
		} `json:"oauth"`
	}
	json.Unmarshal(raw, &creds) //nolint:errcheck

	wrongPW := "Wr0ng-S3cret-pw!"
	passcode := s.IssuePasscode(sim.AdminUser)
	var errs []error
	add := func(what string, err error) {
		if err == nil {
			t.Errorf("%s: expected an error", what)
			return
		}
		t.Logf("%s: %v", what, err)
		errs = append(errs, err)
	}

	other, rec2 := newClient(t, s.CFAPIURL())
	add("wrong password", other.LoginPassword(ctx(t), sim.AdminUser, wrongPW, ""))
	other.LoginPasscode(ctx(t), passcode) //nolint:errcheck // consumes it
	add("used passcode", other.LoginPasscode(ctx(t), passcode))
	nodev := loggedIn(t, s, sim.NoDevUser, sim.NoDevPass)
	_, err = nodev.CreateInstance(ctx(t), "x", sp.GUID, plan.GUID, ifParams)
	add("not authorized", err)
	_, err = c.CreateInstance(ctx(t), "secret-test", sp.GUID, plan.GUID, ifParams)
	add("name taken", err)
	_, err = c.GetInstance(ctx(t), "00000000-0000-4000-8000-000000000000")
	add("not found", err)
	_, err = c.KeyDetails(ctx(t), "00000000-0000-4000-8000-000000000000")
	add("details not found", err)
	s.Inject(sim.Fault{Kind: sim.FaultBrokerFailure, Match: "cf:POST /v3/service_instances", Message: "broker says no"})
	fj, _ := c.CreateInstance(ctx(t), "failing", sp.GUID, plan.GUID, ifParams)
	_, err = c.WaitJob(ctx(t), fj, fastPoll, nil)
	add("job failed", err)
	s.Inject(sim.Fault{Kind: sim.FaultCF429, Match: "cf:GET /v3/organizations", Times: 100})
	c.Retry.MaxDelay = time.Millisecond
	_, err = c.ListOrgs(ctx(t))
	add("429", err)
	s.ClearFaults()
	s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cf:POST /v3/service_credential_bindings", Status: 502})
	_, err = c.CreateKey(ctx(t), "k2", inst.GUID, nil)
	add("502", err)
	s.Inject(sim.Fault{Kind: sim.FaultTokenExpiry, Match: "cf:GET /v3/spaces"})
	s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "uaa:POST /oauth/token", Status: 401})
	_, err = c.ListSpaces(ctx(t), sp.OrgGUID)
	add("refresh rejected", err)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	deadC, _ := newClient(t, dead)
	add("unreachable", deadC.LoginPassword(ctx(t), sim.AdminUser, sim.AdminPassword, ""))

	secrets := []string{sim.AdminPassword, wrongPW, passcode, creds.OAuth.ClientSecret}
	secrets = append(secrets, rec.tokens()...)
	secrets = append(secrets, rec2.tokens()...)
	if len(rec.tokens()) < 3 {
		t.Fatalf("recorded only %d tokens", len(rec.tokens()))
	}
	for _, err := range errs {
		for _, f := range []string{"%v", "%+v", "%#v"} {
			text := fmt.Sprintf(f, err)
			for _, sec := range secrets {
				if sec != "" && strings.Contains(text, sec) {
					t.Errorf("error %q carries a secret (%d chars)", err, len(sec))
				}
			}
		}
	}
}

// TestErrors_ScrubEchoedSecrets: a server that echoes what it was sent must
// not get the password or token into an error through us.
func TestErrors_ScrubEchoedSecrets(t *testing.T) {
	claims, _ := json.Marshal(map[string]any{"exp": time.Now().Add(time.Hour).Unix(), "user_name": "u"})
	token := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(claims) + ".c2lnbmF0dXJl"
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, `{"links":{"login":{"href":%q}}}`, api.URL)
		case "/oauth/token":
			r.ParseForm() //nolint:errcheck
			if pw := r.PostForm.Get("password"); pw != "good-password" {
				w.WriteHeader(401)
				fmt.Fprintf(w, `{"error":"unauthorized","error_description":"Bad credentials: %s"}`, pw)
				return
			}
			fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"refresh-0123456789-r","expires_in":3600}`, token)
		default:
			w.WriteHeader(422)
			fmt.Fprintf(w, `{"errors":[{"code":10008,"title":"CF-UnprocessableEntity","detail":"you sent %s"}]}`, r.Header.Get("Authorization"))
		}
	}))
	defer api.Close()
	c, _ := newClient(t, api.URL)
	err := c.LoginPassword(ctx(t), "u", "echo-this-password", "")
	if err == nil || strings.Contains(err.Error(), "echo-this-password") || !cf.IsBadCredentials(err) {
		t.Errorf("login error %v", err)
	}
	if err := c.LoginPassword(ctx(t), "u", "good-password", ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListOrgs(ctx(t))
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("CC error %v", err)
	}
}
