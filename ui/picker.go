package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// pickItem is one choice: label, an optional note after it.
type pickItem struct {
	label, note string
}

// picker is a small single- or multi-choice list (login method, runtime,
// org, space, plan, api roles). It scrolls when it has more rows than
// height.
type picker struct {
	items  []pickItem
	cursor int
	multi  bool
	ticked map[int]bool
	height int // rows shown; 0 = all
	offset int
}

func newPicker(items []pickItem) picker {
	return picker{items: items, ticked: map[int]bool{}}
}

// update moves the cursor or ticks; it reports whether it used the key.
func (p *picker) update(msg tea.KeyMsg, k keyMap) bool {
	switch {
	case key.Matches(msg, k.Up):
		if p.cursor > 0 {
			p.cursor--
		}
	case key.Matches(msg, k.Down):
		if p.cursor < len(p.items)-1 {
			p.cursor++
		}
	case key.Matches(msg, k.PgUp):
		p.cursor = max(0, p.cursor-p.page())
	case key.Matches(msg, k.PgDn):
		p.cursor = min(len(p.items)-1, p.cursor+p.page())
	case key.Matches(msg, k.Home):
		p.cursor = 0
	case key.Matches(msg, k.End):
		p.cursor = len(p.items) - 1
	case p.multi && key.Matches(msg, k.Toggle):
		if len(p.items) > 0 {
			p.ticked[p.cursor] = !p.ticked[p.cursor]
		}
	default:
		return false
	}
	p.scroll()
	return true
}

func (p *picker) page() int {
	if p.height > 0 {
		return p.height
	}
	return max(1, len(p.items))
}

func (p *picker) scroll() {
	if p.height <= 0 {
		p.offset = 0
		return
	}
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+p.height {
		p.offset = p.cursor - p.height + 1
	}
	p.offset = max(0, min(p.offset, len(p.items)-p.height))
}

func (p *picker) setHeight(h int) {
	p.height = h
	p.scroll()
}

// selectLabel moves the cursor to the first item labelled l.
func (p *picker) selectLabel(l string) bool {
	for i, it := range p.items {
		if it.label == l {
			p.cursor = i
			p.scroll()
			return true
		}
	}
	return false
}

func (p *picker) tickLabel(l string) {
	for i, it := range p.items {
		if it.label == l {
			p.ticked[i] = true
		}
	}
}

func (p *picker) selected() (pickItem, bool) {
	if p.cursor < 0 || p.cursor >= len(p.items) {
		return pickItem{}, false
	}
	return p.items[p.cursor], true
}

// tickedLabels lists the ticked items in list order.
func (p *picker) tickedLabels() []string {
	var out []string
	for i, it := range p.items {
		if p.ticked[i] {
			out = append(out, it.label)
		}
	}
	return out
}

// view renders the rows. focused shows the cursor; in single mode the
// chosen row carries the radio glyph so the choice reads without colour.
func (p *picker) view(st *styles, width int, focused bool) string {
	var b strings.Builder
	end := len(p.items)
	if p.height > 0 {
		end = min(end, p.offset+p.height)
	}
	for i := p.offset; i < end; i++ {
		it := p.items[i]
		on := i == p.cursor
		var mark string
		switch {
		case p.multi && p.ticked[i]:
			mark = st.g.CheckOn
		case p.multi:
			mark = st.g.CheckOff
		case on:
			mark = st.g.RadioOn
		default:
			mark = st.g.RadioOff
		}
		// Labels are names SAP gave (orgs, spaces): shown inert.
		label := inert(it.label)
		if on && focused {
			label = st.Selected.Render(label)
		}
		// A single choice shows its cursor as the radio mark; a multi
		// choice needs a separate cursor.
		line := mark + " " + label
		if p.multi {
			line = st.cursor(on && focused) + " " + line
		}
		if it.note != "" {
			line += "  " + st.Subtle.Render(inert(it.note))
		}
		b.WriteString(ansi.Truncate(line, width, st.g.Ellipsis))
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	if p.height > 0 && len(p.items) > p.height {
		fmt.Fprintf(&b, "\n  %s", st.Subtle.Render(fmt.Sprintf("%d-%d of %d", p.offset+1, end, len(p.items))))
	}
	return b.String()
}
