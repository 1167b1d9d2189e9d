package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Raw-HTTP tests of the CLI server half: they pin the wire quirks clients
// depend on (btp-cli-server.md §1.3, §3, §5), independent of btp/cliserver.

const cliTV = "v2.106.1"

// cliClock is a settable clock for Config.Now.
type cliClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *cliClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *cliClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type cliT struct {
	t     *testing.T
	s     *Server
	clock *cliClock
	sid   string
}

func newCLIT(t *testing.T, cfg Config) *cliT {
	t.Helper()
	clock := &cliClock{t: time.Date(2026, 7, 20, 9, 0, 0, 0, time.UTC)}
	if cfg.Now == nil {
		cfg.Now = clock.now
	}
	if cfg.EntitlementPadding == 0 {
		cfg.EntitlementPadding = -1
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &cliT{t: t, s: s, clock: clock}
}

type cliResp struct {
	status int
	h      http.Header
	body   []byte
}

func (c *cliT) post(path string, body any, hdr map[string]string) cliResp {
	c.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	return c.raw(http.MethodPost, path, b, hdr)
}

func (c *cliT) raw(method, path string, body []byte, hdr map[string]string) cliResp {
	c.t.Helper()
	req, err := http.NewRequest(method, c.s.CLIServerURL()+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Cpcli-Format", "json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return cliResp{resp.StatusCode, resp.Header, rb}
}

func (c *cliT) login(user, pass string) cliResp {
	c.t.Helper()
	r := c.post("/login/"+cliTV, map[string]string{"customIdp": "", "subdomain": GASubdomain, "userName": user, "password": pass}, nil)
	if r.status == http.StatusOK {
		c.sid = r.h.Get("X-Cpcli-Sessionid")
	}
	return r
}

func (c *cliT) cmd(command, action string, params map[string]any) cliResp {
	c.t.Helper()
	return c.post("/command/"+cliTV+"/"+command+"?"+action, map[string]any{"paramValues": params},
		map[string]string{"X-Cpcli-Sessionid": c.sid, "X-Cpcli-Subdomain": GASubdomain, "X-Cpcli-Customidp": ""})
}

func (r cliResp) backend() string { return r.h.Get("X-Cpcli-Backend-Status") }

func (r cliResp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (c *cliT) sub(subdomain string) Subaccount {
	c.t.Helper()
	sa, ok := c.s.SubaccountBySubdomain(subdomain)
	if !ok {
		c.t.Fatalf("no subaccount %s", subdomain)
	}
	return sa
}

func TestCLILogin_StatusCodes(t *testing.T) {
	c := newCLIT(t, Config{})
	c.s.Do(func(w *World) {
		w.Users = append(w.Users, &User{Email: "norole@acme.example", Password: "pw", Origin: "sap.ids"},
			&User{Email: "idp@acme.example", Password: "pw", Origin: CustomIdP, GAViewer: true})
	})
	tests := []struct {
		name    string
		version string
		body    map[string]string
		want    int
	}{
		{"ok", cliTV, map[string]string{"subdomain": GASubdomain, "userName": AdminUser, "password": AdminPassword}, 200},
		{"wrong password", cliTV, map[string]string{"subdomain": GASubdomain, "userName": AdminUser, "password": "nope"}, 401},
		{"unknown user", cliTV, map[string]string{"subdomain": GASubdomain, "userName": "who@x", "password": "x"}, 401},
		{"unknown global account", cliTV, map[string]string{"subdomain": "nope", "userName": AdminUser, "password": AdminPassword}, 404},
		{"idp mismatch", cliTV, map[string]string{"subdomain": GASubdomain, "userName": AdminUser, "password": AdminPassword, "customIdp": CustomIdP}, 401},
		{"custom idp user", cliTV, map[string]string{"subdomain": GASubdomain, "userName": "idp@acme.example", "password": "pw", "customIdp": CustomIdP}, 200},
		{"custom idp user without idp", cliTV, map[string]string{"subdomain": GASubdomain, "userName": "idp@acme.example", "password": "pw"}, 401},
		{"no global account role", cliTV, map[string]string{"subdomain": GASubdomain, "userName": "norole@acme.example", "password": "pw"}, 403},
		{"previous client release", "v2.97.0", map[string]string{"subdomain": GASubdomain, "userName": AdminUser, "password": AdminPassword}, 200},
		{"outdated version", "v2.64.0", map[string]string{"subdomain": GASubdomain, "userName": AdminUser, "password": AdminPassword}, 412},
		{"malformed version", "2.106.1", map[string]string{"subdomain": GASubdomain, "userName": AdminUser, "password": AdminPassword}, 412},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post("/login/"+tt.version, tt.body, nil)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			sid := r.h.Get("X-Cpcli-Sessionid")
			if tt.want != 200 {
				if sid != "" || len(r.body) != 0 {
					t.Errorf("error answer carries session %q / body %q", sid, r.body)
				}
				return
			}
			if len(sid) < 32 {
				t.Errorf("session id %q too short", sid)
			}
			var body map[string]string
			r.json(t, &body)
			if len(body) != 2 || body["mail"] != tt.body["userName"] || body["issuer"] == "" {
				t.Errorf("body %v, want only issuer and mail, as real logins answer", body)
			}
		})
	}
}

func TestCLICommand_SessionAndHeaders(t *testing.T) {
	c := newCLIT(t, Config{})
	if r := c.cmd("accounts/global-account", "get", nil); r.status != 401 || len(r.body) != 0 {
		t.Fatalf("without session: %d %q", r.status, r.body)
	}
	c.login(AdminUser, AdminPassword)
	r := c.post("/command/"+cliTV+"/accounts/global-account?get", `{"paramValues":{}}`,
		map[string]string{"X-Cpcli-Sessionid": c.sid, "X-Cpcli-Subdomain": "other-ga"})
	if r.status != 401 {
		t.Errorf("session of another global account: %d", r.status)
	}
	r = c.post("/command/"+cliTV+"/accounts/global-account?get", `{"paramValues":{}}`,
		map[string]string{"X-Cpcli-Sessionid": c.sid, "X-Cpcli-Subdomain": GASubdomain, "X-Cpcli-Format": "text"})
	if r.status != 400 {
		t.Errorf("text format: %d", r.status)
	}
	if r := c.cmd("accounts/global-account", "get", map[string]any{"globalAccount": GASubdomain}); r.status != 200 || r.backend() != "200" {
		t.Fatalf("with session: %d backend %q", r.status, r.backend())
	}
	// Logout invalidates the session.
	c.post("/logout/"+cliTV, map[string]string{"customIdp": "", "subdomain": GASubdomain}, map[string]string{"X-Cpcli-Sessionid": c.sid})
	if r := c.cmd("accounts/global-account", "get", nil); r.status != 401 {
		t.Errorf("after logout: %d", r.status)
	}
}

func TestCLICommand_TwoStatusLayers(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	missing := "99999999-9999-4999-8999-999999999999"
	tests := []struct {
		name        string
		cmd, action string
		params      map[string]any
		status      int
		backend     string
		media       string
		serverMsg   string
		bodyRE      string
	}{
		{"required parameter empty", "services/instance", "list", map[string]any{"subaccount": ""}, 400, "", "", "", `^$`},
		{"unknown subaccount pre-check", "services/offering", "list", map[string]any{"subaccount": missing}, 403, "", "",
			"Subaccount '" + missing + "' does not exist and thus did not entitle you to execute the command.", `^$`},
		{"CIS not found", "accounts/subaccount", "get", map[string]any{"globalAccount": GASubdomain, "subaccount": missing}, 200, "404",
			"application/json", "", `^\{"error":"Subaccount ` + missing + ` not found \[Error: 20004/404\]"\}$`},
		{"environment not found", "accounts/environment-instance", "get", map[string]any{"subaccount": c.sub(SubFreshSubdomain).GUID, "environmentID": "X"}, 200, "404",
			"application/json", "", `\[Error: 41000/404\]`},
		{"SM not found", "services/binding", "get", map[string]any{"subaccount": c.sub(SubFreshSubdomain).GUID, "id": missing}, 200, "404",
			"application/json", "", `^\{"description":"could not find such /v1/service_bindings","error":"NotFound"\}$`},
		{"booleans tolerated", "accounts/global-account", "get", map[string]any{"showHierarchy": true}, 200, "200", "application/json;charset=UTF-8", "", `"children"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.cmd(tt.cmd, tt.action, tt.params)
			if r.status != tt.status || r.backend() != tt.backend {
				t.Fatalf("HTTP %d backend %q, want %d %q (body %q)", r.status, r.backend(), tt.status, tt.backend, r.body)
			}
			if got := r.h.Get("X-Cpcli-Backend-Mediatype"); got != tt.media {
				t.Errorf("mediatype %q, want %q", got, tt.media)
			}
			if got := r.h.Get("X-Cpcli-Server-Message"); got != tt.serverMsg {
				t.Errorf("server message %q", got)
			}
			if !regexp.MustCompile(tt.bodyRE).Match(r.body) {
				t.Errorf("body %.300q does not match %s", r.body, tt.bodyRE)
			}
			if tt.status != 200 && r.h.Get("Content-Type") != "" {
				t.Errorf("CLI-server-level error has Content-Type %q", r.h.Get("Content-Type"))
			}
		})
	}
}

func TestCLIGlobalAccount_Hierarchy(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(ViewerUser, ViewerPass)
	r := c.cmd("accounts/global-account", "get", map[string]any{"globalAccount": GASubdomain, "showHierarchy": "true"})
	var ga struct {
		GUID        string `json:"guid"`
		Subdomain   string `json:"subdomain"`
		CreatedDate string `json:"createdDate"`
		Children    []struct {
			DisplayName string   `json:"displayName"`
			ParentType  string   `json:"parentType"`
			Features    []string `json:"directoryFeatures"`
			Children    []struct {
				DisplayName string `json:"displayName"`
				ParentType  string `json:"parentType"`
				Subaccounts []struct {
					DisplayName string `json:"displayName"`
					ParentType  string `json:"parentType"`
				} `json:"subaccounts"`
			} `json:"children"`
			Subaccounts []struct{ DisplayName string } `json:"subaccounts"`
		} `json:"children"`
		Subaccounts []struct{ DisplayName string } `json:"subaccounts"`
	}
	r.json(t, &ga)
	if ga.Subdomain != GASubdomain || ga.CreatedDate != "May 11, 2023, 8:59:23 AM" {
		t.Errorf("ga %+v", ga)
	}
	if len(ga.Children) != 1 || ga.Children[0].DisplayName != "Integration Projects" || ga.Children[0].ParentType != "ROOT" {
		t.Fatalf("children %+v", ga.Children)
	}
	d := ga.Children[0]
	if len(d.Subaccounts) != 1 || d.Subaccounts[0].DisplayName != SubNoCF {
		t.Errorf("directory subaccounts %+v", d.Subaccounts)
	}
	if len(d.Children) != 1 || d.Children[0].ParentType != "PROJECT" || len(d.Children[0].Subaccounts) != 1 ||
		d.Children[0].Subaccounts[0].DisplayName != SubReady || d.Children[0].Subaccounts[0].ParentType != "FOLDER" {
		t.Errorf("nested %+v", d.Children)
	}
	if len(ga.Subaccounts) != 2 || ga.Subaccounts[0].DisplayName != SubFresh || ga.Subaccounts[1].DisplayName != SubEmpty {
		t.Errorf("top-level subaccounts %+v", ga.Subaccounts)
	}
	// Directories in the hierarchy carry description, not subdomain or
	// labels (as recorded from SAP).
	var raw struct {
		Children []map[string]any `json:"children"`
	}
	r.json(t, &raw)
	for _, k := range []string{"subdomain", "labels"} {
		if _, ok := raw.Children[0][k]; ok {
			t.Errorf("hierarchy directory carries %s: %v", k, raw.Children[0])
		}
	}
	if _, ok := raw.Children[0]["description"]; !ok {
		t.Errorf("hierarchy directory without description: %v", raw.Children[0])
	}
	// Without showHierarchy there are no children.
	r = c.cmd("accounts/global-account", "get", map[string]any{"globalAccount": GASubdomain})
	if bytes.Contains(r.body, []byte(`"children"`)) {
		t.Errorf("hierarchy without showHierarchy")
	}
	// Subaccount get: closest entitlement-managed parent.
	r = c.cmd("accounts/subaccount", "get", map[string]any{"subaccount": c.sub(SubReadySubdomain).GUID})
	var sa map[string]any
	r.json(t, &sa)
	var dirGUID string
	c.s.Do(func(w *World) { dirGUID = w.Directories[0].GUID })
	if sa["closestEntitlementManagedParentGUID"] != dirGUID || sa["parentType"] != "FOLDER" {
		t.Errorf("subaccount %v", sa)
	}
}

type cliEntListing struct {
	Entitled []struct {
		Name  string `json:"name"`
		Plans []struct {
			Name      string  `json:"name"`
			Category  string  `json:"category"`
			Unlimited bool    `json:"unlimited"`
			Amount    float64 `json:"amount"`
		} `json:"servicePlans"`
	} `json:"entitledServices"`
	Assigned []struct {
		Name  string `json:"name"`
		Plans []struct {
			Name string `json:"name"`
			Info []struct {
				EntityID     string  `json:"entityId"`
				EntityType   string  `json:"entityType"`
				State        string  `json:"entityState"`
				StateMessage string  `json:"stateMessage"`
				ParentType   string  `json:"parentType"`
				Amount       float64 `json:"amount"`
				Created      int64   `json:"createdDate"`
			} `json:"assignmentInfo"`
		} `json:"servicePlans"`
	} `json:"assignedServices"`
}

func (l cliEntListing) state(service, plan, sub string) string {
	for _, s := range l.Assigned {
		for _, p := range s.Plans {
			for _, a := range p.Info {
				if s.Name == service && p.Name == plan && a.EntityID == sub {
					return a.State
				}
			}
		}
	}
	return ""
}

func TestCLIEntitlementList_PaddingAndDirectoryView(t *testing.T) {
	c := newCLIT(t, Config{EntitlementPadding: 200 << 10})
	c.login(AdminUser, AdminPassword)
	ready := c.sub(SubReadySubdomain).GUID
	var dirGUID string
	c.s.Do(func(w *World) { dirGUID = w.Directories[0].GUID })

	r := c.cmd("accounts/entitlement", "list", map[string]any{"globalAccount": GASubdomain, "subaccountFilter": ready})
	if r.backend() != "200" || r.h.Get("X-Cpcli-Backend-Mediatype") != "application/json;charset=UTF-8" {
		t.Fatalf("backend %s", r.backend())
	}
	var l cliEntListing
	r.json(t, &l)
	itrt := -1
	for i, s := range l.Entitled {
		if s.Name == "it-rt" {
			itrt = i
			if len(s.Plans) != 2 || s.Plans[0].Category != "ELASTIC_SERVICE" || s.Plans[1].Category != "SERVICE" {
				t.Errorf("it-rt plans %+v", s.Plans)
			}
		}
	}
	if itrt <= 0 || itrt >= len(l.Entitled)-2 {
		t.Errorf("it-rt at %d of %d: want it buried in the filler", itrt, len(l.Entitled))
	}
	if len(r.body) < 200<<10 {
		t.Errorf("listing only %d bytes", len(r.body))
	}
	// CPI QA sits below a directory that manages entitlements: the GA view leaves it out.
	if got := l.state("it-rt", "integration-flow", ready); got != "" {
		t.Errorf("GA view shows directory-managed assignment (%s)", got)
	}
	r = c.cmd("accounts/entitlement", "list", map[string]any{"globalAccount": GASubdomain, "subaccountFilter": ready, "directory": dirGUID})
	l = cliEntListing{}
	r.json(t, &l)
	if got := l.state("it-rt", "integration-flow", ready); got != "OK" {
		t.Errorf("directory view state %q", got)
	}
	if !bytes.Contains(r.body, []byte(`"parentType":"DIRECTORY"`)) {
		t.Errorf("directory view without parentType DIRECTORY")
	}
	r = c.cmd("accounts/entitlement", "list", map[string]any{"globalAccount": GASubdomain, "directory": "nope"})
	if r.backend() != "404" || !bytes.Contains(r.body, []byte("[Error: 20002/404]")) {
		t.Errorf("unknown directory: %s %s", r.backend(), r.body)
	}

	// A global account without it-rt does not list it.
	c.s.Do(func(w *World) { w.GAHasITRT = false })
	r = c.cmd("accounts/entitlement", "list", map[string]any{"globalAccount": GASubdomain})
	if bytes.Contains(r.body, []byte(`"name":"it-rt"`)) {
		t.Errorf("it-rt listed for a GA that does not own it")
	}
}

func TestCLIEntitlementAssign(t *testing.T) {
	c := newCLIT(t, Config{EntitleTime: 30 * time.Second})
	fresh := c.sub(SubFreshSubdomain).GUID
	assign := func(params map[string]any) cliResp {
		p := map[string]any{"globalAccount": GASubdomain, "serviceName": "it-rt", "subaccount": fresh}
		for k, v := range params {
			p[k] = v
		}
		return c.cmd("accounts/entitlement", "assign", p)
	}

	c.login(ViewerUser, ViewerPass)
	r := assign(map[string]any{"servicePlanName": "integration-flow", "enable": "true"})
	if r.status != 200 || r.backend() != "403" || r.h.Get("X-Cpcli-Backend-Message") != "You are not authorized to use this command." ||
		len(r.body) != 0 || r.h.Get("X-Cpcli-Backend-Mediatype") != "" {
		t.Fatalf("viewer: %d %s %q %q", r.status, r.backend(), r.h.Get("X-Cpcli-Backend-Message"), r.body)
	}

	c.login(AdminUser, AdminPassword)
	tests := []struct {
		name    string
		params  map[string]any
		status  int
		backend string
		bodyRE  string
	}{
		{"amount for elastic plan", map[string]any{"servicePlanName": "integration-flow", "amount": "1"}, 200, "400", `has no numeric quota.*\[Error: \d+/400\]`},
		{"enable for quota plan", map[string]any{"servicePlanName": "api", "enable": "true"}, 200, "400", `has a numeric quota.*\[Error: \d+/400\]`},
		{"neither enable nor amount", map[string]any{"servicePlanName": "api"}, 400, "", `^$`},
		{"unknown plan", map[string]any{"servicePlanName": "iflow", "enable": "true"}, 200, "404", `\[Error: \d+/404\]`},
		{"too much quota", map[string]any{"servicePlanName": "api", "amount": "100"}, 200, "400", `exceeds`},
		{"enable", map[string]any{"servicePlanName": "integration-flow", "enable": "true"}, 200, "200", `^\{"jobId":"\d+"\}$`},
		{"amount", map[string]any{"servicePlanName": "api", "amount": "1"}, 200, "200", `^\{"jobId":"\d+"\}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := assign(tt.params)
			if r.status != tt.status || r.backend() != tt.backend || !regexp.MustCompile(tt.bodyRE).Match(r.body) {
				t.Fatalf("HTTP %d backend %q body %s", r.status, r.backend(), r.body)
			}
		})
	}

	list := func() cliEntListing {
		var l cliEntListing
		c.cmd("accounts/entitlement", "list", map[string]any{"globalAccount": GASubdomain, "subaccountFilter": fresh}).json(t, &l)
		return l
	}
	l := list()
	if st := l.state("it-rt", "integration-flow", fresh); st != "STARTED" {
		t.Errorf("right after assign: %q", st)
	}
	c.clock.add(15 * time.Second)
	if st := list().state("it-rt", "integration-flow", fresh); st != "PROCESSING" {
		t.Errorf("midway: %q", st)
	}
	c.clock.add(20 * time.Second)
	if st := list().state("it-rt", "api", fresh); st != "OK" {
		t.Errorf("after EntitleTime: %q", st)
	}

	// Scripted failure ends PROCESSING_FAILED with a message.
	c.s.Inject(Fault{Kind: FaultEntitlementFailure, Match: "cli:accounts/entitlement?assign", Message: "Quota service unavailable."})
	assign(map[string]any{"servicePlanName": "integration-flow", "enable": "true"})
	c.clock.add(time.Minute)
	l = list()
	if st := l.state("it-rt", "integration-flow", fresh); st != "PROCESSING_FAILED" {
		t.Errorf("failed assignment: %q", st)
	}
	if !strings.Contains(string(mustJSON(l)), "Quota service unavailable.") {
		t.Errorf("stateMessage missing")
	}

	// Without it-rt in the global account.
	c.s.Do(func(w *World) { w.GAHasITRT = false })
	r = assign(map[string]any{"servicePlanName": "integration-flow", "enable": "true"})
	if r.backend() != "404" || !regexp.MustCompile(`\[Error: \d+/404\]`).Match(r.body) {
		t.Errorf("GA without it-rt: %s %s", r.backend(), r.body)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestCLIEnvironmentInstances_LabelsAreStrings(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(ViewerUser, ViewerPass)
	fresh := c.sub(SubFreshSubdomain)
	r := c.cmd("accounts/environment-instance", "list", map[string]any{"subaccount": fresh.GUID})
	var out struct {
		Envs []map[string]any `json:"environmentInstances"`
	}
	r.json(t, &out)
	if len(out.Envs) != 1 {
		t.Fatalf("envs %v", out.Envs)
	}
	e := out.Envs[0]
	labels, ok := e["labels"].(string)
	if !ok {
		t.Fatalf("labels is %T, want a JSON string", e["labels"])
	}
	if _, ok := e["parameters"].(string); !ok {
		t.Errorf("parameters is %T, want a JSON string", e["parameters"])
	}
	var lm map[string]string
	if err := json.Unmarshal([]byte(labels), &lm); err != nil {
		t.Fatal(err)
	}
	if lm["API Endpoint"] != c.s.CFAPIURL() || lm["Org ID"] != fresh.OrgGUID || lm["Org Name"] == "" || lm["Org Memory Limit"] == "" {
		t.Errorf("labels %v", lm)
	}
	r = c.cmd("accounts/environment-instance", "get", map[string]any{"subaccount": fresh.GUID, "environmentID": e["id"]})
	if r.backend() != "200" {
		t.Errorf("get: %s", r.backend())
	}
	nocf := c.sub(SubNoCFSubdomain)
	r = c.cmd("accounts/environment-instance", "list", map[string]any{"subaccount": nocf.GUID})
	if string(r.body) != `{"environmentInstances":[]}` {
		t.Errorf("no-CF subaccount: %s", r.body)
	}
}

func TestCLIServices_InstanceAndBinding(t *testing.T) {
	c := newCLIT(t, Config{ProvisionTime: 20 * time.Second, BindTime: 5 * time.Second})
	c.login(AdminUser, AdminPassword)
	ready := c.sub(SubReadySubdomain).GUID
	fresh := c.sub(SubFreshSubdomain).GUID

	// Offerings: it-rt only where entitled.
	var offs []map[string]any
	c.cmd("services/offering", "list", map[string]any{"subaccount": ready}).json(t, &offs)
	if !cliHasName(offs, "it-rt") {
		t.Errorf("it-rt not offered in %s", SubReady)
	}
	bare := 0
	for _, o := range offs {
		if _, ok := o["metadata"].(map[string]any)["displayName"]; !ok {
			bare++
		}
	}
	if bare == 0 {
		t.Errorf("every offering has metadata.displayName; real SAP omits it on some")
	}
	offs = nil
	c.cmd("services/offering", "list", map[string]any{"subaccount": fresh}).json(t, &offs)
	if cliHasName(offs, "it-rt") {
		t.Errorf("it-rt offered without entitlement")
	}
	// Plan by name; labels are a string.
	var plan map[string]any
	c.cmd("services/plan", "get", map[string]any{"subaccount": ready, "name": "integration-flow", "offeringName": "it-rt"}).json(t, &plan)
	if _, ok := plan["labels"].(string); !ok || plan["id"] == "" {
		t.Fatalf("plan %v", plan)
	}
	for _, extra := range []string{"service_offering_name", "data_center", "plan_updateable"} {
		if _, ok := plan[extra]; ok {
			t.Errorf("plan get carries %s, which real SAP sends only in lists", extra)
		}
	}
	planID := plan["id"].(string)
	if r := c.cmd("services/plan", "get", map[string]any{"subaccount": fresh, "name": "integration-flow", "offeringName": "it-rt"}); r.backend() != "404" {
		t.Errorf("unentitled plan get: %s", r.backend())
	}
	if r := c.cmd("services/instance", "create", map[string]any{"subaccount": fresh, "name": "x", "plan": planID}); r.backend() != "400" {
		t.Errorf("create with unentitled plan: %s %s", r.backend(), r.body)
	}

	// Broker rejects unknown parameters: backend 502 with broker_error.
	r := c.cmd("services/instance", "create", map[string]any{"subaccount": ready, "name": "bad", "plan": planID, "parameters": `{"xsappname":"x"}`})
	if r.backend() != "502" || r.h.Get("X-Cpcli-Backend-Message") == "" {
		t.Fatalf("broker error: %s", r.backend())
	}
	var be struct {
		Error       string `json:"error"`
		Description string `json:"description"`
		Broker      struct {
			StatusCode  int
			Description string
		} `json:"broker_error"`
	}
	r.json(t, &be)
	if be.Error != "BrokerError" || be.Broker.StatusCode != 400 || !strings.Contains(be.Broker.Description, "xsappname") ||
		!strings.Contains(be.Description, "Description: "+be.Broker.Description) {
		t.Errorf("broker error %+v", be)
	}

	// Create: backend 202 with the CLI-specific body.
	params := `{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[],"token-validity":3600}`
	r = c.cmd("services/instance", "create", map[string]any{"subaccount": ready, "name": "CPI_SAMPLE_INSTANCE", "plan": planID, "parameters": params})
	if r.backend() != "202" {
		t.Fatalf("create: %s %s", r.backend(), r.body)
	}
	var acc map[string]string
	r.json(t, &acc)
	if len(acc) != 3 || acc["id"] == "" || !strings.HasPrefix(acc["command"], "btp get services/instance "+acc["id"]) || acc["description"] == "" {
		t.Errorf("202 body %v", acc)
	}
	id := acc["id"]
	if r := c.cmd("services/instance", "create", map[string]any{"subaccount": ready, "name": "CPI_SAMPLE_INSTANCE", "plan": planID}); r.backend() != "409" {
		t.Errorf("duplicate name: %s", r.backend())
	}
	inst := func() map[string]any {
		var m map[string]any
		c.cmd("services/instance", "get", map[string]any{"subaccount": ready, "id": id, "parameters": "false"}).json(t, &m)
		return m
	}
	m := inst()
	if op := m["last_operation"].(map[string]any); op["state"] != "in progress" || m["ready"] != false || m["usable"] != false {
		t.Errorf("while provisioning %v", m)
	}
	if r := c.cmd("services/binding", "create", map[string]any{"subaccount": ready, "name": "k", "serviceInstanceID": id}); r.backend() != "422" {
		t.Errorf("binding on unready instance: %s", r.backend())
	}
	c.clock.add(21 * time.Second)
	m = inst()
	if op := m["last_operation"].(map[string]any); op["state"] != "succeeded" || m["ready"] != true || m["usable"] != true {
		t.Errorf("after provisioning %v", m)
	}
	if r := c.cmd("services/instance", "get", map[string]any{"subaccount": ready, "id": id, "parameters": "true"}); r.backend() != "400" ||
		string(r.body) != `{"description":"this operation is not supported.","error":"BadRequest"}` {
		t.Errorf("parameters=true: %s %s", r.backend(), r.body)
	}
	var list []map[string]any
	c.cmd("services/instance", "list", map[string]any{"subaccount": ready}).json(t, &list)
	if len(list) != 1 || list[0]["last_operation"] != nil || list[0]["labels"] != "subaccount_id = "+ready {
		t.Errorf("list %v", list)
	}

	// Binding: 201 without credentials; get/list with.
	r = c.cmd("services/binding", "create", map[string]any{"subaccount": ready, "name": "CPI_SAMPLE_INSTANCE-key", "serviceInstanceID": id, "parameters": `{"key-type":"client_id_secret"}`})
	if r.backend() != "201" || bytes.Contains(r.body, []byte("credentials")) || bytes.Contains(r.body, []byte("clientsecret")) {
		t.Fatalf("binding create: %s %s", r.backend(), r.body)
	}
	var b map[string]any
	r.json(t, &b)
	bid := b["id"].(string)
	c.clock.add(6 * time.Second)
	var got map[string]any
	c.cmd("services/binding", "get", map[string]any{"subaccount": ready, "id": bid}).json(t, &got)
	oauth, _ := got["credentials"].(map[string]any)["oauth"].(map[string]any)
	if oauth["clientid"] == "" || oauth["clientsecret"] == "" || !strings.HasPrefix(oauth["tokenurl"].(string), c.s.TokenBaseURL()) {
		t.Errorf("credentials %v", got["credentials"])
	}
	var blist []map[string]any
	c.cmd("services/binding", "list", map[string]any{"subaccount": ready}).json(t, &blist)
	if len(blist) != 1 || blist[0]["credentials"] == nil || blist[0]["service_instance_name"] != "CPI_SAMPLE_INSTANCE" || blist[0]["last_operation"] != nil {
		t.Errorf("binding list %v", blist)
	}
	if r := c.cmd("services/binding", "create", map[string]any{"subaccount": ready, "name": "k2", "serviceInstanceID": id, "parameters": `{"validityType":"DAYS"}`}); r.backend() != "502" {
		t.Errorf("bad key parameters: %s", r.backend())
	}

	// Deletes: instance needs confirm; binding does not; both end in 404.
	if r := c.cmd("services/instance", "delete", map[string]any{"subaccount": ready, "id": id}); r.status != 400 {
		t.Errorf("delete without confirm: %d", r.status)
	}
	if r := c.cmd("services/instance", "delete", map[string]any{"subaccount": ready, "id": id, "confirm": "true"}); r.backend() != "400" {
		t.Errorf("delete instance with bindings: %s", r.backend())
	}
	if r := c.cmd("services/binding", "delete", map[string]any{"subaccount": ready, "id": bid}); r.backend() != "200" || string(r.body) != "{}" {
		t.Errorf("binding delete: %s %s", r.backend(), r.body)
	}
	c.clock.add(6 * time.Second)
	if r := c.cmd("services/binding", "get", map[string]any{"subaccount": ready, "id": bid}); r.backend() != "404" {
		t.Errorf("binding after delete: %s", r.backend())
	}
	if r := c.cmd("services/instance", "delete", map[string]any{"subaccount": ready, "id": id, "confirm": "true"}); r.backend() != "200" {
		t.Errorf("instance delete: %s %s", r.backend(), r.body)
	}
	m = inst()
	if op := m["last_operation"].(map[string]any); op["type"] != "delete" || op["state"] != "in progress" {
		t.Errorf("deleting %v", op)
	}
	c.clock.add(21 * time.Second)
	if r := c.cmd("services/instance", "get", map[string]any{"subaccount": ready, "id": id}); r.backend() != "404" {
		t.Errorf("instance after delete: %s", r.backend())
	}
}

func cliHasName(list []map[string]any, name string) bool {
	for _, m := range list {
		if m["name"] == name {
			return true
		}
	}
	return false
}

func TestCLIServices_BrokerFailures(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	ready := c.sub(SubReadySubdomain)
	var plan map[string]any
	c.cmd("services/plan", "get", map[string]any{"subaccount": ready.GUID, "name": "api", "offeringName": "it-rt"}).json(t, &plan)
	create := func(name string) cliResp {
		return c.cmd("services/instance", "create", map[string]any{"subaccount": ready.GUID, "name": name, "plan": plan["id"],
			"parameters": `{"roles":["MonitoringDataRead"]}`})
	}
	c.s.Inject(Fault{Kind: FaultBrokerFailure, Match: "cli:services/instance?create", Status: 503, Message: "Broker is down."})
	r := create("a")
	if r.backend() != "502" || !bytes.Contains(r.body, []byte(`"StatusCode":503`)) || !bytes.Contains(r.body, []byte("Broker is down.")) {
		t.Errorf("scripted broker failure: %s %s", r.backend(), r.body)
	}
	c.s.Do(func(w *World) { w.subaccount(ready.GUID).TenantProvisioned = false })
	r = create("b")
	if r.backend() != "502" || !bytes.Contains(r.body, []byte("not provisioned")) {
		t.Errorf("tenant not provisioned: %s %s", r.backend(), r.body)
	}
	c.s.Do(func(w *World) { w.subaccount(ready.GUID).TenantProvisioned = true })
	if r := c.cmd("services/instance", "create", map[string]any{"subaccount": ready.GUID, "name": "c", "plan": plan["id"]}); r.backend() != "502" ||
		!bytes.Contains(r.body, []byte("minItems")) {
		t.Errorf("api without roles: %s %s", r.backend(), r.body)
	}
	if r := create("d"); r.backend() != "202" {
		t.Errorf("after faults: %s %s", r.backend(), r.body)
	}
}

func TestCLIFaults(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	ga := map[string]any{"globalAccount": GASubdomain}

	c.s.Inject(Fault{Kind: FaultHTTPStatus, Match: "cli:accounts/global-account?get", Status: 504})
	r := c.cmd("accounts/global-account", "get", ga)
	if r.status != 504 || len(r.body) != 0 || !strings.Contains(r.h.Get("X-Cpcli-Server-Message"), "was not sent to the backend") {
		t.Errorf("504: %d %q %q", r.status, r.h.Get("X-Cpcli-Server-Message"), r.body)
	}
	c.s.Inject(Fault{Kind: FaultHTTPStatus, Match: "cli:accounts/global-account?get", Status: 429, RetryAfter: 2 * time.Second})
	r = c.cmd("accounts/global-account", "get", ga)
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &e)
	if r.status != 429 || e.Error.Code != 11006 || r.h.Get("Retry-After") != "2" {
		t.Errorf("429: %d %s %q", r.status, r.body, r.h.Get("Retry-After"))
	}
	c.s.Inject(Fault{Kind: FaultBackend429, Match: "cli:accounts/"})
	r = c.cmd("accounts/global-account", "get", ga)
	if r.status != 200 || r.backend() != "429" || string(r.body) != `{"error":"Request rate limit exceeded [Error: 11006/429]"}` {
		t.Errorf("backend 429: %d %s %s", r.status, r.backend(), r.body)
	}
	c.s.Inject(Fault{Kind: FaultEntitlementLock, Match: "cli:accounts/entitlement?assign"})
	r = c.cmd("accounts/entitlement", "assign", map[string]any{"serviceName": "it-rt", "servicePlanName": "integration-flow", "enable": "true", "subaccount": c.sub(SubFreshSubdomain).GUID})
	if r.backend() != "400" || !bytes.Contains(r.body, []byte("[Error: 30004/400]")) {
		t.Errorf("lock: %s %s", r.backend(), r.body)
	}
	if r := c.cmd("accounts/global-account", "get", ga); r.backend() != "200" {
		t.Errorf("faults not consumed: %d %s", r.status, r.backend())
	}
	c.s.Inject(Fault{Kind: FaultSessionExpiry, Match: "cli:accounts/subaccount?list"})
	if r := c.cmd("accounts/subaccount", "list", ga); r.status != 401 {
		t.Errorf("session expiry: %d", r.status)
	}
	if r := c.cmd("accounts/global-account", "get", ga); r.status != 401 {
		t.Errorf("session still valid after expiry: %d", r.status)
	}
}

func TestCLISSO(t *testing.T) {
	for _, manual := range []bool{false, true} {
		name := map[bool]string{false: "auto", true: "manual"}[manual]
		t.Run(name, func(t *testing.T) {
			c := newCLIT(t, Config{SSOManual: manual, SSODelay: 20 * time.Millisecond})
			r := c.raw(http.MethodGet, "/login/"+cliTV+"/browser", nil, nil)
			var start struct {
				LoginID           string `json:"loginId"`
				SubdomainRequired *bool  `json:"subdomainRequired"`
			}
			r.json(t, &start)
			if start.LoginID == "" || start.SubdomainRequired == nil || *start.SubdomainRequired {
				t.Fatalf("start %s", r.body)
			}
			done := make(chan cliResp, 1)
			go func() {
				done <- c.post("/login/"+cliTV+"/browser/"+start.LoginID, map[string]string{"customIdp": "", "subdomain": GASubdomain}, nil)
			}()
			if manual {
				select {
				case r := <-done:
					t.Fatalf("manual SSO completed without the browser: %d", r.status)
				case <-time.After(100 * time.Millisecond):
				}
				page := c.raw(http.MethodGet, "/login/"+cliTV+"/browser/"+start.LoginID, nil, nil)
				if page.status != 200 || !strings.Contains(page.h.Get("Content-Type"), "text/html") {
					t.Fatalf("page %d %s", page.status, page.h.Get("Content-Type"))
				}
			}
			select {
			case r := <-done:
				if r.status != 200 || r.h.Get("X-Cpcli-Sessionid") == "" || !bytes.Contains(r.body, []byte(AdminUser)) {
					t.Fatalf("wait: %d %s", r.status, r.body)
				}
				c.sid = r.h.Get("X-Cpcli-Sessionid")
			case <-time.After(5 * time.Second):
				t.Fatal("SSO wait did not complete")
			}
			if r := c.cmd("accounts/global-account", "get", nil); r.backend() != "200" {
				t.Errorf("session from SSO not usable: %d", r.status)
			}
		})
	}
}
