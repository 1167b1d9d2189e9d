package cliserver

import (
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

func TestListEntitlements_DirectoryViewAndFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{EntitlementPadding: 512 << 10})
	e.login(sim.ViewerUser, sim.ViewerPass)
	ready := e.sub(sim.SubReadySubdomain)
	ga, err := e.c.GetGlobalAccount(ctxT(t), "", true)
	if err != nil {
		t.Fatal(err)
	}
	dir := ga.ManagingDirectory(ready.GUID, "ENTITLEMENTS")

	// The global account view does not show a directory-managed subaccount.
	ents, err := e.c.ListEntitlements(ctxT(t), "", ready.GUID, "", "it-rt", "cloudfoundry")
	if err != nil {
		t.Fatal(err)
	}
	if !ents.Owns("it-rt") || ents.Plan("it-rt", "integration-flow").Assigned {
		t.Fatalf("GA view: owns %t assigned %t", ents.Owns("it-rt"), ents.Plan("it-rt", "integration-flow").Assigned)
	}
	if len(ents.Services) != 2 {
		t.Errorf("kept %d services, want it-rt and cloudfoundry only", len(ents.Services))
	}

	ents, err = e.c.ListEntitlements(ctxT(t), "", ready.GUID, dir.GUID, "it-rt")
	if err != nil {
		t.Fatal(err)
	}
	if ents.DirectoryID != dir.GUID || len(ents.Services) != 1 {
		t.Fatalf("directory view %+v", ents)
	}
	flow, api := ents.Plan("it-rt", "integration-flow"), ents.Plan("it-rt", "api")
	if flow == nil || api == nil {
		t.Fatalf("plans missing: %+v", ents.Services[0])
	}
	if !flow.Owned || !flow.Assigned || flow.State != "OK" || flow.StateMessage == "" || flow.Category != "ELASTIC_SERVICE" ||
		!flow.Unlimited || flow.UniqueIdentifier != "it-rt-integration-flow" || flow.ProvisioningMethod != "SERVICE_BROKER" {
		t.Errorf("integration-flow %+v", flow)
	}
	if api.Category != "SERVICE" || api.Unlimited || api.Amount != 10 || !api.Assigned {
		t.Errorf("api %+v", api)
	}
	a := flow.Assignments[0]
	if a.EntityID != ready.GUID || a.EntityType != "SUBACCOUNT" || a.ParentType != "DIRECTORY" || a.ParentID != dir.GUID || a.CreatedDate.IsZero() {
		t.Errorf("assignment %+v", a)
	}

	// No filter keeps everything, filler included.
	all, err := e.c.ListEntitlements(ctxT(t), "", ready.GUID, dir.GUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Services) < 10 || all.Service("filler-service-0001") == nil {
		t.Errorf("unfiltered listing has %d services", len(all.Services))
	}

	// A global account that does not own it-rt.
	e.s.Do(func(w *sim.World) { w.GAHasITRT = false })
	ents, err = e.c.ListEntitlements(ctxT(t), "", ready.GUID, dir.GUID, "it-rt")
	if err != nil {
		t.Fatal(err)
	}
	if ents.Owns("it-rt") {
		t.Errorf("owns it-rt without owning it")
	}
}

func TestAssignEntitlement_EnableOrAmountAndWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{EntitleTime: 30 * time.Millisecond}).admin()
	fresh := e.sub(sim.SubFreshSubdomain)
	ents, err := e.c.ListEntitlements(ctxT(t), "", fresh.GUID, "", "it-rt")
	if err != nil {
		t.Fatal(err)
	}
	flow, api := ents.Plan("it-rt", "integration-flow"), ents.Plan("it-rt", "api")
	if flow.Assigned || api.Assigned {
		t.Fatalf("fresh subaccount already entitled")
	}
	for _, req := range []AssignRequest{
		{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "integration-flow", Category: flow.Category},
		{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "api", Category: api.Category, Amount: 1, PlanUniqueID: api.UniqueIdentifier},
	} {
		job, err := e.c.AssignEntitlement(ctxT(t), req)
		if err != nil {
			t.Fatalf("assign %s: %v", req.Plan, err)
		}
		if job == "" || strings.Trim(job, "0123456789") != "" {
			t.Errorf("job id %q", job)
		}
	}
	eventually(t, "both plans OK", func() bool {
		ents, err := e.c.ListEntitlements(ctxT(t), "", fresh.GUID, "", "it-rt")
		if err != nil {
			t.Fatal(err)
		}
		f, a := ents.Plan("it-rt", "integration-flow"), ents.Plan("it-rt", "api")
		if f.State == "PROCESSING_FAILED" || a.State == "PROCESSING_FAILED" {
			t.Fatalf("failed: %s %s", f.StateMessage, a.StateMessage)
		}
		return f.State == "OK" && a.State == "OK" && a.AssignedAmount == 1
	})
	if h := e.rec.headers(); len(h) == 0 {
		t.Fatal("no requests recorded")
	}

	// Wrong style is explained by the backend.
	_, err = e.c.AssignEntitlement(ctxT(t), AssignRequest{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "api", Category: "SERVICE"})
	if x := asErr(t, err); x.BackendStatus != 400 || !strings.Contains(err.Error(), "has a numeric quota") {
		t.Errorf("enable on a quota plan: %v", err)
	}

	// A scripted failure ends PROCESSING_FAILED with the backend's reason.
	nocf := e.sub(sim.SubNoCFSubdomain)
	e.s.Inject(sim.Fault{Kind: sim.FaultEntitlementFailure, Match: "cli:accounts/entitlement?assign", Message: "Entitlement backend unavailable."})
	if _, err := e.c.AssignEntitlement(ctxT(t), AssignRequest{SubaccountID: nocf.GUID, Service: "it-rt", Plan: "integration-flow", Category: "ELASTIC_SERVICE"}); err != nil {
		t.Fatal(err)
	}
	ga, _ := e.c.GetGlobalAccount(ctxT(t), "", true)
	dir := ga.ManagingDirectory(nocf.GUID, "ENTITLEMENTS").GUID
	eventually(t, "failure", func() bool {
		ents, err := e.c.ListEntitlements(ctxT(t), "", nocf.GUID, dir, "it-rt")
		if err != nil {
			t.Fatal(err)
		}
		p := ents.Plan("it-rt", "integration-flow")
		return p.State == "PROCESSING_FAILED" && p.StateMessage == "Entitlement backend unavailable."
	})
}

func TestEnableStyle(t *testing.T) {
	tests := []struct {
		category string
		amount   int
		enable   bool
	}{
		{"ELASTIC_SERVICE", 0, true}, {"ELASTIC_SERVICE", 3, true}, {"ELASTIC_LIMITED", 1, true}, {"APPLICATION", 1, true},
		{"SERVICE", 1, false}, {"SERVICE", 0, true}, {"QUOTA_BASED_APPLICATION", 2, false}, {"PLATFORM", 1, false}, {"", 0, true},
	}
	for _, tt := range tests {
		if got := EnableStyle(tt.category, tt.amount); got != tt.enable {
			t.Errorf("EnableStyle(%q, %d) = %t", tt.category, tt.amount, got)
		}
	}
}

func TestDecodeEntitlements_Malformed(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"entitledServices":{}}`, `{"entitledServices":[{"name":1}]}`, `{"entitledServices":[`} {
		if _, err := decodeEntitlements(strings.NewReader(in), "", nil); err == nil {
			t.Errorf("decoded %q", in)
		}
	}
	ents, err := decodeEntitlements(strings.NewReader(`{"entitledServices":null,"assignedServices":[],"x":{"y":[1,2]}}`), "", nil)
	if err != nil || len(ents.Services) != 0 {
		t.Errorf("nulls: %v %v", ents, err)
	}
}
