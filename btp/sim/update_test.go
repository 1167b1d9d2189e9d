package sim

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// tokenScopes fetches a client-credentials token and returns its scopes.
func tokenScopes(t *testing.T, tokenURL, id, secret string) []string {
	t.Helper()
	r := call(t, "POST", tokenURL, "", url.Values{"grant_type": {"client_credentials"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded",
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var out []string
	for _, s := range jwtClaims(t, r.json(t)["access_token"].(string))["scope"].([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestCCUpdateInstance_RolesThroughAJob: PATCH with parameters answers 202
// with a service_instance.update job; the new roles reach tokens when the
// update succeeded; a second update while one runs is a 409.
func TestCCUpdateInstance_RolesThroughAJob(t *testing.T) {
	f := newCFFixture(t)
	api := f.s.CFAPIURL()
	r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody("cpi", map[string]any{"roles": []string{"ESBMessaging.send"}}))
	f.clk.Add(8 * time.Second)
	ig := f.get(t, r.header.Get("Location"))["links"].(map[string]any)["service_instances"].(map[string]any)["href"].(string)
	ig = ig[strings.LastIndex(ig, "/")+1:]
	kr := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, map[string]any{"type": "key", "name": "k",
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": ig}}}})
	f.clk.Add(2 * time.Second)
	kl := f.get(t, kr.header.Get("Location"))["links"].(map[string]any)["service_credential_binding"].(map[string]any)["href"].(string)
	o := f.get(t, kl+"/details")["credentials"].(map[string]any)["oauth"].(map[string]any)
	id, secret, tokenURL := o["clientid"].(string), o["clientsecret"].(string), o["tokenurl"].(string)
	prefix := "it-rt-" + SubReadySubdomain + "!b56186."

	if bad := call(t, "PATCH", api+"/v3/service_instances/"+ig, f.tok, map[string]any{"parameters": []string{"x"}}); bad.status != 422 {
		t.Errorf("non-object parameters: %d", bad.status)
	}
	if bad := call(t, "PATCH", api+"/v3/service_instances/"+ig, f.tok, map[string]any{"colour": "red"}); bad.status != 422 {
		t.Errorf("unknown field: %d", bad.status)
	}
	u := call(t, "PATCH", api+"/v3/service_instances/"+ig, f.tok, map[string]any{"parameters": map[string]any{"roles": []string{"ESBMessaging.send", "Custom.role"}}})
	if u.status != 202 || len(u.body) != 0 || !strings.HasPrefix(u.header.Get("Location"), api+"/v3/jobs/") {
		t.Fatalf("update: %d %q %s", u.status, u.header.Get("Location"), u.body)
	}
	if j := f.get(t, u.header.Get("Location")); j["operation"] != "service_instance.update" || j["state"] == "COMPLETE" {
		t.Errorf("update job %v", j)
	}
	lo := f.get(t, api+"/v3/service_instances/"+ig)["last_operation"].(map[string]any)
	if lo["type"] != "update" || lo["state"] != "in progress" {
		t.Errorf("last_operation while updating: %v", lo)
	}
	busy := call(t, "PATCH", api+"/v3/service_instances/"+ig, f.tok, map[string]any{"parameters": map[string]any{"roles": []string{}}})
	if code, title, _ := busy.firstError(t); busy.status != 409 || code != 60016 || title != "CF-AsyncServiceInstanceOperationInProgress" {
		t.Errorf("update while busy: %d %v %v", busy.status, code, title)
	}
	if s := tokenScopes(t, tokenURL, id, secret); slices.Contains(s, prefix+"Custom.role") {
		t.Errorf("the new role works before the update finished: %v", s)
	}
	f.clk.Add(5 * time.Second)
	if j := f.get(t, u.header.Get("Location")); j["state"] != "COMPLETE" {
		t.Errorf("update job after the update: %v", j["state"])
	}
	if lo := f.get(t, api+"/v3/service_instances/"+ig)["last_operation"].(map[string]any); lo["type"] != "update" || lo["state"] != "succeeded" {
		t.Errorf("last_operation after the update: %v", lo)
	}
	if s := tokenScopes(t, tokenURL, id, secret); !slices.Contains(s, prefix+"Custom.role") || !slices.Contains(s, prefix+"ESBMessaging.send") {
		t.Errorf("scopes after the update: %v", s)
	}
	// The instance stays bindable after an update.
	if k2 := call(t, "POST", api+"/v3/service_credential_bindings", f.tok, map[string]any{"type": "key", "name": "k2",
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": ig}}}}); k2.status != 202 {
		t.Errorf("key after an update: %d %s", k2.status, k2.body)
	}
}

// TestCLIServices_UpdateInstanceRoles: services/instance?update with new
// parameters answers backend 202 and applies the roles when done.
func TestCLIServices_UpdateInstanceRoles(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	ready := c.sub(SubReadySubdomain).GUID
	var plan map[string]any
	c.cmd("services/plan", "get", map[string]any{"subaccount": ready, "offeringName": "it-rt", "name": "integration-flow"}).json(t, &plan)
	var created map[string]any
	c.cmd("services/instance", "create", map[string]any{"subaccount": ready, "name": "sm", "plan": plan["id"],
		"parameters": `{"roles":["ESBMessaging.send"]}`}).json(t, &created)
	id := created["id"].(string)
	c.clock.add(time.Minute)
	var b map[string]any
	c.cmd("services/binding", "create", map[string]any{"subaccount": ready, "name": "smk", "serviceInstanceID": id, "parameters": `{}`}).json(t, &b)
	c.clock.add(time.Minute)
	var got map[string]any
	c.cmd("services/binding", "get", map[string]any{"subaccount": ready, "id": b["id"]}).json(t, &got)
	creds := got["credentials"].(map[string]any)["oauth"].(map[string]any)

	if r := c.cmd("services/instance", "update", map[string]any{"subaccount": ready, "id": id, "parameters": `{"roles":["Other.role"]}`}); r.backend() != "202" ||
		!strings.Contains(string(r.body), "update instance operation") {
		t.Fatalf("update: %s %s", r.backend(), r.body)
	}
	if r := c.cmd("services/instance", "update", map[string]any{"subaccount": ready, "id": id, "parameters": `{"roles":[]}`}); r.backend() != "422" {
		t.Errorf("update while busy: %s %s", r.backend(), r.body)
	}
	var inst map[string]any
	c.cmd("services/instance", "get", map[string]any{"subaccount": ready, "id": id}).json(t, &inst)
	if lo := inst["last_operation"].(map[string]any); lo["type"] != "update" || lo["state"] != "in progress" || inst["usable"] != true {
		t.Errorf("instance while updating: %v", inst)
	}
	c.clock.add(time.Minute)
	c.cmd("services/instance", "get", map[string]any{"subaccount": ready, "id": id}).json(t, &inst)
	if lo := inst["last_operation"].(map[string]any); lo["state"] != "succeeded" {
		t.Errorf("after the update: %v", lo)
	}
	scopes := tokenScopes(t, creds["tokenurl"].(string), creds["clientid"].(string), creds["clientsecret"].(string))
	if want := "it-rt-" + SubReadySubdomain + "!b56186.Other.role"; !slices.Contains(scopes, want) || len(scopes) != 2 {
		t.Errorf("scopes after the update: %v, want uaa.resource and %s", scopes, want)
	}
}
