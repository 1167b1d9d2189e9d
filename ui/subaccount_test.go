package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

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
		send(m, subaccountsLoadedMsg{id: subs(m).work.id, items: items})
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

// runCmds does what the Bubble Tea runtime does with cmd: runs it, unpacks
// batches and feeds every message back through Update, then runs the Cmds
// that returns. Here it runs them in order, on this goroutine. It gives up
// after 100 messages, so a ticking Cmd cannot loop forever.
func runCmds(tb testing.TB, m *model, cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for n := 0; len(queue) > 0; n++ {
		if n > 100 {
			tb.Fatal("Cmds keep coming: a ticking Cmd in the loop")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// filterText types s one key at a time, letting each key's filter Cmd
// come back before the next key (as a person types).
func filterText(t *testing.T, m *model, s string) {
	t.Helper()
	for _, r := range s {
		runCmds(t, m, send(m, runes(string(r))))
	}
}

// shownNames are the rows the list shows now, in order.
func shownNames(s *subaccountModel) []string {
	var out []string
	for _, it := range s.list.VisibleItems() {
		out = append(out, it.(*subItem).info.Name)
	}
	return out
}

func TestSubaccountScreen(t *testing.T) {
	cases := []struct {
		name  string
		opts  func(*Options)
		drive func(t *testing.T, m *model)
	}{
		{"loading", nil, func(t *testing.T, m *model) { atSubaccounts(t, m, nil) }},
		{"three", nil, func(t *testing.T, m *model) { atSubaccounts(t, m, testSubs) }},
		{"filtered_qa", nil, func(t *testing.T, m *model) {
			atSubaccounts(t, m, testSubs)
			filterText(t, m, "qa")
		}},
		{"filter_opened", nil, func(t *testing.T, m *model) {
			atSubaccounts(t, m, testSubs)
			send(m, runes("/"))
		}},
		{"nothing_matches", nil, func(t *testing.T, m *model) {
			atSubaccounts(t, m, testSubs)
			filterText(t, m, "zz")
		}},
		{"hundreds_scrolled", nil, func(t *testing.T, m *model) {
			atSubaccounts(t, m, manySubs(500))
			for range 30 {
				send(m, down)
			}
		}},
		{"hundreds_filtered_paged", nil, func(t *testing.T, m *model) {
			atSubaccounts(t, m, manySubs(500))
			filterText(t, m, "hr qa")
			send(m, tea.KeyMsg{Type: tea.KeyPgDown}, down)
		}},
		{"ascii", func(o *Options) { o.ASCII = true }, func(t *testing.T, m *model) {
			atSubaccounts(t, m, manySubs(40))
			send(m, down)
			if strings.ContainsAny(m.View(), "✓✗•›·…↑↓–") {
				t.Fatal("ASCII mode rendered a non-ASCII glyph")
			}
		}},
		{"load_failed", nil, func(t *testing.T, m *model) {
			atSubaccounts(t, m, nil)
			send(m, subaccountsLoadedMsg{id: subs(m).work.id, err: errors.New("GET accounts/subaccount: 503 Service Unavailable")})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				var m *model
				if tc.opts != nil {
					m = newTestModel(t, tc.opts)
				} else {
					m = newTestModel(t)
				}
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
	if got := shownNames(s); !slices.Equal(got, []string{"CPI Dev", "CPI QA", "Sandbox (no CF)"}) {
		t.Fatalf("list not sorted by name: %q", got)
	}
	filterText(t, m, "sandbox")
	if got := shownNames(s); len(got) != 1 {
		t.Fatalf("filter 'sandbox' shows %q, want 1 row", got)
	}
	send(m, enter)
	if m.screen() != screenCheck || m.c.sub.ID != subSandbox.ID {
		t.Fatalf("enter chose %q on screen %v", m.c.sub.Name, m.screen())
	}
}

// The filter runs in a Cmd; Enter pressed before its result is back must
// still choose from what was typed, not from the rows shown before.
func TestSubaccount_EnterBeforeFilterResultChoosesTypedMatch(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	typeText(m, "sandbox") // Cmds dropped: no result arrives
	if got := shownNames(subs(m)); len(got) != 3 {
		t.Fatalf("rows %q: the filter result arrived without its Cmd", got)
	}
	send(m, enter)
	if m.screen() != screenCheck || m.c.sub.ID != subSandbox.ID {
		t.Fatalf("enter chose %q on screen %v, want Sandbox", m.c.sub.Name, m.screen())
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
		{"  cpi   dev ", 1}, {"", 3},
	} {
		s.list.SetFilterText(tc.q)
		if got := len(s.list.VisibleItems()); got != tc.want {
			t.Errorf("filter %q: %d rows, want %d", tc.q, got, tc.want)
		}
	}
}

func TestFilterSubs_RanksAndMatchedRunes(t *testing.T) {
	targets := []string{
		newSubItem(steps.SubaccountInfo{Name: "Zürich Ünit", Subdomain: "zh-unit", Region: "eu10"}).lower,
		newSubItem(subQA).lower,
		newSubItem(subDev).lower,
	}
	for _, tc := range []struct {
		q    string
		want []list.Rank
	}{
		{"ünit", []list.Rank{{Index: 0, MatchedIndexes: []int{7, 8, 9, 10}}}},
		{"RICH EU", []list.Rank{{Index: 0, MatchedIndexes: []int{2, 3, 4, 5, 20, 21}}}},
		{"cpi qa", []list.Rank{{Index: 1, MatchedIndexes: []int{0, 1, 2, 4, 5}}}},
		{"i i", []list.Rank{{Index: 0, MatchedIndexes: []int{3}}, {Index: 1, MatchedIndexes: []int{2}}, {Index: 2, MatchedIndexes: []int{2}}}},
		{"nowhere", nil},
	} {
		got := filterSubs(tc.q, targets)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("filter %q: %v, want %v", tc.q, got, tc.want)
		}
	}
}

// Letters the list binds by default (q quits, j/k move, g/G jump) are
// text here: typing any of them filters.
func TestSubaccount_TypingStartsFilteringWithAnyLetter(t *testing.T) {
	for _, r := range []string{"q", "j", "k", "g", "G", "h", "l", "d", "r"} {
		m := newTestModel(t)
		resize(m, 80, 24)
		atSubaccounts(t, m, testSubs)
		runCmds(t, m, send(m, runes(r)))
		s := subs(m)
		if m.screen() != screenSubaccount || !s.typing() || s.list.FilterValue() != r {
			t.Errorf("%q: screen %v typing %v filter %q", r, m.screen(), s.typing(), s.list.FilterValue())
		}
	}
}

func TestSubaccount_ArrowsMoveThroughMatchesWhileFiltering(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	filterText(t, m, "integration")
	send(m, down)
	s := subs(m)
	if !s.typing() {
		t.Fatal("down left the filter line")
	}
	filterText(t, m, " p") // still typing into the filter
	if s.list.FilterValue() != "integration p" {
		t.Fatalf("filter %q", s.list.FilterValue())
	}
	send(m, down)
	send(m, enter)
	if m.c.sub.ID != subSandbox.ID {
		t.Fatalf("chose %q, want the second match", m.c.sub.Name)
	}
}

// The list does not re-page when a filter result arrives; End right after
// one must still land on the last match, not on an empty page.
func TestSubaccount_EndWhileFilteringGoesToLastMatch(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, manySubs(500))
	filterText(t, m, "h") // 500 rows -> the 125 HR ones
	send(m, tea.KeyMsg{Type: tea.KeyEnd})
	if sub, ok := subs(m).chosen(); !ok || sub.Name != "Project 0498 HR" {
		t.Fatalf("end: %q (%v), want the last match", sub.Name, ok)
	}
	if v := m.View(); !strings.Contains(v, "› Project 0498 HR") || !strings.Contains(v, "125 of 500 subaccounts · 121-125") {
		t.Fatalf("last page not shown:\n%s", v)
	}
}

func TestSubaccount_StaleFilterResultIgnored(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	slow := send(m, runes("c")) // "c": all three rows
	fast := send(m, runes("x")) // "cx": none
	runCmds(t, m, fast)
	runCmds(t, m, slow) // arrives late
	if got := shownNames(subs(m)); len(got) != 0 {
		t.Fatalf("the late result for %q replaced the one for %q: %q", "c", "cx", got)
	}
	runCmds(t, m, send(m, backspan))
	send(m, esc)
	runCmds(t, m, slow) // after the filter was cleared
	if s := subs(m); s.typing() || len(shownNames(s)) != 3 {
		t.Fatalf("a result after Esc reopened the filter: %q", shownNames(s))
	}
}

func TestSubaccount_EscClearsFilterThenGoesBack(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, testSubs)
	filterText(t, m, "qa")
	send(m, esc)
	if s := subs(m); s.list.FilterValue() != "" || len(shownNames(s)) != 3 || s.typing() {
		t.Fatal("esc did not clear the filter")
	}
	if sub, _ := subs(m).chosen(); sub.ID != subQA.ID {
		t.Fatalf("after clearing, the cursor is on %q, want the row it was on (CPI QA)", sub.Name)
	}
	send(m, esc)
	if m.screen() != screenLogin {
		t.Fatalf("second esc: screen %v, want login", m.screen())
	}
}

func TestSubaccount_PagesThroughHundreds(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, manySubs(500))
	s := subs(m)
	per := s.list.Paginator.PerPage
	if per != 24-3-1-subChrome { // header, gap, help bar; screen chrome
		t.Fatalf("%d rows a page", per)
	}
	send(m, tea.KeyMsg{Type: tea.KeyEnd})
	if sub, _ := s.chosen(); sub.Name != "Project 0499 Sales" {
		t.Fatalf("end: %q", sub.Name)
	}
	send(m, tea.KeyMsg{Type: tea.KeyHome}, tea.KeyMsg{Type: tea.KeyPgDown}, down)
	if sub, _ := s.chosen(); sub.Name != manySubs(per + 2)[per+1].Name {
		t.Fatalf("home, pgdn, down: %q", sub.Name)
	}
	if v := m.View(); !strings.Contains(v, fmt.Sprintf("500 subaccounts · %d-%d", per+1, 2*per)) {
		t.Fatalf("counts line lacks the page range:\n%s", v)
	}
}

func TestSubaccount_ResizeKeepsTheChosenRow(t *testing.T) {
	m := newTestModel(t)
	resize(m, 120, 40)
	atSubaccounts(t, m, manySubs(500))
	for range 40 {
		send(m, down)
	}
	resize(m, 80, 24)
	s := subs(m)
	if sub, _ := s.chosen(); sub.Name != "Project 0040 Finance" {
		t.Fatalf("after resize the cursor is on %q", sub.Name)
	}
	if !strings.Contains(m.View(), "Project 0040 Finance") {
		t.Fatal("the cursor row is not on screen after resize")
	}
}

func TestSubaccount_DefaultSubaccountIsPreselected(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.DefaultSubaccount = "acme-proj-0321" })
	resize(m, 80, 24)
	atSubaccounts(t, m, manySubs(500))
	if sub, _ := subs(m).chosen(); sub.Subdomain != "acme-proj-0321" {
		t.Fatalf("cursor on %q, want the demo default", sub.Subdomain)
	}
	if !strings.Contains(m.View(), "› Project 0321") {
		t.Fatalf("the preselected row is not on screen:\n%s", m.View())
	}
}

// Matched letters are underlined when colours are on (the goldens run
// without colour, where the rows must stay plain).
func TestSubaccount_MatchesUnderlinedOnlyWithColour(t *testing.T) {
	m := newTestModel(t)
	resize(m, 120, 40)
	atSubaccounts(t, m, testSubs)
	filterText(t, m, "sandbox us10")
	if v := m.View(); strings.Contains(v, hlOn) {
		t.Fatal("underline without colours")
	}
	lipgloss.SetColorProfile(termenv.ANSI)
	t.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) })
	v := m.View()
	if !strings.Contains(v, hlOn+"Sandbox"+hlOff) || !strings.Contains(v, hlOn+"us10"+hlOff) {
		t.Fatalf("matches not underlined in name and region: %q", v)
	}
	a := newTestModel(t, func(o *Options) { o.ASCII = true })
	resize(a, 120, 40)
	atSubaccounts(t, a, testSubs)
	filterText(t, a, "sandbox")
	if strings.Contains(a.View(), hlOn) {
		t.Fatal("underline in ASCII mode")
	}
}

func TestSubaccount_StaleLoadIgnored(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, nil)
	s := subs(m)
	send(m, subaccountsLoadedMsg{id: s.work.id - 1, items: testSubs})
	if s.total != 0 || len(s.list.Items()) != 0 || s.work.what == "" {
		t.Fatal("a stale list was shown")
	}
}

func TestSubaccount_RetryAfterFailedLoad(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atSubaccounts(t, m, nil)
	s := subs(m)
	send(m, subaccountsLoadedMsg{id: s.work.id, err: errors.New("503")})
	if send(m, runes("r")) == nil || s.work.what != "Loading subaccounts" {
		t.Fatalf("r did not reload: running %q", s.work.what)
	}
	send(m, subaccountsLoadedMsg{id: s.work.id, items: testSubs})
	if len(shownNames(s)) != 3 || s.err != nil {
		t.Fatalf("rows %q err %v", shownNames(s), s.err)
	}
}

func TestSubaccount_FlagResolvesWithoutList(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.Subaccount = "CPI QA" })
	resize(m, 80, 24)
	m.apply(loggedIn{acct: testAccount})
	s := subs(m)
	if !strings.Contains(s.work.what, "CPI QA") {
		t.Fatalf("running %q, want a lookup of CPI QA", s.work.what)
	}
	send(m, subaccountResolvedMsg{id: s.work.id, sub: subQA})
	if m.screen() != screenCheck || m.c.sub.ID != subQA.ID {
		t.Fatalf("screen %v, sub %q", m.screen(), m.c.sub.Name)
	}
	// Coming back shows the list instead of resolving again.
	send(m, esc)
	if m.screen() != screenSubaccount || subs(m).work.what != "Loading subaccounts" {
		t.Fatalf("back: screen %v running %q", m.screen(), subs(m).work.what)
	}
}

func TestSubaccount_UnknownFlagFallsBackToList(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.Subaccount = "nope" })
	resize(m, 80, 24)
	m.apply(loggedIn{acct: testAccount})
	s := subs(m)
	send(m, subaccountResolvedMsg{id: s.work.id, err: errors.New(`no subaccount "nope"`)})
	send(m, subaccountsLoadedMsg{id: s.work.id, items: testSubs})
	if m.screen() != screenSubaccount || s.total != 3 || !strings.Contains(m.View(), `No subaccount "nope"`) {
		t.Fatalf("want the list with the reason:\n%s", m.View())
	}
}
