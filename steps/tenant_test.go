package steps_test

import (
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// TestTenantCheck_AfterTheToken: the run sends one request to the tenant
// with the new token and reports what the answer proves, without ever
// failing the run over it.
func TestTenantCheck_AfterTheToken(t *testing.T) {
	cases := []struct {
		name    string
		plan    string
		roles   []string
		fault   *sim.Fault
		request string // the request the simulator saw
		outcome steps.TenantOutcome
		status  int
		message []string
		event   steps.EventKind
	}{
		{name: "integration-flow: 404 at the probe path means accepted", plan: itrt.PlanIntegrationFlow, roles: []string{"ESBMessaging.send"},
			request: "rt:GET " + itrt.ProbePath, outcome: steps.TenantAccepted, status: 404, event: steps.EventDone,
			message: []string{"the runtime accepted the token (404 at /http/__cpikey_probe__", "still checks its own role"}},
		{name: "api: a log read with MonitoringDataRead", plan: itrt.PlanAPI, roles: []string{"MonitoringDataRead"},
			request: "api:GET /api/v1/MessageProcessingLogs", outcome: steps.TenantAccepted, status: 200, event: steps.EventDone,
			message: []string{"the API accepted the token and read MessageProcessingLogs (role MonitoringDataRead)"}},
		{name: "api: a package read with WorkspacePackagesRead", plan: itrt.PlanAPI, roles: []string{"WorkspacePackagesRead"},
			request: "api:GET /api/v1/IntegrationPackages", outcome: steps.TenantAccepted, status: 200, event: steps.EventDone,
			message: []string{"read IntegrationPackages (role WorkspacePackagesRead)"}},
		{name: "api: 403 names the missing role", plan: itrt.PlanAPI, roles: []string{"AuthGroup_IntegrationDeveloper"},
			request: "api:GET /api/v1/MessageProcessingLogs", outcome: steps.TenantRoleMissing, status: 403, event: steps.EventFailed,
			message: []string{"needs the api role MonitoringDataRead, and the instance has AuthGroup_IntegrationDeveloper"}},
		{name: "401 means rejected", plan: itrt.PlanIntegrationFlow, roles: []string{"ESBMessaging.send"},
			fault:   &sim.Fault{Kind: sim.FaultHTTPStatus, Match: "rt:GET " + itrt.ProbePath, Status: 401},
			request: "rt:GET " + itrt.ProbePath, outcome: steps.TenantRejected, status: 401, event: steps.EventFailed,
			message: []string{"401 Unauthorized: the tenant rejected a token fresh from the token server"}},
		{name: "503 is no verdict on the token", plan: itrt.PlanIntegrationFlow, roles: []string{"ESBMessaging.send"},
			fault:   &sim.Fault{Kind: sim.FaultHTTPStatus, Match: "rt:GET " + itrt.ProbePath, Status: 503},
			request: "rt:GET " + itrt.ProbePath, outcome: steps.TenantUnexpected, status: 503, event: steps.EventFailed,
			message: []string{"the tenant is not answering"}},
		{name: "no answer", plan: itrt.PlanIntegrationFlow, roles: []string{"ESBMessaging.send"},
			fault:   &sim.Fault{Kind: sim.FaultConnReset, Match: "rt:GET " + itrt.ProbePath},
			request: "rt:GET " + itrt.ProbePath, outcome: steps.TenantUnreachable, event: steps.EventFailed,
			message: []string{"cannot reach the tenant at 127.0.0.1:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, instantSim())
			if tc.fault != nil {
				e.sim.Inject(*tc.fault)
			}
			in := e.input(sim.SubReady)
			in.Plan, in.Roles = tc.plan, tc.roles
			res, err := e.run(t, in)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Tenant
			if c == nil || !res.Verified {
				t.Fatalf("no tenant check (verified %v)", res.Verified)
			}
			if c.Outcome != tc.outcome || c.Status != tc.status || c.Method != "GET" || !strings.HasPrefix(c.URL, res.Credentials.URL+"/") {
				t.Errorf("check %+v, want %s %d", c, tc.outcome, tc.status)
			}
			for _, m := range tc.message {
				if !strings.Contains(c.Message, m) {
					t.Errorf("message lacks %q:\n%s", m, c.Message)
				}
			}
			n := 0
			for _, r := range e.sim.Requests() {
				if strings.HasPrefix(r, "rt:") || strings.HasPrefix(r, "api:") {
					n++
					if r != tc.request {
						t.Errorf("request %s, want %s", r, tc.request)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d requests to the tenant, want 1", n)
			}
			if !e.rec.has(steps.StepTenant, tc.event) {
				t.Errorf("no %s event of step tenant", tc.event)
			}
		})
	}
}

func TestTenantCheck_NotSentWithoutAToken(t *testing.T) {
	e := newEnv(t, instantSim())
	e.cfg.Retry.MaxAttempts = 1
	e.sim.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "xsuaa:POST /oauth/token", Status: 503, Times: 5})
	res, err := e.run(t, e.input(sim.SubReady))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified || res.Tenant != nil {
		t.Fatalf("verified %v, tenant %+v", res.Verified, res.Tenant)
	}
	for _, r := range e.sim.Requests() {
		if strings.HasPrefix(r, "rt:") {
			t.Errorf("called the tenant without a token: %s", r)
		}
	}
}
