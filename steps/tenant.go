package steps

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/tenant"
	"github.com/cpikey/cpikey/btp/transport"
)

// The runtime proof: after the token check, one harmless request to the
// tenant with the new token (docs/protocol/it-rt.md §5.2, §5.3). It reports, it never
// fails the run: the key exists and its token is fine either way.

// TenantOutcome is what the tenant check found.
type TenantOutcome string

// Tenant check outcomes.
const (
	TenantAccepted    TenantOutcome = "accepted"     // the tenant took the token
	TenantRejected    TenantOutcome = "rejected"     // 401
	TenantRoleMissing TenantOutcome = "role-missing" // api: 403 for the read
	TenantUnreachable TenantOutcome = "unreachable"  // no answer
	TenantUnexpected  TenantOutcome = "unexpected"   // another answer
)

// TenantCheck is the request the flow sent to the tenant and what it shows.
type TenantCheck struct {
	Method, URL string
	Status      int // 0 when there was no answer
	Outcome     TenantOutcome
	Message     string // one line, worded for what the answer proves
}

// tenantCheckTimeout bounds the check: it is a courtesy, not a step to wait
// for.
const tenantCheckTimeout = 15 * time.Second

// checkTenant sends the probe: for integration-flow a GET of a path under
// /http where nothing is deployed (404: reached and accepted; 401:
// rejected); for api a one-row read under /api/v1 (403 names the role).
func (f *Flow) checkTenant(ctx context.Context, t Target, res *Result, token string) {
	roles := RolesFromScopes(res.Scopes)
	if len(roles) == 0 {
		roles = t.Roles
	}
	path := itrt.ProbePath
	if t.Plan == itrt.PlanAPI {
		set := "MessageProcessingLogs"
		if !slices.Contains(roles, itrt.APIReadRoles[set]) && slices.Contains(roles, itrt.APIReadRoles["IntegrationPackages"]) {
			set = "IntegrationPackages"
		}
		path = itrt.APIRoot + "/" + set + "?$top=1&$format=json"
	}
	u, err := tenant.Resolve(res.Credentials.URL, path)
	if err != nil {
		res.Tenant = &TenantCheck{Method: http.MethodGet, Outcome: TenantUnreachable, Message: "not called: " + err.Error()}
		f.report(Event{Step: StepTenant, Kind: EventSkipped, Message: "Tenant not called: " + err.Error()})
		return
	}
	chk := &TenantCheck{Method: http.MethodGet, URL: transport.RedactURL(u)}
	res.Tenant = chk
	f.report(Event{Step: StepTenant, Kind: EventStarted, Message: "Calling the tenant with the token: GET " + chk.URL})
	cctx, cancel := context.WithTimeout(ctx, tenantCheckTimeout)
	defer cancel()
	r, err := (&tenant.Client{HTTP: f.cfg.HTTPClient}).Do(cctx, tenant.Request{Method: http.MethodGet, URL: u}, tenant.Bearer(token))
	facts := tenant.Facts{Plan: t.Plan, Roles: roles, Method: http.MethodGet, Path: u.Path, FreshToken: true, Instance: t.Instance}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		chk.Outcome, chk.Message = TenantUnreachable, tenant.DiagnoseError(err, facts)
		f.report(Event{Step: StepTenant, Kind: EventFailed, Message: "Tenant not reached: " + chk.Message, Err: err})
		return
	}
	chk.Status = r.Status
	switch {
	case t.Plan != itrt.PlanAPI && (r.Status == http.StatusNotFound || r.OK()):
		chk.Outcome = TenantAccepted
		chk.Message = fmt.Sprintf("the runtime accepted the token (%d at %s, where nothing is deployed); "+
			"each iFlow's sender adapter still checks its own role", r.Status, u.Path)
	case t.Plan == itrt.PlanAPI && r.OK():
		chk.Outcome = TenantAccepted
		set := itrt.EntitySet(u.Path)
		chk.Message = fmt.Sprintf("the API accepted the token and read %s (role %s); other API calls may need other roles", set, itrt.APIReadRoles[set])
	case r.Status == http.StatusUnauthorized:
		chk.Outcome, chk.Message = TenantRejected, tenant.Diagnose(r, facts)
	case r.Status == http.StatusForbidden && t.Plan == itrt.PlanAPI:
		chk.Outcome, chk.Message = TenantRoleMissing, "the API took the token but refused the read: "+tenant.Diagnose(r, facts)
	default:
		chk.Outcome, chk.Message = TenantUnexpected, tenant.Diagnose(r, facts)
	}
	if chk.Outcome == TenantAccepted {
		f.report(Event{Step: StepTenant, Kind: EventDone, Message: "Tenant reached: " + chk.Message})
		return
	}
	f.report(Event{Step: StepTenant, Kind: EventFailed, Message: "Tenant check: " + chk.Message, Err: fmt.Errorf("%s", chk.Message)})
}
