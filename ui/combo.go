package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// combo is a name field that also offers what exists: a text row to type a
// new name and, below it, the existing names to pick (the instance field
// lists the it-rt instances of the space, the key field the chosen
// instance's keys). Its value is the typed text or the picked name.
type combo struct {
	in      textinput.Model
	options []pickItem
	cursor  int // 0: the text row; i: options[i-1]
	height  int // option rows shown at most (0: all)
	offset  int // first option row shown
}

func newCombo(placeholder string, limit int) combo {
	return combo{in: newInput(placeholder, limit)}
}

// value is the name the field stands for.
func (c *combo) value() string {
	if c.cursor > 0 && c.cursor <= len(c.options) {
		return c.options[c.cursor-1].label
	}
	return strings.TrimSpace(c.in.Value())
}

// picked reports whether an existing name is chosen (not the text row).
func (c *combo) picked() bool { return c.cursor > 0 && c.cursor <= len(c.options) }

// setText puts s in the text row and selects the row; the whole name shows
// (no window left over from a longer or shorter value). s may be a name
// SAP listed (or one derived from it): the row shows and edits it inert,
// and one with control characters is no valid name anyway.
func (c *combo) setText(s string) {
	c.in.SetValue(inert(s))
	c.in.CursorEnd()
	c.cursor = 0
}

// setOptions replaces the existing names, keeping the choice when the
// picked name is still offered (else the text row).
func (c *combo) setOptions(items []pickItem) {
	cur := ""
	if c.picked() {
		cur = c.value()
	}
	c.options, c.cursor = items, 0
	if cur != "" {
		c.pick(cur)
	}
}

// pick chooses the existing name n; false when it is not offered.
func (c *combo) pick(n string) bool {
	for i, o := range c.options {
		if o.label == n {
			c.cursor = i + 1
			return true
		}
	}
	return false
}

// move goes up or down the rows; false at the end (the form moves on).
func (c *combo) move(d int) bool {
	n := c.cursor + d
	if n < 0 || n > len(c.options) {
		return false
	}
	c.cursor = n
	c.scroll()
	return true
}

// focus gives the text row the keyboard when it is the chosen row.
func (c *combo) focus(on bool) {
	if on && c.cursor == 0 {
		c.in.Focus()
		c.in.CursorEnd()
	} else {
		c.in.Blur()
	}
}

func (c *combo) scroll() {
	if c.height <= 0 || len(c.options) <= c.height {
		c.offset = 0
		return
	}
	if i := c.cursor - 1; i >= 0 && i < c.offset {
		c.offset = i
	} else if i >= c.offset+c.height {
		c.offset = i - c.height + 1
	}
	c.offset = max(0, min(c.offset, len(c.options)-c.height))
}

// update handles the keys of a focused combo other than moving: typing
// goes to the text row (from a picked name, the row starts with that name
// so it can be edited).
func (c *combo) update(msg tea.Msg, k keyMap) tea.Cmd {
	if km, ok := msg.(tea.KeyMsg); ok && c.picked() {
		if key.Matches(km, k.Up, k.Down, k.Next, k.Prev, k.Enter, k.Back) {
			return nil
		}
		c.setText(c.value())
	}
	var cmd tea.Cmd
	c.in, cmd = c.in.Update(msg)
	return cmd
}

// view renders the text row and, when offered, the existing names.
func (c *combo) view(st *styles, width int, focused bool, newNote string) string {
	var b strings.Builder
	textRow := c.in.View()
	if len(c.options) > 0 {
		mark := st.g.RadioOff
		if c.cursor == 0 {
			mark = st.g.RadioOn
		}
		textRow = mark + " " + textRow
		if newNote != "" {
			textRow += "  " + st.Subtle.Render(newNote)
		}
	}
	b.WriteString(textRow)
	end := len(c.options)
	if c.height > 0 {
		end = min(end, c.offset+c.height)
	}
	for i := c.offset; i < end; i++ {
		o := c.options[i]
		mark := st.g.RadioOff
		label := inert(o.label) // names SAP lists (instances, keys)
		if c.cursor == i+1 {
			mark = st.g.RadioOn
			if focused {
				label = st.Selected.Render(label)
			}
		}
		line := mark + " " + label
		if o.note != "" {
			line += "  " + st.Subtle.Render(inert(o.note))
		}
		b.WriteString("\n" + ansi.Truncate(line, width, st.g.Ellipsis))
	}
	if end-c.offset < len(c.options) {
		b.WriteString("\n  " + st.Subtle.Render(fmt.Sprintf("%d-%d of %d", c.offset+1, end, len(c.options))))
	}
	return b.String()
}
