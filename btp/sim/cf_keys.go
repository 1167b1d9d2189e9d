package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Service keys (credential bindings of type key, cloud-foundry.md §7) and
// jobs (§6.4).

// keyInitial: a key stays "initial" until the broker's synchronous bind
// returned, then succeeds; it never shows "in progress" on create.
func (s *Server) keyInitial() time.Duration { return s.cfg.BindTime }

func (c *ccReq) keyState(k *Key) string { return cfOpState(k.Op, c.s.keyInitial(), c.now) }

// cfKey returns a live key of a CF instance the user can read, or nil.
func (c *ccReq) cfKey(g string) (*Key, *Instance) {
	k := c.s.world.key(g)
	if k == nil {
		return nil, nil
	}
	inst := c.cfInstance(k.Instance)
	if inst == nil {
		return nil, nil
	}
	return k, inst
}

func (c *ccReq) keyJSON(k *Key) map[string]any {
	p := "/v3/service_credential_bindings/" + k.GUID
	updated := k.Created
	if t := opUpdated(k.Op, c.s.keyInitial(), c.now); t.After(updated) {
		updated = t
	}
	return map[string]any{
		"guid": k.GUID, "created_at": ts(k.Created), "updated_at": ts(updated), "name": k.Name, "type": "key",
		"last_operation": lastOperationJSON(k.Op, c.s.keyInitial(), c.now, nil),
		"metadata":       emptyMetadata(),
		"relationships":  map[string]any{"service_instance": rel(k.Instance)},
		"links": map[string]any{
			"self":             href(c.base, p),
			"details":          href(c.base, p+"/details"),
			"service_instance": href(c.base, "/v3/service_instances/"+k.Instance),
			"parameters":       href(c.base, p+"/parameters"),
		},
	}
}

func (c *ccReq) listKeys() {
	lq, ok := c.parseList(specKeys)
	if !ok {
		return
	}
	if vs, ok := lq.values("type"); ok {
		for _, v := range vs {
			if v != "app" && v != "key" {
				c.badQuery("Type must be one of 'app', 'key'")
				return
			}
		}
	}
	w := c.s.world
	var rows []row
	for _, k := range w.Keys {
		if k.Deleted {
			continue
		}
		inst := c.cfInstance(k.Instance)
		if inst == nil || !lq.match("names", k.Name) || !lq.match("guids", k.GUID) || !lq.match("type", "key") ||
			!lq.match("service_instance_guids", inst.GUID) || !lq.match("service_instance_names", inst.Name) ||
			!lq.match("service_plan_guids", w.planGUID(inst.Plan)) || !lq.match("service_plan_names", inst.Plan) ||
			!lq.match("service_offering_guids", w.offeringGUID()) || !lq.match("service_offering_names", "it-rt") {
			continue
		}
		if _, ok := lq.vals["app_guids"]; ok {
			continue // keys are bound to no app
		}
		if _, ok := lq.vals["app_names"]; ok {
			continue
		}
		k := k
		rows = append(rows, row{name: k.Name, created: k.Created, updated: k.Op.Started, obj: k,
			render: func() map[string]any { return c.keyJSON(k) }})
	}
	c.writeList(lq, rows, c.keyIncluded(lq))
}

func (c *ccReq) getKey(g string) {
	lq, ok := c.parseShow(specKey)
	if !ok {
		return
	}
	k, _ := c.cfKey(g)
	if k == nil {
		c.notFound("Service credential binding not found")
		return
	}
	c.writeOne(c.keyJSON(k), c.keyIncluded(lq), k)
}

// keyDetails is GET …/details (§7.3): the broker's credentials.
func (c *ccReq) keyDetails(g string) {
	k, inst := c.cfKey(g)
	if k == nil {
		c.notFound("Service credential binding not found")
		return
	}
	if !c.u.canDevelop(inst.Space) {
		c.notAuthorized()
		return
	}
	if st := c.keyState(k); k.Op.Type != "create" || st != "succeeded" {
		verb := "Creation"
		if k.Op.Type == "delete" {
			verb = "Deletion"
		}
		if st == "initial" {
			st = "in progress"
		}
		c.notFound(verb + " of service key " + st)
		return
	}
	sa := c.s.world.subaccount(inst.Subaccount)
	writeJSON(c.w, http.StatusOK, map[string]any{"credentials": c.s.keyCredentialsLocked(k, inst, sa)})
}

// createKey is POST /v3/service_credential_bindings for type key (§7.2, §7.4).
func (c *ccReq) createKey() {
	body, ok := c.decodeBody()
	if !ok {
		return
	}
	var errs []string
	if u := unknownFields(body, "type", "name", "relationships", "parameters", "metadata"); len(u) > 0 {
		errs = append(errs, "Unknown field(s): "+quoteList(u))
	}
	var typ string
	if err := json.Unmarshal(body["type"], &typ); err != nil || (typ != "app" && typ != "key") {
		errs = append(errs, "Type must be 'app' or 'key'")
	}
	name, params, errs := commonBody(body, errs)
	var rels map[string]json.RawMessage
	if err := json.Unmarshal(body["relationships"], &rels); err != nil || rels == nil {
		errs = append(errs, "Relationships 'relationships' is not an object")
	} else if relGUID(rels, "service_instance") == "" {
		errs = append(errs, "Relationships Service instance can't be blank")
	}
	if len(errs) > 0 {
		c.unprocessable(strings.Join(errs, ", "))
		return
	}
	if typ != "key" {
		c.unprocessable("The simulator serves credential bindings of type 'key' only")
		return
	}
	w := c.s.world
	ig := relGUID(rels, "service_instance")
	inst := c.cfInstance(ig)
	if inst == nil {
		c.unprocessable("The service instance could not be found: '" + ig + "'")
		return
	}
	if !c.u.canDevelop(inst.Space) {
		c.notAuthorized()
		return
	}
	switch st := c.instanceState(inst); {
	case inst.Op.Type == "create" && st == "failed":
		c.unprocessable("Service instance not found")
		return
	case st != "succeeded" && !(inst.Op.Type == "update" && st == "failed"):
		c.unprocessable("There is an operation in progress for the service instance")
		return
	}
	for _, other := range w.Keys {
		if other.Deleted || other.Instance != inst.GUID || other.Name != name {
			continue
		}
		if other.Op.Type == "create" && c.keyState(other) == "failed" {
			other.Deleted = true // replaced silently
			continue
		}
		if other.Op.Type == "delete" {
			c.unprocessable("The binding name is invalid. Key binding names must be unique. The service instance already has a key binding with the name '" + name + "' that is getting deleted or its deletion failed.")
			return
		}
		c.unprocessable("The binding name is invalid. Key binding names must be unique. The service instance already has a key binding with name '" + name + "'.")
		return
	}

	s := c.s
	sa := w.subaccount(inst.Subaccount)
	kg := s.nextID()
	T := s.cfg.BindTime
	k := &Key{GUID: kg, Name: name, Instance: inst.GUID, Parameters: params, Created: c.now,
		ClientID: clientIDFor(kg, inst.Plan, sa.Subdomain),
		Op:       Operation{Type: "create", Started: c.now, ReadyAt: c.now.Add(T)}}
	job := &Job{GUID: s.nextID(), Operation: "service_keys.create", Resource: kg, Created: c.now, DoneAt: c.now.Add(T)}
	brokerMsg := ""
	if f := s.takeFaultLocked(c.key, FaultBrokerFailure); f != nil {
		brokerMsg = f.Message
		if brokerMsg == "" {
			brokerMsg = brokerTenantError(sa)
		}
	} else {
		kt, m := brokerValidateKey(inst.Plan, params)
		k.KeyType = kt
		brokerMsg = m
		if m == "" && kt != "client_id_secret" {
			if p := inst.params(c.now); p["grant-types"] != nil && !contains(mustStrings(p["grant-types"]), "client_credentials") {
				brokerMsg = "Key type " + kt + " requires grant type client_credentials on the service instance"
			}
		}
		if brokerMsg == "" {
			brokerMsg = s.brokerCertificateLocked(k, inst, sa, c.now)
		}
	}
	if brokerMsg != "" {
		k.Op.Fail = "Service broker error: " + s.say(brokerMsg)
		job.Error = "bind could not be completed: " + k.Op.Fail
	} else if f := s.takeFaultLocked(c.key, FaultJobFailure); f != nil {
		msg := f.Message
		if msg == "" {
			msg = "Service broker failed to create the key (simulated failure)"
		}
		k.Op.Fail = s.say(msg)
		job.Error = "create could not be completed: " + k.Op.Fail
	}
	w.Keys = append(w.Keys, k)
	w.Jobs = append(w.Jobs, job)
	s.saveLocked()
	c.accepted(job)
}

// deleteKey is DELETE /v3/service_credential_bindings/:guid (§7.5).
func (c *ccReq) deleteKey(g string) {
	k, inst := c.cfKey(g)
	if k == nil {
		c.notFound("Service credential binding not found")
		return
	}
	if !c.u.canDevelop(inst.Space) {
		c.notAuthorized()
		return
	}
	if st := c.keyState(k); st == "initial" || st == "in progress" {
		c.unprocessable("There is an operation in progress for the service binding.")
		return
	}
	if st := c.instanceState(inst); st == "initial" || st == "in progress" {
		c.unprocessable("There is an operation in progress for the service instance.")
		return
	}
	s := c.s
	T := s.cfg.BindTime
	k.Op = Operation{Type: "delete", Started: c.now, ReadyAt: c.now.Add(T)}
	job := &Job{GUID: s.nextID(), Operation: "service_keys.delete", Resource: k.GUID, Created: c.now, DoneAt: c.now.Add(T)}
	if f := s.takeFaultLocked(c.key, FaultJobFailure); f != nil {
		msg := f.Message
		if msg == "" {
			msg = "Service broker failed to delete the key (simulated failure)"
		}
		k.Op.Fail = s.say(msg)
		job.Error = "delete could not be completed: " + k.Op.Fail
	}
	s.world.Jobs = append(s.world.Jobs, job)
	s.saveLocked()
	c.accepted(job)
}

// --- jobs ----------------------------------------------------------------------

// jobState is PROCESSING -> (POLLING) -> COMPLETE | FAILED by the clock.
func jobState(j *Job, now time.Time) (state string, updated time.Time) {
	switch {
	case !now.Before(j.DoneAt):
		if j.Error != "" {
			return "FAILED", j.DoneAt
		}
		return "COMPLETE", j.DoneAt
	case !j.PollingAt.IsZero() && !now.Before(j.PollingAt):
		return "POLLING", j.PollingAt
	}
	return "PROCESSING", j.Created
}

func (c *ccReq) getJob(g string) {
	w := c.s.world
	j := w.job(g)
	if j == nil {
		c.notFound("Job not found")
		return
	}
	state, updated := jobState(j, c.now)
	links := map[string]any{"self": href(c.base, "/v3/jobs/"+j.GUID)}
	// The link to the resource exists only while the resource does, and its
	// key is inconsistent between instance and key jobs (§6.4).
	switch {
	case strings.HasPrefix(j.Operation, "service_instance."):
		if c.cfInstance(j.Resource) != nil {
			links["service_instances"] = href(c.base, "/v3/service_instances/"+j.Resource)
		}
	case strings.HasPrefix(j.Operation, "service_keys."):
		if k, _ := c.cfKey(j.Resource); k != nil {
			links["service_credential_binding"] = href(c.base, "/v3/service_credential_bindings/"+j.Resource)
		}
	}
	errs := []map[string]any{}
	if state == "FAILED" {
		errs = append(errs, map[string]any{"code": 10009, "title": "CF-UnableToPerform", "detail": j.Error})
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"guid": j.GUID, "created_at": ts(j.Created), "updated_at": ts(updated), "operation": j.Operation,
		"state": state, "errors": errs, "warnings": []any{}, "links": links,
	})
}
