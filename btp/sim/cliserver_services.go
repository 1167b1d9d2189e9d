package sim

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"
)

// services/* commands: the subaccount's Service Manager as the CLI server
// relays it (§5.8-§5.11). SM instances are World.Instances with Space == "";
// their keys are World.Keys of those instances.

const cliZeroTime = "0001-01-01T00:00:00Z"

func cliSMTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// cliOffering / cliPlan are the static Service Manager catalogue.
type cliOffering struct {
	Name, DisplayName, Description string
	InstancesRetrievable           bool
	Plans                          []string
	// NoDisplayName: metadata without displayName, as 2 of 23 recorded
	// real offerings come.
	NoDisplayName bool
}

var cliOfferings = []cliOffering{
	{Name: "destination", DisplayName: "Destination Service", Description: "Provides a secure and reliable access to destination configuration.", InstancesRetrievable: false, Plans: []string{"lite"}, NoDisplayName: true},
	{Name: "it-rt", DisplayName: "Process Integration Runtime", Description: "Process Integration Runtime: OAuth clients for the Cloud Integration runtime and APIs.", Plans: []string{"integration-flow", "api"}},
	{Name: "service-manager", DisplayName: "Service Manager", Description: "Service Manager manages service instances across environments.", InstancesRetrievable: true, Plans: []string{"subaccount-admin"}},
	{Name: "xsuaa", DisplayName: "Authorization and Trust Management Service", Description: "Manage application authorizations and trust to identity providers.", Plans: []string{"application", "broker"}},
}

func cliOfferingID(name string) string { return cliStableGUID("offering/" + name) }

func cliPlanID(offering, plan string) string { return cliStableGUID("plan/" + offering + "/" + plan) }

// cliVisiblePlansLocked lists (offering, plan) pairs the subaccount's SM
// shows: everything static, it-rt plans only when assigned OK.
func (s *Server) cliVisibleLocked(sa *Subaccount, now time.Time) map[string][]string {
	out := map[string][]string{}
	for _, o := range cliOfferings {
		for _, p := range o.Plans {
			if o.Name == "it-rt" {
				a := s.world.assignment(sa.GUID, "it-rt", p)
				if !s.world.GAHasITRT || a == nil || assignmentState(a, now) != "OK" {
					continue
				}
			}
			out[o.Name] = append(out[o.Name], p)
		}
	}
	return out
}

func (s *Server) cliOfferingObject(o cliOffering) map[string]any {
	meta := map[string]any{"displayName": o.DisplayName, "documentationUrl": "https://help.sap.com/", "longDescription": o.Description}
	if o.NoDisplayName {
		delete(meta, "displayName")
	}
	return map[string]any{
		"id": cliOfferingID(o.Name), "ready": true, "name": o.Name, "description": o.Description,
		"bindable": true, "instances_retrievable": o.InstancesRetrievable, "bindings_retrievable": o.InstancesRetrievable,
		"plan_updateable": false, "allow_context_updates": false, "tags": []string{o.Name},
		"metadata":  meta,
		"broker_id": cliStableGUID("broker/" + o.Name), "catalog_id": o.Name, "catalog_name": o.Name,
		"created_at": cliSMTime(cliGACreated), "updated_at": cliSMTime(cliGAModified),
	}
}

func (s *Server) cliPlanObject(o cliOffering, plan string, full bool) map[string]any {
	m := map[string]any{
		"catalog_id": cliPlanID(o.Name, plan), "catalog_name": plan, "created_at": cliSMTime(cliGACreated),
		"data_center": "", "description": fmt.Sprintf("Plan %s of %s", plan, o.DisplayName), "free": o.Name != "it-rt",
		"id": cliPlanID(o.Name, plan), "labels": "commercial_name = " + plan,
		"metadata": map[string]any{"supportsInstanceSharing": false}, "name": plan, "plan_updateable": false,
		"ready": true, "service_offering_id": cliOfferingID(o.Name), "service_offering_name": o.Name,
		"updated_at": cliSMTime(cliGAModified),
	}
	if full {
		// get answers the SM object itself: without the CLI's list extras
		// (the client takes the offering name from its own request).
		delete(m, "service_offering_name")
		delete(m, "data_center")
		delete(m, "plan_updateable")
		m["metadata"] = map[string]any{"supportsInstanceSharing": false, "displayName": plan, "bullets": []string{}}
		m["schemas"] = map[string]any{"service_instance": map[string]any{"create": map[string]any{"parameters": map[string]any{
			"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "additionalProperties": false}}}}
	}
	return m
}

func (s *Server) cliOfferingList(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	vis := s.cliVisibleLocked(sa, c.now)
	list := []map[string]any{}
	for _, o := range cliOfferings {
		if len(vis[o.Name]) > 0 {
			list = append(list, s.cliOfferingObject(o))
		}
	}
	return cliBody(http.StatusOK, cliMediaSM, list)
}

func (s *Server) cliOfferingGet(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	id, name := c.p["id"], c.p["name"]
	if id == "" && name == "" {
		return cliBadParams()
	}
	vis := s.cliVisibleLocked(sa, c.now)
	for _, o := range cliOfferings {
		if len(vis[o.Name]) > 0 && (o.Name == name || cliOfferingID(o.Name) == id) {
			return cliBody(http.StatusOK, cliMediaSM, s.cliOfferingObject(o))
		}
	}
	return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_offerings")
}

func (s *Server) cliPlanList(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	vis := s.cliVisibleLocked(sa, c.now)
	list := []map[string]any{}
	for _, o := range cliOfferings {
		for _, p := range vis[o.Name] {
			list = append(list, s.cliPlanObject(o, p, false))
		}
	}
	return cliBody(http.StatusOK, cliMediaSM, list)
}

func (s *Server) cliPlanGet(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	id, name, offering := c.p["id"], c.p["name"], c.p["offeringName"]
	if id == "" && (name == "" || offering == "") {
		return cliBadParams()
	}
	vis := s.cliVisibleLocked(sa, c.now)
	for _, o := range cliOfferings {
		for _, p := range vis[o.Name] {
			if cliPlanID(o.Name, p) == id || (o.Name == offering && p == name) {
				return cliBody(http.StatusOK, cliMediaSM, s.cliPlanObject(o, p, true))
			}
		}
	}
	return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_plans")
}

// cliPlanByID finds a plan of the catalogue (entitled or not).
func cliPlanByID(id string) (offering, plan string) {
	for _, o := range cliOfferings {
		for _, p := range o.Plans {
			if cliPlanID(o.Name, p) == id {
				return o.Name, p
			}
		}
	}
	return "", ""
}

// --- instances -------------------------------------------------------------------

// cliSMInstanceLocked returns the live SM instance id (or name) of sa; an
// instance whose delete finished is marked deleted on the way.
func (s *Server) cliSMInstanceLocked(sa *Subaccount, id, name string, now time.Time) *Instance {
	for _, in := range s.world.Instances {
		if in.Deleted || in.Space != "" || in.Subaccount != sa.GUID {
			continue
		}
		if (id != "" && in.GUID == id) || (id == "" && name != "" && in.Name == name) {
			if s.cliGoneLocked(in, now) {
				return nil
			}
			return in
		}
	}
	return nil
}

func (s *Server) cliGoneLocked(in *Instance, now time.Time) bool {
	if in.Op.Type == "delete" && opState(in.Op, now) == "succeeded" {
		in.Deleted = true
		for _, k := range s.world.Keys {
			if k.Instance == in.GUID {
				k.Deleted = true
			}
		}
		s.saveLocked()
		return true
	}
	return in.Deleted
}

func (s *Server) cliSMInstancesLocked(sa *Subaccount, now time.Time) []*Instance {
	var out []*Instance
	for _, in := range s.world.Instances {
		if !in.Deleted && in.Space == "" && in.Subaccount == sa.GUID && !s.cliGoneLocked(in, now) {
			out = append(out, in)
		}
	}
	return out
}

func (s *Server) cliContext(sa *Subaccount, name string) map[string]any {
	return map[string]any{
		"origin": "sapcp", "region": "cf-" + sa.Region, "zone_id": sa.GUID, "env_type": "sapcp", "platform": "sapcp",
		"subdomain": sa.Subdomain, "license_type": "SAPDEV", "instance_name": name, "subaccount_id": sa.GUID,
		"crm_customer_id": "", "global_account_id": s.world.GlobalAccountGUID,
	}
}

// smUsable: the instance was created and is not being deleted; an update,
// running or failed, leaves it usable.
func smUsable(in *Instance, now time.Time) bool {
	switch in.Op.Type {
	case "create":
		return opState(in.Op, now) == "succeeded"
	case "update":
		return true
	}
	return false
}

func cliOperation(op Operation, resourceID, resourceType string, now time.Time) map[string]any {
	state := opState(op, now)
	updated := op.Started
	if state != "in progress" {
		updated = op.ReadyAt
	}
	m := map[string]any{
		"id": cliStableGUID("op/" + resourceID + "/" + op.Type), "ready": true, "type": op.Type, "state": state,
		"resource_id": resourceID, "resource_type": resourceType, "platform_id": "service-manager",
		"correlation_id": cliStableGUID("corr/" + resourceID + "/" + op.Type), "reschedule": state == "in progress",
		"reschedule_timestamp": cliZeroTime, "deletion_scheduled": cliZeroTime,
		"created_at": cliSMTime(op.Started), "updated_at": cliSMTime(updated),
	}
	if state == "in progress" {
		m["reschedule_timestamp"] = cliSMTime(op.Started)
	}
	if state == "failed" {
		m["errors"] = map[string]any{"error": "BrokerError", "description": op.Fail,
			"broker_error": map[string]any{"StatusCode": 500, "ErrorMessage": nil, "Description": op.Fail, "ResponseError": nil}}
	}
	return m
}

func (s *Server) cliInstanceObject(in *Instance, sa *Subaccount, withOp bool, now time.Time) map[string]any {
	ok := smUsable(in, now)
	m := map[string]any{
		"id": in.GUID, "ready": ok, "name": in.Name, "service_plan_id": cliPlanID("it-rt", in.Plan),
		"platform_id": "service-manager", "context": s.cliContext(sa, in.Name), "usable": ok,
		"subaccount_id": sa.GUID, "protected": nil, "created_by": in.CreatedBy,
		"created_at": cliSMTime(in.Created), "updated_at": cliSMTime(in.Created),
		"labels": "subaccount_id = " + sa.GUID,
	}
	if withOp {
		m["last_operation"] = cliOperation(in.Op, in.GUID, "/v1/service_instances", now)
	}
	return m
}

func (s *Server) cliInstanceCreate(c *cliCall) cliResult {
	if !c.need("name") || (c.p["plan"] == "" && (c.p["planName"] == "" || c.p["offeringName"] == "")) {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	name := c.p["name"]
	params, err := decodeObject(c.p["parameters"])
	if err != nil {
		return cliSMError(http.StatusBadRequest, "BadRequest", "parameters must be a valid JSON object: "+err.Error())
	}
	var labels map[string][]string
	if err := cliJSONString(c.p["labels"], &labels); err != nil {
		return cliSMError(http.StatusBadRequest, "BadRequest", "labels must be a JSON object of string arrays")
	}
	offering, plan := cliPlanByID(c.p["plan"])
	if c.p["plan"] == "" {
		offering, plan = c.p["offeringName"], c.p["planName"]
		if _, p := cliPlanByName(offering, plan); p == "" {
			return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_plans")
		}
	}
	if offering == "" {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_plans")
	}
	if !contains(s.cliVisibleLocked(sa, c.now)[offering], plan) {
		return cliSMError(http.StatusBadRequest, "BadRequest",
			fmt.Sprintf("service plan %s of offering %s is not entitled to subaccount %s: assign the entitlement first", plan, offering, sa.GUID))
	}
	if offering != "it-rt" {
		return cliSMError(http.StatusBadRequest, "BadRequest", "the simulator provisions it-rt instances only")
	}
	if s.cliSMInstanceLocked(sa, "", name, c.now) != nil {
		return cliSMError(http.StatusConflict, "Conflict", "instance with same name exists for the current tenant")
	}
	if desc := brokerValidateInstance(plan, params); desc != "" {
		return s.cliBrokerError(400, desc, sa, name, plan)
	}
	if !sa.TenantProvisioned {
		return s.cliBrokerError(409, brokerTenantError(sa), sa, name, plan)
	}
	if f := s.takeFaultLocked(c.key, FaultBrokerFailure); f != nil {
		msg, code := f.Message, f.Status
		if msg == "" {
			msg = brokerTenantError(sa)
		}
		if code == 0 {
			code = 500
		}
		return s.cliBrokerError(code, msg, sa, name, plan)
	}
	in := &Instance{GUID: s.nextID(), Name: name, Subaccount: sa.GUID, Plan: plan, Parameters: params,
		Op: Operation{Type: "create", Started: c.now, ReadyAt: c.now.Add(s.cfg.ProvisionTime)}, Created: c.now, CreatedBy: c.user.Email}
	s.world.Instances = append(s.world.Instances, in)
	s.saveLocked()
	return cliBody(http.StatusAccepted, cliMediaSM, map[string]string{
		"id":          in.GUID,
		"command":     fmt.Sprintf("btp get services/instance %s --subaccount %s", in.GUID, sa.GUID),
		"description": "Use the command above with the provided values (instance ID and subaccount ID respectively) to check the status of the create instance operation you initiated.",
	})
}

func cliPlanByName(offering, plan string) (string, string) {
	for _, o := range cliOfferings {
		if o.Name == offering && contains(o.Plans, plan) {
			return offering, plan
		}
	}
	return "", ""
}

// cliBrokerError is the §3.3.3 answer to a refused provisioning.
func (s *Server) cliBrokerError(status int, desc string, sa *Subaccount, name, plan string) cliResult {
	desc = s.say(desc)
	id := cliStableGUID("failed/" + sa.GUID + "/" + name)
	full := fmt.Sprintf("Failed provisioning request context: map[crm_customer_id: env_type:sapcp global_account_id: instance_name:%s license_type:SAPDEV origin:sapcp platform:sapcp region:cf-%s service_instance_id:%s subaccount_id:%s subdomain:%s zone_id:%s], instanceID: %s, planID: %s, serviceID: %s, acceptsIncomplete: true: Status: %d; ErrorMessage: <nil>; Description: %s; ResponseError: <nil>",
		name, sa.Region, id, sa.GUID, sa.Subdomain, sa.GUID, id, cliPlanID("it-rt", plan), cliOfferingID("it-rt"), status, desc)
	res := cliBody(http.StatusBadGateway, cliMediaSM, map[string]any{
		"error": "BrokerError", "description": full,
		"broker_error": map[string]any{"StatusCode": status, "ErrorMessage": nil, "Description": desc, "ResponseError": nil},
	})
	res.backendMsg = cliMsgBackendError
	return res
}

func (s *Server) cliInstanceGet(c *cliCall) cliResult {
	if c.p["id"] == "" && c.p["name"] == "" {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	in := s.cliSMInstanceLocked(sa, c.p["id"], c.p["name"], c.now)
	if in == nil {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_instances")
	}
	if c.p["parameters"] == "true" {
		return cliSMError(http.StatusBadRequest, "BadRequest", "this operation is not supported.")
	}
	return cliBody(http.StatusOK, cliMediaSM, s.cliInstanceObject(in, sa, true, c.now))
}

var cliNameFilterRE = regexp.MustCompile(`^\s*name\s+eq\s+'([^']*)'\s*$`)

func (s *Server) cliInstanceList(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	nameFilter := ""
	if f := c.p["fieldsFilter"]; f != "" {
		m := cliNameFilterRE.FindStringSubmatch(f)
		if m == nil {
			return cliSMError(http.StatusBadRequest, "BadRequest", "unsupported fieldsFilter (the simulator understands name eq '<name>')")
		}
		nameFilter = m[1]
	}
	list := []map[string]any{}
	for _, in := range s.cliSMInstancesLocked(sa, c.now) {
		if nameFilter == "" || in.Name == nameFilter {
			list = append(list, s.cliInstanceObject(in, sa, false, c.now))
		}
	}
	return cliBody(http.StatusOK, cliMediaSM, list)
}

func (s *Server) cliInstanceDelete(c *cliCall) cliResult {
	if !c.need("id") || c.p["confirm"] != "true" {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	in := s.cliSMInstanceLocked(sa, c.p["id"], "", c.now)
	if in == nil {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_instances")
	}
	for _, k := range s.world.Keys {
		if k.Instance == in.GUID && !s.cliKeyGoneLocked(k, c.now) {
			return cliSMError(http.StatusBadRequest, "BadRequest", fmt.Sprintf("service instance %s has bindings; delete them first", in.Name))
		}
	}
	in.settle(c.now)
	in.Op = Operation{Type: "delete", Started: c.now, ReadyAt: c.now.Add(s.cfg.ProvisionTime)}
	s.saveLocked()
	return cliBody(http.StatusOK, cliMediaSM, map[string]any{})
}

// cliInstanceUpdate is services/instance?update (§5.10): new parameters
// (a JSON string) or name; backend 202 with the CLI's {id,command,
// description} body, then the caller polls ?get.
func (s *Server) cliInstanceUpdate(c *cliCall) cliResult {
	if !c.need("id") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	in := s.cliSMInstanceLocked(sa, c.p["id"], "", c.now)
	if in == nil {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_instances")
	}
	if opState(in.Op, c.now) == "in progress" {
		return cliSMError(http.StatusUnprocessableEntity, "ConcurrentOperationInProgress", "Another concurrent operation in progress for this resource")
	}
	if p := c.p["plan"]; p != "" && p != cliPlanID("it-rt", in.Plan) {
		return cliSMError(http.StatusBadRequest, "BadRequest", "plan of it-rt instances cannot be changed (plan_updateable is false)")
	}
	var params map[string]any
	if c.p["parameters"] != "" {
		var err error
		if params, err = decodeObject(c.p["parameters"]); err != nil {
			return cliSMError(http.StatusBadRequest, "BadRequest", "parameters must be a valid JSON object: "+err.Error())
		}
		if desc := brokerValidateInstance(in.Plan, params); desc != "" {
			return s.cliBrokerError(400, desc, sa, in.Name, in.Plan)
		}
	}
	if n := c.p["newName"]; n != "" && n != in.Name {
		if s.cliSMInstanceLocked(sa, "", n, c.now) != nil {
			return cliSMError(http.StatusConflict, "Conflict", "instance with same name exists for the current tenant")
		}
		in.Name = n
	}
	in.startUpdate(params, c.now, s.cfg.ProvisionTime/2, "")
	s.saveLocked()
	return cliBody(http.StatusAccepted, cliMediaSM, map[string]string{
		"id":          in.GUID,
		"command":     fmt.Sprintf("btp get services/instance %s --subaccount %s", in.GUID, sa.GUID),
		"description": "Use the command above with the provided values (instance ID and subaccount ID respectively) to check the status of the update instance operation you initiated.",
	})
}

// --- bindings --------------------------------------------------------------------

func (s *Server) cliKeyGoneLocked(k *Key, now time.Time) bool {
	if k.Deleted {
		return true
	}
	if k.Op.Type == "delete" && opState(k.Op, now) == "succeeded" {
		k.Deleted = true
		s.saveLocked()
		return true
	}
	return false
}

// cliSMKeysLocked lists live keys of sa's SM instances, with their instance.
func (s *Server) cliSMKeysLocked(sa *Subaccount, now time.Time) ([]*Key, map[string]*Instance) {
	insts := map[string]*Instance{}
	for _, in := range s.cliSMInstancesLocked(sa, now) {
		insts[in.GUID] = in
	}
	var out []*Key
	for _, k := range s.world.Keys {
		if insts[k.Instance] != nil && !s.cliKeyGoneLocked(k, now) {
			out = append(out, k)
		}
	}
	return out, insts
}

func (s *Server) cliBindingObject(k *Key, in *Instance, sa *Subaccount, withOp, withCreds, sorted bool, now time.Time) map[string]any {
	ctx := s.cliContext(sa, in.Name)
	ctx["service_instance_id"] = in.GUID
	m := map[string]any{
		"id": k.GUID, "ready": opState(k.Op, now) == "succeeded", "name": k.Name, "service_instance_id": in.GUID,
		"context": ctx, "subaccount_id": sa.GUID, "created_by": in.CreatedBy, "created_at": cliSMTime(k.Created),
		"updated_at": cliSMTime(k.Created), "labels": "subaccount_id = " + sa.GUID,
	}
	if withOp {
		m["last_operation"] = cliOperation(k.Op, k.GUID, "/v1/service_bindings", now)
	}
	if withCreds && k.Op.Type == "create" && opState(k.Op, now) == "succeeded" {
		m["credentials"] = s.keyCredentialsLocked(k, in, sa)
	}
	if sorted {
		m["service_instance_name"] = in.Name
	}
	return m
}

func (s *Server) cliBindingCreate(c *cliCall) cliResult {
	if !c.need("name", "serviceInstanceID") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	in := s.cliSMInstanceLocked(sa, c.p["serviceInstanceID"], "", c.now)
	if in == nil {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_instances")
	}
	if st := opState(in.Op, c.now); !smUsable(in, c.now) {
		return cliSMError(http.StatusUnprocessableEntity, "UnprocessableEntity",
			fmt.Sprintf("service instance %s is not usable (last operation: %s %s)", in.Name, in.Op.Type, st))
	}
	params, err := decodeObject(c.p["parameters"])
	if err != nil {
		return cliSMError(http.StatusBadRequest, "BadRequest", "parameters must be a valid JSON object: "+err.Error())
	}
	keys, _ := s.cliSMKeysLocked(sa, c.now)
	for _, k := range keys {
		if k.Instance == in.GUID && k.Name == c.p["name"] {
			return cliSMError(http.StatusConflict, "Conflict", "binding with same name exists for instance "+in.Name)
		}
	}
	id := s.nextID()
	k := &Key{GUID: id, Name: c.p["name"], Instance: in.GUID, Parameters: params,
		ClientID: clientIDFor(id, in.Plan, sa.Subdomain),
		Op:       Operation{Type: "create", Started: c.now, ReadyAt: c.now.Add(s.cfg.BindTime)}, Created: c.now}
	kt, desc := brokerValidateKey(in.Plan, params)
	k.KeyType = kt
	if desc == "" {
		desc = s.brokerCertificateLocked(k, in, sa, c.now)
	}
	if desc != "" {
		desc = s.say(desc)
		res := cliBody(http.StatusBadGateway, cliMediaSM, map[string]any{
			"error": "BrokerError", "description": fmt.Sprintf("Failed binding request: Status: 400; ErrorMessage: <nil>; Description: %s; ResponseError: <nil>", desc),
			"broker_error": map[string]any{"StatusCode": 400, "ErrorMessage": nil, "Description": desc, "ResponseError": nil},
		})
		res.backendMsg = cliMsgBackendError
		return res
	}
	s.world.Keys = append(s.world.Keys, k)
	s.saveLocked()
	return cliBody(http.StatusCreated, cliMediaSM, s.cliBindingObject(k, in, sa, true, false, false, c.now))
}

func (s *Server) cliBindingFind(c *cliCall, sa *Subaccount) (*Key, *Instance) {
	keys, insts := s.cliSMKeysLocked(sa, c.now)
	for _, k := range keys {
		if (c.p["id"] != "" && k.GUID == c.p["id"]) || (c.p["id"] == "" && c.p["name"] != "" && k.Name == c.p["name"]) {
			return k, insts[k.Instance]
		}
	}
	return nil, nil
}

func (s *Server) cliBindingGet(c *cliCall) cliResult {
	if c.p["id"] == "" && c.p["name"] == "" {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	k, in := s.cliBindingFind(c, sa)
	if k == nil {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_bindings")
	}
	return cliBody(http.StatusOK, cliMediaSM, s.cliBindingObject(k, in, sa, true, true, false, c.now))
}

func (s *Server) cliBindingList(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	keys, insts := s.cliSMKeysLocked(sa, c.now)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Created.Before(keys[j].Created) })
	list := []map[string]any{}
	for _, k := range keys {
		if id := c.p["serviceInstanceID"]; id != "" && k.Instance != id {
			continue
		}
		list = append(list, s.cliBindingObject(k, insts[k.Instance], sa, false, true, true, c.now))
	}
	return cliBody(http.StatusOK, cliMediaSM, list)
}

func (s *Server) cliBindingDelete(c *cliCall) cliResult {
	if !c.need("id") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	k, _ := s.cliBindingFind(c, sa)
	if k == nil {
		return cliSMError(http.StatusNotFound, "NotFound", "could not find such /v1/service_bindings")
	}
	k.Op = Operation{Type: "delete", Started: c.now, ReadyAt: c.now.Add(s.cfg.BindTime)}
	s.saveLocked()
	return cliBody(http.StatusOK, cliMediaSM, map[string]any{})
}
