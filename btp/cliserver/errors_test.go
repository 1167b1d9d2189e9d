package cliserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestErrors_Classes runs every failure class of §3.2-§3.4 against the
// simulator and checks the typed fields, the predicates and the text.
func TestErrors_Classes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	ready, fresh := e.sub(sim.SubReadySubdomain), e.sub(sim.SubFreshSubdomain)
	missing := "99999999-9999-4999-8999-999999999999"
	bg := context.Background()
	tests := []struct {
		name     string
		user     string
		fault    *sim.Fault
		run      func() error
		http     int
		backend  int
		code     int
		is       []func(error) bool
		text     []string
		requests map[string]int // request key -> expected count
	}{
		{name: "HTTP 400 required parameter missing", run: func() error {
			_, err := e.c.Execute(bg, "services/instance", "list", map[string]string{"subaccount": ""})
			return err
		}, http: 400, text: []string{"btp list services/instance", "rejected the command's parameters"}},
		{name: "HTTP 403 unknown subaccount", run: func() error { _, err := e.c.ListOfferings(bg, missing); return err },
			http: 403, is: []func(error) bool{IsForbidden}, text: []string{"Subaccount '" + missing + "' does not exist", "Check the subaccount"},
			requests: map[string]int{"cli:services/offering?list": 1}},
		{name: "HTTP 504 exhausted", fault: &sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:accounts/subaccount?list", Status: 504, Times: 99},
			run: func() error { _, err := e.c.ListSubaccounts(bg, ""); return err }, http: 504,
			text: []string{"timed out", "not sent to the backend", "Try again in a minute"}, requests: map[string]int{"cli:accounts/subaccount?list": fastRetry.MaxAttempts}},
		{name: "HTTP 500 on a create is not retried", fault: &sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:services/instance?create", Status: 500, Times: 99},
			run: func() error {
				_, err := e.c.CreateInstance(bg, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "n", PlanID: "p"})
				return err
			}, http: 500, text: []string{"check first whether the change was made"}, requests: map[string]int{"cli:services/instance?create": 1}},
		{name: "HTTP 429 exhausted", fault: &sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:accounts/global-account?get", Status: 429, Times: 99},
			run: func() error { _, err := e.c.GetGlobalAccount(bg, "", false); return err }, http: 429, code: 11006,
			is: []func(error) bool{IsRateLimited}, text: []string{"rate limit", "Wait a minute"}},
		{name: "backend 403 not authorized", user: "viewer", run: func() error {
			_, err := e.c.AssignEntitlement(bg, AssignRequest{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "integration-flow", Category: "ELASTIC_SERVICE"})
			return err
		}, http: 200, backend: 403, is: []func(error) bool{IsForbidden},
			text:     []string{"btp assign accounts/entitlement: You are not authorized to use this command", "Global Account Administrator"},
			requests: map[string]int{"cli:accounts/entitlement?assign": 1}},
		{name: "backend 404 CIS", run: func() error { _, err := e.c.GetSubaccount(bg, "", missing); return err },
			http: 200, backend: 404, code: 20004, is: []func(error) bool{IsNotFound}, text: []string{"[Error: 20004/404]"}},
		{name: "backend 404 SM", run: func() error { _, err := e.c.GetInstance(bg, ready.GUID, missing); return err },
			http: 200, backend: 404, is: []func(error) bool{IsNotFound}, text: []string{"could not find such /v1/service_instances (NotFound)"}},
		{name: "backend 429 exhausted", fault: &sim.Fault{Kind: sim.FaultBackend429, Match: "cli:accounts/subaccount?get", Times: 99},
			run: func() error { _, err := e.c.GetSubaccount(bg, "", ready.GUID); return err }, http: 200, backend: 429, code: 11006,
			is: []func(error) bool{IsRateLimited}, text: []string{"Request rate limit exceeded [Error: 11006/429]"},
			requests: map[string]int{"cli:accounts/subaccount?get": fastRetry.MaxAttempts}},
		{name: "entitlement lock exhausted", fault: &sim.Fault{Kind: sim.FaultEntitlementLock, Match: "cli:accounts/entitlement?assign", Times: 99},
			run: func() error {
				_, err := e.c.AssignEntitlement(bg, AssignRequest{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "integration-flow", Category: "ELASTIC_SERVICE"})
				return err
			}, http: 200, backend: 400, code: 30004, is: []func(error) bool{IsLocked},
			text: []string{"another change of this entitlement is still running", "[Error: 30004/400]"}, requests: map[string]int{"cli:accounts/entitlement?assign": fastRetry.MaxAttempts}},
		{name: "HTTP 401 expired session", fault: &sim.Fault{Kind: sim.FaultSessionExpiry, Match: "cli:accounts/global-account?get"},
			run: func() error { _, err := e.c.GetGlobalAccount(bg, "", false); return err }, http: 401,
			is: []func(error) bool{IsUnauthorized}, text: []string{"session has expired", "Log in again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.user == "viewer" {
				e.login(sim.ViewerUser, sim.ViewerPass)
			} else {
				e.login(sim.AdminUser, sim.AdminPassword)
			}
			e.s.ClearFaults()
			if tt.fault != nil {
				e.s.Inject(*tt.fault)
			}
			e.s.ResetRequests()
			err := tt.run()
			x := asErr(t, err)
			if x.HTTPStatus != tt.http || x.BackendStatus != tt.backend || x.Code != tt.code || x.CorrelationID == "" {
				t.Errorf("HTTP %d backend %d code %d, want %d %d %d", x.HTTPStatus, x.BackendStatus, x.Code, tt.http, tt.backend, tt.code)
			}
			for _, is := range tt.is {
				if !is(err) {
					t.Errorf("predicate false for %v", err)
				}
			}
			if !containsAll(err.Error(), tt.text...) || !strings.Contains(err.Error(), "correlation ID "+x.CorrelationID) {
				t.Errorf("text %q lacks %q", err, tt.text)
			}
			for k, n := range tt.requests {
				if got := e.count(k); got != n {
					t.Errorf("%d requests %s, want %d", got, k, n)
				}
			}
		})
	}
}

// TestErrors_NeverContainSecrets collects the error text of every scripted
// failure and checks that no password, session id or client secret is in
// any of them.
func TestErrors_NeverContainSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{BindTime: 1})
	bg := context.Background()
	canaryPassword := "Canary-Pa$$w0rd-<7319>&"
	var errs []error
	collect := func(err error) {
		if err == nil {
			t.Errorf("scenario %d did not fail", len(errs))
		}
		errs = append(errs, err)
	}
	login := func(pass string) error {
		_, err := e.c.Login(bg, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: pass})
		return err
	}
	collect(login(canaryPassword))
	collect(login(sim.AdminPassword + "x"))
	_, err := e.c.Login(bg, LoginRequest{Subdomain: "unknown-ga", User: sim.AdminUser, Password: sim.AdminPassword})
	collect(err)
	e.s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:login", Status: 504, Times: 99})
	collect(login(sim.AdminPassword))
	e.s.ClearFaults()
	e.s.Inject(sim.Fault{Kind: sim.FaultConnReset, Match: "cli:login", Times: 99})
	collect(login(sim.AdminPassword))
	e.s.ClearFaults()

	viewer := e.login(sim.ViewerUser, sim.ViewerPass).id
	ready, fresh := e.sub(sim.SubReadySubdomain), e.sub(sim.SubFreshSubdomain)
	_, err = e.c.AssignEntitlement(bg, AssignRequest{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "api", Amount: 1})
	collect(err)
	admin := e.login(sim.AdminUser, sim.AdminPassword).id

	// A key with a real secret exists during the failures below.
	plan, err := e.c.GetPlanByName(bg, ready.GUID, "it-rt", "integration-flow")
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.c.CreateInstance(bg, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "inst", PlanID: plan.ID})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "instance", func() bool {
		in, err := e.c.GetInstance(bg, ready.GUID, res.ID)
		return err == nil && in.State() == StateSucceeded
	})
	key, err := e.c.CreateBinding(bg, CreateBindingRequest{SubaccountID: ready.GUID, InstanceID: res.ID, Name: "key"})
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	eventually(t, "key", func() bool {
		b, err := e.c.GetBinding(bg, ready.GUID, key.ID)
		if err != nil || b.State() != StateSucceeded {
			return false
		}
		var c struct {
			OAuth struct {
				Secret string `json:"clientsecret"`
			} `json:"oauth"`
		}
		_ = json.Unmarshal(b.Credentials, &c)
		secret = c.OAuth.Secret
		return secret != ""
	})

	faults := []sim.Fault{
		{Kind: sim.FaultHTTPStatus, Match: "cli:services/binding?get", Status: 500, Times: 99},
		{Kind: sim.FaultHTTPStatus, Match: "cli:services/binding?get", Status: 429, Times: 99},
		{Kind: sim.FaultBackend429, Match: "cli:services/binding?get", Times: 99},
		{Kind: sim.FaultConnReset, Match: "cli:services/binding?get", Times: 99},
		{Kind: sim.FaultHTTPStatus, Match: "cli:services/binding?get", Status: 504, Times: 99},
	}
	for _, f := range faults {
		e.s.Inject(f)
		_, err := e.c.GetBinding(bg, ready.GUID, key.ID)
		collect(err)
		e.s.ClearFaults()
	}
	_, err = e.c.CreateBinding(bg, CreateBindingRequest{SubaccountID: ready.GUID, InstanceID: res.ID, Name: "key"})
	collect(err) // duplicate
	_, err = e.c.CreateBinding(bg, CreateBindingRequest{SubaccountID: ready.GUID, InstanceID: res.ID, Name: "k2", Parameters: map[string]any{"key-type": "x"}})
	collect(err) // broker
	e.s.Inject(sim.Fault{Kind: sim.FaultConnReset, Match: "cli:services/binding?create"})
	_, err = e.c.CreateBinding(bg, CreateBindingRequest{SubaccountID: ready.GUID, InstanceID: res.ID, Name: "k3"})
	collect(err)
	_, err = e.c.CreateInstance(bg, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "bad", PlanID: plan.ID, Parameters: `{"scopes":[]}`})
	collect(err)
	e.s.Inject(sim.Fault{Kind: sim.FaultEntitlementLock, Match: "cli:accounts/entitlement?assign", Times: 99})
	_, err = e.c.AssignEntitlement(bg, AssignRequest{SubaccountID: fresh.GUID, Service: "it-rt", Plan: "integration-flow", Category: "ELASTIC_SERVICE"})
	collect(err)
	e.s.ClearFaults()
	_, err = e.c.GetSubaccount(bg, "", "99999999-9999-4999-8999-999999999999")
	collect(err)
	_, err = e.c.ListOfferings(bg, "99999999-9999-4999-8999-999999999999")
	collect(err)
	_, err = e.c.WaitBrowserLogin(bg, &BrowserLogin{ID: "nope"}, sim.GASubdomain)
	collect(err)
	other, _ := New("https://cli.btp.cloud.sap", nil)
	_, err = other.UseSession(CLISession{ServerURL: e.s.CLIServerURL()}, admin, sim.GASubdomain)
	collect(err)
	e.s.Inject(sim.Fault{Kind: sim.FaultSessionExpiry, Match: "cli:"})
	_, err = e.c.ListBindings(bg, ready.GUID)
	collect(err)

	if secret == "" || admin == "" || viewer == "" {
		t.Fatal("canaries not set up")
	}
	canaries := map[string]string{
		"canary password": canaryPassword, "admin password": sim.AdminPassword, "viewer password": sim.ViewerPass,
		"admin session": admin, "viewer session": viewer, "client secret": secret,
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		for _, text := range []string{err.Error(), strings.ReplaceAll(err.Error(), `\`, "")} {
			for name, c := range canaries {
				if strings.Contains(text, c) {
					t.Errorf("error %d contains the %s: %s", i, name, text)
				}
			}
		}
	}
	if len(errs) < 20 {
		t.Errorf("only %d scenarios", len(errs))
	}
}
