package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHostile_SeedsEveryTextClass: with Config.Hostile every class of text
// a user can see carries the attacks; without it none does, and the
// protocol answers stay the same (statuses, codes, the names' first words).
func TestHostile_SeedsEveryTextClass(t *testing.T) {
	type surface struct {
		name   string
		header bool // a header value: only C1, bidi and 8-bit bytes get through
		read   func(t *testing.T, s *Server) string
	}
	cli := func(t *testing.T, s *Server, user, pass string) *cliT {
		c := &cliT{t: t, s: s}
		if r := c.login(user, pass); r.status != http.StatusOK {
			t.Fatalf("login: %d", r.status)
		}
		return c
	}
	surfaces := []surface{
		{name: "global account name and description", read: func(t *testing.T, s *Server) string {
			var ga struct{ DisplayName, Description string }
			cli(t, s, AdminUser, AdminPassword).cmd("accounts/global-account", "get", map[string]any{"globalAccount": GASubdomain}).json(t, &ga)
			if !strings.HasPrefix(ga.DisplayName, GAName) {
				t.Errorf("name %q lost its words", ga.DisplayName)
			}
			return ga.DisplayName + ga.Description
		}},
		{name: "directory and subaccount names and descriptions", read: func(t *testing.T, s *Server) string {
			var ga struct {
				Children []struct {
					DisplayName, Description string
					Subaccounts              []struct{ DisplayName, Description string }
				}
			}
			cli(t, s, AdminUser, AdminPassword).cmd("accounts/global-account", "get", map[string]any{"globalAccount": GASubdomain, "showHierarchy": "true"}).json(t, &ga)
			if len(ga.Children) == 0 || len(ga.Children[0].Subaccounts) == 0 {
				t.Fatalf("hierarchy %+v", ga)
			}
			d := ga.Children[0]
			return d.DisplayName + d.Description + d.Subaccounts[0].DisplayName + d.Subaccounts[0].Description
		}},
		{name: "org and space names", read: func(t *testing.T, s *Server) string {
			tok, _ := login(t, s, AdminUser, AdminPassword)
			var out strings.Builder
			for _, p := range []string{"/v3/organizations", "/v3/spaces"} {
				var page struct{ Resources []struct{ Name string } }
				if err := json.Unmarshal(call(t, "GET", s.CFAPIURL()+p, tok, nil).body, &page); err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Resources {
					out.WriteString(r.Name)
				}
			}
			return out.String()
		}},
		{name: "X-Cpcli-Backend-Message", header: true, read: func(t *testing.T, s *Server) string {
			c := cli(t, s, ViewerUser, ViewerPass)
			sa := c.sub(SubFreshSubdomain)
			r := c.cmd("accounts/entitlement", "assign", map[string]any{"serviceName": "it-rt", "servicePlanName": "api", "subaccount": sa.GUID, "enable": "true"})
			if r.backend() != "403" {
				t.Fatalf("backend %s", r.backend())
			}
			return r.h.Get("X-Cpcli-Backend-Message")
		}},
		{name: "X-Cpcli-Server-Message", header: true, read: func(t *testing.T, s *Server) string {
			s.Inject(Fault{Kind: FaultHTTPStatus, Match: "cli:login", Status: http.StatusGatewayTimeout})
			c := &cliT{t: t, s: s}
			r := c.login(AdminUser, AdminPassword)
			if r.status != http.StatusGatewayTimeout {
				t.Fatalf("status %d", r.status)
			}
			return r.h.Get("X-Cpcli-Server-Message")
		}},
		{name: "Service Manager broker text", read: func(t *testing.T, s *Server) string {
			c := cli(t, s, AdminUser, AdminPassword)
			sa := c.sub(SubReadySubdomain)
			s.Inject(Fault{Kind: FaultBrokerFailure, Match: "cli:services/instance?create"})
			r := c.cmd("services/instance", "create", map[string]any{"subaccount": sa.GUID, "name": "x", "offeringName": "it-rt", "planName": "integration-flow"})
			var e struct {
				BrokerError struct{ Description string } `json:"broker_error"`
			}
			r.json(t, &e)
			if r.backend() != "502" || !strings.Contains(e.BrokerError.Description, "is not provisioned") {
				t.Fatalf("backend %s: %s", r.backend(), r.body)
			}
			return e.BrokerError.Description
		}},
		{name: "entitlement failure text", read: func(t *testing.T, s *Server) string {
			c := cli(t, s, AdminUser, AdminPassword)
			sa := c.sub(SubFreshSubdomain)
			s.Inject(Fault{Kind: FaultEntitlementFailure, Match: "cli:accounts/entitlement?assign"})
			if r := c.cmd("accounts/entitlement", "assign", map[string]any{"serviceName": "it-rt", "servicePlanName": "integration-flow", "subaccount": sa.GUID, "enable": "true"}); r.backend() != "200" {
				t.Fatalf("assign: backend %s: %s", r.backend(), r.body)
			}
			time.Sleep(20 * time.Millisecond) // EntitleTime 10ms
			var l struct {
				AssignedServices []struct {
					ServicePlans []struct {
						AssignmentInfo []struct{ EntityState, StateMessage string }
					}
				}
			}
			c.cmd("accounts/entitlement", "list", map[string]any{"subaccount": sa.GUID}).json(t, &l)
			for _, svc := range l.AssignedServices {
				for _, p := range svc.ServicePlans {
					for _, a := range p.AssignmentInfo {
						if a.EntityState == "PROCESSING_FAILED" {
							return a.StateMessage
						}
					}
				}
			}
			t.Fatalf("no failed assignment: %+v", l)
			return ""
		}},
		{name: "CF job failure and broker text", read: func(t *testing.T, s *Server) string {
			tok, _ := login(t, s, AdminUser, AdminPassword)
			var plan string
			s.Do(func(w *World) { plan = w.planGUID("integration-flow") })
			body := map[string]any{"type": "managed", "name": "x", "relationships": map[string]any{
				"space":        map[string]any{"data": map[string]any{"guid": spaceGUID(t, s, SubReadySubdomain, "dev")}},
				"service_plan": map[string]any{"data": map[string]any{"guid": plan}}}}
			s.Inject(Fault{Kind: FaultJobFailure, Match: "cf:POST /v3/service_instances"})
			r := call(t, "POST", s.CFAPIURL()+"/v3/service_instances", tok, body)
			if r.status != http.StatusAccepted {
				t.Fatalf("%d %s", r.status, r.body)
			}
			time.Sleep(50 * time.Millisecond) // ProvisionTime 30ms
			var job struct {
				State  string
				Errors []struct{ Detail string }
			}
			if err := json.Unmarshal(call(t, "GET", r.header.Get("Location"), tok, nil).body, &job); err != nil || job.State != "FAILED" || len(job.Errors) != 1 {
				t.Fatalf("job %+v: %v", job, err)
			}
			return job.Errors[0].Detail
		}},
		{name: "CF error detail", read: func(t *testing.T, s *Server) string {
			r := call(t, "GET", s.CFAPIURL()+"/v3/spaces", "not-a-token", nil)
			_, title, detail := r.firstError(t)
			if r.status != http.StatusUnauthorized || title != "CF-InvalidAuthToken" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			return detail
		}},
		{name: "UAA error description", read: func(t *testing.T, s *Server) string {
			r := uaaForm(t, s, "", url.Values{"grant_type": {"password"}, "username": {AdminUser}, "password": {"wrong"}})
			m := r.json(t)
			if r.status != http.StatusUnauthorized || m["error"] != "unauthorized" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			return m["error_description"].(string)
		}},
	}
	for _, hostile := range []bool{false, true} {
		for _, sf := range surfaces {
			t.Run(sf.name+map[bool]string{false: "/off", true: "/on"}[hostile], func(t *testing.T) {
				s, err := Start(Config{Hostile: hostile, EntitlementPadding: -1})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				got := sf.read(t, s)
				attack := hostilePayload
				if sf.header {
					attack = hostileHeaderPayload
				}
				if has := strings.Contains(got, attack); has != hostile {
					t.Errorf("Hostile=%v, but the attacks are there: %v in %q", hostile, has, got)
				}
				if !hostile && strings.ContainsAny(got, "\x1b\a\r\u202e\u009b\x7f") {
					t.Errorf("control characters without the knob: %q", got)
				}
				if hostile && len(s.HostileStrings()) == 0 {
					t.Error("HostileStrings is empty")
				}
			})
		}
	}
}

// TestHostile_SpaceCanBeUsed: the hostile space is a real space (a user may
// choose it) and its exact name finds it.
func TestHostile_SpaceCanBeUsed(t *testing.T) {
	s, err := Start(Config{Hostile: true, EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, _ := login(t, s, AdminUser, AdminPassword)
	var page struct {
		Resources []struct{ Name string }
	}
	r := call(t, "GET", s.CFAPIURL()+"/v3/spaces?names="+url.QueryEscape(HostileSpace()), tok, nil) // one per org: CPI Dev, QA and New
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Resources) != 3 || page.Resources[0].Name != HostileSpace() {
		t.Fatalf("spaces named HostileSpace(): %v %s", err, r.body)
	}
}
