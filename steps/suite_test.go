package steps_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// From an empty subaccount (issue 19): Integration Suite entitled,
// subscribed, the user's roles assigned and Cloud Integration activated in
// the "browser", then the usual it-rt flow, headless.

// browserUser stands for the person at the browser: it opens the URL
// cpikey hands to OpenURL a little later, as a person would, so that the
// wait for the activation is seen polling first.
func browserUser(t *testing.T, opened *[]string) func(string) error {
	return func(url string) error {
		*opened = append(*opened, url)
		go func() {
			time.Sleep(30 * time.Millisecond)
			resp, err := http.Get(url)
			if err != nil {
				t.Errorf("opening %s: %v", url, err)
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
}

func (r *recorder) messages(step steps.Step) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.events {
		if e.Step == step {
			b.WriteString(string(e.Kind) + ": " + e.Message + " (" + e.State + ")\n")
		}
	}
	return b.String()
}

func count(reqs []string, key string) int {
	n := 0
	for _, r := range reqs {
		if r == key {
			n++
		}
	}
	return n
}

func TestSuite_EmptySubaccountToVerifiedKey(t *testing.T) {
	e := newEnv(t, instantSim())
	var opened []string
	e.cfg.OpenURL = browserUser(t, &opened)
	in := e.input(sim.SubEmpty)
	in.SetupSuite = true
	res, err := e.run(t, in)
	if err != nil {
		t.Fatalf("%v\nevents:\n%s", err, e.rec.messages(steps.StepSuite))
	}
	if !res.Verified || res.Instance.Reused || res.Key.Reused {
		t.Fatalf("not a fresh verified key: %+v", res)
	}
	st, _ := e.sim.SuiteOf(sim.SubEmptySubdomain)
	if st.EntitledPlan != "enterprise_agreement" || st.Subscription != itrt.SubscriptionSubscribed || !st.Activated {
		t.Errorf("Integration Suite after the run: %+v", st)
	}
	me := sim.AdminUser + " (sap.default)"
	for _, rc := range []string{itrt.RoleProvisioner, itrt.RolePIIntegrationDev, itrt.RolePIAdministrator} {
		if !slices.Contains(st.Holders[rc], me) {
			t.Errorf("%s not assigned to %s: %v", rc, me, st.Holders[rc])
		}
	}
	if len(opened) != 1 || opened[0] != e.sim.SuiteURL(sim.SubEmptySubdomain) {
		t.Errorf("browser opened %v, want the subscription URL once", opened)
	}
	events := e.rec.messages(steps.StepSuite)
	for _, want := range []string{"Add Capabilities -> Build Integration Scenarios -> Activate", "log out and in again",
		e.sim.SuiteURL(sim.SubEmptySubdomain), "not activated yet", "PI_* role collections"[:3], "infers the activation"} {
		if !strings.Contains(events, want) {
			t.Errorf("events lack %q:\n%s", want, events)
		}
	}

	// The subaccount is ready now: a plain rerun costs what a ready
	// subaccount costs; with the flag again, two more reads (who holds
	// the PI_* collections), and not one write.
	in.SetupSuite = false
	e.sim.ResetRequests()
	again, err := e.run(t, in)
	if err != nil || !again.Instance.Reused || !again.Key.Reused {
		t.Fatalf("rerun: %v %+v", err, again)
	}
	other, _ := splitPolls(e.sim.Requests())
	sameRequests(t, "rerun after the setup", other, wantRerun)
	in.SetupSuite = true
	e.sim.ResetRequests()
	if _, err := e.run(t, in); err != nil {
		t.Fatal(err)
	}
	other, _ = splitPolls(e.sim.Requests())
	sameRequests(t, "rerun with --setup-integration-suite", other,
		append(slices.Clone(wantRerun), "cli:security/role-collection?get", "cli:security/role-collection?get"))
}

// wantEmpty is the whole path from an empty subaccount, headless with
// --setup-integration-suite, on an instant simulator. The activation is
// seen on the first poll after the page was opened (opened at once here).
var wantEmpty = []string{
	"cli:login",
	"cli:accounts/global-account?get",
	// check: nothing of Integration Suite
	"cli:accounts/entitlement?list", "cli:accounts/environment-instance?list",
	"cli:accounts/subscription?list", "cli:security/role-collection?list",
	"cf:GET /", "uaa:POST /oauth/token", "cf:GET /v3/spaces",
	// entitle Integration Suite, wait
	"cli:accounts/entitlement?assign", "cli:accounts/entitlement?list",
	// learn the technical application name, subscribe, wait
	"cli:accounts/subscription?list", "cli:accounts/subaccount?subscribe", "cli:accounts/subscription?get",
	// Integration_Provisioner: who holds it, assign
	"cli:security/role-collection?get", "cli:security/role-collection?assign",
	// the browser step: wait for PI_*
	"cli:security/role-collection?list",
	// the consultant's PI_* collections: who holds them, assign both
	"cli:security/role-collection?get", "cli:security/role-collection?get",
	"cli:security/role-collection?assign", "cli:security/role-collection?assign",
	// check again, then the it-rt flow as on a fresh subaccount
	"cli:accounts/entitlement?list", "cli:accounts/environment-instance?list",
	"cli:accounts/subscription?list", "cli:security/role-collection?list", "cf:GET /v3/spaces",
	"cli:accounts/entitlement?assign", "cli:accounts/entitlement?assign", "cli:accounts/entitlement?list",
	"cf:GET /v3/service_plans", "cf:GET /v3/service_instances", "cf:POST /v3/service_instances", "cf:GET /v3/jobs/{guid}",
	"cf:POST /v3/service_credential_bindings", "cf:GET /v3/jobs/{guid}",
	"cf:GET /v3/service_credential_bindings/{guid}/details", "xsuaa:POST /oauth/token", "rt:GET /http/__cpikey_probe__",
}

func TestRoundTrips_EmptySubaccount(t *testing.T) {
	cfg := instantSim()
	cfg.SubscribeTime = time.Nanosecond
	e := newEnv(t, cfg)
	e.cfg.OpenURL = func(url string) error { // the person is quick
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	in := e.input(sim.SubEmpty)
	in.SetupSuite = true
	if _, err := e.run(t, in); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range e.sim.Requests() {
		if !strings.HasPrefix(r, "cli:GET "+"/integration-suite/") { // the browser's, not cpikey's
			got = append(got, guidRE.ReplaceAllString(r, "{guid}"))
		}
	}
	for i, r := range got {
		t.Logf("%2d %s", i+1, r)
	}
	sameRequests(t, "empty subaccount", got, wantEmpty)
}

func TestSuite_RefusedBeforeAnyWriteWithoutTheFlag(t *testing.T) {
	e := newEnv(t, instantSim())
	_, err := e.run(t, e.input(sim.SubEmpty))
	if err == nil {
		t.Fatal("want a refusal")
	}
	for _, want := range []string{"SAP Integration Suite is not ready in subaccount " + sim.SubEmpty, "--setup-integration-suite",
		"Integration Suite entitlement: missing: cpikey can assign integrationsuite/enterprise_agreement (needs Global Account Administrator)",
		"the global account has plans enterprise_agreement, free", "not subscribed", "looks not activated", "PI_Administrator"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if w := creates(e.sim.Requests()); len(w) != 0 {
		t.Errorf("writes before the refusal: %v", w)
	}
}

func TestSuite_FailedSubscriptionThenRerunResumes(t *testing.T) {
	cfg := instantSim()
	cfg.SubscribeFailures = 1
	e := newEnv(t, cfg)
	var opened []string
	e.cfg.OpenURL = browserUser(t, &opened)
	in := e.input(sim.SubEmpty)
	in.SetupSuite = true
	_, err := e.run(t, in)
	if err == nil {
		t.Fatal("want the failed subscription")
	}
	for _, want := range []string{"subscribing " + sim.SubEmpty + " to SAP Integration Suite failed (SUBSCRIBE_FAILED)", "LOD-HCI-PI", "Rerun cpikey"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	st, _ := e.sim.SuiteOf(sim.SubEmptySubdomain)
	if st.EntitledPlan == "" || st.Subscription != itrt.SubscriptionFailed {
		t.Fatalf("after the failure: %+v", st)
	}
	res, err := e.run(t, in)
	if err != nil || !res.Verified {
		t.Fatalf("rerun: %v", err)
	}
	reqs := e.sim.Requests()
	if n := count(reqs, "cli:accounts/entitlement?assign"); n != 3 { // Integration Suite once, it-rt twice
		t.Errorf("%d entitlement assignments, want 3 (nothing twice)", n)
	}
	if n := count(reqs, "cli:accounts/subaccount?subscribe"); n != 2 {
		t.Errorf("%d subscriptions, want 2 (the failed one and the retry)", n)
	}
}

func TestSuite_MissingRoles(t *testing.T) {
	t.Run("not a subaccount administrator", func(t *testing.T) {
		e := newEnv(t, instantSim())
		// A developer of the space, global account administrator, but
		// not administrator of the new subaccount.
		e.sim.Do(func(w *sim.World) {
			for _, u := range w.Users {
				if u.Email == sim.NoDevUser {
					u.SpaceDeveloper = append(u.SpaceDeveloper, "*")
				}
			}
		})
		in := e.input(sim.SubEmpty)
		in.User, in.Password, in.SetupSuite = sim.NoDevUser, sim.NoDevPass, true
		_, err := e.run(t, in)
		if err == nil {
			t.Fatal("want a refusal")
		}
		for _, want := range []string{"Integration_Provisioner", "you need the Subaccount Administrator role collection", "Ask a subaccount administrator"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		// What the global account administrator could do is done, once;
		// the subaccount administrator's rerun resumes after it.
		st, _ := e.sim.SuiteOf(sim.SubEmptySubdomain)
		if st.Subscription != itrt.SubscriptionSubscribed {
			t.Fatalf("state %+v", st)
		}
		in.User, in.Password = sim.AdminUser, sim.AdminPassword
		e.cfg.OpenURL = browserUser(t, new([]string))
		e.sim.ResetRequests()
		if res, err := e.run(t, in); err != nil || !res.Verified {
			t.Fatalf("rerun as subaccount administrator: %v", err)
		}
		if n := count(e.sim.Requests(), "cli:accounts/subaccount?subscribe"); n != 0 {
			t.Errorf("subscribed again on the rerun (%d)", n)
		}
	})
	t.Run("not a global account administrator", func(t *testing.T) {
		e := newEnv(t, instantSim())
		in := e.input(sim.SubEmpty)
		in.User, in.Password, in.SetupSuite = sim.ViewerUser, sim.ViewerPass, true
		_, err := e.run(t, in)
		if err == nil || !strings.Contains(err.Error(), "assigning integrationsuite/enterprise_agreement to "+sim.SubEmpty+" was refused: you need the Global Account Administrator") {
			t.Fatalf("viewer: %v", err)
		}
	})
}

// The activation is a person's step: without it cpikey waits, then says
// what it checked and that a rerun resumes.
func TestSuite_ActivationNotSeenTimesOutAndResumes(t *testing.T) {
	e := newEnv(t, instantSim())
	e.cfg.ProvisionTimeout = 150 * time.Millisecond
	var opened []string
	e.cfg.OpenURL = func(url string) error { opened = append(opened, url); return nil } // nobody clicks
	in := e.input(sim.SubEmpty)
	in.SetupSuite = true
	_, err := e.run(t, in)
	if err == nil || !strings.Contains(err.Error(), "Waiting for Cloud Integration to be activated") || !strings.Contains(err.Error(), "pick up where this left off") {
		t.Fatalf("want a timeout that says what was checked: %v", err)
	}
	if !strings.Contains(err.Error(), "PI_Administrator") {
		t.Errorf("the timeout does not say what was checked: %v", err)
	}
	// The person activates now; the rerun starts at the first step not done.
	resp, err := http.Get(opened[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.sim.ResetRequests()
	e.cfg.ProvisionTimeout = 5 * time.Second
	res, err := e.run(t, in)
	if err != nil || !res.Verified {
		t.Fatalf("rerun: %v", err)
	}
	reqs := e.sim.Requests()
	for _, key := range []string{"cli:accounts/subaccount?subscribe"} {
		if n := count(reqs, key); n != 0 {
			t.Errorf("rerun sent %s %d times", key, n)
		}
	}
	if n := count(reqs, "cli:security/role-collection?assign"); n != 2 { // only the PI_* ones
		t.Errorf("rerun assigned %d role collections, want the 2 PI_* ones", n)
	}
}

// A trial global account owns integrationsuite-trial with plan trial.
func TestSuite_TrialAccount(t *testing.T) {
	e := newEnv(t, instantSim())
	e.sim.Do(func(w *sim.World) { w.SuiteTrial = true })
	e.cfg.OpenURL = browserUser(t, new([]string))
	in := e.input(sim.SubEmpty)
	in.SetupSuite = true
	if res, err := e.run(t, in); err != nil || !res.Verified {
		t.Fatalf("%v\n%s", err, e.rec.messages(steps.StepSuite))
	}
	if st, _ := e.sim.SuiteOf(sim.SubEmptySubdomain); st.EntitledPlan != "trial" || !st.Activated {
		t.Errorf("trial: %+v", st)
	}
}

func TestSuite_CheckLinesSayWhatIsMissingAndWho(t *testing.T) {
	e := newEnv(t, instantSim())
	f := steps.New(e.cfg)
	ctx := context.Background()
	if _, err := f.Login(ctx, steps.LoginInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	sub, _ := f.ResolveSubaccount(ctx, sim.SubEmpty)
	r, err := f.Check(ctx, sub, steps.DefaultPlan, steps.RuntimeCF)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Suite.NeedsSetup() || r.Suite.Blocker() != "" || r.Suite.AppName != "" {
		t.Fatalf("suite %+v", r.Suite)
	}
	want := map[string]string{
		"Integration Suite entitlement":                                "needs Global Account Administrator",
		"Integration Suite subscription":                               "needs Subaccount Administrator",
		"Role collection Integration_Provisioner for " + sim.AdminUser: "the subscription creates it",
		"Cloud Integration activated (inferred)":                       "activating Cloud Integration creates them",
	}
	for i, it := range r.Items[:4] {
		w, ok := want[it.Title]
		if !ok || it.OK || !strings.Contains(it.Detail, w) {
			t.Errorf("item %d %+v, want title in %v with %q", i, it, want, w)
		}
	}
	actions := r.Suite.Actions("free")
	if len(actions) != 3 || !strings.Contains(actions[0].What, "integrationsuite/free") || actions[1].Role != "Subaccount Administrator" ||
		!strings.Contains(actions[2].What, "origin sap.default") {
		t.Errorf("actions %+v", actions)
	}
	if got := r.Suite.PlanChoices(); !slices.Equal(got, []string{"enterprise_agreement", "free"}) {
		t.Errorf("plan choices %v", got)
	}

	// A ready subaccount: all four lines fine, the activation line says
	// what it was inferred from.
	ready, _ := f.ResolveSubaccount(ctx, sim.SubReady)
	r, err = f.Check(ctx, ready, steps.DefaultPlan, steps.RuntimeCF)
	if err != nil || r.Suite.NeedsSetup() {
		t.Fatalf("ready: %v %+v", err, r.Suite)
	}
	for _, it := range r.Items[:4] {
		if !it.OK {
			t.Errorf("ready subaccount: %+v", it)
		}
	}
	if !strings.Contains(r.Items[3].Detail, "PI_Administrator") || !strings.Contains(r.Items[3].Detail, "creates them") {
		t.Errorf("activation line %q does not say what was checked", r.Items[3].Detail)
	}
}
