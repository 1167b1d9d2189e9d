package cliserver

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

func TestEnvironmentInstances_CloudFoundryLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	e.login(sim.ViewerUser, sim.ViewerPass)
	fresh := e.sub(sim.SubFreshSubdomain)
	envs, err := e.c.ListEnvironmentInstances(ctxT(t), fresh.GUID)
	if err != nil {
		t.Fatal(err)
	}
	cf := CloudFoundry(envs)
	if cf == nil {
		t.Fatalf("no CF environment in %+v", envs)
	}
	if cf.APIEndpoint != e.s.CFAPIURL() || cf.OrgID != fresh.OrgGUID || cf.OrgName == "" || cf.Labels["Org Memory Limit"] == "" ||
		cf.Parameters["status"] != "ACTIVE" || cf.State != "OK" || cf.PlatformID != fresh.OrgGUID || cf.CreatedDate.IsZero() {
		t.Errorf("cf %+v", cf)
	}
	got, err := e.c.GetEnvironmentInstance(ctxT(t), fresh.GUID, cf.ID)
	if err != nil || got.OrgID != cf.OrgID {
		t.Errorf("get: %+v %v", got, err)
	}
	_, err = e.c.GetEnvironmentInstance(ctxT(t), fresh.GUID, "AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA")
	if x := asErr(t, err); !IsNotFound(err) || x.Code != 41000 {
		t.Errorf("unknown environment: %v", err)
	}
	envs, err = e.c.ListEnvironmentInstances(ctxT(t), e.sub(sim.SubNoCFSubdomain).GUID)
	if err != nil || CloudFoundry(envs) != nil {
		t.Errorf("subaccount without CF: %+v %v", envs, err)
	}
}

func TestJSONStringObject_Tolerant(t *testing.T) {
	if m := jsonStringObject(`{"API Endpoint":"https://api.cf.eu10.hana.ondemand.com","n":1}`); m["API Endpoint"] != "https://api.cf.eu10.hana.ondemand.com" {
		t.Errorf("string form %v", m)
	}
	if m := jsonStringObject(map[string]any{"a": "b"}); m["a"] != "b" {
		t.Errorf("object form %v", m)
	}
	for _, v := range []any{"", "not json", 3, nil} {
		if jsonStringObject(v) != nil {
			t.Errorf("%v decoded", v)
		}
	}
	w := wireEnvironment{Labels: `{"API Endpoint":"https:\/\/api.cf","Org ID":"o","Count":3}`}
	env := w.toEnvironment()
	if env.APIEndpoint != "https://api.cf" || env.OrgID != "o" || env.Labels["Count"] != "3" {
		t.Errorf("escaped slashes / numbers: %+v", env)
	}
}

func TestParseSMLabels(t *testing.T) {
	tests := []struct {
		in   string
		want map[string][]string
	}{
		{"", map[string][]string{}},
		{"subaccount_id = 22222222-2222-4222-8222-222222222222", map[string][]string{"subaccount_id": {"22222222-2222-4222-8222-222222222222"}}},
		{"k = v1, v2; k2 = v3", map[string][]string{"k": {"v1", "v2"}, "k2": {"v3"}}},
		{" org = testvalue ;subaccount_id=x; ", map[string][]string{"org": {"testvalue"}, "subaccount_id": {"x"}}},
		{"commercial_name = subaccount-admin; empty = ", map[string][]string{"commercial_name": {"subaccount-admin"}, "empty": {}}},
		{"novalue; = orphan", map[string][]string{}},
	}
	for _, tt := range tests {
		if got := ParseSMLabels(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSMLabels(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestServices_InstanceAndKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{ProvisionTime: 40 * time.Millisecond, BindTime: 10 * time.Millisecond}).admin()
	ready, fresh := e.sub(sim.SubReadySubdomain), e.sub(sim.SubFreshSubdomain)
	ctx := ctxT(t)

	offs, err := e.c.ListOfferings(ctx, ready.GUID)
	if err != nil {
		t.Fatal(err)
	}
	if !hasOffering(offs, "it-rt") {
		t.Errorf("it-rt not offered in %s", sim.SubReady)
	}
	if offs, _ := e.c.ListOfferings(ctx, fresh.GUID); hasOffering(offs, "it-rt") {
		t.Errorf("it-rt offered without entitlement")
	}
	if _, err := e.c.GetOffering(ctx, fresh.GUID, "it-rt"); !IsNotFound(err) {
		t.Errorf("offering without entitlement: %v", err)
	}
	off, err := e.c.GetOffering(ctx, ready.GUID, "it-rt")
	if err != nil || off.InstancesRetrievable || off.DisplayName == "" {
		t.Errorf("offering %+v %v", off, err)
	}
	plans, err := e.c.ListPlans(ctx, ready.GUID)
	if err != nil || len(plans) == 0 {
		t.Fatalf("plans %v %v", plans, err)
	}
	plan, err := e.c.GetPlanByName(ctx, ready.GUID, "it-rt", "integration-flow")
	if err != nil {
		t.Fatal(err)
	}
	if plan.OfferingName != "it-rt" || plan.Labels["commercial_name"][0] != "integration-flow" || plan.OfferingID != off.ID {
		t.Errorf("plan %+v", plan)
	}

	params := map[string]any{"roles": []string{"ESBMessaging.send"}, "grant-types": []string{"client_credentials"}, "redirect-uris": []string{}, "token-validity": 3600}
	res, err := e.c.CreateInstance(ctx, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "CPI_SAMPLE_INSTANCE", PlanID: plan.ID, Parameters: params,
		Labels: map[string][]string{"created-by": {"cpikey"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Async || res.ID == "" || res.Instance != nil {
		t.Fatalf("create %+v", res)
	}
	in, err := e.c.GetInstance(ctx, ready.GUID, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if in.State() != StateInProgress || in.Ready || in.Usable || in.LastOperation.Type != "create" || in.PlanID != plan.ID {
		t.Errorf("just created %+v / %+v", in, in.LastOperation)
	}
	eventually(t, "instance succeeded", func() bool {
		in, err = e.c.GetInstanceByName(ctx, ready.GUID, "CPI_SAMPLE_INSTANCE")
		if err != nil {
			t.Fatal(err)
		}
		return in.State() == StateSucceeded
	})
	if !in.Ready || !in.Usable || in.Labels["subaccount_id"][0] != ready.GUID || in.CreatedBy != sim.AdminUser {
		t.Errorf("ready instance %+v", in)
	}
	list, err := e.c.ListInstances(ctx, ready.GUID)
	if err != nil || len(list) != 1 || list[0].LastOperation != nil || list[0].ID != res.ID {
		t.Errorf("list %+v %v", list, err)
	}
	_, err = e.c.CreateInstance(ctx, CreateInstanceRequest{SubaccountID: ready.GUID, Name: "CPI_SAMPLE_INSTANCE", PlanID: plan.ID, Parameters: params})
	if x := asErr(t, err); x.BackendStatus != 409 || !strings.Contains(err.Error(), "same name") {
		t.Errorf("duplicate: %v", err)
	}

	key, err := e.c.CreateBinding(ctx, CreateBindingRequest{SubaccountID: ready.GUID, InstanceID: in.ID, Name: "CPI_SAMPLE_INSTANCE-key",
		Parameters: `{"key-type":"client_id_secret"}`})
	if err != nil {
		t.Fatal(err)
	}
	if key.ID == "" || key.Credentials != nil || key.InstanceID != in.ID {
		t.Fatalf("created key %+v (create must not return credentials)", key)
	}
	var got *Binding
	eventually(t, "key succeeded", func() bool {
		got, err = e.c.GetBinding(ctx, ready.GUID, key.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.State() == StateSucceeded
	})
	var creds struct {
		OAuth struct {
			ClientID     string `json:"clientid"`
			ClientSecret string `json:"clientsecret"`
			TokenURL     string `json:"tokenurl"`
			URL          string `json:"url"`
		} `json:"oauth"`
	}
	if err := json.Unmarshal(got.Credentials, &creds); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(creds.OAuth.ClientID, "|it-rt-"+sim.SubReadySubdomain) || creds.OAuth.ClientSecret == "" ||
		!strings.HasPrefix(creds.OAuth.TokenURL, e.s.TokenBaseURL()) || creds.OAuth.URL == "" {
		t.Errorf("credentials %+v", creds.OAuth)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", got, *got, got, got); strings.Contains(s, creds.OAuth.ClientSecret) || !strings.Contains(s, "REDACTED") {
		t.Errorf("binding printed its secret: %s", s)
	}
	byName, err := e.c.GetBindingByName(ctx, ready.GUID, "CPI_SAMPLE_INSTANCE-key")
	if err != nil || byName.ID != key.ID || byName.Credentials == nil {
		t.Errorf("by name %v %v", byName, err)
	}
	keys, err := e.c.ListBindings(ctx, ready.GUID)
	if err != nil || len(keys) != 1 || keys[0].Credentials == nil || keys[0].InstanceName != "CPI_SAMPLE_INSTANCE" {
		t.Errorf("keys %v %v", keys, err)
	}

	// The broker refuses XSUAA-style key parameters.
	_, err = e.c.CreateBinding(ctx, CreateBindingRequest{SubaccountID: ready.GUID, InstanceID: in.ID, Name: "bad", Parameters: map[string]any{"validityType": "DAYS"}})
	if x := asErr(t, err); !IsBrokerError(err) || x.BackendStatus != 502 || x.BrokerStatus != 400 || !strings.Contains(err.Error(), `"validityType" is not allowed`) {
		t.Errorf("bad key parameters: %v", err)
	}

	// Cleanup: key, then instance; both end in IsNotFound.
	if err := e.c.DeleteBinding(ctx, ready.GUID, key.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "key gone", func() bool { _, err := e.c.GetBinding(ctx, ready.GUID, key.ID); return IsNotFound(err) })
	if err := e.c.DeleteInstance(ctx, ready.GUID, in.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "instance gone", func() bool { _, err := e.c.GetInstance(ctx, ready.GUID, in.ID); return IsNotFound(err) })
	_, err = e.c.GetBinding(ctx, ready.GUID, key.ID)
	if x := asErr(t, err); x.Message != "could not find such /v1/service_bindings (NotFound)" {
		t.Errorf("SM not-found message %q", x.Message)
	}
}

func hasOffering(offs []Offering, name string) bool {
	for _, o := range offs {
		if o.Name == name {
			return true
		}
	}
	return false
}

func TestCreateInstance_BrokerRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	ready := e.sub(sim.SubReadySubdomain)
	plan, err := e.c.GetPlanByName(ctxT(t), ready.GUID, "it-rt", "api")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		setup  func()
		params any
		status int
		text   string
	}{
		{"api plan without roles", nil, map[string]any{"grant-types": []string{"client_credentials"}}, 400, "minItems"},
		{"unknown parameter", nil, json.RawMessage(`{"xsappname":"x","roles":["MonitoringDataRead"]}`), 400, "xsappname"},
		{"tenant not provisioned", func() {
			e.s.Do(func(w *sim.World) {
				for _, sa := range w.Subaccounts {
					if sa.GUID == ready.GUID {
						sa.TenantProvisioned = false
					}
				}
			})
		}, map[string]any{"roles": []string{"MonitoringDataRead"}}, 409, "Cloud Integration capability has not been activated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			_, err := e.c.CreateInstance(ctxT(t), CreateInstanceRequest{SubaccountID: ready.GUID, Name: "x", PlanID: plan.ID, Parameters: tt.params})
			x := asErr(t, err)
			if !IsBrokerError(err) || x.HTTPStatus != 200 || x.BackendStatus != 502 || x.BrokerStatus != tt.status ||
				x.BackendMessage == "" || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), "nothing was created") {
				t.Errorf("%+v\n%v", x, err)
			}
		})
	}
	if _, err := e.c.CreateInstance(ctxT(t), CreateInstanceRequest{SubaccountID: ready.GUID, Name: "x", PlanID: plan.ID, Parameters: "not json"}); err == nil ||
		asError(err) != nil {
		t.Errorf("invalid parameters must fail before sending: %v", err)
	}
}
