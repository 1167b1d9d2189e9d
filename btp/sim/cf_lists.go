package sim

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// List endpoints: pagination (§3.4), filters (§3.5), orgs and spaces (§4),
// the it-rt offering and its plans (§5).

// row is one list element before paging.
type row struct {
	name             string
	created, updated time.Time
	render           func() map[string]any
	obj              any // what the includer of the list reads
}

// includer builds the "included" block of a list page (or of one resource)
// from the objects shown; nil when nothing was asked for.
type includer func(objs []any) map[string]any

// writeList sorts, pages and answers rows with the pagination block of
// §3.4: absolute hrefs, keys sorted, total_pages >= 1.
func (c *ccReq) writeList(lq *listQuery, rows []row, inc includer) {
	if lq.orderBy != "" {
		desc := strings.HasPrefix(lq.orderBy, "-")
		field := strings.TrimPrefix(lq.orderBy, "-")
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			var less, greater bool
			switch field {
			case "name":
				less, greater = a.name < b.name, a.name > b.name
			case "updated_at":
				less, greater = a.updated.Before(b.updated), a.updated.After(b.updated)
			default:
				less, greater = a.created.Before(b.created), a.created.After(b.created)
			}
			if desc {
				return greater
			}
			return less
		})
	}
	total := len(rows)
	pages := (total + lq.perPage - 1) / lq.perPage
	if pages < 1 {
		pages = 1
	}
	link := func(page int) map[string]any {
		v := url.Values{}
		for k, x := range lq.vals {
			v[k] = x
		}
		v.Set("page", strconv.Itoa(page))
		v.Set("per_page", strconv.Itoa(lq.perPage))
		return map[string]any{"href": c.base + c.r.URL.Path + "?" + v.Encode()}
	}
	pag := map[string]any{
		"total_results": total, "total_pages": pages,
		"first": link(1), "last": link(pages), "next": nil, "previous": nil,
	}
	if lq.page < pages {
		pag["next"] = link(lq.page + 1)
	}
	if lq.page > 1 {
		pag["previous"] = link(min(lq.page-1, pages))
	}
	res := []map[string]any{}
	var objs []any
	start := (lq.page - 1) * lq.perPage
	for i := start; i < total && i < start+lq.perPage; i++ {
		res = append(res, rows[i].render())
		objs = append(objs, rows[i].obj)
	}
	body := map[string]any{"pagination": pag, "resources": res}
	if inc != nil {
		if included := inc(objs); included != nil {
			body["included"] = included
		}
	}
	writeJSON(c.w, http.StatusOK, body)
}

// --- visibility ----------------------------------------------------------------

func (c *ccReq) canSeeSpace(sp *Space) bool { return sp != nil && c.u.canSee(sp.GUID) }

func (c *ccReq) canSeeOrg(o *Org) bool {
	for _, sp := range c.s.world.Spaces {
		if sp.Org == o.GUID && c.canSeeSpace(sp) {
			return true
		}
	}
	return false
}

// planEnabledIn: the it-rt plan is visible in the space's org because the
// subaccount has an OK assignment of it (BTP entitlements show up as
// organization visibility).
func (c *ccReq) planEnabledIn(plan string, sp *Space) bool {
	w := c.s.world
	if !w.GAHasITRT {
		return false
	}
	sa := w.subaccountOfSpace(sp.GUID)
	if sa == nil {
		return false
	}
	a := w.assignment(sa.GUID, "it-rt", plan)
	return a != nil && assignmentState(a, c.now) == "OK" && (a.Unlimited || a.Amount > 0)
}

// planSpaces returns the spaces the user can see in which plan is visible.
func (c *ccReq) planSpaces(plan string) []*Space {
	var out []*Space
	for _, sp := range c.s.world.Spaces {
		if c.canSeeSpace(sp) && c.planEnabledIn(plan, sp) {
			out = append(out, sp)
		}
	}
	return out
}

// planVisibleUnder reports whether plan is visible to the user, narrowed by
// the space_guids / organization_guids filters of lq.
func (c *ccReq) planVisibleUnder(plan string, lq *listQuery) bool {
	for _, sp := range c.planSpaces(plan) {
		if lq.match("space_guids", sp.GUID) && lq.match("organization_guids", sp.Org) {
			return true
		}
	}
	return false
}

// --- catalogue -------------------------------------------------------------------

var itrtPlans = []string{"integration-flow", "api"}

var catalogueTime = time.Date(2020, 7, 28, 11, 39, 45, 0, time.UTC)

func (w *World) offeringGUID() string        { return w.stableGUID("offering:it-rt") }
func (w *World) planGUID(plan string) string { return w.stableGUID("plan:it-rt:" + plan) }
func (w *World) brokerGUID() string          { return w.stableGUID("broker:it-rt") }

// planName returns the it-rt plan with that GUID, or "".
func (w *World) planName(g string) string {
	for _, p := range itrtPlans {
		if w.planGUID(p) == g {
			return p
		}
	}
	return ""
}

// --- organizations and spaces -------------------------------------------------

func (c *ccReq) orgJSON(o *Org) map[string]any {
	p := "/v3/organizations/" + o.GUID
	quota := c.s.world.stableGUID("quota:default")
	return map[string]any{
		"guid": o.GUID, "created_at": ts(catalogueTime), "updated_at": ts(catalogueTime),
		"name": o.Name, "suspended": false,
		"relationships": map[string]any{"quota": rel(quota)},
		"metadata":      emptyMetadata(),
		"links": map[string]any{
			"self": href(c.base, p), "domains": href(c.base, p+"/domains"),
			"default_domain": href(c.base, p+"/domains/default"),
			"quota":          href(c.base, "/v3/organization_quotas/"+quota),
		},
	}
}

func (c *ccReq) listOrgs() {
	lq, ok := c.parseList(specOrgs)
	if !ok {
		return
	}
	var rows []row
	for _, o := range c.s.world.Orgs {
		if !c.canSeeOrg(o) || !lq.matchFold("names", o.Name) || !lq.match("guids", o.GUID) {
			continue
		}
		o := o
		rows = append(rows, row{name: o.Name, created: catalogueTime, updated: catalogueTime, obj: o, render: func() map[string]any { return c.orgJSON(o) }})
	}
	c.writeList(lq, rows, nil)
}

func (c *ccReq) getOrg(g string) {
	o := c.s.world.org(g)
	if o == nil || !c.canSeeOrg(o) {
		c.notFound("Organization not found")
		return
	}
	writeJSON(c.w, http.StatusOK, c.orgJSON(o))
}

func (c *ccReq) spaceJSON(sp *Space) map[string]any {
	p := "/v3/spaces/" + sp.GUID
	return map[string]any{
		"guid": sp.GUID, "created_at": ts(sp.Created), "updated_at": ts(sp.Created), "name": sp.Name,
		"relationships": map[string]any{"organization": rel(sp.Org), "quota": rel("")},
		"metadata":      emptyMetadata(),
		"links": map[string]any{
			"self": href(c.base, p), "organization": href(c.base, "/v3/organizations/"+sp.Org),
			"features":       href(c.base, p+"/features"),
			"apply_manifest": map[string]any{"href": c.base + p + "/actions/apply_manifest", "method": "POST"},
		},
	}
}

func (c *ccReq) listSpaces() {
	lq, ok := c.parseList(specSpaces)
	if !ok {
		return
	}
	var rows []row
	for _, sp := range c.s.world.Spaces {
		if !c.canSeeSpace(sp) || !lq.matchFold("names", sp.Name) || !lq.match("guids", sp.GUID) || !lq.match("organization_guids", sp.Org) {
			continue
		}
		sp := sp
		rows = append(rows, row{name: sp.Name, created: sp.Created, updated: sp.Created, obj: sp, render: func() map[string]any { return c.spaceJSON(sp) }})
	}
	c.writeList(lq, rows, c.spaceIncluded(lq))
}

func (c *ccReq) getSpace(g string) {
	lq, ok := c.parseShow(specSpace)
	if !ok {
		return
	}
	sp := c.s.world.space(g)
	if !c.canSeeSpace(sp) {
		c.notFound("Space not found")
		return
	}
	c.writeOne(c.spaceJSON(sp), c.spaceIncluded(lq), sp)
}

// --- service offerings and plans ------------------------------------------------

func (c *ccReq) offeringJSON() map[string]any {
	w := c.s.world
	g := w.offeringGUID()
	return map[string]any{
		"guid": g, "created_at": ts(catalogueTime), "updated_at": ts(catalogueTime), "name": "it-rt",
		"description": "Provides access to SAP Cloud Platform Integration runtime (integration flows) and APIs.",
		"available":   true, "tags": []string{}, "requires": []string{}, "shareable": false,
		"documentation_url": "https://help.sap.com/docs/SAP_INTEGRATION_SUITE",
		"broker_catalog": map[string]any{
			"id":       "it-rt-catalog-id",
			"metadata": map[string]any{"displayName": "Process Integration Runtime"},
			"features": map[string]any{"plan_updateable": false, "bindable": true, "instances_retrievable": false,
				"bindings_retrievable": false, "allow_context_updates": false},
		},
		"relationships": map[string]any{"service_broker": rel(w.brokerGUID())},
		"metadata":      emptyMetadata(),
		"links": map[string]any{
			"self":           href(c.base, "/v3/service_offerings/"+g),
			"service_plans":  href(c.base, "/v3/service_plans?service_offering_guids="+g),
			"service_broker": href(c.base, "/v3/service_brokers/"+w.brokerGUID()),
		},
	}
}

func (c *ccReq) offeringVisible(lq *listQuery) bool {
	for _, p := range itrtPlans {
		if c.planVisibleUnder(p, lq) {
			return true
		}
	}
	return false
}

func (c *ccReq) listOfferings() {
	lq, ok := c.parseList(specOfferings)
	if !ok {
		return
	}
	w := c.s.world
	var rows []row
	if lq.matchFold("names", "it-rt") && lq.match("guids", w.offeringGUID()) && lq.match("available", "true") &&
		lq.match("service_broker_names", brokerName) && lq.match("service_broker_guids", w.brokerGUID()) && c.offeringVisible(lq) {
		rows = append(rows, row{name: "it-rt", created: catalogueTime, updated: catalogueTime, obj: "it-rt", render: c.offeringJSON})
	}
	c.writeList(lq, rows, c.offeringIncluded(lq))
}

func (c *ccReq) getOffering(g string) {
	lq, ok := c.parseShow(specOffering)
	if !ok {
		return
	}
	if g != c.s.world.offeringGUID() || !c.offeringVisible(&listQuery{vals: url.Values{}}) {
		c.notFound("Service offering not found")
		return
	}
	c.writeOne(c.offeringJSON(), c.offeringIncluded(lq), "it-rt")
}

func (c *ccReq) planJSON(plan string) map[string]any {
	w := c.s.world
	g := w.planGUID(plan)
	desc := "Creates an OAuth client that provides access to the Cloud Integration capability's runtime"
	if plan == "api" {
		desc = "Creates an OAuth client that provides access to the public APIs of the Cloud Integration capability"
	}
	return map[string]any{
		"guid": g, "created_at": ts(catalogueTime), "updated_at": ts(catalogueTime), "name": plan,
		"visibility_type": "organization", "available": true, "free": true, "costs": []any{},
		"description": desc, "maintenance_info": map[string]any{},
		"broker_catalog": map[string]any{
			"id":                       "it-rt-" + plan,
			"metadata":                 map[string]any{"supportedPlatforms": []string{"cloudfoundry", "sapbtp", "kubernetes"}},
			"maximum_polling_duration": nil,
			"features":                 map[string]any{"bindable": true, "plan_updateable": false},
		},
		"schemas": map[string]any{
			"service_instance": map[string]any{"create": map[string]any{"parameters": instanceSchema(plan)},
				"update": map[string]any{"parameters": map[string]any{}}},
			"service_binding": map[string]any{"create": map[string]any{"parameters": bindingSchema(plan)}},
		},
		"relationships": map[string]any{"service_offering": rel(w.offeringGUID())},
		"metadata":      emptyMetadata(),
		"links": map[string]any{
			"self":             href(c.base, "/v3/service_plans/"+g),
			"service_offering": href(c.base, "/v3/service_offerings/"+w.offeringGUID()),
			"visibility":       href(c.base, "/v3/service_plans/"+g+"/visibility"),
		},
	}
}

func instanceSchema(plan string) map[string]any {
	roles := map[string]any{"type": "array", "uniqueItems": true, "items": map[string]any{"type": "string"}}
	validity := map[string]any{"type": "integer", "minimum": 3600, "maximum": 86400, "default": 3600}
	if plan == "api" {
		roles["minItems"] = 1
		roles["items"] = map[string]any{"type": "string", "enum": APIRoles}
		validity["default"] = 43200
	} else {
		roles["default"] = []string{"ESBMessaging.send", "API.invoke"}
	}
	return map[string]any{
		"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "additionalProperties": false,
		"properties": map[string]any{
			"roles":          roles,
			"grant-types":    map[string]any{"type": "array", "uniqueItems": true, "default": []string{"client_credentials"}},
			"redirect-uris":  map[string]any{"type": "array", "default": []string{}},
			"token-validity": validity,
		},
	}
}

func bindingSchema(plan string) map[string]any {
	props := map[string]any{
		"key-type":   map[string]any{"type": "string", "enum": []string{"client_id_secret", "certificate", "certificate_external"}, "default": "client_id_secret"},
		"X.509":      map[string]any{"type": "string", "default": ""},
		"validity":   map[string]any{"type": "integer", "minimum": 1, "maximum": 365, "default": 365},
		"key-length": map[string]any{"type": "integer", "enum": []int{1024, 2048, 3072, 4096}, "default": 2048},
	}
	if plan == "integration-flow" {
		props["certificate-pinning"] = map[string]any{"type": "boolean", "default": true}
	}
	return map[string]any{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
		"additionalProperties": false, "properties": props}
}

func (c *ccReq) listPlans() {
	lq, ok := c.parseList(specPlans)
	if !ok {
		return
	}
	w := c.s.world
	var rows []row
	for _, p := range itrtPlans {
		if !lq.matchFold("names", p) || !lq.match("guids", w.planGUID(p)) || !lq.match("available", "true") ||
			!lq.match("broker_catalog_ids", "it-rt-"+p) ||
			!lq.matchFold("service_offering_names", "it-rt") || !lq.match("service_offering_guids", w.offeringGUID()) ||
			!lq.match("service_broker_names", brokerName) || !lq.match("service_broker_guids", w.brokerGUID()) ||
			!c.planOfInstances(p, lq) || !c.planVisibleUnder(p, lq) {
			continue
		}
		p := p
		rows = append(rows, row{name: p, created: catalogueTime, updated: catalogueTime, obj: p, render: func() map[string]any { return c.planJSON(p) }})
	}
	c.writeList(lq, rows, c.planIncluded(lq))
}

// planOfInstances is the service_instance_guids filter: plans of those
// instances (that the user can read).
func (c *ccReq) planOfInstances(plan string, lq *listQuery) bool {
	gs, ok := lq.values("service_instance_guids")
	if !ok {
		return true
	}
	for _, g := range gs {
		if in := c.cfInstance(g); in != nil && in.Plan == plan {
			return true
		}
	}
	return false
}

func (c *ccReq) getPlan(g string) {
	lq, ok := c.parseShow(specPlan)
	if !ok {
		return
	}
	p := c.s.world.planName(g)
	if p == "" || len(c.planSpaces(p)) == 0 {
		c.notFound("Service plan not found")
		return
	}
	c.writeOne(c.planJSON(p), c.planIncluded(lq), p)
}
