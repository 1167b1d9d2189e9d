package cf_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/sim"
)

func TestNew_RefusesUnsafeAPIURLs(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://api.cf.eu10.hana.ondemand.com", true},
		{"https://api.cf.eu10.hana.ondemand.com/", true},
		{"http://127.0.0.1:8080", true},
		{"http://api.cf.eu10.hana.ondemand.com", false},
		{"ftp://api.example.com", false},
		{"https://api.example.com?x=1", false},
		{"https://user:pw@api.example.com", false},
	}
	for _, tt := range tests {
		_, err := cf.New(tt.url, nil)
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) err = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestDiscoverAndPrompts(t *testing.T) {
	s := startSim(t, sim.Config{})
	c, _ := newClient(t, s.CFAPIURL())
	ep, err := c.Discover(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if ep.Login != s.CFAPIURL() || ep.UAA != s.CFAPIURL() || ep.Version == "" {
		t.Errorf("endpoints %+v", ep)
	}
	p, err := c.Prompts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.PasscodeURL != s.CFAPIURL()+"/passcode" || !strings.Contains(p.PasscodeText, "Temporary Authentication Code") {
		t.Errorf("prompts %+v", p)
	}

	// Not a CF API: the XSUAA host answers GET / with an HTML 404.
	other, _ := newClient(t, s.TokenBaseURL())
	if _, err := other.Discover(ctx(t)); err == nil || !strings.Contains(err.Error(), "did not answer like a Cloud Foundry API") {
		t.Errorf("Discover on a non-CF host: %v", err)
	}
}

func TestLogin(t *testing.T) {
	s := startSim(t, sim.Config{})
	s.Do(func(w *sim.World) {
		w.Users = append(w.Users, &sim.User{Email: "ias@acme.example", Password: "Ias-pw-1", Origin: sim.CustomIdP, SpaceDeveloper: []string{"*"}})
	})
	used := s.IssuePasscode(sim.AdminUser)
	first, _ := newClient(t, s.CFAPIURL())
	if err := first.LoginPasscode(ctx(t), used); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		login func(c *cf.Client) error
		check func(error) bool
		user  string
	}{
		{"password", func(c *cf.Client) error { return c.LoginPassword(ctx(t), sim.AdminUser, sim.AdminPassword, "") }, nil, sim.AdminUser},
		{"custom origin", func(c *cf.Client) error {
			return c.LoginPassword(ctx(t), "ias@acme.example", "Ias-pw-1", sim.CustomIdP)
		}, nil, "ias@acme.example"},
		{"passcode", func(c *cf.Client) error { return c.LoginPasscode(ctx(t), s.IssuePasscode(sim.NoDevUser)) }, nil, sim.NoDevUser},
		{"wrong password", func(c *cf.Client) error { return c.LoginPassword(ctx(t), sim.AdminUser, "wrong-pw", "") }, cf.IsBadCredentials, ""},
		{"unknown origin", func(c *cf.Client) error {
			return c.LoginPassword(ctx(t), sim.AdminUser, sim.AdminPassword, "nope.example")
		}, cf.IsInvalidOrigin, ""},
		{"used passcode", func(c *cf.Client) error { return c.LoginPasscode(ctx(t), used) }, cf.IsBadCredentials, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, s.CFAPIURL())
			err := tt.login(c)
			if tt.check == nil {
				if err != nil || !c.LoggedIn() || c.User() != tt.user {
					t.Fatalf("err %v, logged in %v, user %q", err, c.LoggedIn(), c.User())
				}
				if _, err := c.ListOrgs(ctx(t)); err != nil {
					t.Errorf("ListOrgs after login: %v", err)
				}
				return
			}
			var ae *cf.AuthError
			if !tt.check(err) || !errors.As(err, &ae) || ae.Status != 401 {
				t.Fatalf("err = %v", err)
			}
			if c.LoggedIn() {
				t.Errorf("logged in after a failed login")
			}
		})
	}
	c, _ := newClient(t, s.CFAPIURL())
	if _, err := c.ListOrgs(ctx(t)); !cf.IsLoginRequired(err) {
		t.Errorf("call before login: %v", err)
	}
}

func TestOrgsAndSpaces(t *testing.T) {
	s := startSim(t, sim.Config{})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	orgs, err := c.ListOrgs(ctx(t))
	if err != nil || len(orgs) != 3 || orgs[0].Name > orgs[1].Name || orgs[1].Name > orgs[2].Name { // CPI Dev, New, QA
		t.Fatalf("orgs %v %v", orgs, err)
	}
	want := sim.SubReadySubdomain + "_qa"
	o, err := c.GetOrgByName(ctx(t), strings.ToUpper(want))
	if err != nil || o.Name != want {
		t.Fatalf("GetOrgByName: %v %v", o, err)
	}
	if _, err := c.GetOrgByName(ctx(t), "nosuchorg"); !cf.IsNotFound(err) {
		t.Errorf("missing org: %v", err)
	}
	spaces, err := c.ListSpaces(ctx(t), o.GUID)
	if err != nil || len(spaces) != 2 || spaces[0].Name != "dev" || spaces[0].OrgGUID != o.GUID {
		t.Fatalf("spaces %v %v", spaces, err)
	}
	if sp, err := c.GetSpaceByName(ctx(t), o.GUID, "prod"); err != nil || sp.Name != "prod" {
		t.Errorf("GetSpaceByName: %v %v", sp, err)
	}
	if _, err := c.GetSpaceByName(ctx(t), o.GUID, "qa"); !cf.IsNotFound(err) {
		t.Errorf("missing space: %v", err)
	}
}

func TestListSpaces_FollowsPagination(t *testing.T) {
	s := startSim(t, sim.Config{})
	s.AddSpaces(sim.SubReadySubdomain, 120)
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	o, err := c.GetOrgByName(ctx(t), sim.SubReadySubdomain+"_qa")
	if err != nil {
		t.Fatal(err)
	}
	s.ResetRequests()
	spaces, err := c.ListSpaces(ctx(t), o.GUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(spaces) != 122 {
		t.Fatalf("%d spaces, want 122", len(spaces))
	}
	seen := map[string]bool{}
	for _, sp := range spaces {
		if seen[sp.GUID] {
			t.Fatalf("space %s twice", sp.Name)
		}
		seen[sp.GUID] = true
	}
	if n := countRequests(s, "cf:GET /v3/spaces"); n != 3 {
		t.Errorf("%d page requests, want 3 (per_page 50)", n)
	}
}

func TestPagination_RefusesLinksToOtherHosts(t *testing.T) {
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			stolen.Add(1)
		}
		w.Write([]byte(`{"pagination":{"next":null},"resources":[]}`)) //nolint:errcheck
	}))
	defer evil.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Write([]byte(`{"links":{"login":{"href":"` + api.URL + `"}}}`)) //nolint:errcheck
		case "/oauth/token":
			w.Write([]byte(`{"access_token":"a.b.c","refresh_token":"r","expires_in":1199}`)) //nolint:errcheck
		default:
			w.Write([]byte(`{"pagination":{"next":{"href":"` + evil.URL + `/v3/organizations?page=2"}},"resources":[{"guid":"g1","name":"o1"}]}`)) //nolint:errcheck
		}
	}))
	defer api.Close()
	c, _ := newClient(t, api.URL)
	if err := c.LoginPassword(ctx(t), "u", "p", ""); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListOrgs(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "refusing to follow a link") {
		t.Errorf("ListOrgs with a foreign next link: %v", err)
	}
	if _, err := c.WaitJob(ctx(t), evil.URL+"/v3/jobs/x", fastPoll, nil); err == nil {
		t.Errorf("WaitJob on a foreign host must fail")
	}
	if stolen.Load() != 0 {
		t.Errorf("the bearer token was sent to another host")
	}
}

func TestFindPlan_VisibleOnlyWhereEntitled(t *testing.T) {
	s := startSim(t, sim.Config{})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	_, ready := target(t, c, s, sim.SubReadySubdomain, "dev")
	_, fresh := target(t, c, s, sim.SubFreshSubdomain, "dev")
	tests := []struct {
		space, plan string
		found       bool
	}{
		{ready.GUID, "integration-flow", true},
		{ready.GUID, "api", true},
		{ready.GUID, "iflow", false},
		{fresh.GUID, "integration-flow", false},
	}
	for _, tt := range tests {
		p, err := c.FindPlan(ctx(t), "it-rt", tt.plan, tt.space)
		if err != nil || (p != nil) != tt.found {
			t.Errorf("FindPlan(%s in %s) = %v, %v", tt.plan, tt.space, p, err)
			continue
		}
		if p != nil && (p.Name != tt.plan || !p.Bindable || p.VisibilityType != "organization" || p.OfferingGUID == "") {
			t.Errorf("plan %+v", p)
		}
	}
}

func TestProvision_InstanceKeyCredentialsAndDelete(t *testing.T) {
	s := startSim(t, sim.Config{ProvisionTime: 30 * time.Millisecond})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	if inst, err := c.FindInstance(ctx(t), "cpi", sp.GUID); err != nil || inst != nil {
		t.Fatalf("FindInstance before create: %v %v", inst, err)
	}
	plan, err := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	if err != nil {
		t.Fatal(err)
	}
	jobURL, err := c.CreateInstance(ctx(t), "cpi", sp.GUID, plan.GUID, ifParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(jobURL, s.CFAPIURL()+"/v3/jobs/") {
		t.Errorf("job URL %q", jobURL)
	}
	// The instance exists at once, not yet ready.
	early, err := c.FindInstance(ctx(t), "cpi", sp.GUID)
	if err != nil || early == nil || early.Ready() {
		t.Fatalf("instance right after create: %+v %v", early, err)
	}
	var states []string
	job, err := c.WaitJob(ctx(t), jobURL, fastPoll, func(j cf.Job) {
		if len(states) == 0 || states[len(states)-1] != j.State {
			states = append(states, j.State)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if states[len(states)-1] != cf.JobComplete || !strings.Contains(strings.Join(states, ","), cf.JobPolling) {
		t.Errorf("job states %v", states)
	}
	if job.Operation != "service_instance.create" || job.ResourceGUID != early.GUID {
		t.Errorf("job %+v", job)
	}
	inst, err := c.GetInstance(ctx(t), early.GUID)
	if err != nil || !inst.Ready() || inst.PlanGUID != plan.GUID || inst.SpaceGUID != sp.GUID {
		t.Fatalf("instance %+v %v", inst, err)
	}

	keyJob, err := c.CreateKey(ctx(t), "cpi-key", inst.GUID, json.RawMessage(`{"key-type":"client_id_secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	kj, err := c.WaitJob(ctx(t), keyJob, fastPoll, nil)
	if err != nil || kj.Operation != "service_keys.create" || kj.ResourceGUID == "" {
		t.Fatalf("key job %+v %v", kj, err)
	}
	key, err := c.FindKey(ctx(t), "cpi-key", inst.GUID)
	if err != nil || key == nil || key.GUID != kj.ResourceGUID || key.LastOperation.State != cf.StateSucceeded {
		t.Fatalf("FindKey %+v %v", key, err)
	}
	if k, err := c.GetKey(ctx(t), key.GUID); err != nil || k.Name != "cpi-key" || k.InstanceGUID != inst.GUID {
		t.Errorf("GetKey %+v %v", k, err)
	}
	raw, err := c.KeyDetails(ctx(t), key.GUID)
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		OAuth struct {
			ClientID, ClientSecret, TokenURL, URL string
		} `json:"oauth"`
	}
	if err := json.Unmarshal(raw, &creds); err != nil || creds.OAuth.ClientSecret == "" || creds.OAuth.TokenURL != s.TokenBaseURL()+"/oauth/token" {
		t.Fatalf("credentials: %v", err)
	}

	delKey, err := c.DeleteKey(ctx(t), key.GUID)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := c.WaitJob(ctx(t), delKey, fastPoll, nil); err != nil || j.Operation != "service_keys.delete" {
		t.Fatalf("delete key job %+v %v", j, err)
	}
	if k, err := c.FindKey(ctx(t), "cpi-key", inst.GUID); err != nil || k != nil {
		t.Errorf("key after delete: %+v %v", k, err)
	}
	delInst, err := c.DeleteInstance(ctx(t), inst.GUID)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := c.WaitJob(ctx(t), delInst, fastPoll, nil); err != nil || j.ResourceURL != "" {
		t.Fatalf("delete instance job %+v %v", j, err)
	}
	if _, err := c.GetInstance(ctx(t), inst.GUID); !cf.IsNotFound(err) {
		t.Errorf("GetInstance after delete: %v", err)
	}
}

func TestCreateInstance_Errors(t *testing.T) {
	s := startSim(t, sim.Config{})
	admin := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	nodev := loggedIn(t, s, sim.NoDevUser, sim.NoDevPass)
	_, sp := target(t, admin, s, sim.SubReadySubdomain, "dev")
	_, fresh := target(t, admin, s, sim.SubFreshSubdomain, "dev")
	plan, _ := admin.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	readyInstance(t, admin, sp.GUID, "taken")
	tests := []struct {
		name   string
		c      *cf.Client
		inst   string
		space  string
		params string
		check  func(error) bool
		status int
	}{
		{"name taken", admin, "taken", sp.GUID, "", cf.IsNameTaken, 422},
		{"not space developer", nodev, "x", sp.GUID, "", cf.IsNotAuthorized, 403},
		{"plan not in space", admin, "x", fresh.GUID, "", func(err error) bool {
			e := &cf.Error{}
			return errors.As(err, &e) && strings.Contains(e.First().Detail, "Ensure that the service plan is visible in your current space")
		}, 422},
		{"params not an object", admin, "x", sp.GUID, "[1]", func(err error) bool { return err != nil && strings.Contains(err.Error(), "JSON object") }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.CreateInstance(ctx(t), tt.inst, tt.space, plan.GUID, json.RawMessage(tt.params))
			if !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			var e *cf.Error
			if tt.status != 0 && (!errors.As(err, &e) || e.Status != tt.status || e.RequestID == "") {
				t.Errorf("typed error %#v", err)
			}
			if cf.IsNameTaken(err) != (tt.name == "name taken") || cf.IsNotAuthorized(err) != (tt.name == "not space developer") {
				t.Errorf("helpers misclassify %v", err)
			}
		})
	}
}

func TestWaitJob_FailedSurfacesBrokerText(t *testing.T) {
	s := startSim(t, sim.Config{})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	plan, _ := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	tests := []struct {
		name   string
		fault  sim.Fault
		params string
		detail string
	}{
		{"broker", sim.Fault{Kind: sim.FaultBrokerFailure, Match: "cf:POST /v3/service_instances", Message: "Plan is not entitled for this subaccount"}, "",
			"provision could not be completed: Service broker error: Plan is not entitled for this subaccount"},
		{"schema", sim.Fault{}, `{"xsappname":"x"}`, "provision could not be completed: Service broker error: Invalid parameters: additional properties are not allowed: xsappname"},
		{"async", sim.Fault{Kind: sim.FaultJobFailure, Match: "cf:POST /v3/service_instances", Message: "quota exceeded"}, "", "create managed could not be completed: quota exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault.Kind != "" {
				s.Inject(tt.fault)
			}
			job, err := c.CreateInstance(ctx(t), "f-"+tt.name, sp.GUID, plan.GUID, json.RawMessage(tt.params))
			if err != nil {
				t.Fatal(err)
			}
			j, err := c.WaitJob(ctx(t), job, fastPoll, nil)
			var jf *cf.JobFailedError
			if !errors.As(err, &jf) || jf.Detail() != tt.detail || j == nil || j.State != cf.JobFailed {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("Error() %q lacks the broker text", err)
			}
			inst, _ := c.FindInstance(ctx(t), "f-"+tt.name, sp.GUID)
			if inst == nil || inst.LastOperation.State != cf.StateFailed || inst.LastOperation.Description == "" {
				t.Errorf("failed instance %+v", inst)
			}
		})
	}
}

func TestCreateKey_Errors(t *testing.T) {
	s := startSim(t, sim.Config{ProvisionTime: 100 * time.Millisecond})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	nodev := loggedIn(t, s, sim.NoDevUser, sim.NoDevPass)
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	plan, _ := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	jobURL, err := c.CreateInstance(ctx(t), "slow", sp.GUID, plan.GUID, ifParams)
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := c.FindInstance(ctx(t), "slow", sp.GUID)
	if _, err := c.CreateKey(ctx(t), "k", inst.GUID, nil); !cf.IsOperationInProgress(err) {
		t.Fatalf("key before the instance is ready: %v", err)
	}
	if _, err := c.WaitJob(ctx(t), jobURL, cf.PollInterval{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}, nil); err != nil {
		t.Fatal(err)
	}
	kj, err := c.CreateKey(ctx(t), "k", inst.GUID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx(t), "k", inst.GUID, nil); !cf.IsNameTaken(err) {
		t.Errorf("key name taken: %v", err)
	}
	if _, err := nodev.CreateKey(ctx(t), "k2", inst.GUID, nil); !cf.IsNotAuthorized(err) {
		t.Errorf("nodev key: %v", err)
	}
	j, _ := c.WaitJob(ctx(t), kj, fastPoll, nil)
	if _, err := nodev.KeyDetails(ctx(t), j.ResourceGUID); !cf.IsNotAuthorized(err) {
		t.Errorf("nodev details: %v", err)
	}
	if _, err := c.KeyDetails(ctx(t), "00000000-0000-4000-8000-000000000000"); !cf.IsNotFound(err) {
		t.Errorf("details of unknown key: %v", err)
	}
	bad, _ := c.CreateKey(ctx(t), "k3", inst.GUID, json.RawMessage(`{"credential-type":"x509"}`))
	if _, err := c.WaitJob(ctx(t), bad, fastPoll, nil); err == nil || !strings.Contains(err.Error(), "bind could not be completed: Service broker error: Invalid parameters") {
		t.Errorf("bad key params: %v", err)
	}
}

func TestCertificateKey_HasNoSecret(t *testing.T) {
	s := startSim(t, sim.Config{})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	inst := readyInstance(t, c, sp.GUID, "cert")
	kj, err := c.CreateKey(ctx(t), "cert-key", inst.GUID, json.RawMessage(`{"key-type":"certificate","validity":365,"key-length":2048}`))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.WaitJob(ctx(t), kj, fastPoll, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.KeyDetails(ctx(t), j.ResourceGUID)
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		OAuth map[string]any `json:"oauth"`
	}
	json.Unmarshal(raw, &creds) //nolint:errcheck
	if _, has := creds.OAuth["clientsecret"]; has || creds.OAuth["certificate"] == nil || creds.OAuth["key"] == nil {
		t.Errorf("certificate key credentials have keys %v", keys(creds.OAuth))
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTokenRefresh(t *testing.T) {
	t.Run("proactive", func(t *testing.T) {
		// A 30s token is inside the 60s margin: every call refreshes first.
		s := startSim(t, sim.Config{TokenLifetime: 30 * time.Second})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		s.ResetRequests()
		for i := 0; i < 3; i++ {
			if _, err := c.ListOrgs(ctx(t)); err != nil {
				t.Fatal(err)
			}
		}
		if n := countRequests(s, "uaa:POST /oauth/token"); n != 3 {
			t.Errorf("%d refreshes for 3 calls, want 3", n)
		}
	})
	t.Run("reactive in the middle of a flow", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
		s.Inject(sim.Fault{Kind: sim.FaultTokenExpiry, Match: "cf:GET /v3/jobs/"})
		s.ResetRequests()
		inst := readyInstance(t, c, sp.GUID, "mid")
		if inst == nil || countRequests(s, "uaa:POST /oauth/token") != 1 {
			t.Errorf("requests %v", s.Requests())
		}
	})
	t.Run("fresh token rejected too", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		s.Inject(sim.Fault{Kind: sim.FaultTokenExpiry, Match: "cf:GET /v3/organizations", Times: 2})
		_, err := c.ListOrgs(ctx(t))
		if !cf.IsLoginRequired(err) || countRequests(s, "cf:GET /v3/organizations") != 2 {
			t.Fatalf("err = %v, requests %v", err, s.Requests())
		}
	})
	t.Run("refresh rejected", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		s.Inject(sim.Fault{Kind: sim.FaultTokenExpiry, Match: "cf:GET /v3/organizations"})
		s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "uaa:POST /oauth/token", Status: 401, Message: "The token expired, was revoked, or the token ID is incorrect."})
		_, err := c.ListOrgs(ctx(t))
		if !cf.IsLoginRequired(err) || !strings.Contains(err.Error(), "log in again") {
			t.Fatalf("err = %v", err)
		}
		if c.LoggedIn() {
			t.Errorf("session kept after the refresh was rejected")
		}
	})
}

func TestRetries(t *testing.T) {
	t.Run("429 on GET honours Retry-After", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		// Retry-After is whole seconds; the policy caps a wait at 3×MaxDelay,
		// so a 1s Retry-After becomes 300ms, far above the 1ms back-off.
		c.Retry.MaxDelay = 100 * time.Millisecond
		s.Inject(sim.Fault{Kind: sim.FaultCF429, Match: "cf:GET /v3/organizations", RetryAfter: time.Second})
		start := time.Now()
		if _, err := c.ListOrgs(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("retried after %v: Retry-After ignored", d)
		}
	})
	t.Run("429 on POST is retried once, creating one instance", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
		plan, _ := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
		c.Retry.MaxDelay = time.Millisecond
		s.Inject(sim.Fault{Kind: sim.FaultCF429, Match: "cf:POST /v3/service_instances"})
		if _, err := c.CreateInstance(ctx(t), "r429", sp.GUID, plan.GUID, ifParams); err != nil {
			t.Fatal(err)
		}
		if n := countRequests(s, "cf:POST /v3/service_instances"); n != 2 {
			t.Errorf("%d POSTs, want 2", n)
		}
	})
	t.Run("502 on GET retried, on POST not", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
		plan, _ := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
		s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cf:GET /v3/service_instances", Status: 502, Times: 2})
		if _, err := c.FindInstance(ctx(t), "x", sp.GUID); err != nil {
			t.Fatalf("GET after two 502s: %v", err)
		}
		s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cf:POST /v3/service_instances", Status: 502})
		s.ResetRequests()
		_, err := c.CreateInstance(ctx(t), "x", sp.GUID, plan.GUID, ifParams)
		var e *cf.Error
		if !errors.As(err, &e) || e.Status != 502 || e.First().Title != "CF-ServiceBrokerBadResponse" {
			t.Fatalf("err = %v", err)
		}
		if n := countRequests(s, "cf:POST /v3/service_instances"); n != 1 {
			t.Errorf("%d POSTs after a 502, want 1", n)
		}
	})
	t.Run("budget is bounded", func(t *testing.T) {
		s := startSim(t, sim.Config{})
		c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
		c.Retry.MaxDelay = time.Millisecond
		s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cf:GET /v3/organizations", Status: 503, Times: 100})
		s.ResetRequests()
		_, err := c.ListOrgs(ctx(t))
		var e *cf.Error
		if !errors.As(err, &e) || e.Status != 503 {
			t.Fatalf("err = %v", err)
		}
		if n := countRequests(s, "cf:GET /v3/organizations"); n != fastRetry.MaxAttempts {
			t.Errorf("%d attempts, want %d", n, fastRetry.MaxAttempts)
		}
	})
}

func TestWaitJob_PacingAndCancel(t *testing.T) {
	s := startSim(t, sim.Config{ProvisionTime: 120 * time.Millisecond})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	plan, _ := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	job, err := c.CreateInstance(ctx(t), "paced", sp.GUID, plan.GUID, ifParams)
	if err != nil {
		t.Fatal(err)
	}
	polls := 0
	if _, err := c.WaitJob(ctx(t), job, cf.PollInterval{Min: 40 * time.Millisecond, Max: 40 * time.Millisecond}, func(cf.Job) { polls++ }); err != nil {
		t.Fatal(err)
	}
	if polls < 2 || polls > 5 {
		t.Errorf("%d polls for 120ms at 40ms", polls)
	}

	job2, _ := c.CreateInstance(ctx(t), "cancelled", sp.GUID, plan.GUID, ifParams)
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.WaitJob(cctx, job2, cf.PollInterval{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("cancelled wait: %v after %v", err, time.Since(start))
	}
}
