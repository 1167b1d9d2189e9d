package steps_test

import (
	"context"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// Completion latency: how soon after SAP is done the flow is done.
const (
	benchLatency   = 100 * time.Millisecond // injected per request by the simulator
	benchProvision = 10 * time.Second       // instance provisioning time
	// criticalPath counts the requests on the happy path's critical path
	// (fresh subaccount, CF runtime; see wantFresh in roundtrips_test.go),
	// where each waits for the answer to the one before:
	//
	//	 1 login
	//	 2 global account (hierarchy)
	//	 3 environment instances           (beside: entitlement listing)
	//	 4 CF discovery                    (beside: both assignments)
	//	 5 CF token                        (beside: the entitlement poll that sees OK)
	//	 6 spaces
	//	 7 plan lookup                     (beside: instance lookup)
	//	 8 create instance                 then ProvisionTime
	//	   (the job poll that sees COMPLETE: an ideal poller has it in flight
	//	   during provisioning, answered the moment the instance is ready)
	//	 9 create key
	//	10 the key job poll that sees COMPLETE (BindTime 10ms < one latency)
	//	11 key details
	//	12 token with the new credentials
	//
	// EntitleTime and BindTime stay at the simulator's 10ms, shorter than one
	// latency, so the first poll after each sees it done.
	criticalPath = 12
)

// BenchmarkCompletionLatency runs the headless happy path on a fresh
// subaccount against the simulator with benchLatency per request and
// benchProvision of provisioning, with the production polling settings
// (PollMin 1s) and retry policy, and compares the wall time with its lower
// bound:
//
//	lower bound = criticalPath × latency + ProvisionTime = 12 × 100ms + 10s = 11.2s
//	ratio       = wall / lower bound                  (target ≤ 1.15)
//
// It also reports how long after the instance was ready its job poll saw it
// (noticed-ms; target about a second at most). One iteration takes ~12s.
func BenchmarkCompletionLatency(b *testing.B) {
	lower := criticalPath*benchLatency + benchProvision
	var wall, noticed time.Duration
	requests := 0
	for b.Loop() {
		b.StopTimer()
		e := benchEnv(b, sim.Config{Latency: benchLatency, ProvisionTime: benchProvision})
		rec := recordSpans(e)
		f := steps.New(e.cfg)
		in := e.input(sim.SubFresh)
		in.NoKeychain = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		b.StartTimer()
		start := time.Now()
		res, err := steps.RunHeadless(ctx, f, in)
		took := time.Since(start)
		b.StopTimer()
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if res.Instance.Reused || !res.Verified {
			b.Fatalf("not the happy path: %+v", res)
		}
		wall += took
		requests += len(e.sim.Requests())
		noticed += noticedAfter(b, rec)
		e.sim.Close()
		b.StartTimer()
	}
	n := time.Duration(b.N)
	ratio := float64(wall/n) / float64(lower)
	b.ReportMetric((wall / n).Seconds(), "wall-s")
	b.ReportMetric(lower.Seconds(), "lower-bound-s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(float64((noticed / n).Milliseconds()), "noticed-ms")
	b.ReportMetric(float64(requests)/float64(b.N), "requests")
	if ratio > 1.15 {
		b.Errorf("wall time %v is %.3f times the lower bound %v (target ≤ 1.15)", (wall / n).Round(time.Millisecond), ratio, lower)
	}
}

// noticedAfter is how long after the instance was ready (its create's
// answer plus ProvisionTime) the job poll that saw COMPLETE was answered
// (the simulator adds its latency before it reads the state).
func noticedAfter(b *testing.B, rec *spanRecorder) time.Duration {
	post := rec.first(b, "cf:POST /v3/service_instances")
	ready := post.end.Add(benchProvision)
	for _, s := range rec.spans("cf:GET /v3/jobs/{guid}") {
		if s.end.After(ready) {
			return s.end.Sub(ready)
		}
	}
	b.Fatal("no job poll after the instance was ready")
	return 0
}

// benchEnv is newEnv for benchmarks: production polling and retries, a
// fresh HOME and go-keyring's in-memory mock.
func benchEnv(b *testing.B, cfg sim.Config) *env {
	b.Helper()
	home := b.TempDir()
	b.Setenv("HOME", home)
	b.Setenv("XDG_CONFIG_HOME", home+"/.config")
	b.Setenv("XDG_CACHE_HOME", home+"/.cache")
	keyring.MockInit()
	s, err := sim.Start(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	return &env{sim: s, rec: &recorder{}, cfg: steps.Config{
		CLIServerURL: s.CLIServerURL(),
		HTTPClient:   transport.NewHTTPClient(transport.Options{}),
		Reporter:     &recorder{},
	}}
}
