package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/steps"
)

func ent(m *model) *entitleModel { return m.cur().(*entitleModel) }

func atEntitle(t *testing.T, m *model) {
	t.Helper()
	atCheck(t, m, subDev, reportMissing())
	send(m, enter)
	if m.screen() != screenEntitle {
		t.Fatalf("screen %v, want entitle", m.screen())
	}
}

func TestEntitleScreen(t *testing.T) {
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model, c *clock)
	}{
		{"assigning", func(t *testing.T, m *model, c *clock) {
			c.t = c.t.Add(7 * time.Second)
			send(m, flowEventsMsg{events: []steps.Event{{Step: steps.StepEntitle, Kind: steps.EventWaiting, State: "PROCESSING", Elapsed: 7 * time.Second}}})
		}},
		{"failed", func(t *testing.T, m *model, c *clock) {
			send(m, entitleDoneMsg{id: ent(m).work.id, err: errors.New("assign it-rt/api: 403 Forbidden: you are not a global account administrator")})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				c := &clock{t: fixedNow}
				m := newTestModel(t, func(o *Options) { o.Now = c.now })
				resize(m, w, h)
				atEntitle(t, m)
				tc.drive(t, m, c)
				requireGolden(t, m)
			})
		})
	}
}

// TestEntitle_ConfirmedOnTheCheckScreen: the check screen names the plans
// and enter there assigns them (one key); esc cannot abandon SAP's work;
// coming back later shows them assigned and enter goes on.
func TestEntitle_ConfirmedOnTheCheckScreen(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atCheck(t, m, subDev, reportMissing())
	v := m.View()
	for _, p := range []string{"it-rt/integration-flow and it-rt/api", "Press enter to assign"} {
		if !strings.Contains(v, p) {
			t.Errorf("the check screen does not say %q:\n%s", p, v)
		}
	}
	send(m, enter)
	e := ent(m)
	if !e.work.running() {
		t.Fatal("enter on the check screen did not start assigning")
	}
	send(m, esc)
	if m.screen() != screenEntitle {
		t.Fatal("esc went back while SAP was assigning")
	}
	if e.pending() == "" {
		t.Fatal("no exit message while assigning")
	}
	send(m, entitleDoneMsg{id: e.work.id})
	if m.screen() != screenWhere {
		t.Fatalf("after assigning: screen %v, want where", m.screen())
	}
	send(m, esc)
	if m.screen() != screenEntitle || !strings.Contains(m.View(), "Assigned.") {
		t.Fatalf("back on the entitle screen:\n%s", m.View())
	}
	send(m, enter)
	if m.screen() != screenWhere || e.work.running() {
		t.Fatalf("enter after coming back: screen %v, assigning again %v", m.screen(), e.work.running())
	}
}
