package steps_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// The fault matrix: every step of the flow against the simulator with
// scripted faults. Each case must end in the right final state (verified
// credentials, secret in the keychain), or in a clear error naming the cause
// and the fix after which a rerun completes; never with a duplicate instance,
// key or entitlement, and within a bounded time. CI prints the summary line
// (go test -run 'TestFaultMatrix$' -v ./steps/).

// faultCase is one (step, fault) pair.
type faultCase struct {
	step    steps.Step
	fault   string // in words
	runtime steps.Runtime
	sub     string     // subaccount; default SubFresh (needs entitlements)
	sim     sim.Config // durations beyond the fast defaults
	faults  []sim.Fault
	// suite: from the empty subaccount with --setup-integration-suite (the
	// person at the browser opens the subscription URL at once).
	suite bool
	// cancelOn cancels the first run when the step reports this kind.
	cancelOn steps.EventKind
	// provisionTimeout overrides the flow's wait bound for the first run.
	provisionTimeout time.Duration
	// slowRetry: a retry policy that honours Retry-After of 1s (the fast
	// one caps every wait at milliseconds).
	slowRetry bool
	// wantErr: the first run fails, its error contains all of these (the
	// cause and the fix); the rerun must complete. nil: the first run
	// completes. context.Canceled is expected for cancellations.
	wantErr []string
	// recreate reruns the way the wizard does after a failed instance:
	// Provision with Target.RecreateFailed.
	recreate bool
	// minTime: the first run must take at least this long (a Retry-After
	// honoured).
	minTime time.Duration
	// requests lists request-key prefixes that must have been seen at least
	// n times (proof that the fault hit and was overcome).
	requests map[string]int
}

func (c faultCase) name() string { return string(c.step) + "/" + c.fault }

// fi shortens fault literals.
func fi(kind sim.FaultKind, match string, times int) sim.Fault {
	return sim.Fault{Kind: kind, Match: match, Times: times}
}

func withStatus(f sim.Fault, status int) sim.Fault { f.Status = status; return f }
func withSkip(f sim.Fault, skip int) sim.Fault     { f.Skip = skip; return f }
func withRetryAfter(f sim.Fault, d time.Duration) sim.Fault {
	f.RetryAfter = d
	return f
}
func withLatency(f sim.Fault, d time.Duration) sim.Fault { f.Latency = d; return f }

const (
	mLogin       = "cli:login"
	mEntList     = "cli:accounts/entitlement?list"
	mEntAssign   = "cli:accounts/entitlement?assign"
	mEnvList     = "cli:accounts/environment-instance?list"
	mSMInstNew   = "cli:services/instance?create"
	mSMInstGet   = "cli:services/instance?get"
	mSMBindNew   = "cli:services/binding?create"
	mSMBindGet   = "cli:services/binding?get"
	mUAAToken    = "uaa:POST /oauth/token"
	mXSUAAToken  = "xsuaa:POST /oauth/token"
	mCFInstNew   = "cf:POST /v3/service_instances"
	mCFInstFind  = "cf:GET /v3/service_instances"
	mCFKeyNew    = "cf:POST /v3/service_credential_bindings"
	mCFKeyFind   = "cf:GET /v3/service_credential_bindings"
	mCFKeyDetail = "cf:GET /v3/service_credential_bindings/"
	mCFJobs      = "cf:GET /v3/jobs/"
	mSubList     = "cli:accounts/subscription?list"
	mSubGet      = "cli:accounts/subscription?get"
	mSubscribe   = "cli:accounts/subaccount?subscribe"
	mRoleList    = "cli:security/role-collection?list"
	mRoleAssign  = "cli:security/role-collection?assign"
)

func faultCases() []faultCase {
	slowSim := sim.Config{ProvisionTime: 300 * time.Millisecond, BindTime: 200 * time.Millisecond, EntitleTime: 200 * time.Millisecond}
	cases := []faultCase{
		// login
		{step: steps.StepLogin, fault: "HTTP 504 twice", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mLogin, 2), 504)}, requests: map[string]int{mLogin: 3}},
		{step: steps.StepLogin, fault: "5xx burst", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mLogin, 3), 502)}, requests: map[string]int{mLogin: 4}},
		{step: steps.StepLogin, fault: "connection reset", faults: []sim.Fault{fi(sim.FaultConnReset, mLogin, 2)}},
		{step: steps.StepLogin, fault: "latency spike", faults: []sim.Fault{withLatency(fi(sim.FaultLatency, mLogin, 1), 300*time.Millisecond)}, minTime: 300 * time.Millisecond},
		{step: steps.StepLogin, fault: "HTTP 504 beyond the retry budget", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mLogin, 99), 504)},
			wantErr: []string{"login timed out at the BTP CLI server", "Try again in a minute"}},
		{step: steps.StepLogin, fault: "HTTP 429 with Retry-After", slowRetry: true, minTime: time.Second,
			faults: []sim.Fault{withRetryAfter(withStatus(fi(sim.FaultHTTPStatus, mLogin, 1), 429), time.Second)}},

		// check
		{step: steps.StepCheck, fault: "backend 429 inside HTTP 200", faults: []sim.Fault{fi(sim.FaultBackend429, mEntList, 2)}, requests: map[string]int{mEntList: 3}},
		{step: steps.StepCheck, fault: "5xx burst", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mEnvList, 3), 503)}},
		{step: steps.StepCheck, fault: "connection reset", faults: []sim.Fault{fi(sim.FaultConnReset, mEntList, 1)}},
		{step: steps.StepCheck, fault: "latency spike", faults: []sim.Fault{withLatency(fi(sim.FaultLatency, mEntList, 1), 300*time.Millisecond)}},
		{step: steps.StepCheck, fault: "BTP session expiry (re-login)", faults: []sim.Fault{fi(sim.FaultSessionExpiry, mEnvList, 1)}, requests: map[string]int{mLogin: 2}},
		{step: steps.StepCheck, fault: "UAA 429 with Retry-After", slowRetry: true, minTime: time.Second,
			faults: []sim.Fault{withRetryAfter(fi(sim.FaultCF429, mUAAToken, 1), time.Second)}},

		// entitle
		{step: steps.StepEntitle, fault: "[Error: 30004/400] inside HTTP 200", faults: []sim.Fault{fi(sim.FaultEntitlementLock, mEntAssign, 2)}, requests: map[string]int{mEntAssign: 4}},
		{step: steps.StepEntitle, fault: "backend 429 inside HTTP 200", faults: []sim.Fault{fi(sim.FaultBackend429, mEntAssign, 2)}},
		{step: steps.StepEntitle, fault: "BTP session expiry (re-login)", faults: []sim.Fault{fi(sim.FaultSessionExpiry, mEntAssign, 1)}, requests: map[string]int{mLogin: 2}},
		{step: steps.StepEntitle, fault: "HTTP 502 on assign (not repeated blindly)", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mEntAssign, 1), 502)},
			wantErr: []string{"the BTP CLI server failed (HTTP 502)", "Try again in a minute"}},
		{step: steps.StepEntitle, fault: "assignment fails", faults: []sim.Fault{fi(sim.FaultEntitlementFailure, mEntAssign, 1)},
			wantErr: []string{"failed", "check the global account's quota", "rerun"}},
		{step: steps.StepEntitle, fault: "5xx burst while waiting", faults: []sim.Fault{withSkip(withStatus(fi(sim.FaultHTTPStatus, mEntList, 3), 503), 1)}},
		{step: steps.StepEntitle, fault: "lock while waiting", faults: []sim.Fault{withSkip(fi(sim.FaultEntitlementLock, mEntList, 3), 1)}},
		{step: steps.StepEntitle, fault: "latency spike while waiting", faults: []sim.Fault{withSkip(withLatency(fi(sim.FaultLatency, mEntList, 1), 150*time.Millisecond), 1)}},

		// instance (Cloud Foundry)
		{step: steps.StepInstance, fault: "CF 429 with Retry-After on create", slowRetry: true, minTime: time.Second,
			faults: []sim.Fault{withRetryAfter(fi(sim.FaultCF429, mCFInstNew, 1), time.Second)}, requests: map[string]int{mCFInstNew: 2}},
		{step: steps.StepInstance, fault: "5xx burst on the job", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mCFJobs, 3), 502)}},
		{step: steps.StepInstance, fault: "connection reset mid-poll", sim: slowSim, faults: []sim.Fault{withSkip(fi(sim.FaultConnReset, mCFJobs, 2), 1)}},
		{step: steps.StepInstance, fault: "latency spike mid-poll", sim: slowSim, faults: []sim.Fault{withSkip(withLatency(fi(sim.FaultLatency, mCFJobs, 1), 400*time.Millisecond), 1)}},
		{step: steps.StepInstance, fault: "CF token expiry before the step", faults: []sim.Fault{fi(sim.FaultTokenExpiry, mCFInstFind, 1)}},
		{step: steps.StepInstance, fault: "CF token expiry on create", faults: []sim.Fault{fi(sim.FaultTokenExpiry, mCFInstNew, 1)}, requests: map[string]int{mCFInstNew: 2}},
		{step: steps.StepInstance, fault: "broker failure", faults: []sim.Fault{fi(sim.FaultBrokerFailure, mCFInstNew, 1)},
			wantErr: []string{"failed in the it-rt service broker", "not provisioned", "activate the Cloud Integration capability"}, recreate: true},
		{step: steps.StepInstance, fault: "job fails", faults: []sim.Fault{fi(sim.FaultJobFailure, mCFInstNew, 1)},
			wantErr: []string{"failed in the it-rt service broker", "simulated failure"}, recreate: true},
		{step: steps.StepInstance, fault: "job timeout", sim: sim.Config{ProvisionTime: 600 * time.Millisecond}, provisionTimeout: 100 * time.Millisecond,
			wantErr: []string{`Creating instance CPI_SAMPLE_INSTANCE: still "`, "after 100ms", "rerun cpikey later and it will pick up where this left off"}},
		{step: steps.StepInstance, fault: "HTTP 502 on create (not repeated blindly)", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mCFInstNew, 1), 502)},
			wantErr: []string{"create instance", "HTTP 502", "rerun"}},
		{step: steps.StepInstance, fault: "connection reset on create", faults: []sim.Fault{fi(sim.FaultConnReset, mCFInstNew, 1)},
			wantErr: []string{"create instance", "rerun"}},
		{step: steps.StepInstance, fault: "5xx burst on the job beyond the retry budget", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mCFJobs, 99), 503)},
			wantErr: []string{"HTTP 503", "rerun"}},

		// key (Cloud Foundry)
		{step: steps.StepKey, fault: "CF 429 with Retry-After on create", slowRetry: true, minTime: time.Second,
			faults: []sim.Fault{withRetryAfter(fi(sim.FaultCF429, mCFKeyNew, 1), time.Second)}, requests: map[string]int{mCFKeyNew: 2}},
		{step: steps.StepKey, fault: "CF token expiry between instance and key", faults: []sim.Fault{fi(sim.FaultTokenExpiry, mCFKeyFind, 1)}},
		{step: steps.StepKey, fault: "CF token expiry on create", faults: []sim.Fault{fi(sim.FaultTokenExpiry, mCFKeyNew, 1)}},
		{step: steps.StepKey, fault: "5xx burst on lookup", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mCFKeyFind, 3), 503)}},
		{step: steps.StepKey, fault: "connection reset reading the credentials", faults: []sim.Fault{fi(sim.FaultConnReset, mCFKeyDetail, 1)}},
		{step: steps.StepKey, fault: "broker failure", faults: []sim.Fault{fi(sim.FaultBrokerFailure, mCFKeyNew, 1)},
			wantErr: []string{"Creating service key", "failed in the it-rt service broker"}},

		// runtime other: Service Manager through the CLI server
		{step: steps.StepInstance, fault: "SM: backend 429 while polling", runtime: steps.RuntimeOther, sim: slowSim, faults: []sim.Fault{withSkip(fi(sim.FaultBackend429, mSMInstGet, 2), 1)}},
		{step: steps.StepInstance, fault: "SM: connection reset mid-poll", runtime: steps.RuntimeOther, sim: slowSim, faults: []sim.Fault{withSkip(fi(sim.FaultConnReset, mSMInstGet, 1), 1)}},
		{step: steps.StepInstance, fault: "SM: BTP session expiry on create", runtime: steps.RuntimeOther, faults: []sim.Fault{fi(sim.FaultSessionExpiry, mSMInstNew, 1)}, requests: map[string]int{mLogin: 2}},
		{step: steps.StepInstance, fault: "SM: broker failure", runtime: steps.RuntimeOther, faults: []sim.Fault{fi(sim.FaultBrokerFailure, mSMInstNew, 1)},
			wantErr: []string{"failed in the it-rt service broker", "not provisioned"}},
		{step: steps.StepKey, fault: "SM: BTP session expiry on create", runtime: steps.RuntimeOther, faults: []sim.Fault{fi(sim.FaultSessionExpiry, mSMBindNew, 1)}, requests: map[string]int{mLogin: 2}},
		{step: steps.StepKey, fault: "SM: 5xx burst while polling", runtime: steps.RuntimeOther, faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mSMBindGet, 3), 503)}},

		// verify: the token endpoint of the new key
		{step: steps.StepVerify, fault: "XSUAA 5xx", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mXSUAAToken, 2), 503)}, requests: map[string]int{mXSUAAToken: 3}},
		// oauth.Verify does not surface Retry-After; the flow retries on its own back-off.
		{step: steps.StepVerify, fault: "XSUAA 429", faults: []sim.Fault{withRetryAfter(fi(sim.FaultCF429, mXSUAAToken, 1), time.Second)}, requests: map[string]int{mXSUAAToken: 2}},
		{step: steps.StepVerify, fault: "connection reset", faults: []sim.Fault{fi(sim.FaultConnReset, mXSUAAToken, 1)}},

		// Integration Suite: the check's reads on a ready subaccount, and the
		// setup from an empty one
		{step: steps.StepCheck, fault: "backend 429 reading the subscriptions", faults: []sim.Fault{fi(sim.FaultBackend429, mSubList, 2)}, requests: map[string]int{mSubList: 3}},
		{step: steps.StepCheck, fault: "connection reset reading the role collections", faults: []sim.Fault{fi(sim.FaultConnReset, mRoleList, 1)}, requests: map[string]int{mRoleList: 2}},
		{step: steps.StepSuite, suite: true, fault: "HTTP 502 on subscribe (not repeated blindly)", faults: []sim.Fault{withStatus(fi(sim.FaultHTTPStatus, mSubscribe, 1), 502)},
			wantErr: []string{"the BTP CLI server failed (HTTP 502)", "check first whether the change was made anyway"}},
		{step: steps.StepSuite, suite: true, fault: "BTP session expiry while the subscription runs", sim: sim.Config{SubscribeTime: 400 * time.Millisecond},
			faults: []sim.Fault{withSkip(fi(sim.FaultSessionExpiry, mSubGet, 1), 1)}, requests: map[string]int{mLogin: 2}},
		{step: steps.StepSuite, suite: true, fault: "subscription fails", sim: sim.Config{SubscribeFailures: 1},
			wantErr: []string{"SUBSCRIBE_FAILED", "LOD-HCI-PI", "Rerun cpikey"}},
		{step: steps.StepSuite, suite: true, fault: "connection reset on a role assignment", faults: []sim.Fault{fi(sim.FaultConnReset, mRoleAssign, 1)},
			wantErr: []string{"assigning Integration_Provisioner", "may or may not have run"}},
		{step: steps.StepSuite, suite: true, fault: "5xx burst while looking for the activation", faults: []sim.Fault{withSkip(withStatus(fi(sim.FaultHTTPStatus, mRoleList, 3), 503), 1)}},
		{step: steps.StepSuite, suite: true, fault: "cancelled while waiting", sim: sim.Config{EntitleTime: 200 * time.Millisecond, SubscribeTime: 300 * time.Millisecond},
			cancelOn: steps.EventWaiting, wantErr: []string{context.Canceled.Error()}},
	}
	// Cancellation at every step, then a rerun.
	for _, st := range []steps.Step{steps.StepLogin, steps.StepCheck, steps.StepEntitle, steps.StepInstance, steps.StepKey, steps.StepReveal, steps.StepVerify, steps.StepKeychain} {
		cases = append(cases, faultCase{step: st, fault: "cancelled when started", cancelOn: steps.EventStarted, sim: slowSim, wantErr: []string{context.Canceled.Error()}})
	}
	for _, st := range []steps.Step{steps.StepEntitle, steps.StepInstance, steps.StepKey} {
		cases = append(cases, faultCase{step: st, fault: "cancelled while waiting", cancelOn: steps.EventWaiting, sim: slowSim, wantErr: []string{context.Canceled.Error()}})
		cases = append(cases, faultCase{step: st, fault: "SM: cancelled while waiting", runtime: steps.RuntimeOther, cancelOn: steps.EventWaiting, sim: slowSim, wantErr: []string{context.Canceled.Error()}})
	}
	return cases
}

// caseBound is the time one case (first run and rerun) may take.
const caseBound = 8 * time.Second

// memKeyring is a race-free keyring for parallel cases; like the real one
// it honours a cancelled context.
type memKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeyring) Set(ctx context.Context, service, account, secret string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keychain: store: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[service+"/"+account] = secret
	return nil
}

func (k *memKeyring) Get(ctx context.Context, service, account string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[service+"/"+account], nil
}

func (k *memKeyring) Delete(ctx context.Context, service, account string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, service+"/"+account)
	return nil
}

func TestFaultMatrix(t *testing.T) {
	// One isolated HOME for all cases (prefs are written after login);
	// t.Setenv here, before the cases go parallel.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home+"/.config")
	t.Setenv("XDG_CACHE_HOME", home+"/.cache")

	cases := faultCases()
	var survived, duplicates atomic.Int32
	var slowest atomic.Int64
	start := time.Now()
	t.Cleanup(func() {
		line := fmt.Sprintf("faults: %d cases, %d survived, %d duplicates", len(cases), survived.Load(), duplicates.Load())
		t.Log(line)
		t.Logf("fault matrix took %s; slowest case %s", time.Since(start).Round(time.Millisecond), time.Duration(slowest.Load()).Round(time.Millisecond))
		fmt.Println(line) // stdout, so `go test -v` shows it at the start of a line (CI greps ^faults:)
	})
	// The cases mostly wait (on the simulator's clocks, on Retry-After), so
	// they run side by side: concurrent t.Run calls, not t.Parallel, which
	// -parallel (GOMAXPROCS) would cap at two on a small CI machine.
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, tc := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(tc.name(), func(t *testing.T) {
				begin := time.Now()
				ok, dups := runFaultCase(t, tc)
				d := time.Since(begin)
				for {
					old := slowest.Load()
					if int64(d) <= old || slowest.CompareAndSwap(old, int64(d)) {
						break
					}
				}
				if d > caseBound {
					t.Errorf("took %s, more than the bound of %s", d, caseBound)
					ok = false
				}
				duplicates.Add(int32(dups))
				if ok && !t.Failed() {
					survived.Add(1)
				}
			})
		}()
	}
	wg.Wait()
}

// runFaultCase runs one case and reports whether it ended right and how
// many duplicates the simulator holds.
func runFaultCase(t *testing.T, tc faultCase) (ok bool, dups int) {
	cfg := tc.sim
	cfg.EntitlementPadding = -1
	s, err := sim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	kr := &memKeyring{}
	fcfg := steps.Config{
		CLIServerURL:     s.CLIServerURL(),
		HTTPClient:       transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}),
		Keyring:          kr,
		PollMin:          2 * time.Millisecond,
		PollMax:          10 * time.Millisecond,
		ProvisionTimeout: 5 * time.Second,
		Retry:            transport.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxElapsed: 2 * time.Second},
		BTPConfigPath:    "/nonexistent/btp-config.json",
	}
	if tc.slowRetry {
		fcfg.Retry.MaxDelay = 500 * time.Millisecond // Retry-After of 1s is honoured up to 1.5s
		fcfg.Retry.MaxElapsed = 5 * time.Second
	}
	sub := tc.sub
	if sub == "" {
		sub = sim.SubFresh
	}
	rt := tc.runtime
	if rt == "" {
		rt = steps.RuntimeCF
	}
	in := steps.HeadlessInput{GlobalAccount: sim.GASubdomain, Subaccount: sub, Runtime: rt, User: sim.AdminUser, Password: sim.AdminPassword}
	if rt == steps.RuntimeOther {
		in.Subaccount = sim.SubNoCF
	}
	if tc.suite {
		in.Subaccount, in.SetupSuite = sim.SubEmpty, true
		fcfg.OpenURL = func(url string) error {
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), caseBound)
	defer cancel()
	first := fcfg
	if tc.provisionTimeout > 0 {
		first.ProvisionTimeout = tc.provisionTimeout
	}
	var stepSeen atomic.Bool
	first.Reporter = steps.ReporterFunc(func(e steps.Event) {
		if e.Step == tc.step {
			stepSeen.Store(true)
			if tc.cancelOn != "" && e.Kind == tc.cancelOn {
				cancel()
			}
		}
	})
	for _, f := range tc.faults {
		s.Inject(f)
	}
	runStart := time.Now()
	res, err := steps.RunHeadless(ctx, steps.New(first), in)
	took := time.Since(runStart)
	if !stepSeen.Load() {
		t.Errorf("the flow never reached step %s", tc.step)
	}
	if tc.minTime > 0 && took < tc.minTime {
		t.Errorf("first run took %s, want at least %s (fault not hit, or Retry-After ignored)", took, tc.minTime)
	}
	for _, f := range s.PendingFaults() {
		if f.Times < 50 { // "beyond the budget" faults are meant to outlast the run
			t.Errorf("fault %s on %s was not (fully) hit: %d left", f.Kind, f.Match, f.Times)
		}
	}
	reqs := s.Requests()
	for prefix, n := range tc.requests {
		if got := countPrefix(reqs, prefix); got < n {
			t.Errorf("%d requests %s, want at least %d (the fault did not hit?)", got, prefix, n)
		}
	}

	switch {
	case tc.wantErr == nil && err != nil:
		t.Errorf("first run failed: %v", err)
		return false, countDuplicates(s)
	case tc.wantErr != nil && err == nil:
		t.Errorf("first run succeeded, want an error with %q", tc.wantErr)
		return false, countDuplicates(s)
	case tc.wantErr != nil:
		t.Logf("first run: %v", err)
		if tc.cancelOn != "" && !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled run ended with %v, want context.Canceled", err)
		}
		for _, w := range tc.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q (cause and fix): %v", w, err)
			}
		}
		if strings.Contains(err.Error(), sim.AdminPassword) {
			t.Error("error contains the password")
		}
		// The rerun: a fresh flow, as a new cpikey process would be.
		s.ClearFaults()
		rctx, rcancel := context.WithTimeout(context.Background(), caseBound)
		defer rcancel()
		if tc.recreate {
			res, err = recreateFailed(rctx, fcfg, in)
		} else {
			res, err = steps.RunHeadless(rctx, steps.New(fcfg), in)
		}
		if err != nil {
			t.Errorf("rerun failed: %v", err)
			return false, countDuplicates(s)
		}
	}

	ok = true
	if !res.Verified {
		t.Errorf("not verified: %v", res.VerifyErr)
		ok = false
	}
	if res.Keychain == nil || res.KeychainErr != nil {
		t.Errorf("secret not saved: %v", res.KeychainErr)
		ok = false
	}
	if got, _ := kr.Get(ctx, steps.KeychainService, res.Keychain.Account); res.Keychain != nil && got != res.Credentials.ClientSecret {
		t.Error("the keychain holds another secret")
		ok = false
	}
	dups = countDuplicates(s)
	if dups > 0 {
		t.Errorf("%d duplicates in the simulator", dups)
		ok = false
	}
	return ok, dups
}

// recreateFailed reruns like the wizard after "instance exists but its
// creation failed": the user chose to recreate it.
func recreateFailed(ctx context.Context, cfg steps.Config, in steps.HeadlessInput) (*steps.Result, error) {
	f := steps.New(cfg)
	if _, err := f.Login(ctx, steps.LoginInput{GlobalAccount: in.GlobalAccount, User: in.User, Password: in.Password}); err != nil {
		return nil, err
	}
	sub, err := f.ResolveSubaccount(ctx, in.Subaccount)
	if err != nil {
		return nil, err
	}
	rep, err := f.Check(ctx, sub, steps.DefaultPlan, in.Runtime)
	if err != nil {
		return nil, err
	}
	if err := f.Entitle(ctx, rep); err != nil {
		return nil, err
	}
	t := steps.Target{Subaccount: sub, Runtime: in.Runtime, Plan: steps.DefaultPlan, Instance: steps.DefaultInstance,
		Key: steps.DefaultKeyName(steps.DefaultInstance), Roles: []string{steps.DefaultRole}}
	if in.Runtime == steps.RuntimeCF {
		t.OrgID, t.OrgName, t.Space = rep.CF.OrgID, rep.CF.OrgName, steps.DefaultSpace
	}
	// Without the user's consent the failed instance is named, not touched.
	_, err = f.Provision(ctx, t)
	var failed *steps.FailedInstanceError
	if !errors.As(err, &failed) {
		return nil, fmt.Errorf("a rerun without consent did not stop at the failed instance: %v", err)
	}
	t.RecreateFailed = true
	return f.Provision(ctx, t)
}

func countPrefix(reqs []string, prefix string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// countDuplicates counts live instances and keys beyond the first of each
// name (per subaccount, space and instance), and entitlement assignments
// beyond the first per plan.
func countDuplicates(s *sim.Server) int {
	dups := 0
	s.Do(func(w *sim.World) {
		seen := map[string]bool{}
		for _, i := range w.Instances {
			if i.Deleted {
				continue
			}
			k := "instance " + i.Subaccount + "/" + i.Space + "/" + i.Name
			if seen[k] {
				dups++
			}
			seen[k] = true
		}
		for _, key := range w.Keys {
			if key.Deleted {
				continue
			}
			k := "key " + key.Instance + "/" + key.Name
			if seen[k] {
				dups++
			}
			seen[k] = true
		}
		for _, a := range w.Assignments {
			k := "assignment " + a.Subaccount + "/" + a.Service + "/" + a.Plan
			if seen[k] {
				dups++
			}
			seen[k] = true
		}
	})
	return dups
}

// TestCountDuplicates_SeesSecondLiveInstancesKeysAndAssignments is the test
// of the matrix's duplicate counter: it must see what it is meant to count.
func TestCountDuplicates_SeesSecondLiveInstancesKeysAndAssignments(t *testing.T) {
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := countDuplicates(s); n != 0 {
		t.Fatalf("a fresh world has %d duplicates", n)
	}
	s.Do(func(w *sim.World) {
		w.Instances = append(w.Instances, &sim.Instance{GUID: "i1", Name: "X", Subaccount: "s", Space: "sp"},
			&sim.Instance{GUID: "i2", Name: "X", Subaccount: "s", Space: "sp"},
			&sim.Instance{GUID: "i3", Name: "X", Subaccount: "s", Space: "sp", Deleted: true})
		w.Keys = append(w.Keys, &sim.Key{GUID: "k1", Name: "K", Instance: "i1"}, &sim.Key{GUID: "k2", Name: "K", Instance: "i1"})
		a := *w.Assignments[0]
		w.Assignments = append(w.Assignments, &a)
	})
	if n := countDuplicates(s); n != 3 {
		t.Fatalf("counted %d duplicates, want 3 (instance, key, assignment)", n)
	}
}
