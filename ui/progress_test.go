package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/steps"
)

func prog(m *model) *progressModel { return m.cur().(*progressModel) }

func atProgress(t *testing.T, m *model) {
	t.Helper()
	atReview(t, m)
	send(m, actionsMsg{id: rev(m).work.id, actions: testActions})
	send(m, enter)
	if m.screen() != screenProgress {
		t.Fatalf("screen %v, want progress", m.screen())
	}
}

func ev(s steps.Step, k steps.EventKind, msg, state string, d time.Duration) steps.Event {
	return steps.Event{Step: s, Kind: k, Message: msg, State: state, Elapsed: d}
}

func TestProgressScreen(t *testing.T) {
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model, c *clock)
	}{
		{"starting", func(*testing.T, *model, *clock) {}},
		{"instance_in_progress", func(t *testing.T, m *model, c *clock) {
			send(m, flowEventsMsg{events: []steps.Event{ev(steps.StepInstance, steps.EventStarted, "Creating service instance CPI_SAMPLE_INSTANCE", "", 0)}})
			c.t = c.t.Add(42 * time.Second)
			send(m, flowEventsMsg{events: []steps.Event{ev(steps.StepInstance, steps.EventWaiting, "Creating service instance CPI_SAMPLE_INSTANCE", "in progress", 42*time.Second)}})
		}},
		{"key_reused_verify_running", func(t *testing.T, m *model, c *clock) {
			send(m, flowEventsMsg{events: []steps.Event{
				ev(steps.StepInstance, steps.EventStarted, "Creating service instance CPI_SAMPLE_INSTANCE", "", 0),
				ev(steps.StepInstance, steps.EventDone, "Created service instance CPI_SAMPLE_INSTANCE", "succeeded", 75*time.Second),
				ev(steps.StepKey, steps.EventReused, "Service key CPI_SAMPLE_INSTANCE-key exists", "", 0),
				ev(steps.StepReveal, steps.EventDone, "Read the credentials", "", time.Second),
				ev(steps.StepVerify, steps.EventStarted, "Fetching a token with the new client", "", 0),
			}})
			c.t = c.t.Add(2 * time.Second)
		}},
		{"failed", func(t *testing.T, m *model, c *clock) {
			send(m, flowEventsMsg{events: []steps.Event{
				ev(steps.StepInstance, steps.EventStarted, "Creating service instance CPI_SAMPLE_INSTANCE", "", 0),
				{Step: steps.StepInstance, Kind: steps.EventFailed, Message: "Service instance CPI_SAMPLE_INSTANCE failed", State: "failed", Elapsed: 31 * time.Second, Err: errors.New("broker: tenant not provisioned")},
			}})
			send(m, provisionDoneMsg{id: prog(m).work.id, err: errors.New(`create instance "CPI_SAMPLE_INSTANCE": the broker reported "failed": Cloud Integration tenant not provisioned in this subaccount`)})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				c := &clock{t: fixedNow}
				m := newTestModel(t, func(o *Options) { o.Now = c.now })
				resize(m, w, h)
				atProgress(t, m)
				tc.drive(t, m, c)
				requireGolden(t, m)
			})
		})
	}
}

func TestProgress_EscBlockedWhileRunningAndPendingNamed(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atProgress(t, m)
	send(m, flowEventsMsg{events: []steps.Event{ev(steps.StepInstance, steps.EventWaiting, "Creating service instance CPI_SAMPLE_INSTANCE", "in progress", time.Second)}})
	send(m, esc)
	if m.screen() != screenProgress {
		t.Fatal("esc went back while provisioning")
	}
	if got := prog(m).pending(); !strings.Contains(got, "creating service instance CPI_SAMPLE_INSTANCE") || !strings.Contains(got, "in progress") {
		t.Fatalf("pending %q", got)
	}
}

func TestProgress_DoneGoesToRevealAndStaleIgnored(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atProgress(t, m)
	p := prog(m)
	send(m, provisionDoneMsg{id: p.work.id + 1, result: testResult()})
	if m.screen() != screenProgress {
		t.Fatal("a stale result was acted on")
	}
	send(m, provisionDoneMsg{id: p.work.id, result: testResult()})
	if m.screen() != screenReveal {
		t.Fatalf("screen %v, want reveal", m.screen())
	}
}

func TestProgress_RetryAfterFailure(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atProgress(t, m)
	p := prog(m)
	first := p.work.id
	send(m, provisionDoneMsg{id: first, err: errors.New("boom")})
	send(m, runes("r"))
	if !p.work.running() || p.work.id == first {
		t.Fatal("r did not run Provision again")
	}
}

func TestProgress_EventsFromReporterReachTheScreen(t *testing.T) {
	rep := NewReporter()
	m := newTestModel(t, func(o *Options) { o.Reporter = rep })
	resize(m, 80, 24)
	atProgress(t, m)
	wait := rep.waitForEvent(m.e.ctx)
	rep.Report(ev(steps.StepInstance, steps.EventWaiting, "Creating service instance CPI_SAMPLE_INSTANCE", "in progress", time.Second))
	msg := wait()
	if next := send(m, msg); next == nil {
		t.Fatal("the event waiter was not re-armed")
	}
	if !strings.Contains(m.View(), "in progress") {
		t.Fatalf("server state not shown:\n%s", m.View())
	}
	// Events still queued when Provision returns are applied, not lost.
	rep.Report(ev(steps.StepKeychain, steps.EventDone, "Saved the client secret in the OS keychain", "", 0))
	p := prog(m)
	send(m, provisionDoneMsg{id: p.work.id, err: errors.New("verify: no token")})
	if p.row(steps.StepKeychain).kind != steps.EventDone {
		t.Fatal("a queued event was lost at the end")
	}
}
