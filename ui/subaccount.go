package ui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/list"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

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
	screenBase
	e *env

	list  list.Model
	cols  *subDelegate // the list's delegate; the screen sets its column widths
	total int
	// shown is the query the list's filtered rows were computed for; while
	// it differs from the filter text a result is still on its way.
	shown string

	work    task
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
	return &subaccountModel{e: e, work: newTask(e), list: l, cols: d,
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
		flow := m.e.flow
		return m.start("Looking up subaccount "+ref, func(ctx context.Context, id uint64) tea.Msg {
			sub, err := flow.ResolveSubaccount(ctx, ref)
			return subaccountResolvedMsg{id: id, sub: sub, err: err}
		})
	}
	return m.load()
}

func (m *subaccountModel) start(what string, work func(ctx context.Context, id uint64) tea.Msg) tea.Cmd {
	m.err = nil
	m.sizeList()
	return m.work.start(what, work)
}

func (m *subaccountModel) stop() { m.work.stop() }

func (m *subaccountModel) load() tea.Cmd {
	flow := m.e.flow
	return m.start("Loading subaccounts", func(ctx context.Context, id uint64) tea.Msg {
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
		return m.work.tick(msg), nil
	case subaccountResolvedMsg:
		if !m.work.owns(msg.id) {
			return nil, nil
		}
		m.stop()
		if msg.err != nil {
			// Fall back to the list, saying why.
			cmd := m.load()
			m.err = msg.err
			m.sizeList()
			return cmd, nil
		}
		return nil, subaccountChosen{sub: msg.sub}
	case subaccountsLoadedMsg:
		if !m.work.owns(msg.id) {
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
	if m.work.running() {
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

func (m *subaccountModel) busy() bool   { return false } // reads only: Esc abandons them
func (m *subaccountModel) typing() bool { return m.filtering() }

// Layout: filter line, warning or blank, column heads, rows, counts.
const subChrome = 5

func (m *subaccountModel) setSize(w, h int) {
	m.w, m.h = w, h
	m.cols.setWidth(w)
	m.sizeList()
}

// sizeList gives the list what the screen's other lines leave (the
// wrapped error of a --subaccount that did not resolve takes more).
func (m *subaccountModel) sizeList() {
	extra := 0
	if m.err != nil {
		extra = lineCount(m.errLine()) - 1
	}
	m.list.SetSize(m.w, max(1, m.h-subChrome-extra)) // also sizes the filter input
}

// errLine is the first line of why --subaccount did not resolve, wrapped
// (the candidates it lists are the rows below).
func (m *subaccountModel) errLine() string {
	first, _, _ := strings.Cut(m.err.Error(), "\n")
	return wrap(m.e.st.warn(sentence(first)), m.w, 2)
}

func (m *subaccountModel) help() ([]key.Binding, [][]key.Binding) {
	k := m.e.keys
	choose := withHelp(k.Enter, "enter", "choose")
	if m.work.running() {
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
	if m.work.running() {
		b.WriteString(m.work.line(st) + "\n")
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
		b.WriteString(m.errLine() + "\n")
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
