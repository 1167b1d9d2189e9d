package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of the Cloud Foundry + UAA + XSUAA half with raw net/http, so the
// wire quirks themselves are pinned down (not what some client makes of them).

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startCF(t *testing.T, cfg Config) (*Server, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 7, 10, 6, 49, 28, 0, time.UTC)}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	if cfg.ProvisionTime == 0 {
		cfg.ProvisionTime = 8 * time.Second
	}
	if cfg.BindTime == 0 {
		cfg.BindTime = 2 * time.Second
	}
	cfg.EntitlementPadding = -1
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, clk
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.body)
	}
	return m
}

// firstError returns errors[0] of a CC error body.
func (r resp) firstError(t *testing.T) (code float64, title, detail string) {
	t.Helper()
	errs, _ := r.json(t)["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no errors[] in %s", r.body)
	}
	e := errs[0].(map[string]any)
	return e["code"].(float64), e["title"].(string), e["detail"].(string)
}

func call(t *testing.T, method, u, token string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func uaaForm(t *testing.T, s *Server, query string, form url.Values) resp {
	t.Helper()
	u := s.CFAPIURL() + "/oauth/token"
	if query != "" {
		u += "?" + query
	}
	return call(t, http.MethodPost, u, "", form.Encode(), "Authorization", "Basic Y2Y6",
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json")
}

func login(t *testing.T, s *Server, user, pass string) (access, refresh string) {
	t.Helper()
	r := uaaForm(t, s, "", url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}})
	if r.status != 200 {
		t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	m := r.json(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// spaceGUID finds a space by subaccount subdomain and space name.
func spaceGUID(t *testing.T, s *Server, subdomain, name string) string {
	t.Helper()
	var g string
	s.Do(func(w *World) {
		for _, sa := range w.Subaccounts {
			if sa.Subdomain != subdomain {
				continue
			}
			for _, sp := range w.Spaces {
				if sp.Org == sa.OrgGUID && sp.Name == name {
					g = sp.GUID
				}
			}
		}
	})
	if g == "" {
		t.Fatalf("no space %s in %s", name, subdomain)
	}
	return g
}

func TestCFRoot_PointsLoginAndUAAAtItself(t *testing.T) {
	s, _ := startCF(t, Config{})
	r := call(t, "GET", s.CFAPIURL()+"/", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Fatalf("GET /: %d %s", r.status, r.header.Get("Content-Type"))
	}
	links := r.json(t)["links"].(map[string]any)
	for _, k := range []string{"login", "uaa", "self"} {
		if got := links[k].(map[string]any)["href"]; got != s.CFAPIURL() {
			t.Errorf("links.%s = %v, want %s", k, got, s.CFAPIURL())
		}
	}
	if links["credhub"] != nil {
		t.Errorf("credhub should be null")
	}
	if r := call(t, "GET", s.CFAPIURL()+"/v2/info", "", nil); r.status != 404 {
		t.Errorf("/v2/info: %d", r.status)
	}
	if r.header.Get("X-Vcap-Request-Id") == "" || r.header.Get("X-Ratelimit-Limit") == "" {
		t.Errorf("missing X-Vcap-Request-Id / X-RateLimit-* headers: %v", r.header)
	}
}

func TestUAALogin_PromptsPasscodeURL(t *testing.T) {
	s, _ := startCF(t, Config{})
	r := call(t, "GET", s.CFAPIURL()+"/login", "", nil, "Accept", "application/json")
	p := r.json(t)["prompts"].(map[string]any)["passcode"].([]any)
	want := "Temporary Authentication Code ( Get one at " + s.CFAPIURL() + "/passcode )"
	if p[0] != "password" || p[1] != want {
		t.Fatalf("passcode prompt = %v, want %q", p, want)
	}
	if r := call(t, "GET", s.CFAPIURL()+"/login", "", nil, "Accept", "text/html"); strings.Contains(string(r.body), "prompts") {
		t.Errorf("/login without Accept json must not be the JSON document")
	}
}

func TestUAAToken_PasswordGrant(t *testing.T) {
	s, _ := startCF(t, Config{TokenLifetime: 20 * time.Minute})
	s.Do(func(w *World) {
		w.Users = append(w.Users, &User{Email: "ias@acme.example", Password: "Ias-pw-1", Origin: CustomIdP, SpaceDeveloper: []string{"*"}})
	})
	hint := func(o string) string { return "login_hint=" + url.QueryEscape(`{"origin":"`+o+`"}`) }
	tests := []struct {
		name, query, user, pass string
		basic                   string // Authorization header; "" = client_id=cf in the form
		status                  int
		errCode, errDesc        string
	}{
		{"ok", "", AdminUser, AdminPassword, "Basic Y2Y6", 200, "", ""},
		{"client in form", "", AdminUser, AdminPassword, "", 200, "", ""},
		{"wrong password", "", AdminUser, "nope", "Basic Y2Y6", 401, "unauthorized", "Bad credentials"},
		{"unknown user", "", "ghost@acme.example", "x", "Basic Y2Y6", 401, "unauthorized", "Bad credentials"},
		{"custom origin", hint(CustomIdP), "ias@acme.example", "Ias-pw-1", "Basic Y2Y6", 200, "", ""},
		{"custom user without hint", "", "ias@acme.example", "Ias-pw-1", "Basic Y2Y6", 401, "unauthorized", "Bad credentials"},
		{"unknown origin", hint("nope.example"), AdminUser, AdminPassword, "Basic Y2Y6", 401, "unauthorized", "The origin provided in the login hint is invalid."},
		{"wrong client", "", AdminUser, AdminPassword, "Basic " + base64.StdEncoding.EncodeToString([]byte("cf:x")), 401, "invalid_client", "Bad credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "username": {tt.user}, "password": {tt.pass}}
			u := s.CFAPIURL() + "/oauth/token"
			if tt.query != "" {
				u += "?" + tt.query
			}
			hdr := []string{"Content-Type", "application/x-www-form-urlencoded"}
			if tt.basic != "" {
				hdr = append(hdr, "Authorization", tt.basic)
			} else {
				form.Set("client_id", "cf")
			}
			r := call(t, "POST", u, "", form.Encode(), hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
			}
			m := r.json(t)
			if tt.status != 200 {
				if m["error"] != tt.errCode || m["error_description"] != tt.errDesc {
					t.Errorf("error = %v / %v", m["error"], m["error_description"])
				}
				return
			}
			if m["expires_in"].(float64) != 1199 || m["token_type"] != "bearer" {
				t.Errorf("expires_in %v token_type %v", m["expires_in"], m["token_type"])
			}
			if !regexp.MustCompile(`^[0-9a-f]{32}-r$`).MatchString(m["refresh_token"].(string)) {
				t.Errorf("refresh token shape %q", m["refresh_token"])
			}
			c := jwtClaims(t, m["access_token"].(string))
			for _, k := range []string{"exp", "iat", "user_name", "email", "user_id", "origin", "cid", "client_id", "scope", "jti"} {
				if _, ok := c[k]; !ok {
					t.Errorf("claim %s missing", k)
				}
			}
			if c["user_name"] != tt.user || c["cid"] != "cf" {
				t.Errorf("claims user_name %v cid %v", c["user_name"], c["cid"])
			}
		})
	}
}

func TestUAAToken_PasscodeSingleUseAndRefresh(t *testing.T) {
	s, _ := startCF(t, Config{})
	page := call(t, "GET", s.CFAPIURL()+"/passcode", "", nil)
	m := regexp.MustCompile(`<h2 id="passcode">([A-Za-z0-9]+)</h2>`).FindSubmatch(page.body)
	if page.status != 200 || m == nil {
		t.Fatalf("passcode page %d: %s", page.status, page.body)
	}
	code := string(m[1])
	r := uaaForm(t, s, "", url.Values{"grant_type": {"password"}, "passcode": {code}})
	if r.status != 200 {
		t.Fatalf("passcode login: %d %s", r.status, r.body)
	}
	if c := jwtClaims(t, r.json(t)["access_token"].(string)); c["user_name"] != AdminUser {
		t.Errorf("passcode user = %v", c["user_name"])
	}
	rt := r.json(t)["refresh_token"].(string)
	again := uaaForm(t, s, "", url.Values{"grant_type": {"password"}, "passcode": {code}})
	if again.status != 401 || again.json(t)["error_description"] != "Invalid passcode" {
		t.Errorf("reused passcode: %d %s", again.status, again.body)
	}
	if code2 := s.IssuePasscode(NoDevUser); uaaForm(t, s, "", url.Values{"grant_type": {"password"}, "passcode": {code2}}).status != 200 {
		t.Errorf("IssuePasscode code rejected")
	}

	ref := uaaForm(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if ref.status != 200 || ref.json(t)["refresh_token"] != rt {
		t.Fatalf("refresh: %d %s", ref.status, ref.body)
	}
	bad := uaaForm(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"0123456789abcdef0123456789abcdef-r"}})
	if bad.status != 401 || bad.json(t)["error"] != "invalid_token" {
		t.Errorf("unknown refresh: %d %s", bad.status, bad.body)
	}
}

func TestCCAuth_Errors(t *testing.T) {
	s, clk := startCF(t, Config{TokenLifetime: time.Minute})
	tok, rt := login(t, s, AdminUser, AdminPassword)
	api := s.CFAPIURL() + "/v3/organizations"
	if r := call(t, "GET", api, "", nil); r.status != 401 {
		t.Fatalf("no header: %d", r.status)
	} else if code, title, _ := r.firstError(t); code != 10002 || title != "CF-NotAuthenticated" {
		t.Errorf("no header: %v %v", code, title)
	}
	if r := call(t, "GET", api, "not-a-token", nil); r.status != 401 {
		t.Fatalf("bad token: %d", r.status)
	} else if code, title, _ := r.firstError(t); code != 1000 || title != "CF-InvalidAuthToken" {
		t.Errorf("bad token: %v %v", code, title)
	}
	if r := call(t, "GET", api, tok, nil, "Authorization", "Bearer "+tok); r.status != 200 {
		t.Errorf("Bearer (capitalised) must work: %d", r.status)
	}
	clk.Add(61 * time.Second)
	if r := call(t, "GET", api, tok, nil); r.status != 401 {
		t.Errorf("expired token: %d", r.status)
	}
	// The refresh token outlives the access token.
	ref := uaaForm(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	tok = ref.json(t)["access_token"].(string)
	s.Inject(Fault{Kind: FaultTokenExpiry, Match: "cf:GET /v3/spaces"})
	if r := call(t, "GET", api, tok, nil); r.status != 200 {
		t.Errorf("non-matching request must pass: %d", r.status)
	}
	if r := call(t, "GET", s.CFAPIURL()+"/v3/spaces", tok, nil); r.status != 401 {
		t.Errorf("FaultTokenExpiry: %d", r.status)
	}
	if ref := uaaForm(t, s, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); ref.status != 200 {
		t.Errorf("refresh after FaultTokenExpiry: %d", ref.status)
	}
}

func TestCCPagination_HrefsAndNullRules(t *testing.T) {
	s, _ := startCF(t, Config{})
	s.AddSpaces(SubReadySubdomain, 120)
	tok, _ := login(t, s, AdminUser, AdminPassword)
	var org string
	s.Do(func(w *World) {
		for _, sa := range w.Subaccounts {
			if sa.Subdomain == SubReadySubdomain {
				org = sa.OrgGUID
			}
		}
	})
	base := s.CFAPIURL() + "/v3/spaces"
	href := func(page int) string {
		return base + "?order_by=name&organization_guids=" + org + "&page=" + string(rune('0'+page)) + "&per_page=50"
	}
	tests := []struct {
		page       int
		n          int
		next, prev any
	}{
		{1, 50, href(2), nil},
		{2, 50, href(3), href(1)},
		{3, 22, nil, href(2)},
	}
	for _, tt := range tests {
		r := call(t, "GET", base+"?per_page=50&organization_guids="+org+"&order_by=name&page="+string(rune('0'+tt.page)), tok, nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", tt.page, r.status, r.body)
		}
		m := r.json(t)
		p := m["pagination"].(map[string]any)
		if p["total_results"].(float64) != 122 || p["total_pages"].(float64) != 3 {
			t.Errorf("page %d: totals %v %v", tt.page, p["total_results"], p["total_pages"])
		}
		if got := len(m["resources"].([]any)); got != tt.n {
			t.Errorf("page %d: %d resources, want %d", tt.page, got, tt.n)
		}
		hrefOf := func(v any) any {
			if v == nil {
				return nil
			}
			return v.(map[string]any)["href"]
		}
		if got := hrefOf(p["next"]); got != tt.next {
			t.Errorf("page %d: next %v, want %v", tt.page, got, tt.next)
		}
		if got := hrefOf(p["previous"]); got != tt.prev {
			t.Errorf("page %d: previous %v, want %v", tt.page, got, tt.prev)
		}
		if hrefOf(p["first"]) != href(1) || hrefOf(p["last"]) != href(3) {
			t.Errorf("first/last: %v %v", p["first"], p["last"])
		}
	}
	// Sorted by name: dev, prod, space-001, ...
	first := call(t, "GET", base+"?organization_guids="+org+"&order_by=name&per_page=3", tok, nil).json(t)
	var names []string
	for _, r := range first["resources"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "dev,prod,space-001" {
		t.Errorf("order_by=name: %v", names)
	}

	empty := call(t, "GET", s.CFAPIURL()+"/v3/organizations?names=nosuchorg", tok, nil).json(t)["pagination"].(map[string]any)
	if empty["total_pages"].(float64) != 1 || empty["next"] != nil || empty["previous"] != nil ||
		empty["first"].(map[string]any)["href"] != s.CFAPIURL()+"/v3/organizations?names=nosuchorg&page=1&per_page=50" {
		t.Errorf("empty list pagination: %v", empty)
	}

	bad := []struct{ query, detail string }{
		{"per_page=0", "The query parameter is invalid: Per page must be a positive integer"},
		{"per_page=5001", "The query parameter is invalid: Per page must be between 1 and 5000"},
		{"page=x", "The query parameter is invalid: Page must be a positive integer"},
		{"foo=1", "The query parameter is invalid: Unknown query parameter(s): 'foo'."},
		{"fields%5Borganization%5D=name", "The query parameter is invalid: Unknown query parameter(s): 'fields'."},
	}
	for _, b := range bad {
		r := call(t, "GET", base+"?"+b.query, tok, nil)
		if r.status != 400 {
			t.Errorf("%s: %d", b.query, r.status)
			continue
		}
		if code, title, detail := r.firstError(t); code != 10005 || title != "CF-BadQueryParameter" || !strings.HasPrefix(detail, b.detail) {
			t.Errorf("%s: %v %v %q", b.query, code, title, detail)
		}
	}
	for _, ok := range []string{"per_page=5000", "include=organization"} {
		if r := call(t, "GET", base+"?"+ok, tok, nil); r.status != 200 {
			t.Errorf("%s: %d", ok, r.status)
		}
	}
}

func TestCCVisibility_OrgsSpacesPlans(t *testing.T) {
	s, _ := startCF(t, Config{})
	admin, _ := login(t, s, AdminUser, AdminPassword)
	nodev, _ := login(t, s, NoDevUser, NoDevPass)
	readyDev := spaceGUID(t, s, SubReadySubdomain, "dev")
	freshDev := spaceGUID(t, s, SubFreshSubdomain, "dev")
	count := func(tok, path string) int {
		r := call(t, "GET", s.CFAPIURL()+path, tok, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return int(r.json(t)["pagination"].(map[string]any)["total_results"].(float64))
	}
	if n := count(admin, "/v3/organizations"); n != 3 { // CPI Dev, CPI QA, CPI New
		t.Errorf("admin orgs = %d", n)
	}
	if n := count(admin, "/v3/organizations?names="+strings.ToUpper(SubReadySubdomain)+"_QA"); n != 1 {
		t.Errorf("org names must be case-insensitive: %d", n)
	}
	if n := count(admin, "/v3/service_plans?names=integration-flow&service_offering_names=it-rt&space_guids="+readyDev); n != 1 {
		t.Errorf("plan in entitled space = %d", n)
	}
	if n := count(admin, "/v3/service_plans?names=integration-flow&service_offering_names=it-rt&space_guids="+freshDev); n != 0 {
		t.Errorf("plan in unentitled space = %d", n)
	}
	if n := count(admin, "/v3/service_offerings?names=it-rt"); n != 1 {
		t.Errorf("offering = %d", n)
	}
	if n := count(nodev, "/v3/spaces"); n != 4 {
		t.Errorf("nodev sees %d spaces, want all 4 (reader in dev)", n)
	}
	plan := call(t, "GET", s.CFAPIURL()+"/v3/service_plans?names=api", admin, nil).json(t)["resources"].([]any)[0].(map[string]any)
	if plan["visibility_type"] != "organization" || plan["relationships"].(map[string]any)["service_offering"] == nil {
		t.Errorf("plan shape: %v", plan)
	}
	s.Do(func(w *World) { w.GAHasITRT = false })
	if n := count(admin, "/v3/service_plans?service_offering_names=it-rt"); n != 0 {
		t.Errorf("plans without GA it-rt = %d", n)
	}
	r := call(t, "GET", s.CFAPIURL()+"/v3/organizations/"+readyDev, admin, nil)
	if code, title, detail := r.firstError(t); r.status != 404 || code != 10010 || title != "CF-ResourceNotFound" || detail != "Organization not found" {
		t.Errorf("unknown org: %d %v %v %v", r.status, code, title, detail)
	}
}

type cfFixture struct {
	s     *Server
	clk   *fakeClock
	tok   string
	space string
	plan  string
}

func newCFFixture(t *testing.T) *cfFixture {
	s, clk := startCF(t, Config{})
	tok, _ := login(t, s, AdminUser, AdminPassword)
	f := &cfFixture{s: s, clk: clk, tok: tok, space: spaceGUID(t, s, SubReadySubdomain, "dev")}
	s.Do(func(w *World) { f.plan = w.planGUID("integration-flow") })
	return f
}

func (f *cfFixture) instanceBody(name string, params any) map[string]any {
	b := map[string]any{"type": "managed", "name": name,
		"relationships": map[string]any{"space": map[string]any{"data": map[string]any{"guid": f.space}},
			"service_plan": map[string]any{"data": map[string]any{"guid": f.plan}}}}
	if params != nil {
		b["parameters"] = params
	}
	return b
}

func (f *cfFixture) get(t *testing.T, u string) map[string]any {
	t.Helper()
	r := call(t, "GET", u, f.tok, nil)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", u, r.status, r.body)
	}
	return r.json(t)
}

func TestCCCreateInstance_AcceptedQuirksAndJobLifecycle(t *testing.T) {
	f := newCFFixture(t)
	api := f.s.CFAPIURL()
	r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("cpi-rt", map[string]any{"roles": []string{"ESBMessaging.send"}}))
	if r.status != 202 || len(r.body) != 0 || r.header.Get("Content-Type") != "text/html" {
		t.Fatalf("create: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
	}
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, api+"/v3/jobs/") {
		t.Fatalf("Location %q", loc)
	}
	list := f.get(t, api+"/v3/service_instances?names=cpi-rt&space_guids="+f.space)["resources"].([]any)
	if len(list) != 1 {
		t.Fatalf("instance must exist right after the POST: %v", list)
	}
	inst := list[0].(map[string]any)
	ig := inst["guid"].(string)
	steps := []struct {
		advance  time.Duration
		job, op  string
		hasLink  bool
		opDescNi bool
	}{
		{0, "PROCESSING", "initial", true, true},
		{3 * time.Second, "POLLING", "in progress", true, false},
		{6 * time.Second, "COMPLETE", "succeeded", true, false},
	}
	for _, st := range steps {
		f.clk.Add(st.advance)
		j := f.get(t, loc)
		if j["state"] != st.job || j["operation"] != "service_instance.create" {
			t.Errorf("+%v: job %v %v", st.advance, j["state"], j["operation"])
		}
		links := j["links"].(map[string]any)
		if l, ok := links["service_instances"]; ok != st.hasLink || (ok && l.(map[string]any)["href"] != api+"/v3/service_instances/"+ig) {
			t.Errorf("job links %v", links)
		}
		lo := f.get(t, api+"/v3/service_instances/"+ig)["last_operation"].(map[string]any)
		if lo["state"] != st.op || lo["type"] != "create" || (lo["description"] == nil) != st.opDescNi {
			t.Errorf("+%v: last_operation %v", st.advance, lo)
		}
		if errs := j["errors"].([]any); len(errs) != 0 {
			t.Errorf("errors %v", errs)
		}
	}
	if r := call(t, "GET", api+"/v3/jobs/00000000-0000-4000-8000-000000000000", f.tok, nil); r.status != 404 {
		t.Errorf("unknown job %d", r.status)
	} else if _, _, d := r.firstError(t); d != "Job not found" {
		t.Errorf("unknown job detail %q", d)
	}

	// Delete: keys go with the instance; the job's resource link disappears.
	kr := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, map[string]any{"type": "key", "name": "k1",
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": ig}}}})
	if kr.status != 202 {
		t.Fatalf("key: %d %s", kr.status, kr.body)
	}
	f.clk.Add(3 * time.Second)
	d := call(t, "DELETE", api+"/v3/service_instances/"+ig, f.tok, nil)
	if d.status != 202 || len(d.body) != 0 {
		t.Fatalf("delete: %d %s", d.status, d.body)
	}
	if n := f.get(t, api+"/v3/service_credential_bindings?service_instance_guids="+ig)["pagination"].(map[string]any)["total_results"]; n.(float64) != 0 {
		t.Errorf("keys survive the instance delete: %v", n)
	}
	dj := f.get(t, d.header.Get("Location"))
	if dj["operation"] != "service_instance.delete" || dj["links"].(map[string]any)["service_instances"] == nil {
		t.Errorf("delete job while running: %v", dj)
	}
	f.clk.Add(9 * time.Second)
	dj = f.get(t, d.header.Get("Location"))
	if _, ok := dj["links"].(map[string]any)["service_instances"]; ok || dj["state"] != "COMPLETE" {
		t.Errorf("delete job done: %v", dj)
	}
	if r := call(t, "GET", api+"/v3/service_instances/"+ig, f.tok, nil); r.status != 404 {
		t.Errorf("deleted instance: %d", r.status)
	}
}

func TestCCCreateInstance_SynchronousErrors(t *testing.T) {
	f := newCFFixture(t)
	api := f.s.CFAPIURL()
	nodev, _ := login(t, f.s, NoDevUser, NoDevPass)
	freshDev := spaceGUID(t, f.s, SubFreshSubdomain, "dev")
	if r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("taken", nil)); r.status != 202 {
		t.Fatal(r.status)
	}
	withSpace := func(b map[string]any, sp string) map[string]any {
		b["relationships"].(map[string]any)["space"] = map[string]any{"data": map[string]any{"guid": sp}}
		return b
	}
	extra := f.instanceBody("x", nil)
	extra["xsappname"] = "nope"
	tests := []struct {
		name   string
		tok    string
		body   any
		status int
		code   float64
		detail string
	}{
		{"unknown field", f.tok, extra, 422, 10008, "Unknown field(s): 'xsappname'"},
		{"not json", f.tok, "{", 400, 1001, "Request invalid due to parse error: invalid request body"},
		{"params not object", f.tok, f.instanceBody("x", []int{1}), 422, 10008, "Parameters must be an object"},
		{"invalid space", f.tok, withSpace(f.instanceBody("x", nil), "nope"), 422, 10008, "Invalid space. Ensure that the space exists and you have access to it."},
		{"not space developer", nodev, f.instanceBody("x", nil), 403, 10003, "You are not authorized to perform the requested action"},
		{"plan not in this space", f.tok, withSpace(f.instanceBody("x", nil), freshDev), 422, 10008,
			"Invalid service plan. This could be due to a space-scoped broker which is offering the service plan 'integration-flow' with guid '" + f.plan + "' in another space or that the plan is not enabled in this organization. Ensure that the service plan is visible in your current space 'dev' with guid '" + freshDev + "'."},
		{"name taken", f.tok, f.instanceBody("taken", nil), 422, 10008, "The service instance name is taken: taken."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "POST", api+"/v3/service_instances", tt.tok, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if code, _, detail := r.firstError(t); code != tt.code || detail != tt.detail {
				t.Errorf("got %v %q\nwant %v %q", code, detail, tt.code, tt.detail)
			}
		})
	}
	// A plan the user cannot see anywhere.
	f.s.Do(func(w *World) { w.GAHasITRT = false })
	r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("y", nil))
	if _, _, d := r.firstError(t); r.status != 422 || d != "Invalid service plan. Ensure that the service plan exists, is available, and you have access to it." {
		t.Errorf("invisible plan: %d %q", r.status, d)
	}
}

func TestCCCreateInstance_BrokerFailures(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *cfFixture)
		params any
		detail string
		opDesc string
	}{
		{"schema", nil, map[string]any{"xsappname": "x"},
			"provision could not be completed: Service broker error: Invalid parameters: additional properties are not allowed: xsappname",
			"Service broker error: Invalid parameters: additional properties are not allowed: xsappname"},
		{"fault", func(f *cfFixture) {
			f.s.Inject(Fault{Kind: FaultBrokerFailure, Match: "cf:POST /v3/service_instances", Message: "Plan is not entitled for this subaccount"})
		}, nil, "provision could not be completed: Service broker error: Plan is not entitled for this subaccount",
			"Service broker error: Plan is not entitled for this subaccount"},
		{"tenant", func(f *cfFixture) {
			f.s.Do(func(w *World) {
				for _, sa := range w.Subaccounts {
					sa.TenantProvisioned = false
				}
			})
		}, nil, "provision could not be completed: Service broker error: Service broker it-broker-rt failed with: Tenant of subaccount",
			"Service broker error: Service broker it-broker-rt failed with: Tenant"},
		{"job failure", func(f *cfFixture) {
			f.s.Inject(Fault{Kind: FaultJobFailure, Match: "cf:POST /v3/service_instances", Message: "quota exceeded"})
		}, nil, "create managed could not be completed: quota exceeded", "quota exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCFFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			api := f.s.CFAPIURL()
			r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("bad", tt.params))
			if r.status != 202 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			f.clk.Add(10 * time.Second)
			j := f.get(t, r.header.Get("Location"))
			errs := j["errors"].([]any)
			if j["state"] != "FAILED" || len(errs) != 1 {
				t.Fatalf("job %v", j)
			}
			e := errs[0].(map[string]any)
			if e["code"].(float64) != 10009 || e["title"] != "CF-UnableToPerform" || !strings.HasPrefix(e["detail"].(string), tt.detail) {
				t.Errorf("job error %v", e)
			}
			inst := f.get(t, api+"/v3/service_instances?names=bad")["resources"].([]any)[0].(map[string]any)
			lo := inst["last_operation"].(map[string]any)
			if lo["state"] != "failed" || !strings.HasPrefix(lo["description"].(string), tt.opDesc) {
				t.Errorf("last_operation %v", lo)
			}
			// Same name again replaces the failed instance.
			if tt.name == "fault" || tt.name == "job failure" {
				r2 := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("bad", nil))
				if r2.status != 202 {
					t.Fatalf("recreate failed instance: %d %s", r2.status, r2.body)
				}
				if n := f.get(t, api+"/v3/service_instances?names=bad")["pagination"].(map[string]any)["total_results"]; n.(float64) != 1 {
					t.Errorf("after replace: %v instances", n)
				}
			}
		})
	}
}

func TestCCKeys_LifecycleAndErrors(t *testing.T) {
	f := newCFFixture(t)
	api := f.s.CFAPIURL()
	r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("cpi", map[string]any{"roles": []string{"ESBMessaging.send"}}))
	ig := strings.TrimPrefix(r.header.Get("Location"), api+"/v3/jobs/")
	ig = f.get(t, api+"/v3/jobs/"+ig)["links"].(map[string]any)["service_instances"].(map[string]any)["href"].(string)
	ig = ig[strings.LastIndex(ig, "/")+1:]
	keyBody := func(name string, params any) map[string]any {
		b := map[string]any{"type": "key", "name": name,
			"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": ig}}}}
		if params != nil {
			b["parameters"] = params
		}
		return b
	}
	early := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, keyBody("k", nil))
	if _, _, d := early.firstError(t); early.status != 422 || d != "There is an operation in progress for the service instance" {
		t.Fatalf("key before ready: %d %q", early.status, d)
	}
	f.clk.Add(8 * time.Second)
	kr := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, keyBody("k", map[string]any{"key-type": "client_id_secret"}))
	if kr.status != 202 || len(kr.body) != 0 || kr.header.Get("Content-Type") != "text/html" {
		t.Fatalf("key create: %d %q %s", kr.status, kr.header.Get("Content-Type"), kr.body)
	}
	j := f.get(t, kr.header.Get("Location"))
	link, ok := j["links"].(map[string]any)["service_credential_binding"]
	if j["operation"] != "service_keys.create" || j["state"] != "PROCESSING" || !ok {
		t.Fatalf("key job %v", j)
	}
	kg := link.(map[string]any)["href"].(string)
	kg = kg[strings.LastIndex(kg, "/")+1:]
	key := f.get(t, api+"/v3/service_credential_bindings?names=k&service_instance_guids="+ig+"&type=key")["resources"].([]any)[0].(map[string]any)
	if key["last_operation"].(map[string]any)["state"] != "initial" || key["guid"] != kg {
		t.Errorf("key while binding: %v", key)
	}
	det := call(t, "GET", api+"/v3/service_credential_bindings/"+kg+"/details", f.tok, nil)
	if _, _, d := det.firstError(t); det.status != 404 || d != "Creation of service key in progress" {
		t.Errorf("details while pending: %d %q", det.status, d)
	}
	f.clk.Add(2 * time.Second)
	if j := f.get(t, kr.header.Get("Location")); j["state"] != "COMPLETE" {
		t.Errorf("key job %v", j["state"])
	}
	creds := f.get(t, api+"/v3/service_credential_bindings/"+kg+"/details")["credentials"].(map[string]any)["oauth"].(map[string]any)
	if creds["tokenurl"] != f.s.TokenBaseURL()+"/oauth/token" || !strings.Contains(creds["clientid"].(string), "|it-rt-"+SubReadySubdomain+"!b") ||
		!strings.Contains(creds["clientsecret"].(string), "$") {
		t.Errorf("credentials %v", creds)
	}
	nodev, _ := login(t, f.s, NoDevUser, NoDevPass)
	if r := call(t, "GET", api+"/v3/service_credential_bindings/"+kg+"/details", nodev, nil); r.status != 403 {
		t.Errorf("details for a space reader: %d", r.status)
	}
	taken := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, keyBody("k", nil))
	if _, _, d := taken.firstError(t); taken.status != 422 || d != "The binding name is invalid. Key binding names must be unique. The service instance already has a key binding with name 'k'." {
		t.Errorf("key name taken: %d %q", taken.status, d)
	}
	bad := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, keyBody("k2", map[string]any{"validityType": "DAYS"}))
	f.clk.Add(2 * time.Second)
	bj := f.get(t, bad.header.Get("Location"))
	if e := bj["errors"].([]any); bj["state"] != "FAILED" || len(e) != 1 ||
		!strings.HasPrefix(e[0].(map[string]any)["detail"].(string), "bind could not be completed: Service broker error: Invalid parameters") {
		t.Errorf("bad key params job %v", bj)
	}
	cert := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, keyBody("kc", map[string]any{"key-type": "certificate"}))
	f.clk.Add(2 * time.Second)
	cj := f.get(t, cert.header.Get("Location"))
	cg := cj["links"].(map[string]any)["service_credential_binding"].(map[string]any)["href"].(string)
	cc := f.get(t, cg+"/details")["credentials"].(map[string]any)["oauth"].(map[string]any)
	if _, has := cc["clientsecret"]; has || cc["key"] == nil || cc["tokenurl"] != f.s.CertTokenURL()+"/oauth/token" {
		t.Errorf("certificate key credentials %v", cc)
	}

	del := call(t, "DELETE", api+"/v3/service_credential_bindings/"+kg, f.tok, nil)
	if del.status != 202 || f.get(t, del.header.Get("Location"))["operation"] != "service_keys.delete" {
		t.Fatalf("key delete %d", del.status)
	}
	f.clk.Add(2 * time.Second)
	if r := call(t, "GET", api+"/v3/service_credential_bindings/"+kg, f.tok, nil); r.status != 404 {
		t.Errorf("deleted key: %d", r.status)
	}
}

func TestCCFaults_RateLimitAndStatus(t *testing.T) {
	f := newCFFixture(t)
	api := f.s.CFAPIURL()
	f.s.Inject(Fault{Kind: FaultCF429, Match: "cf:GET /v3/organizations", RetryAfter: 2 * time.Second})
	r := call(t, "GET", api+"/v3/organizations", f.tok, nil)
	if r.status != 429 || r.header.Get("Content-Type") != "text/plain; charset=utf-8" || r.header.Get("Retry-After") != "2" {
		t.Fatalf("429: %d %q %q", r.status, r.header.Get("Content-Type"), r.header.Get("Retry-After"))
	}
	if code, title, detail := r.firstError(t); code != 10013 || title != "CF-RateLimitExceeded" || detail != "Rate Limit Exceeded" {
		t.Errorf("429 body: %s", r.body)
	}
	if r.header.Get("X-Ratelimit-Reset") == "" {
		t.Errorf("429 without X-RateLimit-Reset")
	}
	if r := call(t, "GET", api+"/v3/organizations", f.tok, nil); r.status != 200 {
		t.Errorf("after the fault: %d", r.status)
	}
	for _, st := range []struct {
		status int
		title  string
	}{{502, "CF-ServiceBrokerBadResponse"}, {503, "CF-ServiceUnavailable"}} {
		f.s.Inject(Fault{Kind: FaultHTTPStatus, Match: "cf:GET /v3/spaces", Status: st.status})
		r := call(t, "GET", api+"/v3/spaces", f.tok, nil)
		if _, title, _ := r.firstError(t); r.status != st.status || title != st.title {
			t.Errorf("fault %d: %d %s", st.status, r.status, r.body)
		}
	}
}

func TestXSUAAToken_ClientCredentials(t *testing.T) {
	f := newCFFixture(t)
	api := f.s.CFAPIURL()
	r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("cpi", map[string]any{"roles": []string{"ESBMessaging.send"}, "token-validity": 7200}))
	f.clk.Add(8 * time.Second)
	ig := f.get(t, r.header.Get("Location"))["links"].(map[string]any)["service_instances"].(map[string]any)["href"].(string)
	ig = ig[strings.LastIndex(ig, "/")+1:]
	kr := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, map[string]any{"type": "key", "name": "k",
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": ig}}}})
	f.clk.Add(2 * time.Second)
	kl := f.get(t, kr.header.Get("Location"))["links"].(map[string]any)["service_credential_binding"].(map[string]any)["href"].(string)
	o := f.get(t, kl+"/details")["credentials"].(map[string]any)["oauth"].(map[string]any)
	id, secret, tokenURL := o["clientid"].(string), o["clientsecret"].(string), o["tokenurl"].(string)
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	tests := []struct {
		name   string
		hdr    []string
		body   string
		status int
	}{
		{"raw basic", []string{"Authorization", basic(id, secret)}, form, 200},
		{"encoded basic with header", []string{"Authorization", basic(url.QueryEscape(id), url.QueryEscape(secret)), "X-CF-ENCODED-CREDENTIALS", "true"}, form, 200},
		{"encoded basic without header", []string{"Authorization", basic(url.QueryEscape(id), url.QueryEscape(secret))}, form, 401},
		{"form body", nil, form + "&" + url.Values{"client_id": {id}, "client_secret": {secret}}.Encode(), 200},
		{"wrong secret", []string{"Authorization", basic(id, secret+"x")}, form, 401},
		{"unknown client", []string{"Authorization", basic("sb-nope", secret)}, form, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "POST", tokenURL, "", tt.body, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tt.hdr...)...)
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.json(t)
			if tt.status != 200 {
				if m["error"] != "invalid_client" || m["error_description"] != "Bad credentials" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 shape: %v %v", m, r.header)
				}
				return
			}
			if m["expires_in"].(float64) != 7199 {
				t.Errorf("expires_in %v", m["expires_in"])
			}
			c := jwtClaims(t, m["access_token"].(string))
			scopes := c["scope"].([]any)
			want := "it-rt-" + SubReadySubdomain + "!b56186.ESBMessaging.send"
			found := false
			for _, s := range scopes {
				found = found || s == want
			}
			if !found || c["client_id"] != id {
				t.Errorf("claims %v", c)
			}
		})
	}
	if r := call(t, "GET", strings.Replace(tokenURL, "/oauth/token", "/nothing", 1), "", nil); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
}
