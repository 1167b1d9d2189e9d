package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/steps"
)

func subs(m *model) *subaccountModel { return m.cur().(*subaccountModel) }

// atSubaccounts logs in (as the login screen's transition would) and
// delivers the list.
func atSubaccounts(t *testing.T, m *model, items []steps.SubaccountInfo) {
	t.Helper()
	m.apply(loggedIn{acct: testAccount})
	if m.screen() != screenSubaccount {
		t.Fatalf("screen %v, want subaccount", m.screen())
	}
	if items != nil {
		send(m, subaccountsLoadedMsg{id: subs(m).reqID, items: items})
	}
}

func manySubs(n int) []steps.SubaccountInfo {
	out := make([]steps.SubaccountInfo, n)
	regions := []string{"eu10", "eu20", "us10", "ap10", "jp10"}
	for i := range out {
		out[i] = steps.SubaccountInfo{
			ID:        fmt.Sprintf("5a0c%04d-0000-4000-8000-%012d", i, i),
			Name:      fmt.Sprintf("Project %04d %s", i, []string{"Finance", "Logistics", "HR", "Sales"}[i%4]),
			Subdomain: fmt.Sprintf("acme-proj-%04d", i),
			Region:    regions[i%len(regions)],
			Path:      []string{"", "Integration Projects", "Integration Projects / QA", "Sandboxes"}[i%4],
		}
	}
	return out
}

func TestSubaccountScreen(t *testing.T) {
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model)
	}{
		{"loading", func(t *testing.T, m *model) { atSubaccounts(t, m, nil) }},
		{"three", func(t *testing.T, m *model) { atSubaccounts(t, m, testSubs) }},
		{"filtered_qa", func(t *testing.T, m *model) {
			atSubaccounts(t, m, testSubs)
			typeText(m, "qa")
		}},
		{"hundreds_scrolled", func(t *testing.T, m *model) {
			atSubaccounts(t, m, manySubs(500))
			for range 30 {
				send(m, down)
			}
		}},
		{"load_failed", func(t *testing.T, m *model) {
			atSubaccounts(t, m, nil)
			send(m, subaccountsLoadedMsg{id: subs(m).reqID, err: errors.New("GET accounts/subaccount: 503 Service Unavailable")})
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

func TestSubaccount_FilterNarrowsAndEnterChooses(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	s := subs(m)
	if len(s.visible) != 3 || s.items[s.visible[0]].info.Name != "CPI Dev" {
		t.Fatalf("list not sorted by name: %+v", s.visible)
	}
	typeText(m, "sandbox")
	if len(s.visible) != 1 {
		t.Fatalf("filter 'sandbox' shows %d rows, want 1", len(s.visible))
	}
	send(m, enter)
	if m.screen() != screenCheck || m.c.sub.ID != subSandbox.ID {
		t.Fatalf("enter chose %q on screen %v", m.c.sub.Name, m.screen())
	}
}

func TestSubaccount_FilterMatchesAllColumnsAndTerms(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	s := subs(m)
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"us10", 1}, {"integration projects", 2}, {"ACME-CPI", 2}, {"qa eu10", 1}, {"qa us10", 0}, {"000000000003", 1},
	} {
		s.filter.SetValue(tc.q)
		s.applyFilter()
		if len(s.visible) != tc.want {
			t.Errorf("filter %q: %d rows, want %d", tc.q, len(s.visible), tc.want)
		}
	}
}

func TestSubaccount_EscClearsFilterThenGoesBack(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	typeText(m, "qa")
	send(m, esc)
	if s := subs(m); s.filter.Value() != "" || len(s.visible) != 3 {
		t.Fatal("esc did not clear the filter")
	}
	send(m, esc)
	if m.screen() != screenLogin {
		t.Fatalf("second esc: screen %v, want login", m.screen())
	}
}

func TestSubaccount_StaleLoadIgnored(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, nil)
	s := subs(m)
	send(m, subaccountsLoadedMsg{id: s.reqID - 1, items: testSubs})
	if len(s.items) != 0 || s.running == "" {
		t.Fatal("a stale list was shown")
	}
}

func TestSubaccount_FlagResolvesWithoutList(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.Subaccount = "CPI QA" })
	resize(m, 80, 24)
	m.apply(loggedIn{acct: testAccount})
	s := subs(m)
	if !strings.Contains(s.running, "CPI QA") {
		t.Fatalf("running %q, want a lookup of CPI QA", s.running)
	}
	send(m, subaccountResolvedMsg{id: s.reqID, sub: subQA})
	if m.screen() != screenCheck || m.c.sub.ID != subQA.ID {
		t.Fatalf("screen %v, sub %q", m.screen(), m.c.sub.Name)
	}
	// Coming back shows the list instead of resolving again.
	send(m, esc)
	if m.screen() != screenSubaccount || subs(m).running != "Loading subaccounts" {
		t.Fatalf("back: screen %v running %q", m.screen(), subs(m).running)
	}
}

func TestSubaccount_UnknownFlagFallsBackToList(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.Subaccount = "nope" })
	resize(m, 80, 24)
	m.apply(loggedIn{acct: testAccount})
	s := subs(m)
	send(m, subaccountResolvedMsg{id: s.reqID, err: errors.New(`no subaccount "nope"`)})
	send(m, subaccountsLoadedMsg{id: s.reqID, items: testSubs})
	if m.screen() != screenSubaccount || len(s.items) != 3 || !strings.Contains(m.View(), `No subaccount "nope"`) {
		t.Fatalf("want the list with the reason:\n%s", m.View())
	}
}
