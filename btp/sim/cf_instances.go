package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Managed service instances (cloud-foundry.md §6) and the clock that drives
// their last_operation and jobs.

// cfOpState is the CF last_operation state of op at now. A create stays
// "initial" for the first `initial` of its run (until the broker answered),
// then "in progress"; deletes are "in progress" at once.
func cfOpState(op Operation, initial time.Duration, now time.Time) string {
	if now.Before(op.ReadyAt) {
		if op.Type == "create" && now.Before(op.Started.Add(initial)) {
			return "initial"
		}
		return "in progress"
	}
	if op.Fail != "" {
		return "failed"
	}
	return "succeeded"
}

// opUpdated is when op last changed state, as of now.
func opUpdated(op Operation, initial time.Duration, now time.Time) time.Time {
	switch cfOpState(op, initial, now) {
	case "in progress":
		if op.Type == "create" {
			return op.Started.Add(initial)
		}
	case "failed", "succeeded":
		return op.ReadyAt
	}
	return op.Started
}

// lastOperationJSON renders op as §6.2 does. noDesc is the description
// while nothing failed: instances show the broker's "" once it answered,
// keys show null (both as recorded on BTP).
func lastOperationJSON(op Operation, initial time.Duration, now time.Time, noDesc any) map[string]any {
	state := cfOpState(op, initial, now)
	desc := noDesc
	switch state {
	case "initial":
		desc = nil
	case "failed":
		desc = op.Fail
	}
	return map[string]any{"type": op.Type, "state": state, "description": desc,
		"created_at": ts(op.Started), "updated_at": ts(opUpdated(op, initial, now))}
}

func (s *Server) instanceInitial() time.Duration { return s.cfg.ProvisionTime / 4 }

func (c *ccReq) instanceState(inst *Instance) string {
	return cfOpState(inst.Op, c.s.instanceInitial(), c.now)
}

// sweepLocked finishes deletes whose time has come. It touches only Cloud
// Foundry instances (Space set) and their keys; Service Manager objects
// belong to the CLI server half. Returns whether anything changed.
func (s *Server) sweepLocked(now time.Time) bool {
	changed := false
	w := s.world
	for _, inst := range w.Instances {
		if inst.Deleted || inst.Space == "" || inst.Op.Type != "delete" || now.Before(inst.Op.ReadyAt) || inst.Op.Fail != "" {
			continue
		}
		inst.Deleted = true
		s.deleteKeysOfLocked(inst.GUID)
		changed = true
	}
	for _, k := range w.Keys {
		if k.Deleted || k.Op.Type != "delete" || now.Before(k.Op.ReadyAt) || k.Op.Fail != "" {
			continue
		}
		if inst := w.instance(k.Instance); inst == nil || inst.Space == "" {
			continue
		}
		k.Deleted = true
		changed = true
	}
	return changed
}

func (s *Server) deleteKeysOfLocked(instGUID string) {
	for _, k := range s.world.Keys {
		if k.Instance == instGUID {
			k.Deleted = true
		}
	}
}

// cfInstance returns a live CF instance the user can read, or nil.
func (c *ccReq) cfInstance(g string) *Instance {
	inst := c.s.world.instance(g)
	if inst == nil || inst.Space == "" || !c.canSeeSpace(c.s.world.space(inst.Space)) {
		return nil
	}
	return inst
}

func (c *ccReq) instanceJSON(inst *Instance) map[string]any {
	w := c.s.world
	p := "/v3/service_instances/" + inst.GUID
	planGUID := w.planGUID(inst.Plan)
	updated := inst.Created
	if t := opUpdated(inst.Op, c.s.instanceInitial(), c.now); t.After(updated) {
		updated = t
	}
	return map[string]any{
		"guid": inst.GUID, "created_at": ts(inst.Created), "updated_at": ts(updated), "name": inst.Name,
		"tags": []string{}, "last_operation": lastOperationJSON(inst.Op, c.s.instanceInitial(), c.now, ""),
		"type": "managed", "maintenance_info": map[string]any{}, "upgrade_available": false, "dashboard_url": nil,
		"relationships": map[string]any{"space": rel(inst.Space), "service_plan": rel(planGUID)},
		"metadata":      emptyMetadata(),
		"links": map[string]any{
			"self":                        href(c.base, p),
			"space":                       href(c.base, "/v3/spaces/"+inst.Space),
			"service_credential_bindings": href(c.base, "/v3/service_credential_bindings?service_instance_guids="+inst.GUID),
			"service_route_bindings":      href(c.base, "/v3/service_route_bindings?service_instance_guids="+inst.GUID),
			"service_plan":                href(c.base, "/v3/service_plans/"+planGUID),
			"parameters":                  href(c.base, p+"/parameters"),
			"shared_spaces":               href(c.base, p+"/relationships/shared_spaces"),
		},
	}
}

func (c *ccReq) listInstances() {
	lq, ok := c.parseList(specInstances)
	if !ok {
		return
	}
	if vs, ok := lq.values("type"); ok {
		for _, v := range vs {
			if v != "managed" && v != "user-provided" {
				c.badQuery("Type must be one of 'managed', 'user-provided'")
				return
			}
		}
	}
	w := c.s.world
	var rows []row
	for _, inst := range w.Instances {
		if inst.Deleted || inst.Space == "" {
			continue
		}
		sp := w.space(inst.Space)
		if !c.canSeeSpace(sp) || !lq.match("names", inst.Name) || !lq.match("guids", inst.GUID) ||
			!lq.match("space_guids", inst.Space) || !lq.match("organization_guids", sp.Org) || !lq.match("type", "managed") ||
			!lq.match("service_plan_guids", w.planGUID(inst.Plan)) || !lq.match("service_plan_names", inst.Plan) {
			continue
		}
		inst := inst
		rows = append(rows, row{name: inst.Name, created: inst.Created, updated: inst.Op.Started, obj: inst,
			render: func() map[string]any { return c.instanceJSON(inst) }})
	}
	c.writeList(lq, rows, c.instanceIncluded(lq))
}

func (c *ccReq) getInstance(g string) {
	lq, ok := c.parseShow(specInstance)
	if !ok {
		return
	}
	inst := c.cfInstance(g)
	if inst == nil {
		c.notFound("Service instance not found")
		return
	}
	c.writeOne(c.instanceJSON(inst), c.instanceIncluded(lq), inst)
}

// decodeBody parses a JSON object body; on failure it has answered 400.
func (c *ccReq) decodeBody() (map[string]json.RawMessage, bool) {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(c.w, c.r.Body, 1<<20))
	if err := dec.Decode(&body); err != nil || body == nil {
		c.fail(http.StatusBadRequest, 1001, "CF-MessageParseError", "Request invalid due to parse error: invalid request body")
		return nil, false
	}
	return body, true
}

// unknownFields lists body keys outside allowed, quoted and sorted.
func unknownFields(body map[string]json.RawMessage, allowed ...string) []string {
	var out []string
	for k := range body {
		if !contains(allowed, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// relGUID reads relationships.<name>.data.guid.
func relGUID(rels map[string]json.RawMessage, name string) string {
	var r struct {
		Data *struct {
			GUID string `json:"guid"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rels[name], &r); err != nil || r.Data == nil {
		return ""
	}
	return r.Data.GUID
}

// commonBody validates name, parameters and metadata shared by instance and
// key creates; it appends error texts to errs.
func commonBody(body map[string]json.RawMessage, errs []string) (name string, params map[string]any, _ []string) {
	if raw, ok := body["name"]; !ok || string(raw) == "null" {
		errs = append(errs, "Name must be a string", "Name can't be blank")
	} else if err := json.Unmarshal(raw, &name); err != nil {
		errs = append(errs, "Name must be a string")
	} else if strings.TrimSpace(name) == "" {
		errs = append(errs, "Name can't be blank")
	} else if len(name) > 255 {
		errs = append(errs, "Name is too long (maximum is 255 characters)")
	}
	params = map[string]any{}
	if raw, ok := body["parameters"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &params); err != nil || params == nil {
			errs = append(errs, "Parameters must be an object")
			params = map[string]any{}
		}
	}
	if raw, ok := body["metadata"]; ok && string(raw) != "null" {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			errs = append(errs, "Metadata must be an object")
		}
	}
	return name, params, errs
}

// createInstance is POST /v3/service_instances with the checks in the
// order of §6.5.
func (c *ccReq) createInstance() {
	body, ok := c.decodeBody()
	if !ok {
		return
	}
	var errs []string
	if u := unknownFields(body, "type", "name", "relationships", "parameters", "tags", "metadata"); len(u) > 0 {
		errs = append(errs, "Unknown field(s): "+quoteList(u))
	}
	var typ string
	if err := json.Unmarshal(body["type"], &typ); err != nil || (typ != "managed" && typ != "user-provided") {
		errs = append(errs, "Type must be one of 'managed', 'user-provided'")
	}
	name, params, errs := commonBody(body, errs)
	var rels map[string]json.RawMessage
	if err := json.Unmarshal(body["relationships"], &rels); err != nil || rels == nil {
		errs = append(errs, "Relationships 'relationships' is not an object")
	} else {
		if relGUID(rels, "space") == "" {
			errs = append(errs, "Relationships Space can't be blank")
		}
		if typ == "managed" && relGUID(rels, "service_plan") == "" {
			errs = append(errs, "Relationships Service plan can't be blank")
		}
	}
	if raw, ok := body["tags"]; ok && string(raw) != "null" {
		var tags []string
		if err := json.Unmarshal(raw, &tags); err != nil {
			errs = append(errs, "Tags must be a list")
		}
	}
	if len(errs) > 0 {
		c.unprocessable(strings.Join(errs, ", "))
		return
	}
	if typ != "managed" {
		c.unprocessable("The simulator serves managed service instances only")
		return
	}
	w := c.s.world
	sp := w.space(relGUID(rels, "space"))
	if !c.canSeeSpace(sp) {
		c.unprocessable("Invalid space. Ensure that the space exists and you have access to it.")
		return
	}
	if !c.u.canDevelop(sp.GUID) {
		c.notAuthorized()
		return
	}
	planGUID := relGUID(rels, "service_plan")
	plan := w.planName(planGUID)
	if plan == "" || len(c.planSpaces(plan)) == 0 {
		c.unprocessable("Invalid service plan. Ensure that the service plan exists, is available, and you have access to it.")
		return
	}
	if !c.planEnabledIn(plan, sp) {
		c.unprocessable(fmt.Sprintf("Invalid service plan. This could be due to a space-scoped broker which is offering the service plan '%s' with guid '%s' in another space or that the plan is not enabled in this organization. Ensure that the service plan is visible in your current space '%s' with guid '%s'.", plan, planGUID, sp.Name, sp.GUID))
		return
	}
	for _, other := range w.Instances {
		if other.Deleted || other.Space != sp.GUID || other.Name != name {
			continue
		}
		if other.Op.Type == "create" && c.instanceState(other) == "failed" {
			// CC destroys a failed create and starts over (§6.3).
			other.Deleted = true
			c.s.deleteKeysOfLocked(other.GUID)
			continue
		}
		c.unprocessable("The service instance name is taken: " + name + ".")
		return
	}

	s := c.s
	sa := w.subaccountOfSpace(sp.GUID)
	T := s.cfg.ProvisionTime
	inst := &Instance{GUID: s.nextID(), Name: name, Subaccount: sa.GUID, Space: sp.GUID, Plan: plan,
		Parameters: params, Created: c.now, CreatedBy: c.u.Email,
		Op: Operation{Type: "create", Started: c.now, ReadyAt: c.now.Add(T)}}
	job := &Job{GUID: s.nextID(), Operation: "service_instance.create", Resource: inst.GUID, Created: c.now,
		PollingAt: c.now.Add(T / 4), DoneAt: c.now.Add(T)}
	brokerMsg := ""
	if f := s.takeFaultLocked(c.key, FaultBrokerFailure); f != nil {
		brokerMsg = f.Message
		if brokerMsg == "" {
			brokerMsg = brokerTenantError(sa)
		}
	} else if m := brokerValidateInstance(plan, params); m != "" {
		brokerMsg = m
	} else if !sa.TenantProvisioned {
		brokerMsg = brokerTenantError(sa)
	}
	if brokerMsg != "" {
		// The broker rejects the provision request itself: the job fails
		// without ever polling (§6.4).
		inst.Op.ReadyAt = c.now.Add(T / 4)
		inst.Op.Fail = "Service broker error: " + s.say(brokerMsg)
		job.PollingAt = time.Time{}
		job.DoneAt = inst.Op.ReadyAt
		job.Error = "provision could not be completed: " + inst.Op.Fail
	} else if f := s.takeFaultLocked(c.key, FaultJobFailure); f != nil {
		msg := f.Message
		if msg == "" {
			msg = "Service broker failed to provision the instance (simulated failure)"
		}
		inst.Op.Fail = s.say(msg)
		job.Error = "create managed could not be completed: " + inst.Op.Fail
	}
	w.Instances = append(w.Instances, inst)
	w.Jobs = append(w.Jobs, job)
	s.saveLocked()
	c.accepted(job)
}

// deleteInstance is DELETE /v3/service_instances/:guid (§6.6). Keys go at
// once; the instance when the job completes.
func (c *ccReq) deleteInstance(g string) {
	for k := range c.r.URL.Query() {
		if k != "purge" {
			c.badQuery("Unknown query parameter(s): '" + k + "'. Valid parameters are: 'purge'")
			return
		}
	}
	inst := c.cfInstance(g)
	if inst == nil {
		c.notFound("Service instance not found")
		return
	}
	if !c.u.canDevelop(inst.Space) {
		c.notAuthorized()
		return
	}
	if st := c.instanceState(inst); st == "initial" || st == "in progress" {
		c.unprocessable("There is an operation in progress for the service instance.")
		return
	}
	s := c.s
	s.deleteKeysOfLocked(inst.GUID)
	if c.r.URL.Query().Get("purge") == "true" {
		inst.Deleted = true
		s.saveLocked()
		c.w.WriteHeader(http.StatusNoContent)
		return
	}
	T := s.cfg.ProvisionTime
	inst.settle(c.now)
	inst.Op = Operation{Type: "delete", Started: c.now, ReadyAt: c.now.Add(T)}
	job := &Job{GUID: s.nextID(), Operation: "service_instance.delete", Resource: inst.GUID, Created: c.now,
		PollingAt: c.now.Add(T / 4), DoneAt: c.now.Add(T)}
	if f := s.takeFaultLocked(c.key, FaultJobFailure); f != nil {
		msg := f.Message
		if msg == "" {
			msg = "Service broker failed to deprovision the instance (simulated failure)"
		}
		inst.Op.Fail = s.say(msg)
		job.Error = "delete could not be completed: " + inst.Op.Fail
	}
	s.world.Jobs = append(s.world.Jobs, job)
	s.saveLocked()
	c.accepted(job)
}

// updateInstance is PATCH /v3/service_instances/:guid. Changing parameters
// asks the broker, so it answers 202 with a service_instance.update job;
// a rename or tags alone are done at once (200).
func (c *ccReq) updateInstance(g string) {
	body, ok := c.decodeBody()
	if !ok {
		return
	}
	var errs []string
	if u := unknownFields(body, "name", "parameters", "tags", "metadata", "relationships", "maintenance_info"); len(u) > 0 {
		errs = append(errs, "Unknown field(s): "+quoteList(u))
	}
	var params map[string]any
	if raw, ok := body["parameters"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &params); err != nil || params == nil {
			errs = append(errs, "Parameters must be an object")
		}
	}
	var name string
	if raw, ok := body["name"]; ok {
		if err := json.Unmarshal(raw, &name); err != nil || strings.TrimSpace(name) == "" {
			errs = append(errs, "Name must be a string", "Name can't be blank")
		}
	}
	if len(errs) > 0 {
		c.unprocessable(strings.Join(errs, ", "))
		return
	}
	inst := c.cfInstance(g)
	if inst == nil {
		c.notFound("Service instance not found")
		return
	}
	if !c.u.canDevelop(inst.Space) {
		c.notAuthorized()
		return
	}
	if st := c.instanceState(inst); st == "initial" || st == "in progress" {
		c.fail(http.StatusConflict, 60016, "CF-AsyncServiceInstanceOperationInProgress",
			"An operation for service instance "+inst.Name+" is in progress.")
		return
	}
	s := c.s
	if name != "" && name != inst.Name {
		for _, other := range s.world.Instances {
			if !other.Deleted && other.Space == inst.Space && other.Name == name {
				c.unprocessable("The service instance name is taken: " + name + ".")
				return
			}
		}
		inst.Name = name
	}
	if params == nil {
		s.saveLocked()
		writeJSON(c.w, http.StatusOK, c.instanceJSON(inst))
		return
	}
	T := s.cfg.ProvisionTime / 2
	fail := ""
	if m := brokerValidateInstance(inst.Plan, params); m != "" {
		fail = "Service broker error: " + s.say(m)
	} else if f := s.takeFaultLocked(c.key, FaultJobFailure); f != nil {
		fail = f.Message
		if fail == "" {
			fail = "Service broker failed to update the instance (simulated failure)"
		}
		fail = s.say(fail)
	}
	inst.startUpdate(params, c.now, T, fail)
	job := &Job{GUID: s.nextID(), Operation: "service_instance.update", Resource: inst.GUID, Created: c.now,
		PollingAt: c.now.Add(T / 4), DoneAt: c.now.Add(T)}
	if fail != "" {
		job.Error = "update could not be completed: " + fail
	}
	s.world.Jobs = append(s.world.Jobs, job)
	s.saveLocked()
	c.accepted(job)
}
