package ui

// The subaccount list's rows: what the filter searches, how matches are
// ranked, and how a row is drawn (ui/subaccount.go is the screen).

import (
	"io"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/list"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/cpikey/cpikey/steps"
)

// subItem is one row. show holds the cells as shown: name, subdomain,
// region, directory path, made inert once at load time (SAP chose them);
// info keeps them exact for the flow. lower is what the filter searches:
// the shown cells and the GUID, lower-cased; off holds the rune offset of
// each cell in lower, so matches can be highlighted in their column.
type subItem struct {
	info    steps.SubaccountInfo
	show    [4]string
	lower   string
	off     [4]int
	nameEnd int // bytes of the lower-cased name at the start of lower: the sort key
}

// FilterValue implements list.Item.
func (s *subItem) FilterValue() string { return s.lower }

func newSubItem(s steps.SubaccountInfo) *subItem {
	it := &subItem{info: s, show: [4]string{inert(s.Name), inert(s.Subdomain), inert(s.Region), inert(s.Path)}}
	var b strings.Builder
	r := 0
	for i, f := range [...]string{it.show[0], it.show[1], it.show[2], it.show[3], s.ID} {
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
	name, sub, region, path := it.show[0], it.show[1], it.show[2], it.show[3]
	var b strings.Builder
	b.Grow(d.name + d.region + d.sub + d.dir + 32)
	b.WriteString(st.cursor(on))
	b.WriteByte(' ')
	if on {
		var nb strings.Builder
		writeCell(&nb, name, d.name, e, hl, it.off[0], true)
		b.WriteString(st.Selected.Render(nb.String()))
	} else {
		writeCell(&b, name, d.name, e, hl, it.off[0], true)
	}
	b.WriteString("  ")
	writeCell(&b, region, d.region, e, hl, it.off[2], true)
	b.WriteString("  ")
	writeCell(&b, sub, d.sub, e, hl, it.off[1], true)
	b.WriteString("  ")
	if path == "" {
		b.WriteString(st.g.Skip)
	} else {
		writeCell(&b, path, d.dir, e, hl, it.off[3], false)
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
