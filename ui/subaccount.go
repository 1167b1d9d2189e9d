package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/steps"
)

type (
	subaccountsLoadedMsg struct {
		id    uint64
		items []steps.SubaccountInfo
		err   error
		// prepared is items sorted and lower-cased for the filter; the load
		// Cmd does it so Update stays cheap with thousands of rows.
		prepared []subItem
	}
	subaccountResolvedMsg struct {
		id  uint64
		sub steps.SubaccountInfo
		err error
	}
)

// subItem is one row; lower is what the filter searches (name, subdomain,
// region, directory path and GUID, lower-cased once at load time).
type subItem struct {
	info  steps.SubaccountInfo
	lower string
}

// subaccountModel is screen 2: a filterable list of all subaccounts. It is
// a purpose-built list rather than bubbles/list: that one needs
// github.com/sahilm/fuzzy (not in go.mod) and filters in a Cmd whose result
// carries no tag; here filtering is a substring match over pre-lowered
// strings, incremental while the query grows, cheap enough to run inside
// Update at thousands of rows.
type subaccountModel struct {
	e    *env
	w, h int
	spin spinner.Model

	items     []subItem
	visible   []int // indices into items, in list order
	cursor    int   // index into visible
	offset    int
	filter    textinput.Model
	filtering bool   // the filter input has the keys
	query     string // query visible was computed for

	running string
	reqID   uint64
	cancel  context.CancelFunc
	err     error
	resolve string // ref from --subaccount, resolved without asking
	prefer  string // ref the cursor starts on (demo default)
}

func newSubaccount(e *env) *subaccountModel {
	f := textinput.New()
	f.Prompt = "Filter: "
	f.Placeholder = "type part of a name, subdomain, region or directory"
	f.CharLimit = 64
	return &subaccountModel{e: e, spin: e.newSpinner(), filter: f,
		resolve: e.opts.Prefill.Subaccount, prefer: e.opts.Prefill.DefaultSubaccount}
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

// prepareSubs sorts by name (then path) and lower-cases the filter text.
func prepareSubs(in []steps.SubaccountInfo) []subItem {
	items := make([]subItem, len(in))
	keys := make([]string, len(in))
	for i, s := range in {
		items[i] = subItem{info: s, lower: strings.ToLower(s.Name + " " + s.Subdomain + " " + s.Region + " " + s.Path + " " + s.ID)}
		keys[i] = strings.ToLower(s.Name)
	}
	idx := make([]int, len(in))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := idx[a], idx[b]
		if keys[x] != keys[y] {
			return keys[x] < keys[y]
		}
		return in[x].Path < in[y].Path
	})
	out := make([]subItem, len(in))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

// setItems shows prepared rows and resets the filter.
func (m *subaccountModel) setItems(items []subItem) {
	m.items = items
	m.query = "\x00" // force a full filter
	m.applyFilter()
	if m.prefer != "" {
		for vi, i := range m.visible {
			s := m.items[i].info
			if s.Name == m.prefer || s.Subdomain == m.prefer || s.ID == m.prefer {
				m.cursor = vi
			}
		}
		m.scroll()
	}
}

// applyFilter recomputes visible for the filter text. When the query only
// grew, it narrows the previous result instead of scanning every row.
func (m *subaccountModel) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	if q == m.query {
		return
	}
	terms := strings.Fields(q)
	var from []int
	if m.query != "\x00" && m.query != "" && strings.HasPrefix(q, m.query) && !strings.HasSuffix(m.query, " ") {
		from = m.visible
	}
	m.query = q
	var out []int
	if from == nil {
		out = make([]int, 0, len(m.items))
		for i := range m.items {
			if matchAll(m.items[i].lower, terms) {
				out = append(out, i)
			}
		}
	} else {
		out = from[:0:0]
		for _, i := range from {
			if matchAll(m.items[i].lower, terms) {
				out = append(out, i)
			}
		}
	}
	m.visible = out
	m.cursor = 0
	m.offset = 0
}

func matchAll(s string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

func (m *subaccountModel) rows() int { return max(1, m.h-5) }

func (m *subaccountModel) scroll() {
	n := m.rows()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+n {
		m.offset = m.cursor - n + 1
	}
	m.offset = max(0, min(m.offset, len(m.visible)-n))
}

func (m *subaccountModel) moveCursor(k keyMap, msg tea.KeyMsg) bool {
	last := len(m.visible) - 1
	switch {
	case key.Matches(msg, k.Up):
		m.cursor = max(0, m.cursor-1)
	case key.Matches(msg, k.Down):
		m.cursor = max(0, min(last, m.cursor+1))
	case key.Matches(msg, k.PgUp):
		m.cursor = max(0, m.cursor-m.rows())
	case key.Matches(msg, k.PgDn):
		m.cursor = max(0, min(last, m.cursor+m.rows()))
	case key.Matches(msg, k.Home):
		m.cursor = 0
	case key.Matches(msg, k.End):
		m.cursor = max(0, last)
	default:
		return false
	}
	m.scroll()
	return true
}

func (m *subaccountModel) chosen() (steps.SubaccountInfo, bool) {
	if m.cursor < 0 || m.cursor >= len(m.visible) {
		return steps.SubaccountInfo{}, false
	}
	return m.items[m.visible[m.cursor]].info, true
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
	case tea.KeyMsg:
		return m.key(msg)
	}
	if m.filtering {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return cmd, nil
	}
	return nil, nil
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
	if m.moveCursor(k, msg) {
		return nil, nil
	}
	switch {
	case key.Matches(msg, k.Enter):
		if sub, ok := m.chosen(); ok {
			return nil, subaccountChosen{sub: sub}
		}
		return nil, nil
	case key.Matches(msg, k.Back):
		if m.filtering || m.filter.Value() != "" {
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.applyFilter()
			return nil, nil
		}
		return nil, goBack{}
	case m.err != nil && len(m.items) == 0 && key.Matches(msg, k.Retry):
		return m.load(), nil
	}
	if !m.filtering {
		if len(m.items) == 0 {
			return nil, nil
		}
		if key.Matches(msg, k.Filter) {
			m.filtering = true
			return m.filter.Focus(), nil
		}
		if msg.Type != tea.KeyRunes || msg.Alt {
			return nil, nil
		}
		// Typing starts filtering right away.
		m.filtering = true
		m.filter.Focus()
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.applyFilter()
	return cmd, nil
}

func (m *subaccountModel) resume() tea.Cmd {
	m.stop()
	if len(m.items) == 0 {
		return m.load()
	}
	return nil
}

func (m *subaccountModel) busy() bool      { return false } // reads only: Esc abandons them
func (m *subaccountModel) pending() string { return "" }
func (m *subaccountModel) typing() bool    { return m.filtering }

func (m *subaccountModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.filter.Width = max(10, w-len(m.filter.Prompt)-2)
	m.scroll()
}

func (m *subaccountModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	choose := withHelp(k.Enter, "enter", "choose")
	if m.running != "" {
		return []key.Binding{k.Back}, nil
	}
	if m.err != nil && len(m.items) == 0 {
		return []key.Binding{k.Retry, k.Back}, nil
	}
	back := k.Back
	if m.filtering || m.filter.Value() != "" {
		back = withHelp(k.Back, "esc", "clear filter")
	}
	move := withHelp(k.Up, m.e.st.g.UpDown, "move")
	return []key.Binding{choose, move, k.Filter, back},
		[][]key.Binding{{choose, k.Up, k.Down, k.Page, k.Home, k.End}, {k.Filter, back}}
}

// columns splits the width into name, region, subdomain and path.
func (m *subaccountModel) columns() (name, region, sub, path int) {
	avail := m.w - 2 - 3*2 // cursor + gaps
	region = 6
	name = max(10, avail*30/100)
	sub = max(10, avail*30/100)
	path = max(4, avail-name-region-sub)
	return
}

func cell(s string, w int, ell string) string {
	s = ansi.Truncate(s, w, ell)
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
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
	if m.err != nil && len(m.items) == 0 {
		b.WriteString(wrap(st.fail(sentence(m.err.Error())), m.w, 2) + "\n")
		b.WriteString("  " + st.Subtle.Render("Press r to try again.") + "\n")
		return b.String()
	}
	if m.filtering || m.filter.Value() != "" {
		b.WriteString(m.filter.View() + "\n")
	} else {
		b.WriteString(st.Subtle.Render("Type to filter.") + "\n")
	}
	if m.err != nil { // a --subaccount that did not resolve
		b.WriteString(ansi.Truncate(st.warn(sentence(m.err.Error())), m.w, st.g.Ellipsis) + "\n")
	} else {
		b.WriteString("\n")
	}
	nw, rw, sw, pw := m.columns()
	e := st.g.Ellipsis
	b.WriteString(st.Subtle.Render("  "+cell("NAME", nw, e)+"  "+cell("REGION", rw, e)+"  "+cell("SUBDOMAIN", sw, e)+"  "+cell("DIRECTORY", pw, e)) + "\n")
	n := m.rows()
	end := min(len(m.visible), m.offset+n)
	for vi := m.offset; vi < end; vi++ {
		s := m.items[m.visible[vi]].info
		on := vi == m.cursor
		name := cell(s.Name, nw, e)
		if on {
			name = st.Selected.Render(name)
		}
		path := s.Path
		if path == "" {
			path = st.g.Skip
		}
		line := st.cursor(on) + " " + name + "  " + cell(s.Region, rw, e) + "  " + cell(s.Subdomain, sw, e) + "  " + ansi.Truncate(path, pw, e)
		b.WriteString(line + "\n")
	}
	for i := end - m.offset; i < n; i++ {
		b.WriteString("\n")
	}
	var status string
	switch {
	case len(m.items) == 0:
		status = "No subaccounts in this global account."
	case len(m.visible) == 0:
		status = fmt.Sprintf("Nothing matches %q (%d subaccounts).", m.filter.Value(), len(m.items))
	case len(m.visible) == len(m.items):
		status = fmt.Sprintf("%d subaccounts", len(m.items))
	default:
		status = fmt.Sprintf("%d of %d subaccounts", len(m.visible), len(m.items))
	}
	if len(m.visible) > n {
		status += fmt.Sprintf(" %s %d-%d", st.g.Dot, m.offset+1, end)
	}
	b.WriteString(st.Subtle.Render(status))
	return b.String()
}
