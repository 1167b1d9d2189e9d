package sim

import "net/http"

// Everything the simulator's own links point to besides the resources of
// the flow: org quotas, domains, space features, the broker, plan
// visibility, route bindings, and the instance and key side endpoints the
// cf CLI and go-cfclient read (shared spaces, parameters, permissions).

// sharedDomain is the landscape's one shared app domain (BTP has
// cfapps.<region>.hana.ondemand.com; .invalid says it is simulated).
const sharedDomain = "cfapps.sim.invalid"

func (w *World) domainGUID() string   { return w.stableGUID("domain:shared") }
func (w *World) orgQuotaGUID() string { return w.stableGUID("quota:default") }

// --- domains ---------------------------------------------------------------------

func (c *ccReq) domainJSON() map[string]any {
	g := c.s.world.domainGUID()
	p := "/v3/domains/" + g
	return map[string]any{
		"guid": g, "created_at": ts(catalogueTime), "updated_at": ts(catalogueTime), "name": sharedDomain,
		"internal": false, "router_group": nil, "supported_protocols": []string{"http"},
		"relationships": map[string]any{"organization": rel(""), "shared_organizations": map[string]any{"data": []any{}}},
		"metadata":      emptyMetadata(),
		// A shared domain has no organization links.
		"links": map[string]any{"self": href(c.base, p), "route_reservations": href(c.base, p+"/route_reservations")},
	}
}

var specDomains = querySpec{filters: []string{"names", "guids", "organization_guids"}}

// listDomains is /v3/domains, or /v3/organizations/:org/domains when org is
// set: the shared domain is everyone's; organization_guids matches the
// owning organization, which a shared domain has none of.
func (c *ccReq) listDomains(org string) {
	lq, ok := c.parseList(specDomains)
	if !ok {
		return
	}
	if org != "" {
		if o := c.s.world.org(org); o == nil || !c.canSeeOrg(o) {
			c.notFound("Organization not found")
			return
		}
	}
	var rows []row
	_, byOrg := lq.vals["organization_guids"]
	if !byOrg && lq.matchFold("names", sharedDomain) && lq.match("guids", c.s.world.domainGUID()) {
		rows = append(rows, row{name: sharedDomain, created: catalogueTime, updated: catalogueTime, render: c.domainJSON})
	}
	c.writeList(lq, rows, nil)
}

func (c *ccReq) defaultDomain(org string) {
	if o := c.s.world.org(org); o == nil || !c.canSeeOrg(o) {
		c.notFound("Organization not found")
		return
	}
	writeJSON(c.w, http.StatusOK, c.domainJSON())
}

func (c *ccReq) getDomain(g string) {
	if g != c.s.world.domainGUID() {
		c.notFound("Domain not found")
		return
	}
	writeJSON(c.w, http.StatusOK, c.domainJSON())
}

// routeReservations: no simulated space has routes.
func (c *ccReq) routeReservations(g string) {
	if _, ok := c.parseShow(querySpec{filters: []string{"host", "path", "port"}}); !ok {
		return
	}
	if g != c.s.world.domainGUID() {
		c.notFound("Domain not found")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"matching_route": false})
}

// --- organization quotas ----------------------------------------------------------

// orgQuotaJSON is BTP's default quota as recorded; relationships list the
// organizations the user can see.
func (c *ccReq) orgQuotaJSON(orgs []*Org) map[string]any {
	g := c.s.world.orgQuotaGUID()
	data := []any{}
	for _, o := range orgs {
		data = append(data, map[string]any{"guid": o.GUID})
	}
	return map[string]any{
		"guid": g, "created_at": ts(catalogueTime), "updated_at": ts(catalogueTime), "name": "default",
		"apps": map[string]any{"total_memory_in_mb": 10240, "per_process_memory_in_mb": nil, "total_instances": nil,
			"per_app_tasks": nil, "log_rate_limit_in_bytes_per_second": nil},
		"services":      map[string]any{"paid_services_allowed": true, "total_service_instances": nil, "total_service_keys": nil},
		"routes":        map[string]any{"total_routes": 1000, "total_reserved_ports": 100},
		"domains":       map[string]any{"total_domains": nil},
		"relationships": map[string]any{"organizations": map[string]any{"data": data}},
		"links":         map[string]any{"self": href(c.base, "/v3/organization_quotas/"+g)},
	}
}

func (c *ccReq) visibleOrgs() []*Org {
	var out []*Org
	for _, o := range c.s.world.Orgs {
		if c.canSeeOrg(o) {
			out = append(out, o)
		}
	}
	return out
}

func (c *ccReq) listOrgQuotas() {
	lq, ok := c.parseList(querySpec{filters: []string{"names", "guids", "organization_guids"}})
	if !ok {
		return
	}
	orgs := c.visibleOrgs()
	inOrgs := false
	for _, o := range orgs {
		inOrgs = inOrgs || lq.match("organization_guids", o.GUID)
	}
	var rows []row
	if len(orgs) > 0 && inOrgs && lq.matchFold("names", "default") && lq.match("guids", c.s.world.orgQuotaGUID()) {
		rows = append(rows, row{name: "default", created: catalogueTime, updated: catalogueTime,
			render: func() map[string]any { return c.orgQuotaJSON(orgs) }})
	}
	c.writeList(lq, rows, nil)
}

func (c *ccReq) getOrgQuota(g string) {
	orgs := c.visibleOrgs()
	if g != c.s.world.orgQuotaGUID() || len(orgs) == 0 {
		c.notFound("Organization quota not found")
		return
	}
	writeJSON(c.w, http.StatusOK, c.orgQuotaJSON(orgs))
}

// --- space features ----------------------------------------------------------------

// sshFeature: CC's default allows SSH in new spaces.
func sshFeature() map[string]any {
	return map[string]any{"name": "ssh", "description": "Enable SSHing into apps in the space.", "enabled": true}
}

func (c *ccReq) spaceFeatures(g string) {
	if !c.canSeeSpace(c.s.world.space(g)) {
		c.notFound("Space not found")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"resources": []any{sshFeature()}})
}

// spaceFeature is GET /v3/spaces/:guid/features/:name; the Cloud Foundry
// Terraform provider reads features/ssh for every space data source.
func (c *ccReq) spaceFeature(g, name string) {
	if !c.canSeeSpace(c.s.world.space(g)) {
		c.notFound("Space not found")
		return
	}
	if name != "ssh" {
		c.notFound("Feature not found")
		return
	}
	writeJSON(c.w, http.StatusOK, sshFeature())
}

// --- the broker and plan visibility -------------------------------------------------

// listBrokers: a user without global read sees only space-scoped brokers
// of spaces they develop in. it-rt's broker is global, so none.
func (c *ccReq) listBrokers() {
	lq, ok := c.parseList(querySpec{filters: []string{"names", "space_guids"}})
	if !ok {
		return
	}
	c.writeList(lq, nil, nil)
}

// getBroker: CC shows a global broker only to admin, admin read-only and
// global auditor. No simulated user holds a Cloud Foundry admin role, so
// the offering's service_broker link answers what it answers a Space
// Developer on BTP.
func (c *ccReq) getBroker(string) {
	c.notFound("Service broker not found")
}

// planVisibility: organization visibility, listing the organizations the
// user can read in which the plan is enabled.
func (c *ccReq) planVisibility(g string) {
	p := c.s.world.planName(g)
	spaces := c.planSpaces(p)
	if p == "" || len(spaces) == 0 {
		c.notFound("Service plan not found")
		return
	}
	orgs := []any{}
	var seen []string
	for _, sp := range spaces {
		if o := c.s.world.org(sp.Org); o != nil && !contains(seen, o.GUID) {
			seen = append(seen, o.GUID)
			orgs = append(orgs, map[string]any{"guid": o.GUID, "name": o.Name})
		}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"type": "organization", "organizations": orgs})
}

// --- route bindings ------------------------------------------------------------------

// listRouteBindings: it-rt is no route service, so there are none.
func (c *ccReq) listRouteBindings() {
	lq, ok := c.parseList(querySpec{filters: []string{"guids", "route_guids", "service_instance_guids", "service_instance_names"},
		include: []string{"route", "service_instance"}})
	if !ok {
		return
	}
	var inc includer
	if len(lq.include) > 0 {
		inc = func([]any) map[string]any {
			out := map[string]any{}
			if lq.includes("route") {
				out["routes"] = []any{}
			}
			if lq.includes("service_instance") {
				out["service_instances"] = []any{}
			}
			return out
		}
	}
	c.writeList(lq, nil, inc)
}

// --- service instance side endpoints ---------------------------------------------------

var specSharedSpaces = querySpec{fields: []fieldSpec{
	{"space", []string{"name", "guid", "relationships.organization"}},
	{"space.organization", []string{"name", "guid"}},
}}

// sharedSpaces: it-rt is not shareable, so the list is empty; `cf service`
// reads it for every managed instance.
func (c *ccReq) sharedSpaces(g string) {
	lq, ok := c.parseShow(specSharedSpaces)
	if !ok {
		return
	}
	if c.cfInstance(g) == nil {
		c.notFound("Service instance not found")
		return
	}
	body := map[string]any{"data": []any{},
		"links": map[string]any{"self": href(c.base, "/v3/service_instances/"+g+"/relationships/shared_spaces")}}
	if len(lq.fields) > 0 {
		inc := map[string]any{}
		if _, ok := lq.fields["space"]; ok {
			inc["spaces"] = []any{}
		}
		if _, ok := lq.fields["space.organization"]; ok {
			inc["organizations"] = []any{}
		}
		body["included"] = inc
	}
	writeJSON(c.w, http.StatusOK, body)
}

func (c *ccReq) sharedSpacesUsage(g string) {
	if c.cfInstance(g) == nil {
		c.notFound("Service instance not found")
		return
	}
	p := "/v3/service_instances/" + g
	writeJSON(c.w, http.StatusOK, map[string]any{"usage_summary": []any{}, "links": map[string]any{
		"self":             href(c.base, p+"/relationships/shared_spaces/usage_summary"),
		"shared_spaces":    href(c.base, p+"/relationships/shared_spaces"),
		"service_instance": href(c.base, p),
	}})
}

// instanceParameters: the it-rt offering has instances_retrievable false,
// so CC refuses before asking the broker.
func (c *ccReq) instanceParameters(g string) {
	inst := c.cfInstance(g)
	if inst == nil || (inst.Op.Type == "create" && c.instanceState(inst) == "failed") {
		c.notFound("Service instance not found")
		return
	}
	c.fail(http.StatusBadRequest, 120004, "CF-ServiceFetchInstanceParametersNotSupported",
		"This service does not support fetching service instance parameters.")
}

// instancePermissions answers for any existing instance, readable or not:
// a user outside its space gets read and manage false (not 404).
func (c *ccReq) instancePermissions(g string) {
	inst := c.s.world.instance(g)
	if inst == nil || inst.Space == "" {
		c.notFound("Service instance not found")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"manage": c.u.canDevelop(inst.Space), "read": c.u.canSee(inst.Space)})
}

// keyParameters: bindings_retrievable is false; CC answers this one with
// HTTP 502 although the error's own status is 400.
func (c *ccReq) keyParameters(g string) {
	if k, _ := c.cfKey(g); k == nil {
		c.notFound("Service credential binding not found")
		return
	}
	c.fail(http.StatusBadGateway, 90007, "CF-ServiceFetchBindingParametersNotSupported",
		"This service does not support fetching service binding parameters.")
}
