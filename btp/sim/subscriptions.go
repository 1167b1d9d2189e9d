package sim

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/cpikey/cpikey/btp/itrt"
)

// Subscriptions (integration-suite.md §1): accounts/subscription?list|get
// and accounts/subaccount?subscribe, asynchronous like SAP's (IN_PROCESS,
// then SUBSCRIBED or SUBSCRIBE_FAILED with subscriptionError), and the
// Integration Suite UI the subscription URL points to.

// suiteUIPath prefixes the simulated Integration Suite home pages on the
// CLI server's listener.
const suiteUIPath = "/integration-suite/"

// The content agent shares the "Integration Suite" category without being
// Integration Suite (§1.2): every subaccount lists it, so a client that
// picks the application by category picks the wrong one.
const decoyAppName = "content-agent-ui"

// cliSubscriptionReader: list and get need a role in the global account or
// in the subaccount (§1.1 authorisation notes).
func (s *Server) cliSubscriptionReader(c *cliCall, sa *Subaccount) *cliResult {
	if c.user.GAAdmin || c.user.GAViewer || s.subaccountRole(c.user, sa) != "" {
		return nil
	}
	r := cliResult{backend: http.StatusForbidden, backendMsg: cliMsgNotAuthz}
	return &r
}

// suiteEntries renders the subaccount's application entries: one per
// entitled Integration Suite APPLICATION plan, plus the decoy.
func (s *Server) suiteEntries(sa *Subaccount) []map[string]any {
	w := s.world
	st := s.suiteLocked(sa)
	now := s.now()
	var out []map[string]any
	svc := w.suiteCatalog()
	for _, p := range svc.Plans {
		a := w.assignment(sa.GUID, svc.Name, p.Name)
		if p.Category != itrt.SuitePlanCategory || a == nil || assignmentState(a, now) != "OK" {
			continue
		}
		out = append(out, s.suiteEntry(sa, st, p))
	}
	out = append(out, map[string]any{
		"state": itrt.SubscriptionNotSubscribed, "authenticationProvider": "XSUAA", "appName": decoyAppName,
		"commercialAppName": decoyAppName, "appId": "cas-ui-xsuaa-prod!t216", "planName": "free",
		"supportsPlanUpdates": false, "supportsParametersUpdates": false, "supportsGetParameters": false,
		"displayName": "Content Agent", "description": "Content Agent UI", "category": "Integration Suite",
		"categoryDisplayName": "Integration Suite", "globalAccountId": w.GlobalAccountGUID,
		"tenantId": cliStableGUID("tenant/" + decoyAppName), "quota": 1, "customerDeveloped": false,
		"applicationCoordinates": map[string]any{"serviceCategories": []map[string]string{{"name": "Integration Suite"}}},
		"allowedTargetPlans":     []any{},
	})
	return out
}

func (s *Server) suiteEntry(sa *Subaccount, st *Suite, p cliCatalogPlan) map[string]any {
	w := s.world
	app := w.suiteAppName()
	e := map[string]any{
		"state": itrt.SubscriptionNotSubscribed, "authenticationProvider": "XSUAA", "appName": app,
		"commercialAppName": w.suiteService(), "appId": app + "!b56186", "planName": p.Name,
		"planDescription": p.Description, "additionalPlanFeatures": []any{},
		"supportsPlanUpdates": false, "supportsParametersUpdates": false, "supportsGetParameters": false,
		"displayName": w.suiteCatalog().DisplayName, "description": "SAP Integration Suite",
		"shortDescription": "Integrate applications, services and systems across landscapes.",
		"category":         "Integration Suite", "categoryDisplayName": "Integration Suite",
		"globalAccountId": w.GlobalAccountGUID, "tenantId": cliStableGUID("tenant/" + app), "quota": 1,
		"customerDeveloped": false, "incidentTrackingComponent": "LOD-HCI-PI", "allowedTargetPlans": []any{},
	}
	sub := st.Subscription
	if sub == nil || sub.Plan != p.Name {
		return e
	}
	state := subscriptionState(sub, s.now())
	e["state"] = state
	e["subscribedTenantId"], e["subscribedSubaccountId"] = sa.GUID, sa.GUID
	e["subscriptionGUID"] = cliStableGUID("subscription/" + sa.GUID + "/" + sub.Created.String())
	e["createdDate"], e["createdBy"], e["modifiedBy"] = cliDate(sub.Created), sub.By, sub.By
	e["modifiedDate"] = cliDate(sub.Created)
	if !s.now().Before(sub.ReadyAt) {
		e["modifiedDate"] = cliDate(sub.ReadyAt)
	}
	switch state {
	case itrt.SubscriptionSubscribed:
		e["subscriptionUrl"] = s.suiteURL(sa)
	case itrt.SubscriptionFailed:
		e["subscriptionError"] = map[string]string{"errorMessage": sub.Fail,
			"appError": `{"message":"Internal Server Error","status":"Internal Server Error"}`}
	}
	return e
}

func (s *Server) cliSubscriptionList(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	if r := s.cliSubscriptionReader(c, sa); r != nil {
		return *r
	}
	return cliBody(http.StatusOK, cliMediaCIS, map[string]any{"applications": s.suiteEntries(sa)})
}

func (s *Server) cliSubscriptionGet(c *cliCall) cliResult {
	if !c.need("appName") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	if r := s.cliSubscriptionReader(c, sa); r != nil {
		return *r
	}
	entries := s.suiteEntries(sa)
	var match map[string]any
	for _, e := range entries {
		if e["appName"] != c.p["appName"] || (c.p["planName"] != "" && e["planName"] != c.p["planName"]) {
			continue
		}
		// Without a plan, the one subscribed (or being subscribed) wins.
		if match == nil || e["state"] != itrt.SubscriptionNotSubscribed {
			match = e
		}
	}
	if match == nil {
		return cliCIS(http.StatusNotFound, 11001, fmt.Sprintf("Application %s with plan %s is not entitled to subaccount %s", c.p["appName"], c.p["planName"], sa.GUID))
	}
	return cliBody(http.StatusOK, cliMediaCIS, match)
}

func (s *Server) cliSubscribe(c *cliCall) cliResult {
	if !c.need("appName") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	if !c.user.GAAdmin && s.subaccountRole(c.user, sa) != "admin" {
		return cliResult{backend: http.StatusForbidden, backendMsg: cliMsgNotAuthz}
	}
	w := s.world
	app, plan := c.p["appName"], c.p["planName"]
	if app != w.suiteAppName() {
		if app == decoyAppName {
			return cliCIS(http.StatusBadRequest, 11002, "The simulator subscribes to SAP Integration Suite only")
		}
		return cliCIS(http.StatusNotFound, 11001, fmt.Sprintf("Application %s not found", app))
	}
	st := s.suiteLocked(sa)
	svc := w.suiteCatalog()
	var entitled []string
	for _, p := range svc.Plans {
		if a := w.assignment(sa.GUID, svc.Name, p.Name); a != nil && p.Category == itrt.SuitePlanCategory && assignmentState(a, c.now) == "OK" {
			entitled = append(entitled, p.Name)
		}
	}
	if plan == "" && len(entitled) == 1 {
		plan = entitled[0]
	}
	if !contains(entitled, plan) {
		return cliCIS(http.StatusBadRequest, 11004, fmt.Sprintf("Subaccount %s is not entitled to plan %q of application %s: assign the entitlement first", sa.GUID, plan, app))
	}
	if sub := st.Subscription; sub != nil {
		switch subscriptionState(sub, c.now) {
		case itrt.SubscriptionSubscribed, itrt.SubscriptionInProcess:
			return cliCIS(http.StatusConflict, 11003, fmt.Sprintf("Application %s is already subscribed to subaccount %s", app, sa.GUID))
		}
	}
	sub := &Subscription{AppName: app, Plan: plan, By: c.user.Email, Created: c.now, ReadyAt: c.now.Add(s.cfg.SubscribeTime)}
	if s.subscribeFailures > 0 {
		s.subscribeFailures--
		sub.Fail = s.say(fmt.Sprintf("Subscription failed. Error: subscribe failed in onSubscription callback. Callback of reuse service with appName %s failed "+
			"(Root Application: SAP Integration Suite rootAppName: %s. Please open support case using the component: LOD-HCI-PI). Consumer tenant: %s. "+
			"status code: 500 INTERNAL_SERVER_ERROR", app, app, sa.GUID))
	}
	st.Subscription = sub
	w.Seq++
	job := strconv.FormatUint(133600000+s.rnd.Uint64N(90000), 10)
	s.saveLocked()
	return cliBody(http.StatusOK, cliMediaCIS, map[string]string{"jobId": job})
}

// suiteUI wraps the CLI server's handler with the Integration Suite home
// pages.
func (s *Server) suiteUI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, suiteUIPath) {
			next.ServeHTTP(w, r)
			return
		}
		sub, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, suiteUIPath), "/")
		status, title, body := s.suiteHome(sub)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>",
			html.EscapeString(title), html.EscapeString(title), html.EscapeString(body))
	})
}

// suiteHome is what opening the subscription URL does: with the
// subscription done and someone holding Integration_Provisioner, Cloud
// Integration becomes active and its PI_* role collections appear. The
// real page needs a user's clicks (Add Capabilities, Build Integration
// Scenarios, Activate); here opening it stands for them.
func (s *Server) suiteHome(subdomain string) (int, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sa *Subaccount
	for _, x := range s.world.Subaccounts {
		if x.Subdomain == subdomain {
			sa = x
		}
	}
	if sa == nil {
		return http.StatusNotFound, "Not found", "There is no Integration Suite at this address."
	}
	st := s.suiteLocked(sa)
	if st.Subscription == nil || subscriptionState(st.Subscription, s.now()) != itrt.SubscriptionSubscribed {
		return http.StatusNotFound, "Not found", "This subaccount is not subscribed to SAP Integration Suite."
	}
	prov := st.collection(itrt.RoleProvisioner)
	if prov == nil || len(prov.Users) == 0 {
		return http.StatusForbidden, "Access denied", "You are not authorized to open SAP Integration Suite: ask a subaccount administrator " +
			"to assign the role collection Integration_Provisioner to you, then log out and in again."
	}
	if !sa.TenantProvisioned {
		sa.TenantProvisioned = true
		for _, rc := range piCollections() {
			if st.collection(rc.Name) == nil {
				st.RoleCollections = append(st.RoleCollections, rc)
			}
		}
		s.saveLocked()
	}
	return http.StatusOK, "SAP Integration Suite: Cloud Integration is active",
		"Simulated Integration Suite of subaccount " + sa.Name + ": opening this page stands for Add Capabilities, Build Integration Scenarios, Activate. " +
			"The role collections PI_Administrator, PI_Business_Expert, PI_Integration_Developer and PI_Read_Only now exist. Return to the terminal."
}
