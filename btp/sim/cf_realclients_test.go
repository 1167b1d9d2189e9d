package sim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// Tests of what real Cloud Foundry clients (the cf CLI, go-cfclient, the
// Terraform provider) need beyond cpikey's own client: include= and
// fields[...], the instance and key side endpoints, and every link the
// simulator advertises.

// createdGUIDs logs in, optionally reads n times, creates an instance and
// returns its GUID and the job Location.
func createdGUIDs(t *testing.T, reads int) (inst, job string) {
	t.Helper()
	f := newCFFixture(t)
	for i := 0; i < reads; i++ {
		f.get(t, f.s.CFAPIURL()+"/v3/organizations")
	}
	r := call(t, http.MethodPost, f.s.CFAPIURL()+"/v3/service_instances", f.tok, f.instanceBody("cpi-rt", nil))
	if r.status != http.StatusAccepted {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	list := f.get(t, f.s.CFAPIURL()+"/v3/service_instances?names=cpi-rt")["resources"].([]any)
	return list[0].(map[string]any)["guid"].(string), r.header.Get("Location")
}

func TestCCRequestID_DoesNotShiftGUIDs(t *testing.T) {
	inst0, job0 := createdGUIDs(t, 0)
	inst5, job5 := createdGUIDs(t, 5)
	jobID := func(loc string) string { return loc[strings.LastIndex(loc, "/")+1:] }
	if inst0 != inst5 || jobID(job0) != jobID(job5) {
		t.Errorf("GUIDs depend on the number of earlier requests: instance %s vs %s, job %s vs %s", inst0, inst5, job0, job5)
	}
}

// withInstanceAndKey is a fixture with instance cpi-rt and its key cpi-rt-key
// both created; jobs are the Locations of the two creates.
func withInstanceAndKey(t *testing.T) (f *cfFixture, inst, key string, jobs []string) {
	t.Helper()
	f = newCFFixture(t)
	api := f.s.CFAPIURL()
	r := call(t, http.MethodPost, api+"/v3/service_instances", f.tok, f.instanceBody("cpi-rt", nil))
	if r.status != http.StatusAccepted {
		t.Fatalf("create instance: %d %s", r.status, r.body)
	}
	jobs = append(jobs, r.header.Get("Location"))
	f.clk.Add(9 * time.Second)
	inst = f.get(t, api+"/v3/service_instances?names=cpi-rt")["resources"].([]any)[0].(map[string]any)["guid"].(string)
	r = call(t, http.MethodPost, api+"/v3/service_credential_bindings", f.tok, map[string]any{"type": "key", "name": "cpi-rt-key",
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": inst}}}})
	if r.status != http.StatusAccepted {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	jobs = append(jobs, r.header.Get("Location"))
	f.clk.Add(3 * time.Second)
	key = f.get(t, api+"/v3/service_credential_bindings?names=cpi-rt-key")["resources"].([]any)[0].(map[string]any)["guid"].(string)
	return f, inst, key, jobs
}

// sameJSON compares got with the JSON text want, key order aside.
func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	g, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if string(g) != string(wb) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, wb)
	}
}

func TestCCIncluded_IncludeAndFields(t *testing.T) {
	f, inst, key, _ := withInstanceAndKey(t)
	api := f.s.CFAPIURL()
	var org, orgName, broker, offering, plan string
	f.s.Do(func(w *World) {
		sp := w.space(f.space)
		org, orgName = sp.Org, w.org(sp.Org).Name
		broker, offering, plan = w.brokerGUID(), w.offeringGUID(), w.planGUID("integration-flow")
	})
	included := func(path string) map[string]any {
		t.Helper()
		m := f.get(t, api+path)
		inc, ok := m["included"].(map[string]any)
		if !ok {
			t.Fatalf("%s: no included in %v", path, m)
		}
		return inc
	}
	// What cf marketplace and cf services ask for.
	inc := included("/v3/service_plans?include=service_offering&fields%5Bservice_offering.service_broker%5D=name,guid&service_offering_names=it-rt")
	if so := inc["service_offerings"].([]any); len(so) != 1 || so[0].(map[string]any)["name"] != "it-rt" || so[0].(map[string]any)["links"] == nil {
		t.Errorf("included.service_offerings must hold the full offering: %v", so)
	}
	sameJSON(t, "plans: service_brokers", inc["service_brokers"], `[{"name":"it-rt-broker","guid":"`+broker+`"}]`)
	sameJSON(t, "plans: include=space.organization",
		included("/v3/service_plans?include=space.organization"), `{"spaces":[],"organizations":[]}`)
	sameJSON(t, "offerings: fields[service_broker]",
		included("/v3/service_offerings?fields%5Bservice_broker%5D=name"), `{"service_brokers":[{"name":"it-rt-broker"}]}`)
	sameJSON(t, "instances: cf services",
		included("/v3/service_instances?fields%5Bservice_plan%5D=name,guid&fields%5Bservice_plan.service_offering%5D=name,guid,description,documentation_url"+
			"&fields%5Bservice_plan.service_offering.service_broker%5D=name,guid&space_guids="+f.space),
		`{"service_plans":[{"name":"integration-flow","guid":"`+plan+`"}],
		  "service_offerings":[{"name":"it-rt","guid":"`+offering+`","description":"Provides access to SAP Cloud Platform Integration runtime (integration flows) and APIs.","documentation_url":"https://help.sap.com/docs/SAP_INTEGRATION_SUITE"}],
		  "service_brokers":[{"name":"it-rt-broker","guid":"`+broker+`"}]}`)
	sameJSON(t, "instances: relationships",
		included("/v3/service_instances?fields%5Bservice_plan%5D=relationships.service_offering&fields%5Bspace%5D=guid,relationships.organization&fields%5Bspace.organization%5D=name"),
		`{"service_plans":[{"relationships":{"service_offering":{"data":{"guid":"`+offering+`"}}}}],
		  "spaces":[{"guid":"`+f.space+`","relationships":{"organization":{"data":{"guid":"`+org+`"}}}}],
		  "organizations":[{"name":"`+orgName+`"}]}`)
	sameJSON(t, "instance: cf service",
		included("/v3/service_instances/"+inst+"?fields%5Bspace%5D=name,guid&fields%5Bspace.organization%5D=name,guid"),
		`{"spaces":[{"name":"dev","guid":"`+f.space+`"}],"organizations":[{"name":"`+orgName+`","guid":"`+org+`"}]}`)
	sameJSON(t, "instances: none listed", included("/v3/service_instances?names=nope&fields%5Bspace%5D=name&fields%5Bservice_plan%5D=name"), `{"spaces":[]}`)
	for _, p := range []string{"/v3/spaces?include=organization&guids=" + f.space, "/v3/spaces/" + f.space + "?include=org"} {
		orgs := included(p)["organizations"].([]any)
		if len(orgs) != 1 || orgs[0].(map[string]any)["guid"] != org || orgs[0].(map[string]any)["links"] == nil {
			t.Errorf("%s: included.organizations must hold the full org: %v", p, orgs)
		}
	}
	for _, p := range []string{"/v3/service_credential_bindings?include=app,service_instance", "/v3/service_credential_bindings/" + key + "?include=service_instance,app"} {
		inc := included(p)
		si := inc["service_instances"].([]any)
		if len(si) != 1 || si[0].(map[string]any)["guid"] != inst || len(inc["apps"].([]any)) != 0 {
			t.Errorf("%s: %v", p, inc)
		}
	}
	if m := f.get(t, api+"/v3/service_plans/"+plan+"?include=service_offering"); m["guid"] != plan ||
		len(m["included"].(map[string]any)["service_offerings"].([]any)) != 1 {
		t.Errorf("plan with include=service_offering: %v", m)
	}
	if _, ok := f.get(t, api+"/v3/service_plans")["included"]; ok {
		t.Errorf("included without include= or fields[...]")
	}
}

func TestCCIncluded_UnsupportedValuesAre400(t *testing.T) {
	f, inst, _, _ := withInstanceAndKey(t)
	tests := []struct{ path, detail string }{
		{"/v3/service_plans?include=space", "Invalid included resource: 'space'. Valid included resources are: 'space.organization', 'service_offering'"},
		{"/v3/service_plans?include=service_offering,service_offering", "Duplicate included resource: 'service_offering'"},
		{"/v3/service_plans?fields%5Bservice_offering%5D=name", "Fields [service_offering] valid resources are: 'service_offering.service_broker'"},
		{"/v3/service_offerings?fields%5Bservice_broker%5D=url", "Fields valid keys for 'service_broker' are: 'guid', 'name'"},
		{"/v3/service_instances?fields%5Bfruit%5D=name", "Fields [fruit] valid resources are: 'space', 'space.organization', 'service_plan', 'service_plan.service_offering', 'service_plan.service_offering.service_broker'"},
		{"/v3/service_instances?fields%5Bspace%5D=metadata", "Fields valid keys for 'space' are: 'guid', 'name', 'relationships.organization'"},
		{"/v3/service_instances/" + inst + "?fields%5Bservice_plan%5D=relationships.service_offering", "Fields valid keys for 'service_plan' are: 'name', 'guid'"},
		{"/v3/service_instances?include=space", "Unknown query parameter(s): 'include'. Valid parameters are: "},
		{"/v3/service_credential_bindings?include=routes", "Invalid included resource: 'routes'. Valid included resources are: 'app', 'service_instance'"},
		{"/v3/spaces?include=spaces", "Invalid included resource: 'spaces'. Valid included resources are: 'org', 'organization'"},
		{"/v3/organizations?include=spaces", "Unknown query parameter(s): 'include'. Valid parameters are: 'page', 'per_page', 'order_by', 'names', 'guids'"},
		{"/v3/spaces/" + f.space + "?names=x", "Unknown query parameter(s): 'names'. Valid parameters are: 'include'"},
		{"/v3/service_plans?include=nope&per_page=0", "Invalid included resource: 'nope'. Valid included resources are: 'space.organization', 'service_offering', Per page must be a positive integer"},
	}
	for _, tt := range tests {
		r := call(t, http.MethodGet, f.s.CFAPIURL()+tt.path, f.tok, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", tt.path, r.status, r.body)
			continue
		}
		if code, title, detail := r.firstError(t); code != 10005 || title != "CF-BadQueryParameter" ||
			!strings.HasPrefix(detail, "The query parameter is invalid: "+tt.detail) {
			t.Errorf("%s: %v %v %q", tt.path, code, title, detail)
		}
	}
}

func TestCCInstanceAndKeySideEndpoints(t *testing.T) {
	f, inst, key, _ := withInstanceAndKey(t)
	api := f.s.CFAPIURL()
	f.s.Do(func(w *World) {
		w.Users = append(w.Users, &User{Email: "other@acme.example", Password: "pw", Origin: "sap.ids",
			SpaceDeveloper: []string{spaceGUIDIn(w, SubFreshSubdomain, "dev")}})
	})
	other, _ := login(t, f.s, "other@acme.example", "pw")
	nodev, _ := login(t, f.s, NoDevUser, NoDevPass)
	missing := "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name, tok, path string
		status          int
		body            string // exact JSON
	}{
		{"shared spaces", f.tok, "/v3/service_instances/" + inst + "/relationships/shared_spaces", 200,
			`{"data":[],"links":{"self":{"href":"` + api + `/v3/service_instances/` + inst + `/relationships/shared_spaces"}}}`},
		{"shared spaces with fields", f.tok, "/v3/service_instances/" + inst + "/relationships/shared_spaces?fields%5Bspace%5D=name,guid,relationships.organization&fields%5Bspace.organization%5D=name,guid", 200,
			`{"data":[],"links":{"self":{"href":"` + api + `/v3/service_instances/` + inst + `/relationships/shared_spaces"}},"included":{"spaces":[],"organizations":[]}}`},
		{"shared spaces bad fields", f.tok, "/v3/service_instances/" + inst + "/relationships/shared_spaces?fields%5Bfruit%5D=name", 400,
			`{"errors":[{"detail":"The query parameter is invalid: Fields [fruit] valid resources are: 'space', 'space.organization'","title":"CF-BadQueryParameter","code":10005}]}`},
		{"shared spaces usage", f.tok, "/v3/service_instances/" + inst + "/relationships/shared_spaces/usage_summary", 200,
			`{"usage_summary":[],"links":{"self":{"href":"` + api + `/v3/service_instances/` + inst + `/relationships/shared_spaces/usage_summary"},"shared_spaces":{"href":"` + api + `/v3/service_instances/` + inst + `/relationships/shared_spaces"},"service_instance":{"href":"` + api + `/v3/service_instances/` + inst + `"}}}`},
		{"shared spaces unknown instance", f.tok, "/v3/service_instances/" + missing + "/relationships/shared_spaces", 404,
			`{"errors":[{"detail":"Service instance not found","title":"CF-ResourceNotFound","code":10010}]}`},
		{"instance parameters", f.tok, "/v3/service_instances/" + inst + "/parameters", 400,
			`{"errors":[{"detail":"This service does not support fetching service instance parameters.","title":"CF-ServiceFetchInstanceParametersNotSupported","code":120004}]}`},
		{"instance parameters, no access", other, "/v3/service_instances/" + inst + "/parameters", 404,
			`{"errors":[{"detail":"Service instance not found","title":"CF-ResourceNotFound","code":10010}]}`},
		{"key parameters", f.tok, "/v3/service_credential_bindings/" + key + "/parameters", 502,
			`{"errors":[{"detail":"This service does not support fetching service binding parameters.","title":"CF-ServiceFetchBindingParametersNotSupported","code":90007}]}`},
		{"key parameters unknown", f.tok, "/v3/service_credential_bindings/" + missing + "/parameters", 404,
			`{"errors":[{"detail":"Service credential binding not found","title":"CF-ResourceNotFound","code":10010}]}`},
		{"permissions, developer", f.tok, "/v3/service_instances/" + inst + "/permissions", 200, `{"read":true,"manage":true}`},
		{"permissions, reader", nodev, "/v3/service_instances/" + inst + "/permissions", 200, `{"read":true,"manage":false}`},
		{"permissions, outsider", other, "/v3/service_instances/" + inst + "/permissions", 200, `{"read":false,"manage":false}`},
		{"permissions, unknown", f.tok, "/v3/service_instances/" + missing + "/permissions", 404,
			`{"errors":[{"detail":"Service instance not found","title":"CF-ResourceNotFound","code":10010}]}`},
		{"space feature ssh", f.tok, "/v3/spaces/" + f.space + "/features/ssh", 200,
			`{"name":"ssh","description":"Enable SSHing into apps in the space.","enabled":true}`},
		{"space features", f.tok, "/v3/spaces/" + f.space + "/features", 200,
			`{"resources":[{"name":"ssh","description":"Enable SSHing into apps in the space.","enabled":true}]}`},
		{"space feature ssh, no access", other, "/v3/spaces/" + f.space + "/features/ssh", 404,
			`{"errors":[{"detail":"Space not found","title":"CF-ResourceNotFound","code":10010}]}`},
		{"broker, space developer", f.tok, "/v3/service_brokers/" + brokerOf(f.s), 404,
			`{"errors":[{"detail":"Service broker not found","title":"CF-ResourceNotFound","code":10010}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodGet, api+tt.path, tt.tok, nil)
			if r.status != tt.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
			sameJSON(t, tt.path, r.json(t), tt.body)
		})
	}
}

func spaceGUIDIn(w *World, subdomain, name string) string {
	for _, sa := range w.Subaccounts {
		for _, sp := range w.Spaces {
			if sa.Subdomain == subdomain && sp.Org == sa.OrgGUID && sp.Name == name {
				return sp.GUID
			}
		}
	}
	return ""
}

func brokerOf(s *Server) string {
	var g string
	s.Do(func(w *World) { g = w.brokerGUID() })
	return g
}

// linkShape turns a URL into its route: GUID segments become :id and the
// query keeps its keys only.
func linkShape(api, u string) string {
	p, q, _ := strings.Cut(strings.TrimPrefix(u, api), "?")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if guidRE.MatchString(s) {
			segs[i] = ":id"
		}
	}
	shape := strings.Join(segs, "/")
	if q != "" {
		var keys []string
		for _, kv := range strings.Split(q, "&") {
			if k, _, _ := strings.Cut(kv, "="); k != "page" && k != "per_page" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		shape += "?" + strings.Join(keys, "&")
	}
	return shape
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// hrefs collects every GET link in a JSON document: links.*, pagination
// and those of included resources.
func hrefs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if h, ok := x["href"].(string); ok {
			if m, _ := x["method"].(string); m == "" || m == http.MethodGet {
				*out = append(*out, h)
			}
		}
		for _, e := range x {
			hrefs(e, out)
		}
	case []any:
		for _, e := range x {
			hrefs(e, out)
		}
	}
}

func TestCCLinks_EveryAdvertisedLinkIsServed(t *testing.T) {
	f, _, _, jobs := withInstanceAndKey(t)
	api := f.s.CFAPIURL()
	// Non-200 answers the real API gives a Space Developer at these links.
	realNon200 := map[string]int{
		"/v3/service_instances/:id/parameters":           http.StatusBadRequest, // instances_retrievable: false
		"/v3/service_credential_bindings/:id/parameters": http.StatusBadGateway, // bindings_retrievable: false
		"/v3/service_brokers/:id":                        http.StatusNotFound,   // global broker: admins only
	}
	root := call(t, http.MethodGet, api+"/", "", nil).json(t)
	// The global root also locates APIs the simulator does not serve (v2,
	// the policy server, logging); its Cloud Controller v3 link is crawled.
	queue := append([]string{root["links"].(map[string]any)["cloud_controller_v3"].(map[string]any)["href"].(string)}, jobs...)
	seen := map[string]bool{}
	shapes := map[string]bool{}
	for len(queue) > 0 && len(seen) < 1000 {
		u := queue[0]
		queue = queue[1:]
		if seen[u] || !strings.HasPrefix(u, api+"/") {
			continue
		}
		seen[u] = true
		shape := linkShape(api, u)
		shapes[shape] = true
		r := call(t, http.MethodGet, u, f.tok, nil)
		want, ok := realNon200[strings.SplitN(shape, "?", 2)[0]]
		if !ok {
			want = http.StatusOK
		}
		if r.status != want {
			t.Errorf("GET %s: %d, want %d: %s", u, r.status, want, r.body)
			continue
		}
		if want != http.StatusOK {
			// A real answer of that route, never CF-NotFound "Unknown request".
			if code, _, _ := r.firstError(t); code == 10000 {
				t.Errorf("GET %s: route not served: %s", u, r.body)
			}
			continue
		}
		var found []string
		hrefs(r.json(t), &found)
		queue = append(queue, found...)
	}
	// The crawl must have reached every kind of link the simulator puts out.
	for _, s := range []string{
		"/v3/organizations", "/v3/organizations/:id", "/v3/organizations/:id/domains", "/v3/organizations/:id/domains/default",
		"/v3/organization_quotas/:id", "/v3/domains/:id", "/v3/domains/:id/route_reservations",
		"/v3/spaces/:id", "/v3/spaces/:id/features", "/v3/service_brokers/:id", "/v3/service_offerings/:id",
		"/v3/service_plans?service_offering_guids", "/v3/service_plans/:id", "/v3/service_plans/:id/visibility",
		"/v3/service_instances/:id", "/v3/service_instances/:id/parameters", "/v3/service_instances/:id/relationships/shared_spaces",
		"/v3/service_credential_bindings?service_instance_guids", "/v3/service_route_bindings?service_instance_guids",
		"/v3/service_credential_bindings/:id", "/v3/service_credential_bindings/:id/details",
		"/v3/service_credential_bindings/:id/parameters", "/v3/jobs/:id",
	} {
		if !shapes[s] {
			t.Errorf("crawl never reached %s", s)
		}
	}
	t.Logf("%d URLs, %d link shapes", len(seen), len(shapes))
}

func TestCCShapes_AsRecordedOnBTP(t *testing.T) {
	f, inst, key, _ := withInstanceAndKey(t)
	api := f.s.CFAPIURL()
	klo := f.get(t, api+"/v3/service_credential_bindings/"+key)["last_operation"].(map[string]any)
	if d, ok := klo["description"]; !ok || d != nil || klo["state"] != "succeeded" {
		t.Errorf("key last_operation.description must be null as recorded: %v", klo)
	}
	ilo := f.get(t, api+"/v3/service_instances/"+inst)["last_operation"].(map[string]any)
	if ilo["description"] != "" || ilo["state"] != "succeeded" {
		t.Errorf(`instance last_operation.description must be "" as recorded: %v`, ilo)
	}
}
