package ui

import (
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// BenchmarkStartupToFirstFrame builds the root model and program and renders
// the first frame (target: < 20 ms).
func BenchmarkStartupToFirstFrame(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m := New(Options{Now: func() time.Time { return fixedNow }, Getenv: func(string) string { return "" }, LastGlobalAccount: "acme-global"})
		_ = tea.NewProgram(m, tea.WithInput(strings.NewReader("")), tea.WithOutput(io.Discard))
		_ = m.Init() // Cmds are not run: their I/O is not part of the first frame
		m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		if v := m.View(); len(v) == 0 {
			b.Fatal("empty first frame")
		}
	}
}

// BenchmarkSubaccountFilter types a 6-letter filter one key at a time into
// a list of 5,000 subaccounts (target: < 2 ms per keystroke). bubbles/list
// filters in a Cmd, so each keystroke is Update, running the Cmds it
// returns and feeding their messages back (runCmds, as the runtime would),
// then View: the filtering itself is counted. ns/key is reported; B/op and
// allocs/op are per round of 6 keys.
func BenchmarkSubaccountFilter(b *testing.B) {
	m := New(Options{Now: func() time.Time { return fixedNow }, Getenv: func(string) string { return "" }}).(*model)
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.apply(loggedIn{acct: testAccount})
	s := m.cur().(*subaccountModel)
	all := manySubs(5000)
	m.Update(subaccountsLoadedMsg{id: s.work.id, items: all})
	const query = "financ"
	want := 0
	for _, sub := range all {
		if strings.Contains(strings.ToLower(sub.Name), query) {
			want++
		}
	}
	keys := make([]tea.KeyMsg, len(query))
	for i, r := range query {
		keys[i] = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, k := range keys {
			_, cmd := m.Update(k)
			runCmds(b, m, cmd)
			_ = m.View()
			n++
		}
		b.StopTimer()
		if got := len(s.list.VisibleItems()); got != want || s.shown != query {
			b.Fatalf("after typing %q: %d rows for %q, want %d", query, got, s.shown, want)
		}
		m.Update(tea.KeyMsg{Type: tea.KeyEsc}) // clear the filter
		if s.typing() || len(s.list.VisibleItems()) != len(all) {
			b.Fatal("filter not cleared between rounds")
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/key")
}
