package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// glyphs carry meaning without colour (NO_COLOR, dumb terminals). Every
// status glyph is always followed by a word, so even the ASCII set reads well.
type glyphs struct {
	OK, Warn, Fail, Pending, Skip string
	Cursor, NoCursor              string
	RadioOn, RadioOff             string
	CheckOn, CheckOff             string
	Mask                          string // one character of a masked value
	Dot                           string // separator in lines and help
	Times                         string // "60×16"
	Arrow                         string
	Ellipsis                      string
	UpDown, Down, Up              string // arrows in help and hints
	Spinner                       spinner.Spinner
}

var unicodeGlyphs = glyphs{
	OK: "✓", Warn: "!", Fail: "✗", Pending: "·", Skip: "–",
	Cursor: "›", NoCursor: " ",
	RadioOn: "(•)", RadioOff: "( )",
	CheckOn: "[x]", CheckOff: "[ ]",
	Mask: "•", Dot: "·", Times: "×", Arrow: "→", Ellipsis: "…",
	UpDown: "↑/↓", Down: "↓", Up: "↑",
	Spinner: spinner.MiniDot,
}

// asciiGlyphs is for dumb terminals and the Windows classic console.
var asciiGlyphs = glyphs{
	OK: "v", Warn: "!", Fail: "x", Pending: ".", Skip: "-",
	Cursor: ">", NoCursor: " ",
	RadioOn: "(*)", RadioOff: "( )",
	CheckOn: "[x]", CheckOff: "[ ]",
	Mask: "*", Dot: "-", Times: "x", Arrow: "->", Ellipsis: "...",
	UpDown: "up/down", Down: "down", Up: "up",
	Spinner: spinner.Line,
}

// styles are the lipgloss styles of every screen. Colour only ever repeats
// what a glyph or word already says.
type styles struct {
	g glyphs

	Header   lipgloss.Style
	Title    lipgloss.Style
	Subtle   lipgloss.Style
	Label    lipgloss.Style
	Selected lipgloss.Style
	OK       lipgloss.Style
	Warn     lipgloss.Style
	Fail     lipgloss.Style
	Code     lipgloss.Style
	Badge    lipgloss.Style
	Spinner  lipgloss.Style
}

func newStyles(ascii bool) *styles {
	g := unicodeGlyphs
	if ascii {
		g = asciiGlyphs
	}
	accent := lipgloss.AdaptiveColor{Light: "#0A6ED1", Dark: "#5DADEC"} // SAP-ish blue
	subtle := lipgloss.AdaptiveColor{Light: "#6A6D70", Dark: "#8E9296"}
	return &styles{
		g:        g,
		Header:   lipgloss.NewStyle().Bold(true).Foreground(accent),
		Title:    lipgloss.NewStyle().Bold(true),
		Subtle:   lipgloss.NewStyle().Foreground(subtle),
		Label:    lipgloss.NewStyle().Bold(true),
		Selected: lipgloss.NewStyle().Bold(true).Foreground(accent),
		OK:       lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#107E3E", Dark: "#5DC122"}),
		Warn:     lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#B95100", Dark: "#F0AB00"}),
		Fail:     lipgloss.NewStyle().Foreground(lipgloss.AdaptiveColor{Light: "#BB0000", Dark: "#FF5C5C"}),
		Code:     lipgloss.NewStyle().Foreground(accent),
		Badge:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#B95100", Dark: "#F0AB00"}),
		Spinner:  lipgloss.NewStyle().Foreground(accent),
	}
}

// ok, warn and fail render "<glyph> text"; the glyph carries the meaning.
func (s *styles) ok(text string) string   { return s.OK.Render(s.g.OK) + " " + text }
func (s *styles) warn(text string) string { return s.Warn.Render(s.g.Warn) + " " + text }
func (s *styles) fail(text string) string { return s.Fail.Render(s.g.Fail) + " " + text }

// mask hides a secret: a fixed length so nothing about it leaks.
func (s *styles) mask() string { return strings.Repeat(s.g.Mask, 12) }

// cursor marks the focused row of a picker.
func (s *styles) cursor(on bool) string {
	if on {
		return s.Selected.Render(s.g.Cursor)
	}
	return s.g.NoCursor
}

// wrap fits text to width, indenting continuation lines by indent spaces.
func wrap(text string, width, indent int) string {
	if width <= indent+10 {
		return text
	}
	out := ansi.Wrap(text, width-indent, "")
	if indent == 0 {
		return out
	}
	pad := strings.Repeat(" ", indent)
	lines := strings.Split(out, "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}
