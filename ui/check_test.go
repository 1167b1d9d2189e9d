package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/steps"
)

func chk(m *model) *checkModel { return m.cur().(*checkModel) }

// atCheck walks to the check screen for sub and delivers report (nil:
// still running).
func atCheck(t *testing.T, m *model, sub steps.SubaccountInfo, report *steps.CheckReport) {
	t.Helper()
	atSubaccounts(t, m, testSubs)
	m.apply(subaccountChosen{sub: sub})
	if report != nil {
		send(m, checkDoneMsg{id: chk(m).work.id, report: report})
	}
}

func TestCheckScreen(t *testing.T) {
	noService := reportMissing()
	noService.GlobalAccountHasService = false
	noService.Items[0] = steps.CheckItem{OK: false, Title: "Global account has it-rt (Process Integration Runtime)", Detail: "Not purchased: SAP Integration Suite is missing."}
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model)
	}{
		{"running", func(t *testing.T, m *model) { atCheck(t, m, subDev, nil) }},
		{"missing_plans", func(t *testing.T, m *model) { atCheck(t, m, subDev, reportMissing()) }},
		{"all_ready", func(t *testing.T, m *model) { atCheck(t, m, subQA, reportReady()) }},
		{"global_account_lacks_service", func(t *testing.T, m *model) { atCheck(t, m, subDev, noService) }},
		{"failed", func(t *testing.T, m *model) {
			atCheck(t, m, subDev, nil)
			send(m, checkDoneMsg{id: chk(m).work.id, err: errors.New("list entitlements: 500 Internal Server Error")})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				m := newTestModel(t)
				resize(m, w, h)
				tc.drive(t, m)
				requireGolden(t, m)
			})
		})
	}
}

func TestCheck_EnterGoesToEntitleOnlyWhenPlansMissing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		report *steps.CheckReport
		want   screen
	}{
		{"missing", reportMissing(), screenEntitle},
		{"ready", reportReady(), screenWhere},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t)
			resize(m, 80, 24)
			atCheck(t, m, tc.report.Subaccount, tc.report)
			send(m, enter)
			if m.screen() != tc.want {
				t.Fatalf("screen %v, want %v", m.screen(), tc.want)
			}
		})
	}
}

func TestCheck_BlockedWithoutServiceAndRetryAfterError(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	r := reportMissing()
	r.GlobalAccountHasService = false
	atCheck(t, m, subDev, r)
	send(m, enter)
	if m.screen() != screenCheck {
		t.Fatal("continued although the global account has no it-rt")
	}
	c := chk(m)
	c.init()
	id := c.work.id
	send(m, checkDoneMsg{id: id, err: errors.New("boom")})
	send(m, runes("r"))
	if !c.work.running() || c.work.id == id {
		t.Fatal("r did not re-run the check")
	}
	if !strings.Contains(m.View(), "Checking") {
		t.Fatal("no spinner line while checking")
	}
}

func TestCheck_UsesPlanAndRuntimeFromFlags(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.Plan = "api"; o.Prefill.Runtime = steps.RuntimeOther })
	resize(m, 80, 24)
	atCheck(t, m, subDev, nil)
	if c := chk(m); c.plan != "api" || c.runtime != steps.RuntimeOther {
		t.Fatalf("check asked for plan %q runtime %q", c.plan, c.runtime)
	}
}
