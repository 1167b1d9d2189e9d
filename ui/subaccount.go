package ui

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/cpikey/cpikey/steps"
)

type (
	subaccountsLoadedMsg struct {
		id    uint64
		items []steps.SubaccountInfo
		err   error
		// prepared is items sorted, lower-cased and boxed for the list; the
		// load Cmd does it so Update stays cheap with thousands of rows.
		prepared []list.Item
	}
	subaccountResolvedMsg struct {
		id  uint64
		sub steps.SubaccountInfo
		err error
	}
	// subFilterMsg is the list's FilterMatchesMsg tagged with the query it
	// was computed for: the list filters in a Cmd and its result carries no
	// tag, so a slow result for "fi" could overwrite the one for "fin".
	subFilterMsg struct {
		query   string
		matches list.FilterMatchesMsg
	}
)

// subItem is one row. lower is what the filter searches: name, subdomain,
// region, directory path and GUID, lower-cased once at load time; off holds
// the rune offset of each of the first four in lower, so matches can be
// highlighted in their column.
type subItem struct {
	info    steps.SubaccountInfo
	lower   string
	off     [4]int
	nameEnd int // bytes of the lower-cased name at the start of lower: the sort key
}

// FilterValue implements list.Item.
func (s *subItem) FilterValue() string { return s.lower }

func newSubItem(s steps.SubaccountInfo) *subItem {
	it := &subItem{info: s}
	var b strings.Builder
	r := 0
	for i, f := range [...]string{s.Name, s.Subdomain, s.Region, s.Path, s.ID} {
		if i > 0 {
			b.WriteByte(' ')
			r++
		}
		if i < len(it.off) {
			it.off[i] = r
		}
		// strings.ToLower maps rune by rune, so rune offsets survive it.
		l := strings.ToLower(f)
		if i == 0 {
			it.nameEnd = len(l)
		}
		b.WriteString(l)
		r += utf8.RuneCountInString(l)
	}
	it.lower = b.String()
	return it
}

// prepareSubs sorts by name (then path) and builds the list items.
func prepareSubs(in []steps.SubaccountInfo) []list.Item {
	subs := make([]*subItem, len(in))
	for i, s := range in {
		subs[i] = newSubItem(s)
	}
	sort.SliceStable(subs, func(a, b int) bool {
		x, y := subs[a], subs[b]
		if xn, yn := x.lower[:x.nameEnd], y.lower[:y.nameEnd]; xn != yn {
			return xn < yn
		}
		return x.info.Path < y.info.Path
	})
	items := make([]list.Item, len(subs))
	for i, s := range subs {
		items[i] = s
	}
	return items
}

// filterSubs is the list's FilterFunc: every space-separated term must occur
// (case-insensitively, as a substring) somewhere in the row; rows keep list
// order. The list's fuzzy DefaultFilter would let "qa us10" match rows in
// eu10, and at 5,000 rows it takes ~8 ms a keystroke against ~0.2 ms here.
// MatchedIndexes mark the first occurrence of each term, for highlighting.
func filterSubs(term string, targets []string) []list.Rank {
	terms := strings.Fields(strings.ToLower(term))
	if len(terms) == 0 {
		ranks := make([]list.Rank, len(targets))
		for i := range targets {
			ranks[i].Index = i
		}
		return ranks
	}
	// First pass: which rows match. Only those are scanned again for the
	// matched runes, into one backing array, so a keystroke costs a few
	// allocations rather than one per row.
	var hits []int
	for i, t := range targets {
		if matchAll(t, terms) {
			hits = append(hits, i)
		}
	}
	if len(hits) == 0 {
		return nil
	}
	per := 0
	for _, q := range terms {
		per += utf8.RuneCountInString(q)
	}
	ranks := make([]list.Rank, len(hits))
	slab := make([]int, 0, per*len(hits))
	for n, i := range hits {
		t, start := targets[i], len(slab)
		for _, q := range terms {
			r := utf8.RuneCountInString(t[:strings.Index(t, q)])
			for range utf8.RuneCountInString(q) {
				slab = append(slab, r)
				r++
			}
		}
		m := slab[start:len(slab):len(slab)]
		if len(terms) > 1 {
			m = sortUnique(m)
		}
		ranks[n] = list.Rank{Index: i, MatchedIndexes: m}
	}
	return ranks
}

func matchAll(s string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

func sortUnique(s []int) []int {
	sort.Ints(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// tagFilter wraps a Cmd from the list so its FilterMatchesMsg (possibly
// inside a batch) comes back as a subFilterMsg for query.
func tagFilter(cmd tea.Cmd, query string) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case list.FilterMatchesMsg:
			return subFilterMsg{query: query, matches: msg}
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				out[i] = tagFilter(c, query)
			}
			return out
		default:
			return msg
		}
	}
}

// subaccountModel is screen 2: a filterable bubbles/list of all
// subaccounts. The list is the rows only (its title, status bar, paginator
// and help are off): the screen draws the filter line, the column heads
// and the counts line itself, and the root draws the one help bar.
//
// The list is either Unfiltered or Filtering (its FilterApplied state is
// not used): typing any letter opens the filter, and while it is open the
// list has the keys, except Enter (choose the row) and the arrows, paging,
// Home and End (move through the matches without closing the filter).
// Esc clears the filter, a second Esc goes back.
type subaccountModel struct {
	e    *env
	w, h int
	spin spinner.Model

	list  list.Model
	cols  *subDelegate // the list's delegate; the screen sets its column widths
	total int
	// shown is the query the list's filtered rows were computed for; while
	// it differs from the filter text a result is still on its way.
	shown string

	running string
	reqID   uint64
	cancel  context.CancelFunc
	err     error
	resolve string // ref from --subaccount, resolved without asking
	prefer  string // ref the cursor starts on (demo default)
}

func newSubaccount(e *env) *subaccountModel {
	d := &subDelegate{st: e.st, marks: !e.opts.ASCII}
	l := list.New(nil, d, 0, 0)
	l.SetShowTitle(false)
	l.SetShowFilter(false)
	l.SetShowStatusBar(false)
	l.SetShowPagination(false)
	l.SetShowHelp(false)
	l.DisableQuitKeybindings()
	l.Filter = filterSubs
	l.KeyMap = listKeys(e.keys)
	f := &l.FilterInput
	f.Prompt = "Filter: "
	f.PromptStyle = lipgloss.NewStyle()
	f.Placeholder = "type part of a name, subdomain, region or directory"
	f.CharLimit = 64
	// A blinking cursor would start a timer Cmd on every keystroke.
	f.Cursor.SetMode(cursor.CursorStatic)
	f.Blur()
	return &subaccountModel{e: e, spin: e.newSpinner(), list: l, cols: d,
		resolve: e.opts.Prefill.Subaccount, prefer: e.opts.Prefill.DefaultSubaccount}
}

// listKeys maps the wizard's keys onto the list. Letters stay free: typing
// filters. Enter, Esc (unless filtering) and help belong to the screen and
// the root.
func listKeys(k keyMap) list.KeyMap {
	none := key.NewBinding()
	return list.KeyMap{
		CursorUp: k.Up, CursorDown: k.Down, PrevPage: k.PgUp, NextPage: k.PgDn,
		GoToStart: k.Home, GoToEnd: k.End, Filter: k.Filter,
		ClearFilter:          none,
		CancelWhileFiltering: withHelp(k.Back, "esc", "clear filter"),
		AcceptWhileFiltering: none,
		ShowFullHelp:         none, CloseFullHelp: none, Quit: none, ForceQuit: none,
	}
}

func (m *subaccountModel) id() screen { return screenSubaccount }

func (m *subaccountModel) init() tea.Cmd {
	if m.resolve != "" {
		ref := m.resolve
		m.resolve = "" // only once; coming back shows the list
		m.start("Looking up subaccount " + ref)
		id, flow, ctx := m.reqID, m.e.flow, m.ctx()
		return tea.Batch(m.spin.Tick, func() tea.Msg {
			sub, err := flow.ResolveSubaccount(ctx, ref)
			return subaccountResolvedMsg{id: id, sub: sub, err: err}
		})
	}
	return m.load()
}

func (m *subaccountModel) ctx() context.Context {
	ctx, cancel := context.WithCancel(m.e.ctx)
	m.cancel = cancel
	return ctx
}

func (m *subaccountModel) start(what string) {
	m.stop()
	m.running = what
	m.err = nil
	m.reqID = m.e.newID()
}

func (m *subaccountModel) stop() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.running = ""
	m.reqID = 0
}

func (m *subaccountModel) load() tea.Cmd {
	m.start("Loading subaccounts")
	id, flow, ctx := m.reqID, m.e.flow, m.ctx()
	return tea.Batch(m.spin.Tick, func() tea.Msg {
		items, err := flow.Subaccounts(ctx)
		return subaccountsLoadedMsg{id: id, items: items, err: err, prepared: prepareSubs(items)}
	})
}

// setItems shows prepared rows, unfiltered, on the preferred row if any.
func (m *subaccountModel) setItems(items []list.Item) {
	m.list.ResetFilter()
	m.shown = ""
	m.list.SetItems(items) // unfiltered: no Cmd
	m.total = len(items)
	m.list.GoToStart()
	if m.prefer == "" {
		return
	}
	for i, it := range items {
		s := it.(*subItem).info
		if s.Name == m.prefer || s.Subdomain == m.prefer || s.ID == m.prefer {
			m.list.Select(i)
			return
		}
	}
}

func (m *subaccountModel) filtering() bool { return m.list.FilterState() == list.Filtering }

// startFiltering opens the filter line with every row still shown (the
// list's own "/" does the same) until the first result arrives.
func (m *subaccountModel) startFiltering() {
	if m.list.FilterValue() == "" {
		m.list.SetFilterText("")
		m.shown = ""
	}
	m.list.SetFilterState(list.Filtering)
}

// settle makes the rows match the filter text now, in Update: Enter must
// choose from what was typed even if the filter Cmd has not come back.
func (m *subaccountModel) settle() {
	if !m.filtering() || m.shown == m.list.FilterValue() {
		return
	}
	q := m.list.FilterValue()
	m.list.SetFilterText(q)
	m.list.SetFilterState(list.Filtering)
	m.shown = q
}

func (m *subaccountModel) chosen() (steps.SubaccountInfo, bool) {
	if it, ok := m.list.SelectedItem().(*subItem); ok {
		return it.info, true
	}
	return steps.SubaccountInfo{}, false
}

// toList hands msg to the list; a filter Cmd it returns is tagged with the
// filter text it was made for.
func (m *subaccountModel) toList(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.list, cmd = m.list.Update(msg)
	return tagFilter(cmd, m.list.FilterValue())
}

func (m *subaccountModel) update(msg tea.Msg) (tea.Cmd, transition) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if m.running == "" {
			return nil, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd, nil
	case subaccountResolvedMsg:
		if msg.id != m.reqID {
			return nil, nil
		}
		m.stop()
		if msg.err != nil {
			// Fall back to the list, saying why.
			cmd := m.load()
			m.err = msg.err
			return cmd, nil
		}
		return nil, subaccountChosen{sub: msg.sub}
	case subaccountsLoadedMsg:
		if msg.id != m.reqID {
			return nil, nil
		}
		m.stop()
		if msg.err != nil {
			m.err = fmt.Errorf("list subaccounts: %w", msg.err)
			return nil, nil
		}
		if msg.prepared == nil && msg.items != nil {
			msg.prepared = prepareSubs(msg.items) // messages built by hand (tests)
		}
		m.setItems(msg.prepared)
		return nil, nil
	case subFilterMsg:
		q := m.list.FilterValue()
		if !m.filtering() || msg.query != q {
			return nil, nil // stale: the filter text moved on
		}
		m.list, _ = m.list.Update(msg.matches)
		if m.shown != q {
			m.list.GoToStart()
		}
		m.shown = q
		m.list.SetHeight(m.list.Height()) // the list does not re-page on results
		return nil, nil
	case list.FilterMatchesMsg:
		return nil, nil // only tagged results are trusted
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m.toList(msg), nil
}

func (m *subaccountModel) key(msg tea.KeyMsg) (tea.Cmd, transition) {
	k := m.e.keys
	if m.running != "" {
		if key.Matches(msg, k.Back) { // a read: safe to abandon
			m.stop()
			return nil, goBack{}
		}
		return nil, nil
	}
	if key.Matches(msg, k.Enter) {
		m.settle()
		if sub, ok := m.chosen(); ok {
			return nil, subaccountChosen{sub: sub}
		}
		return nil, nil
	}
	if m.filtering() {
		// The list has the keys, except that the arrows move through the
		// matches as they do when not filtering.
		switch {
		case key.Matches(msg, k.Up):
			m.list.CursorUp()
		case key.Matches(msg, k.Down):
			m.list.CursorDown()
		case key.Matches(msg, k.PgUp):
			m.list.PrevPage()
		case key.Matches(msg, k.PgDn):
			m.list.NextPage()
		case key.Matches(msg, k.Home):
			m.list.GoToStart()
		case key.Matches(msg, k.End):
			m.list.GoToEnd()
		default:
			sel := m.list.GlobalIndex()
			cmd := m.toList(msg)
			if m.list.FilterState() == list.Unfiltered { // Esc cleared it
				m.shown = ""
				m.list.Select(min(sel, max(0, m.total-1)))
			}
			return cmd, nil
		}
		return nil, nil
	}
	switch {
	case key.Matches(msg, k.Back):
		if m.list.FilterState() != list.Unfiltered {
			m.list.ResetFilter()
			m.shown = ""
			return nil, nil
		}
		return nil, goBack{}
	case m.err != nil && m.total == 0 && key.Matches(msg, k.Retry):
		return m.load(), nil
	case m.total == 0:
		return nil, nil
	case key.Matches(msg, k.Filter):
		m.startFiltering()
		return nil, nil
	case msg.Type == tea.KeyRunes && !msg.Alt:
		// Typing starts filtering right away.
		m.startFiltering()
	}
	return m.toList(msg), nil
}

func (m *subaccountModel) resume() tea.Cmd {
	m.stop()
	if m.total == 0 {
		return m.load()
	}
	return nil
}

func (m *subaccountModel) busy() bool      { return false } // reads only: Esc abandons them
func (m *subaccountModel) pending() string { return "" }
func (m *subaccountModel) typing() bool    { return m.filtering() }

// Layout: filter line, warning or blank, column heads, rows, counts.
const subChrome = 5

func (m *subaccountModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.cols.setWidth(w)
	m.list.SetSize(w, max(1, h-subChrome)) // also sizes the filter input
}

func (m *subaccountModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	choose := withHelp(k.Enter, "enter", "choose")
	if m.running != "" {
		return []key.Binding{k.Back}, nil
	}
	if m.err != nil && m.total == 0 {
		return []key.Binding{k.Retry, k.Back}, nil
	}
	back := k.Back
	if m.list.FilterState() != list.Unfiltered {
		back = withHelp(k.Back, "esc", "clear filter")
	}
	move := withHelp(k.Up, m.e.st.g.UpDown, "move")
	return []key.Binding{choose, move, k.Filter, back},
		[][]key.Binding{{choose, k.Up, k.Down, k.Page, k.Home, k.End}, {k.Filter, back}}
}

func (m *subaccountModel) view() string {
	st := m.e.st
	var b strings.Builder
	if m.running != "" {
		b.WriteString(m.spin.View() + " " + m.running + st.g.Ellipsis + "\n")
		if m.err != nil {
			b.WriteString(wrap(st.warn(sentence(m.err.Error())), m.w, 2) + "\n")
		}
		return b.String()
	}
	if m.err != nil && m.total == 0 {
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
		b.WriteString("  " + st.Subtle.Render("Press r to try again.") + "\n")
		return b.String()
	}
	if m.list.FilterState() != list.Unfiltered {
		b.WriteString(m.list.FilterInput.View() + "\n")
	} else {
		b.WriteString(st.Subtle.Render("Type to filter.") + "\n")
	}
	if m.err != nil { // a --subaccount that did not resolve
		b.WriteString(ansi.Truncate(st.warn(sentence(m.err.Error())), m.w, st.g.Ellipsis) + "\n")
	} else {
		b.WriteString("\n")
	}
	b.WriteString(st.Subtle.Render(m.cols.heads()) + "\n")
	visible := len(m.list.VisibleItems())
	if visible > 0 {
		b.WriteString(m.list.View() + "\n")
	} else {
		b.WriteString(strings.Repeat("\n", m.list.Paginator.PerPage))
	}
	var status string
	switch {
	case m.total == 0:
		status = "No subaccounts in this global account."
	case visible == 0:
		status = fmt.Sprintf("Nothing matches %q (%d subaccounts).", m.list.FilterValue(), m.total)
	case visible == m.total:
		status = fmt.Sprintf("%d subaccounts", m.total)
	default:
		status = fmt.Sprintf("%d of %d subaccounts", visible, m.total)
	}
	if p := m.list.Paginator; visible > p.PerPage {
		from, to := p.GetSliceBounds(visible)
		status += fmt.Sprintf(" %s %d-%d", st.g.Dot, from+1, to)
	}
	b.WriteString(st.Subtle.Render(status))
	return b.String()
}

// subDelegate draws one line per subaccount: cursor, name, region,
// subdomain, directory in aligned columns. Only the cursor row is styled;
// matched letters are underlined with two fixed escape codes (none when
// colours are off), so a frame costs no per-cell lipgloss rendering.
type subDelegate struct {
	st                     *styles
	marks                  bool // underline matches (not in ASCII mode)
	name, region, sub, dir int
}

func (d *subDelegate) setWidth(w int) {
	avail := w - 2 - 3*2 // cursor + gaps
	d.region = 6
	d.name = max(10, avail*30/100)
	d.sub = max(10, avail*30/100)
	d.dir = max(4, avail-d.name-d.region-d.sub)
}

func (d *subDelegate) heads() string {
	var b strings.Builder
	b.WriteString("  ")
	e := d.st.g.Ellipsis
	writeCell(&b, "NAME", d.name, e, nil, 0, true)
	b.WriteString("  ")
	writeCell(&b, "REGION", d.region, e, nil, 0, true)
	b.WriteString("  ")
	writeCell(&b, "SUBDOMAIN", d.sub, e, nil, 0, true)
	b.WriteString("  ")
	writeCell(&b, "DIRECTORY", d.dir, e, nil, 0, false)
	return b.String()
}

// Height implements list.ItemDelegate.
func (d *subDelegate) Height() int { return 1 }

// Spacing implements list.ItemDelegate.
func (d *subDelegate) Spacing() int { return 0 }

// Update implements list.ItemDelegate.
func (d *subDelegate) Update(tea.Msg, *list.Model) tea.Cmd { return nil }

// Render implements list.ItemDelegate.
func (d *subDelegate) Render(w io.Writer, m list.Model, index int, item list.Item) {
	it, ok := item.(*subItem)
	if !ok {
		return
	}
	st, e := d.st, d.st.g.Ellipsis
	var hl []int
	if d.marks && lipgloss.ColorProfile() != termenv.Ascii {
		hl = m.MatchesForItem(index)
	}
	on := index == m.Index()
	s := it.info
	var b strings.Builder
	b.Grow(d.name + d.region + d.sub + d.dir + 32)
	b.WriteString(st.cursor(on))
	b.WriteByte(' ')
	if on {
		var nb strings.Builder
		writeCell(&nb, s.Name, d.name, e, hl, it.off[0], true)
		b.WriteString(st.Selected.Render(nb.String()))
	} else {
		writeCell(&b, s.Name, d.name, e, hl, it.off[0], true)
	}
	b.WriteString("  ")
	writeCell(&b, s.Region, d.region, e, hl, it.off[2], true)
	b.WriteString("  ")
	writeCell(&b, s.Subdomain, d.sub, e, hl, it.off[1], true)
	b.WriteString("  ")
	if s.Path == "" {
		b.WriteString(st.g.Skip)
	} else {
		writeCell(&b, s.Path, d.dir, e, hl, it.off[3], false)
	}
	io.WriteString(w, b.String()) //nolint:errcheck // a strings.Builder
}

// hlOn and hlOff underline matched letters, only when colours are on (no
// colour profile, NO_COLOR, ASCII mode: plain text). Emphasis only: the
// rows shown are already the matches.
const hlOn, hlOff = "\x1b[4m", "\x1b[24m"

// writeCell writes s cut to w cells (ending in ell when cut), padded to w
// when pad is set. hl are matched rune indices in the row's filter value,
// where s starts at rune off.
func writeCell(b *strings.Builder, s string, w int, ell string, hl []int, off int, pad bool) {
	t := s
	if ansi.StringWidth(s) > w {
		t = ansi.Truncate(s, w, ell)
	}
	if len(hl) == 0 {
		b.WriteString(t)
	} else {
		keep := len(t)
		if t != s {
			keep -= len(ell)
		}
		i, in := off, false
		for j, r := range t {
			mark := j < keep && slices.Contains(hl, i)
			if mark != in {
				if mark {
					b.WriteString(hlOn)
				} else {
					b.WriteString(hlOff)
				}
				in = mark
			}
			b.WriteRune(r)
			i++
		}
		if in {
			b.WriteString(hlOff)
		}
	}
	if pad {
		for n := ansi.StringWidth(t); n < w; n++ {
			b.WriteByte(' ')
		}
	}
}
