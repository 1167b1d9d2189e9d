package steps_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// Round trips of the happy path, counted request by request against the
// simulator. The simulator finishes instances, keys and entitlements at once
// (1ns), so every asynchronous operation is polled exactly once and the
// counts are exact. Polls are counted apart from the other requests.
//
// When a change adds a request, the test fails: make the new request
// concurrent with another or drop one elsewhere, or, if it is really needed,
// update the record below and say why in the commit. When a change saves
// one, lower the record.

// wantFresh is the happy path on a fresh subaccount (CF runtime): entitle
// both plans, create instance and key, reveal and verify. Integration Suite
// is ready there, which costs two reads beside the entitlement listing
// (issue 19: entitlement from that listing, subscription, and the PI_*
// role collections that show the activation; the user's
// Integration_Provisioner is read only when the activation is not seen).
var wantFresh = []string{
	"cli:login",
	"cli:accounts/global-account?get",         // hierarchy (subaccount names and directory paths)
	"cli:accounts/entitlement?list",           // } concurrent (keeps it-rt and Integration Suite)
	"cli:accounts/environment-instance?list",  // }
	"cli:accounts/subscription?list",          // } Integration Suite subscribed?
	"cli:security/role-collection?list",       // } Cloud Integration activated? (PI_* exist)
	"cf:GET /",                                //   } Cloud Foundry login and spaces, started as soon as the
	"uaa:POST /oauth/token",                   //   } environment names the org: concurrent with the
	"cf:GET /v3/spaces",                       //   } entitlement listing and assignments
	"cli:accounts/entitlement?assign",         // } both plans, concurrent
	"cli:accounts/entitlement?assign",         // }
	"cf:GET /v3/service_plans",                // } concurrent
	"cf:GET /v3/service_instances",            // }
	"cf:POST /v3/service_instances",           // create; its job names the instance (no read-back)
	"cf:POST /v3/service_credential_bindings", // create (a new instance has no key to look up first)
	"cf:GET /v3/service_credential_bindings/{guid}/details",
	"xsuaa:POST /oauth/token",       // verify the credentials
	"rt:GET /http/__cpikey_probe__", // the tenant takes the token (runtime proof); needs the token, so it follows it
}

// wantFreshPolls: one entitlement poll covers both plans; one job poll each
// for instance and key.
var wantFreshPolls = []string{
	"cli:accounts/entitlement?list",
	"cf:GET /v3/jobs/{guid}",
	"cf:GET /v3/jobs/{guid}",
}

// wantRerun is the same command run again: everything is reused.
var wantRerun = []string{
	"cli:login",
	"cli:accounts/global-account?get",
	"cli:accounts/entitlement?list",
	"cli:accounts/environment-instance?list",
	"cli:accounts/subscription?list",
	"cli:security/role-collection?list",
	"cf:GET /",
	"uaa:POST /oauth/token",
	"cf:GET /v3/spaces",
	"cf:GET /v3/service_plans", // plan visible in space dev (the check); remembered for provisioning
	"cf:GET /v3/service_instances",
	"cf:GET /v3/service_credential_bindings",
	"cf:GET /v3/service_credential_bindings/{guid}/details",
	"xsuaa:POST /oauth/token",
	"rt:GET /http/__cpikey_probe__",
}

var guidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// splitPolls normalizes GUIDs and separates polls (job reads, and
// entitlement listings after the first assignment) from other requests.
func splitPolls(reqs []string) (other, polls []string) {
	assigned := false
	for _, r := range reqs {
		r = guidRE.ReplaceAllString(r, "{guid}")
		switch {
		case strings.HasPrefix(r, "cf:GET /v3/jobs/"), assigned && r == "cli:accounts/entitlement?list":
			polls = append(polls, r)
		default:
			other = append(other, r)
		}
		if r == "cli:accounts/entitlement?assign" {
			assigned = true
		}
	}
	return other, polls
}

// sameRequests compares as multisets: concurrent requests arrive in any order.
func sameRequests(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if slices.Equal(g, w) {
		return
	}
	switch {
	case len(got) > len(want):
		t.Errorf("%s: %d round trips, more than the %d recorded", what, len(got), len(want))
	case len(got) < len(want):
		t.Errorf("%s: %d round trips, fewer than the %d recorded: lower the record", what, len(got), len(want))
	default:
		t.Errorf("%s: %d round trips as recorded, but other ones", what, len(got))
	}
	t.Errorf("got (sorted):\n  %s\nwant (sorted):\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
}

func instantSim() sim.Config {
	return sim.Config{ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond, EntitleTime: time.Nanosecond}
}

func TestRoundTrips_HappyPath(t *testing.T) {
	e := newEnv(t, instantSim())
	res, err := e.run(t, e.input(sim.SubFresh))
	if err != nil {
		t.Fatal(err)
	}
	if res.Instance.Reused || res.Key.Reused || !res.Verified {
		t.Fatalf("not the happy path: %+v", res)
	}
	reqs := e.sim.Requests()
	for i, r := range reqs {
		t.Logf("%2d %s", i+1, r)
	}
	other, polls := splitPolls(reqs)
	sameRequests(t, "fresh subaccount", other, wantFresh)
	sameRequests(t, "fresh subaccount, polls", polls, wantFreshPolls)

	e.sim.ResetRequests()
	again, err := e.run(t, e.input(sim.SubFresh))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Instance.Reused || !again.Key.Reused || !again.Verified {
		t.Fatalf("rerun did not reuse: %+v", again)
	}
	reqs = e.sim.Requests()
	for i, r := range reqs {
		t.Logf("rerun %2d %s", i+1, r)
	}
	other, polls = splitPolls(reqs)
	sameRequests(t, "rerun", other, wantRerun)
	sameRequests(t, "rerun, polls", polls, nil)
}

// spanRecorder records when each request was sent and answered, on the
// client side, so tests can see which requests overlapped.
type spanRecorder struct {
	rt   http.RoundTripper
	s    *sim.Server
	mu   sync.Mutex
	list []span
}

type span struct {
	key        string
	start, end time.Time
}

func recordSpans(e *env) *spanRecorder {
	hc := *e.cfg.HTTPClient
	r := &spanRecorder{rt: hc.Transport, s: e.sim}
	if r.rt == nil {
		r.rt = http.DefaultTransport
	}
	hc.Transport = r
	e.cfg.HTTPClient = &hc
	return r
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

func (r *spanRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now() // before classifying: the span starts when the request is handed over
	surface := "xsuaa"
	switch req.URL.Host {
	case hostOf(r.s.CLIServerURL()):
		surface = "cli"
	case hostOf(r.s.CFAPIURL()):
		surface = "cf"
	case hostOf(r.s.RuntimeURL()):
		surface = "rt"
	case hostOf(r.s.TenantAPIURL()):
		surface = "api"
	}
	key := guidRE.ReplaceAllString(sim.RequestKey(surface, req), "{guid}")
	resp, err := r.rt.RoundTrip(req)
	r.mu.Lock()
	r.list = append(r.list, span{key: key, start: start, end: time.Now()})
	r.mu.Unlock()
	return resp, err
}

func (r *spanRecorder) spans(key string) []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []span
	for _, s := range r.list {
		if s.key == key {
			out = append(out, s)
		}
	}
	return out
}

func (r *spanRecorder) first(t testing.TB, key string) span {
	t.Helper()
	s := r.spans(key)
	if len(s) == 0 {
		t.Fatalf("no request %s", key)
	}
	return s[0]
}

func overlap(a, b span) bool { return a.start.Before(b.end) && b.start.Before(a.end) }

// TestRoundTrips_IndependentRequestsOverlap slows the requests that other
// reads can run beside and checks, on the client's clock, that those reads
// were sent while the slow ones were still out.
func TestRoundTrips_IndependentRequestsOverlap(t *testing.T) {
	e := newEnv(t, instantSim())
	rec := recordSpans(e)
	const slow = 150 * time.Millisecond
	for _, m := range []string{"cli:accounts/entitlement?list", "cli:accounts/entitlement?assign", "cf:GET /v3/service_plans", "cf:GET /v3/service_instances"} {
		e.sim.Inject(sim.Fault{Kind: sim.FaultLatency, Match: m, Latency: slow})
	}
	// The Integration Suite reads are slow too, so their overlap with the
	// entitlement listing does not depend on which one starts first.
	for _, m := range []string{"cli:accounts/subscription?list", "cli:security/role-collection?list"} {
		e.sim.Inject(sim.Fault{Kind: sim.FaultLatency, Match: m, Latency: slow})
	}
	if _, err := e.run(t, e.input(sim.SubFresh)); err != nil {
		t.Fatal(err)
	}
	ents := rec.first(t, "cli:accounts/entitlement?list")
	pairs := []struct {
		what string
		a, b span
	}{
		{"environments beside entitlements", ents, rec.first(t, "cli:accounts/environment-instance?list")},
		{"CF discovery beside entitlements", ents, rec.first(t, "cf:GET /")},
		{"CF login beside entitlements", ents, rec.first(t, "uaa:POST /oauth/token")},
		{"spaces beside entitlements", ents, rec.first(t, "cf:GET /v3/spaces")},
		{"subscriptions beside entitlements", ents, rec.first(t, "cli:accounts/subscription?list")},
		{"role collections beside entitlements", ents, rec.first(t, "cli:security/role-collection?list")},
		{"instance lookup beside plan lookup", rec.first(t, "cf:GET /v3/service_plans"), rec.first(t, "cf:GET /v3/service_instances")},
	}
	if a := rec.spans("cli:accounts/entitlement?assign"); len(a) != 2 {
		t.Fatalf("%d assignments, want 2", len(a))
	} else {
		pairs = append(pairs, struct {
			what string
			a, b span
		}{"the two assignments", a[0], a[1]})
	}
	for _, p := range pairs {
		if !overlap(p.a, p.b) {
			t.Errorf("%s: not concurrent (%s %v..%v, %s %v..%v)", p.what,
				p.a.key, p.a.start.Format("05.000"), p.a.end.Format("05.000"), p.b.key, p.b.start.Format("05.000"), p.b.end.Format("05.000"))
		}
	}
}

// TestPolling_SteadyFirstMinuteAndPolite scales the polling contract down
// (PollMin 15ms for 1s): while an operation runs, its job is polled at
// PollMin, never faster, without backing off in the first minute, so
// completion is noticed within about one interval.
func TestPolling_SteadyFirstMinuteAndPolite(t *testing.T) {
	const (
		pollMin   = 15 * time.Millisecond
		provision = 300 * time.Millisecond
	)
	cfg := instantSim()
	cfg.ProvisionTime = provision
	e := newEnv(t, cfg)
	e.cfg.PollMin, e.cfg.PollMax = pollMin, 20*pollMin
	rec := recordSpans(e)
	if _, err := e.run(t, e.input(sim.SubReady)); err != nil {
		t.Fatal(err)
	}
	post := rec.first(t, "cf:POST /v3/service_instances")
	var polls []span
	for _, s := range rec.spans("cf:GET /v3/jobs/{guid}") {
		if s.start.After(post.end) && s.start.Before(post.end.Add(10*provision)) {
			polls = append(polls, s)
		}
	}
	// Only the instance job polls before the instance is done; the key job
	// (1ns) takes one poll after it.
	polls = polls[:len(polls)-1]
	if len(polls) < 2 {
		t.Fatalf("%d polls", len(polls))
	}
	for i := 1; i < len(polls); i++ {
		if gap := polls[i].start.Sub(polls[i-1].end); gap < pollMin {
			t.Errorf("poll %d came %v after the previous answer: faster than PollMin %v", i+1, gap, pollMin)
		}
	}
	// Backing off (x1.5 from 15ms) would take about 6 polls for 300ms; a
	// steady pace takes about 19.
	if len(polls) < 10 {
		t.Errorf("%d polls in %v at PollMin %v: the pace backed off within the first minute", len(polls), provision, pollMin)
	}
	done := post.end.Add(provision)
	if late := polls[len(polls)-1].end.Sub(done); late > 100*time.Millisecond {
		t.Errorf("completion noticed %v after it happened, want about one PollMin (%v)", late, pollMin)
	}
	t.Logf("%d instance job polls; completion noticed %v after it", len(polls), polls[len(polls)-1].end.Sub(done).Round(time.Millisecond))
}

// TestRoundTrips_WizardSpacesListedDuringCheck: the wizard's space picker
// shows the spaces listed while the user read the check screen.
func TestRoundTrips_WizardSpacesListedDuringCheck(t *testing.T) {
	e := newEnv(t, instantSim())
	f := steps.New(e.cfg)
	ctx := context.Background()
	if _, err := f.Login(ctx, steps.LoginInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	sub, err := f.ResolveSubaccount(ctx, sim.SubReady)
	if err != nil {
		t.Fatal(err)
	}
	report, err := f.Check(ctx, sub, steps.DefaultPlan, steps.RuntimeCF)
	if err != nil || report.CF == nil || !report.PlanVisible {
		t.Fatalf("check: %v %+v", err, report)
	}
	orgs, err := f.Orgs(ctx, report.CF)
	if err != nil || len(orgs) == 0 {
		t.Fatalf("orgs: %v %v", orgs, err)
	}
	e.sim.ResetRequests()
	spaces, err := f.Spaces(ctx, orgs[0].ID)
	if err != nil || len(spaces) == 0 {
		t.Fatalf("spaces: %v %v", spaces, err)
	}
	if r := e.sim.Requests(); len(r) != 0 {
		t.Fatalf("the space picker sent %v; the check had listed the spaces already", r)
	}
}
