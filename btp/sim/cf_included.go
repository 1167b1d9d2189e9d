package sim

import (
	"net/http"
	"sort"
)

// The "included" block of CC reads (include= and fields[...]), built the way
// CC's decorators build it: include= adds full objects, fields[...] adds only
// the keys asked for. The cf CLI prints blank offering, plan and broker
// columns without it; go-cfclient's ListInclude* calls read it.

// What each read accepts, with CC's own value lists (they appear in its
// error texts).
var (
	// Organization (and domain, quota) shows read no query: CC ignores it.
	specOrgs = querySpec{filters: []string{"names", "guids"}}

	spaceInclude = []string{"org", "organization"}
	specSpaces   = querySpec{filters: []string{"names", "guids", "organization_guids"}, include: spaceInclude}
	specSpace    = querySpec{include: spaceInclude}

	offeringFields = []fieldSpec{{"service_broker", []string{"guid", "name"}}}
	specOfferings  = querySpec{filters: []string{"names", "guids", "available", "space_guids", "organization_guids",
		"service_broker_guids", "service_broker_names"}, fields: offeringFields}
	specOffering = querySpec{fields: offeringFields}

	planInclude = []string{"space.organization", "service_offering"}
	planFields  = []fieldSpec{{"service_offering.service_broker", []string{"guid", "name"}}}
	specPlans   = querySpec{filters: []string{"names", "guids", "available", "broker_catalog_ids", "service_offering_names",
		"service_offering_guids", "space_guids", "organization_guids", "service_broker_guids", "service_broker_names",
		"service_instance_guids"}, include: planInclude, fields: planFields}
	specPlan = querySpec{include: planInclude, fields: planFields}

	specInstances = querySpec{filters: []string{"names", "guids", "space_guids", "organization_guids", "type",
		"service_plan_guids", "service_plan_names"}, fields: []fieldSpec{
		{"space", []string{"guid", "name", "relationships.organization"}},
		{"space.organization", []string{"name", "guid"}},
		{"service_plan", []string{"guid", "name", "relationships.service_offering"}},
		{"service_plan.service_offering", []string{"name", "guid", "description", "documentation_url", "tags", "relationships.service_broker"}},
		{"service_plan.service_offering.service_broker", []string{"name", "guid"}},
	}}
	specInstance = querySpec{fields: []fieldSpec{
		{"space", []string{"name", "guid"}},
		{"space.organization", []string{"name", "guid"}},
		{"service_plan", []string{"name", "guid"}},
		{"service_plan.service_offering", []string{"name", "guid", "description", "tags", "documentation_url"}},
		{"service_plan.service_offering.service_broker", []string{"name", "guid"}},
	}}

	keyInclude = []string{"app", "service_instance"}
	specKeys   = querySpec{filters: []string{"names", "guids", "service_instance_guids", "service_instance_names",
		"service_plan_guids", "service_plan_names", "service_offering_guids", "service_offering_names",
		"app_guids", "app_names", "type"}, include: keyInclude}
	specKey = querySpec{include: keyInclude}
)

// writeOne answers a single resource, with "included" when asked for.
func (c *ccReq) writeOne(v map[string]any, inc includer, obj any) {
	if inc != nil {
		if included := inc([]any{obj}); included != nil {
			v["included"] = included
		}
	}
	writeJSON(c.w, http.StatusOK, v)
}

// pick keeps the keys of full that fields[...] asked for.
func pick(full map[string]any, keys []string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := full[k]; ok {
			out[k] = v
		}
	}
	return out
}

const brokerName = "it-rt-broker"

// brokerFields is the it-rt broker as fields[...service_broker] shows it.
func (c *ccReq) brokerFields(keys []string) map[string]any {
	return pick(map[string]any{"guid": c.s.world.brokerGUID(), "name": brokerName}, keys)
}

// planIncluded: include=service_offering (full offerings),
// include=space.organization (spaces of space-scoped brokers only: none for
// it-rt) and fields[service_offering.service_broker].
func (c *ccReq) planIncluded(lq *listQuery) includer {
	brokerKeys, brokers := lq.fields["service_offering.service_broker"]
	if len(lq.include) == 0 && !brokers {
		return nil
	}
	return func(objs []any) map[string]any {
		inc := map[string]any{}
		if lq.includes("service_offering") {
			offerings := []any{}
			if len(objs) > 0 {
				offerings = append(offerings, c.offeringJSON())
			}
			inc["service_offerings"] = offerings
		}
		if lq.includes("space.organization") {
			inc["spaces"], inc["organizations"] = []any{}, []any{}
		}
		if brokers {
			list := []any{}
			if len(objs) > 0 {
				list = append(list, c.brokerFields(brokerKeys))
			}
			inc["service_brokers"] = list
		}
		return inc
	}
}

// offeringIncluded: fields[service_broker].
func (c *ccReq) offeringIncluded(lq *listQuery) includer {
	keys, ok := lq.fields["service_broker"]
	if !ok {
		return nil
	}
	return func(objs []any) map[string]any {
		list := []any{}
		if len(objs) > 0 {
			list = append(list, c.brokerFields(keys))
		}
		return map[string]any{"service_brokers": list}
	}
}

// spaceIncluded: include=organization (or its old name org), full orgs.
func (c *ccReq) spaceIncluded(lq *listQuery) includer {
	if !lq.includes(spaceInclude...) {
		return nil
	}
	return func(objs []any) map[string]any {
		var orgs []*Org
		for _, o := range objs {
			if org := c.s.world.org(o.(*Space).Org); org != nil && !containsOrg(orgs, org) {
				orgs = append(orgs, org)
			}
		}
		sort.Slice(orgs, func(i, j int) bool { return orgs[i].GUID < orgs[j].GUID }) // same created_at
		list := []any{}
		for _, o := range orgs {
			list = append(list, c.orgJSON(o))
		}
		return map[string]any{"organizations": list}
	}
}

func containsOrg(list []*Org, o *Org) bool {
	for _, x := range list {
		if x == o {
			return true
		}
	}
	return false
}

// instanceIncluded: the five fields[...] decorators of service instance
// reads. Spaces and organizations are always listed (maybe empty); plans,
// offerings and brokers only when the page holds a managed instance.
func (c *ccReq) instanceIncluded(lq *listQuery) includer {
	if len(lq.fields) == 0 {
		return nil
	}
	w := c.s.world
	return func(objs []any) map[string]any {
		var insts []*Instance
		for _, o := range objs {
			insts = append(insts, o.(*Instance))
		}
		inc := map[string]any{}
		var spaces []*Space
		for _, in := range insts {
			if sp := w.space(in.Space); sp != nil && !containsSpace(spaces, sp) {
				spaces = append(spaces, sp)
			}
		}
		sort.Slice(spaces, func(i, j int) bool {
			if !spaces[i].Created.Equal(spaces[j].Created) {
				return spaces[i].Created.Before(spaces[j].Created)
			}
			return spaces[i].GUID < spaces[j].GUID
		})
		if keys, ok := lq.fields["space"]; ok {
			list := []any{}
			for _, sp := range spaces {
				v := pick(map[string]any{"guid": sp.GUID, "name": sp.Name}, keys)
				if contains(keys, "relationships.organization") {
					v["relationships"] = map[string]any{"organization": rel(sp.Org)}
				}
				list = append(list, v)
			}
			inc["spaces"] = list
		}
		if keys, ok := lq.fields["space.organization"]; ok {
			var orgs []*Org
			for _, sp := range spaces {
				if o := w.org(sp.Org); o != nil && !containsOrg(orgs, o) {
					orgs = append(orgs, o)
				}
			}
			sort.Slice(orgs, func(i, j int) bool { return orgs[i].GUID < orgs[j].GUID })
			list := []any{}
			for _, o := range orgs {
				list = append(list, pick(map[string]any{"guid": o.GUID, "name": o.Name}, keys))
			}
			inc["organizations"] = list
		}
		if len(insts) > 0 { // all simulated instances are managed
			var plans []string
			for _, in := range insts {
				if !contains(plans, in.Plan) {
					plans = append(plans, in.Plan)
				}
			}
			sort.Strings(plans) // same created_at; CC then keeps database order
			if keys, ok := lq.fields["service_plan"]; ok {
				list := []any{}
				for _, p := range plans {
					v := pick(map[string]any{"guid": w.planGUID(p), "name": p}, keys)
					if contains(keys, "relationships.service_offering") {
						v["relationships"] = map[string]any{"service_offering": rel(w.offeringGUID())}
					}
					list = append(list, v)
				}
				inc["service_plans"] = list
			}
			if keys, ok := lq.fields["service_plan.service_offering"]; ok {
				o := c.offeringJSON()
				v := pick(o, keys)
				if contains(keys, "relationships.service_broker") {
					v["relationships"] = map[string]any{"service_broker": rel(w.brokerGUID())}
				}
				inc["service_offerings"] = []any{v}
			}
			if keys, ok := lq.fields["service_plan.service_offering.service_broker"]; ok {
				inc["service_brokers"] = []any{c.brokerFields(keys)}
			}
		}
		if len(inc) == 0 {
			return nil
		}
		return inc
	}
}

func containsSpace(list []*Space, sp *Space) bool {
	for _, x := range list {
		if x == sp {
			return true
		}
	}
	return false
}

// keyIncluded: include=app (keys have no app: always empty) and
// include=service_instance (full instances, oldest first).
func (c *ccReq) keyIncluded(lq *listQuery) includer {
	if len(lq.include) == 0 {
		return nil
	}
	return func(objs []any) map[string]any {
		inc := map[string]any{}
		if lq.includes("app") {
			inc["apps"] = []any{}
		}
		if lq.includes("service_instance") {
			var insts []*Instance
			for _, o := range objs {
				if in := c.s.world.instance(o.(*Key).Instance); in != nil && !containsInstance(insts, in) {
					insts = append(insts, in)
				}
			}
			sort.SliceStable(insts, func(i, j int) bool { return insts[i].Created.Before(insts[j].Created) })
			list := []any{}
			for _, in := range insts {
				list = append(list, c.instanceJSON(in))
			}
			inc["service_instances"] = list
		}
		return inc
	}
}

func containsInstance(list []*Instance, in *Instance) bool {
	for _, x := range list {
		if x == in {
			return true
		}
	}
	return false
}
