package cf_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/sim"
)

// TestListAndUpdate_InstancesKeysAndRoles: the it-rt instances of a space
// and their keys are listed (what the wizard offers to reuse), and an
// instance's parameters are updated through a job.
func TestListAndUpdate_InstancesKeysAndRoles(t *testing.T) {
	s := startSim(t, sim.Config{ProvisionTime: 20 * time.Millisecond})
	c := loggedIn(t, s, sim.AdminUser, sim.AdminPassword)
	_, sp := target(t, c, s, sim.SubReadySubdomain, "dev")
	ifPlan, err := c.FindPlan(ctx(t), "it-rt", "integration-flow", sp.GUID)
	if err != nil {
		t.Fatal(err)
	}
	apiPlan, err := c.FindPlan(ctx(t), "it-rt", "api", sp.GUID)
	if err != nil {
		t.Fatal(err)
	}
	create := func(name string, plan *cf.Plan, params string) *cf.Instance {
		t.Helper()
		job, err := c.CreateInstance(ctx(t), name, sp.GUID, plan.GUID, json.RawMessage(params))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitJob(ctx(t), job, fastPoll, nil); err != nil {
			t.Fatal(err)
		}
		inst, err := c.FindInstance(ctx(t), name, sp.GUID)
		if err != nil || inst == nil {
			t.Fatal(err)
		}
		return inst
	}
	a := create("a-flow", ifPlan, `{"roles":["ESBMessaging.send"]}`)
	create("b-api", apiPlan, `{"roles":["MonitoringDataRead"]}`)

	all, err := c.ListInstances(ctx(t), sp.GUID)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListInstances: %+v %v", all, err)
	}
	flows, err := c.ListInstances(ctx(t), sp.GUID, ifPlan.GUID)
	if err != nil || len(flows) != 1 || flows[0].GUID != a.GUID {
		t.Fatalf("ListInstances by plan: %+v %v", flows, err)
	}
	for _, k := range []string{"k1", "k2"} {
		job, err := c.CreateKey(ctx(t), k, a.GUID, json.RawMessage(`{"key-type":"client_id_secret"}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitJob(ctx(t), job, fastPoll, nil); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := c.ListKeys(ctx(t), a.GUID)
	if err != nil || len(keys) != 2 || keys[0].Name != "k1" || keys[1].InstanceGUID != a.GUID {
		t.Fatalf("ListKeys: %+v %v", keys, err)
	}

	if _, err := c.UpdateInstanceParameters(ctx(t), a.GUID, json.RawMessage(`["not","an","object"]`)); err == nil {
		t.Error("non-object parameters were sent")
	}
	job, err := c.UpdateInstanceParameters(ctx(t), a.GUID, json.RawMessage(`{"roles":["ESBMessaging.send","Custom.role"]}`))
	if err != nil || !strings.HasPrefix(job, s.CFAPIURL()+"/v3/jobs/") {
		t.Fatalf("update: %q %v", job, err)
	}
	_, busy := c.UpdateInstanceParameters(ctx(t), a.GUID, json.RawMessage(`{"roles":[]}`))
	if e, ok := busy.(*cf.Error); !ok || e.Status != 409 {
		t.Errorf("update while one runs: %v", busy)
	}
	j, err := c.WaitJob(ctx(t), job, fastPoll, nil)
	if err != nil || j.Operation != "service_instance.update" {
		t.Fatalf("update job %+v %v", j, err)
	}
	if inst, err := c.GetInstance(ctx(t), a.GUID); err != nil || inst.LastOperation.Type != "update" || !inst.Ready() {
		t.Errorf("instance after the update: %+v %v", inst, err)
	}
}
