package sim

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// Integration Suite on the wire (integration-suite.md §1, §3): raw
// requests against the simulator, independent of btp/cliserver.

type suiteApp struct {
	State             string `json:"state"`
	AppName           string `json:"appName"`
	CommercialAppName string `json:"commercialAppName"`
	PlanName          string `json:"planName"`
	Category          string `json:"category"`
	SubscriptionURL   string `json:"subscriptionUrl"`
	SubscriptionError *struct {
		ErrorMessage string `json:"errorMessage"`
		AppError     string `json:"appError"`
	} `json:"subscriptionError"`
}

func (c *cliT) apps(sub string) []suiteApp {
	c.t.Helper()
	r := c.cmd("accounts/subscription", "list", map[string]any{"subaccount": sub})
	if r.backend() != "200" {
		c.t.Fatalf("list: %s %s", r.backend(), r.body)
	}
	var l struct {
		Applications []suiteApp `json:"applications"`
	}
	r.json(c.t, &l)
	return l.Applications
}

func (c *cliT) suiteApp(sub, plan string) *suiteApp {
	for _, a := range c.apps(sub) {
		if a.CommercialAppName == itrt.SuiteService && a.PlanName == plan {
			return &a
		}
	}
	return nil
}

func (c *cliT) collections(sub string) []string {
	c.t.Helper()
	r := c.cmd("security/role-collection", "list", map[string]any{"subaccount": sub})
	if r.backend() != "200" {
		c.t.Fatalf("role collections: %s %s", r.backend(), r.body)
	}
	var l []struct {
		Name string `json:"name"`
	}
	r.json(c.t, &l)
	var out []string
	for _, x := range l {
		out = append(out, x.Name)
	}
	return out
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSuite_EmptySubaccountToActivated(t *testing.T) {
	c := newCLIT(t, Config{SubscribeTime: time.Minute})
	c.login(AdminUser, AdminPassword)
	empty := c.sub(SubEmptySubdomain).GUID

	// Not entitled: only the decoy, which shares the category.
	apps := c.apps(empty)
	if len(apps) != 1 || apps[0].AppName != decoyAppName || apps[0].Category != "Integration Suite" {
		t.Fatalf("apps before entitling: %+v", apps)
	}
	if r := c.cmd("accounts/subaccount", "subscribe", map[string]any{"subaccount": empty, "appName": SuiteAppName, "planName": "free"}); r.backend() != "400" ||
		!bytes.Contains(r.body, []byte("not entitled")) {
		t.Errorf("subscribe without entitlement: %s %s", r.backend(), r.body)
	}
	r := c.cmd("accounts/entitlement", "assign", map[string]any{"globalAccount": GASubdomain, "subaccount": empty,
		"serviceName": itrt.SuiteService, "servicePlanName": "free", "enable": "true"})
	if r.backend() != "200" {
		t.Fatalf("entitle: %s %s", r.backend(), r.body)
	}
	c.clock.add(time.Second)
	app := c.suiteApp(empty, "free")
	if app == nil || app.State != itrt.SubscriptionNotSubscribed || app.AppName != SuiteAppName {
		t.Fatalf("entitled entry %+v", app)
	}

	r = c.cmd("accounts/subaccount", "subscribe", map[string]any{"subaccount": empty, "appName": SuiteAppName, "planName": "free"})
	if r.backend() != "200" || !bytes.HasPrefix(r.body, []byte(`{"jobId":"`)) {
		t.Fatalf("subscribe: %s %s", r.backend(), r.body)
	}
	if app := c.suiteApp(empty, "free"); app.State != itrt.SubscriptionInProcess || app.SubscriptionURL != "" {
		t.Errorf("while subscribing %+v", app)
	}
	if r := c.cmd("accounts/subaccount", "subscribe", map[string]any{"subaccount": empty, "appName": SuiteAppName, "planName": "free"}); r.backend() != "409" ||
		!bytes.Contains(r.body, []byte("is already subscribed")) {
		t.Errorf("second subscribe: %s %s", r.backend(), r.body)
	}
	if slices.Contains(c.collections(empty), itrt.RoleProvisioner) {
		t.Error("Integration_Provisioner before the subscription finished")
	}
	c.clock.add(time.Minute)
	r = c.cmd("accounts/subscription", "get", map[string]any{"subaccount": empty, "appName": SuiteAppName, "planName": "free"})
	var got suiteApp
	r.json(t, &got)
	if got.State != itrt.SubscriptionSubscribed || got.SubscriptionURL != c.s.SuiteURL(SubEmptySubdomain) {
		t.Fatalf("after subscribing %+v", got)
	}
	cols := c.collections(empty)
	if !slices.Contains(cols, itrt.RoleProvisioner) || slices.ContainsFunc(cols, itrt.IsPIRoleCollection) {
		t.Fatalf("collections after subscribing %v", cols)
	}

	// The home page refuses while nobody holds Integration_Provisioner.
	if code, body := httpGet(t, got.SubscriptionURL); code != 403 || !strings.Contains(body, "Integration_Provisioner") {
		t.Errorf("home page without the provisioner role: %d %s", code, body)
	}
	r = c.cmd("security/role-collection", "get", map[string]any{"subaccount": empty, "roleCollectionName": itrt.RoleProvisioner, "showUserAssignments": "true", "page": "1"})
	if r.backend() != "200" || !bytes.Contains(r.body, []byte(`"count":0`)) {
		t.Errorf("users before assigning: %s %s", r.backend(), r.body)
	}
	r = c.cmd("security/role-collection", "assign", map[string]any{"subaccount": empty, "roleCollectionName": itrt.RoleProvisioner,
		"userName": AdminUser, "origin": "ldap", "createUserIfMissing": "true"})
	if r.backend() != "200" || r.h.Get("X-Cpcli-Backend-Mediatype") != "application/json" || !bytes.Contains(r.body, []byte(`"origin":"sap.default"`)) {
		t.Fatalf("assign: %s %s", r.backend(), r.body)
	}
	r = c.cmd("security/role-collection", "get", map[string]any{"subaccount": empty, "roleCollectionName": itrt.RoleProvisioner, "showUserAssignments": "true", "page": "1"})
	if !bytes.Contains(r.body, []byte(`"count":1`)) || !bytes.Contains(r.body, []byte(`"email":"`+AdminUser+`"`)) {
		t.Errorf("users after assigning: %s", r.body)
	}

	// Opening the page activates Cloud Integration: PI_* appear, the broker accepts.
	if c.sub(SubEmptySubdomain).TenantProvisioned {
		t.Fatal("activated before the page was opened")
	}
	if code, body := httpGet(t, got.SubscriptionURL); code != 200 || !strings.Contains(body, "Cloud Integration is active") {
		t.Fatalf("home page: %d %s", code, body)
	}
	if !c.sub(SubEmptySubdomain).TenantProvisioned {
		t.Error("not activated after opening the page")
	}
	cols = c.collections(empty)
	for _, pi := range itrt.PIRoleCollections {
		if !slices.Contains(cols, pi) {
			t.Errorf("%s missing after the activation: %v", pi, cols)
		}
	}
}

func TestSuite_FailedSubscriptionThenRetry(t *testing.T) {
	c := newCLIT(t, Config{SubscribeTime: time.Second, SubscribeFailures: 1})
	c.login(AdminUser, AdminPassword)
	empty := c.sub(SubEmptySubdomain).GUID
	c.cmd("accounts/entitlement", "assign", map[string]any{"globalAccount": GASubdomain, "subaccount": empty,
		"serviceName": itrt.SuiteService, "servicePlanName": "enterprise_agreement", "enable": "true"})
	c.clock.add(time.Second)
	subscribe := func() cliResp {
		return c.cmd("accounts/subaccount", "subscribe", map[string]any{"subaccount": empty, "appName": SuiteAppName, "planName": "enterprise_agreement"})
	}
	if r := subscribe(); r.backend() != "200" {
		t.Fatalf("subscribe: %s %s", r.backend(), r.body)
	}
	c.clock.add(2 * time.Second)
	app := c.suiteApp(empty, "enterprise_agreement")
	if app.State != itrt.SubscriptionFailed || app.SubscriptionError == nil || !strings.Contains(app.SubscriptionError.ErrorMessage, "LOD-HCI-PI") ||
		!strings.HasPrefix(app.SubscriptionError.AppError, "{") {
		t.Fatalf("failed subscription %+v", app)
	}
	if r := subscribe(); r.backend() != "200" {
		t.Fatalf("subscribe again after the failure: %s %s", r.backend(), r.body)
	}
	c.clock.add(2 * time.Second)
	if app := c.suiteApp(empty, "enterprise_agreement"); app.State != itrt.SubscriptionSubscribed || app.SubscriptionError != nil {
		t.Errorf("second attempt %+v", app)
	}
}

func TestSuite_ReadySubaccountsAreSubscribedAndActivated(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	for _, sub := range []string{SubFreshSubdomain, SubReadySubdomain, SubNoCFSubdomain} {
		id := c.sub(sub).GUID
		var app *suiteApp
		for _, a := range c.apps(id) {
			if a.CommercialAppName == itrt.SuiteService {
				app = &a
			}
		}
		if app == nil || app.State != itrt.SubscriptionSubscribed || app.SubscriptionURL == "" {
			t.Errorf("%s: %+v", sub, app)
		}
		cols := c.collections(id)
		for _, want := range append([]string{itrt.RoleProvisioner}, itrt.PIRoleCollections...) {
			if !slices.Contains(cols, want) {
				t.Errorf("%s lacks %s: %v", sub, want, cols)
			}
		}
	}
	// A ready subaccount without the tenant has no PI_* collections.
	fresh := c.sub(SubFreshSubdomain).GUID
	c.s.Do(func(w *World) {
		sa := w.subaccount(fresh)
		sa.TenantProvisioned, sa.Suite = false, nil
	})
	if cols := c.collections(fresh); slices.ContainsFunc(cols, itrt.IsPIRoleCollection) {
		t.Errorf("PI_* without an activated tenant: %v", cols)
	}
}

func TestSuite_Authorisation(t *testing.T) {
	c := newCLIT(t, Config{})
	empty := c.sub(SubEmptySubdomain).GUID
	// NoDevUser administers the global account, not the new subaccount.
	c.login(NoDevUser, NoDevPass)
	if r := c.cmd("security/role-collection", "list", map[string]any{"subaccount": empty}); r.backend() != "403" {
		t.Errorf("role collections read without a subaccount role: %s", r.backend())
	}
	if r := c.cmd("accounts/subscription", "list", map[string]any{"subaccount": empty}); r.backend() != "200" {
		t.Errorf("a global account administrator lists subscriptions: %s %s", r.backend(), r.body)
	}
	// Viewers read, never assign or subscribe.
	c.login(ViewerUser, ViewerPass)
	if cols := c.collections(empty); !slices.Contains(cols, RoleSubaccountAdmin) {
		t.Errorf("viewer sees %v", cols)
	}
	r := c.cmd("security/role-collection", "assign", map[string]any{"subaccount": empty, "roleCollectionName": RoleSubaccountViewer,
		"userName": ViewerUser, "origin": "sap.default", "createUserIfMissing": "true"})
	if r.backend() != "403" || r.h.Get("X-Cpcli-Backend-Message") != cliMsgNotAuthz {
		t.Errorf("viewer assigns: %s %s", r.backend(), r.body)
	}
	if r := c.cmd("accounts/subaccount", "subscribe", map[string]any{"subaccount": empty, "appName": SuiteAppName}); r.backend() != "403" {
		t.Errorf("viewer subscribes: %s", r.backend())
	}
	// Unknown role collections answer like SAP's 404.
	c.login(AdminUser, AdminPassword)
	if r := c.cmd("security/role-collection", "get", map[string]any{"subaccount": empty, "roleCollectionName": itrt.RolePIAdministrator}); r.backend() != "404" ||
		!bytes.Contains(r.body, []byte("No entity found with values")) {
		t.Errorf("unknown collection: %s %s", r.backend(), r.body)
	}
}

func TestSuite_RoleUsersArePaged(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	ready := c.sub(SubReadySubdomain).GUID
	c.collections(ready) // made explicit
	c.s.Do(func(w *World) {
		rc := w.subaccount(ready).Suite.collection(itrt.RolePIReadOnly)
		for i := 0; i < 120; i++ {
			rc.Users = append(rc.Users, RoleUser{Email: "u" + strings.Repeat("x", i%7) + "@acme.example", Origin: "sap.default"})
		}
	})
	var pages struct {
		Count      int              `json:"count"`
		TotalPages int              `json:"totalPages"`
		Items      []map[string]any `json:"items"`
	}
	c.cmd("security/role-collection", "get", map[string]any{"subaccount": ready, "roleCollectionName": itrt.RolePIReadOnly, "showUserAssignments": "true", "page": "3"}).json(t, &pages)
	if pages.Count != 120 || pages.TotalPages != 3 || len(pages.Items) != 20 {
		t.Errorf("page 3: count %d, pages %d, items %d", pages.Count, pages.TotalPages, len(pages.Items))
	}
}

func TestSuite_BrokerRefusesUntilActivated(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	empty := c.sub(SubEmptySubdomain).GUID
	c.cmd("accounts/entitlement", "assign", map[string]any{"globalAccount": GASubdomain, "subaccount": empty,
		"serviceName": "it-rt", "servicePlanName": "api", "amount": "1"})
	c.clock.add(time.Second)
	var plan map[string]any
	c.cmd("services/plan", "get", map[string]any{"subaccount": empty, "name": "api", "offeringName": "it-rt"}).json(t, &plan)
	create := func(name string) cliResp {
		return c.cmd("services/instance", "create", map[string]any{"subaccount": empty, "name": name, "plan": plan["id"],
			"parameters": `{"roles":["MonitoringDataRead"]}`})
	}
	if r := create("before"); r.backend() != "502" || !bytes.Contains(r.body, []byte("it-broker-rt")) || !bytes.Contains(r.body, []byte("not provisioned")) {
		t.Errorf("before the activation: %s %s", r.backend(), r.body)
	}
	c.s.Do(func(w *World) { w.subaccount(empty).TenantProvisioned = true })
	if r := create("after"); r.backend() != "202" {
		t.Errorf("after the activation: %s %s", r.backend(), r.body)
	}
}
