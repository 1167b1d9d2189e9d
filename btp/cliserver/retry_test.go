package cliserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// TestRetry_Rules pins which failures are repeated: reads and logins after
// anything transient, writes only when the server said it did not run them.
func TestRetry_Rules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	ready, fresh := e.sub(sim.SubReadySubdomain), e.sub(sim.SubFreshSubdomain)
	bg := context.Background()
	plan, err := e.c.GetPlanByName(bg, ready.GUID, "it-rt", "api")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"roles": []string{"MonitoringDataRead"}}
	n := 0
	create := func() error {
		n++
		_, err := e.c.CreateInstance(bg, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "i" + strings.Repeat("x", n), PlanID: plan.ID, Parameters: params})
		return err
	}
	tests := []struct {
		name    string
		fault   sim.Fault
		run     func() error
		key     string
		want    int // requests with key
		wantErr bool
	}{
		{"backend 429 in HTTP 200 is retried", sim.Fault{Kind: sim.FaultBackend429, Match: "cli:accounts/global-account?get", Times: 2},
			func() error { _, err := e.c.GetGlobalAccount(bg, "", false); return err }, "cli:accounts/global-account?get", 3, false},
		{"entitlement lock is retried for a write", sim.Fault{Kind: sim.FaultEntitlementLock, Match: "cli:accounts/entitlement?assign", Times: 1},
			func() error {
				_, err := e.c.AssignEntitlement(bg, AssignRequest{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "integration-flow", Category: "ELASTIC_SERVICE"})
				return err
			}, "cli:accounts/entitlement?assign", 2, false},
		{"backend rate limit is retried for a write", sim.Fault{Kind: sim.FaultBackend429, Match: "cli:services/instance?create", Times: 1},
			create, "cli:services/instance?create", 2, false},
		{"HTTP 429 is retried for a write", sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:services/instance?create", Status: 429, Times: 1},
			create, "cli:services/instance?create", 2, false},
		{"HTTP 504 not sent to the backend is retried for a write", sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:services/instance?create", Status: 504, Times: 1},
			create, "cli:services/instance?create", 2, false},
		{"HTTP 504 without that assurance is not retried for a write", sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:services/instance?create", Status: 504, Times: 1, Message: "Gateway timeout."},
			create, "cli:services/instance?create", 1, true},
		{"HTTP 502 is retried for a read", sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:services/instance?list", Status: 502, Times: 2},
			func() error { _, err := e.c.ListInstances(bg, ready.GUID); return err }, "cli:services/instance?list", 3, false},
		{"HTTP 403 is not retried", sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:services/instance?list", Status: 403, Times: 9},
			func() error { _, err := e.c.ListInstances(bg, ready.GUID); return err }, "cli:services/instance?list", 1, true},
		{"backend 404 is not retried", sim.Fault{},
			func() error { _, err := e.c.GetInstance(bg, ready.GUID, "nope"); return err }, "cli:services/instance?get", 1, true},
		{"504 at login is retried", sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:login", Status: 504, Times: 2},
			func() error {
				_, err := e.c.Login(bg, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword})
				return err
			},
			"cli:login", 3, false},
		{"connection reset at login is retried", sim.Fault{Kind: sim.FaultConnReset, Match: "cli:login", Times: 1},
			func() error {
				_, err := e.c.Login(bg, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword})
				return err
			},
			"cli:login", 2, false},
		{"401 at login is not retried", sim.Fault{},
			func() error {
				_, err := e.c.Login(bg, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: "nope"})
				return err
			},
			"cli:login", 1, true},
		{"connection reset on a read is retried", sim.Fault{Kind: sim.FaultConnReset, Match: "cli:services/instance?get", Times: 1},
			func() error {
				l, err := e.c.ListInstances(bg, ready.GUID)
				if err != nil || len(l) == 0 {
					t.Fatalf("need an instance: %v", err)
				}
				e.s.ResetRequests()
				_, err = e.c.GetInstance(bg, ready.GUID, l[0].ID)
				return err
			}, "cli:services/instance?get", 2, false},
		{"connection reset on a create is not retried", sim.Fault{Kind: sim.FaultConnReset, Match: "cli:services/instance?create", Times: 1},
			create, "cli:services/instance?create", 1, true},
		{"connection reset on a delete is not retried", sim.Fault{Kind: sim.FaultConnReset, Match: "cli:services/binding?delete", Times: 1},
			func() error { return e.c.DeleteBinding(bg, ready.GUID, "whatever") }, "cli:services/binding?delete", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.ClearFaults()
			if tt.fault.Kind != "" {
				e.s.Inject(tt.fault)
			}
			e.s.ResetRequests()
			err := tt.run()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %t", err, tt.wantErr)
			}
			if got := e.count(tt.key); got != tt.want {
				t.Errorf("%d requests %s, want %d (all: %v)", got, tt.key, tt.want, e.s.Requests())
			}
			if tt.wantErr && tt.fault.Kind == sim.FaultConnReset && !strings.Contains(err.Error(), "may or may not have run") {
				t.Errorf("a broken write must say it may have run: %v", err)
			}
		})
	}
}

func TestRetry_SameCorrelationIDAcrossAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	e.s.Inject(sim.Fault{Kind: sim.FaultBackend429, Match: "cli:accounts/subaccount?list", Times: 2})
	before := len(e.rec.headers())
	if _, err := e.c.ListSubaccounts(ctxT(t), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ListSubaccounts(ctxT(t), ""); err != nil {
		t.Fatal(err)
	}
	h := e.rec.headers()[before:]
	if len(h) != 4 {
		t.Fatalf("%d requests", len(h))
	}
	id := h[0].Get("X-Correlationid")
	if id == "" || h[1].Get("X-Correlationid") != id || h[2].Get("X-Correlationid") != id || h[3].Get("X-Correlationid") == id {
		t.Errorf("correlation ids %q %q %q %q", id, h[1].Get("X-Correlationid"), h[2].Get("X-Correlationid"), h[3].Get("X-Correlationid"))
	}
}

func TestRetry_HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	// Back-off alone would wait a few ms; the server asks for a second.
	e.c.Retry = transport.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Second, MaxElapsed: 10 * time.Second}
	e.s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:accounts/global-account?get", Status: 429, RetryAfter: time.Second})
	start := time.Now()
	if _, err := e.c.GetGlobalAccount(ctxT(t), "", false); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 950*time.Millisecond {
		t.Errorf("retried after %v, want the server's 1s", d)
	}
}

func TestRetry_BoundedAndCancellable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	e.s.Inject(sim.Fault{Kind: sim.FaultBackend429, Match: "cli:accounts/global-account?get", Times: 1000})
	_, err := e.c.GetGlobalAccount(ctxT(t), "", false)
	if !IsRateLimited(err) || e.count("cli:accounts/global-account?get") != fastRetry.MaxAttempts {
		t.Errorf("err %v after %d attempts", err, e.count("cli:accounts/global-account?get"))
	}
	e.c.Retry = transport.RetryPolicy{MaxAttempts: 100, BaseDelay: 200 * time.Millisecond, MaxDelay: time.Second, MaxElapsed: time.Minute}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := e.c.GetGlobalAccount(ctx, "", false); err != context.DeadlineExceeded {
		t.Errorf("cancelled retry: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("cancellation took %v", time.Since(start))
	}
}
