package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/safetext"
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

// Text from SAP or another server (names, descriptions, error and broker
// texts, URLs) reaches a frame only through inert, before any of our own
// styling adds escape sequences. The choke points that call it, each for a
// class of strings: ok/warn/fail (every status line, so every error), the
// rows of the lists (picker, combo and its text row, subaccount rows),
// task.line (what runs), the flow's progress events where they enter the
// wizard (Reporter.take), the screens' headings, and the value columns of
// where, review and reveal.
func inert(s string) string { return safetext.Line(s) }

// ok, warn and fail render "<glyph> text"; the glyph carries the meaning.
// text is plain (never styled) and shown inert: errors and statuses quote
// what SAP said.
func (s *styles) ok(text string) string   { return s.OK.Render(s.g.OK) + " " + inert(text) }
func (s *styles) warn(text string) string { return s.Warn.Render(s.g.Warn) + " " + inert(text) }
func (s *styles) fail(text string) string { return s.Fail.Render(s.g.Fail) + " " + inert(text) }

// mask hides a secret: a fixed length so nothing about it leaks.
func (s *styles) mask() string { return strings.Repeat(s.g.Mask, 12) }

// cursor marks the focused row of a picker.
func (s *styles) cursor(on bool) string {
	if on {
		return s.Selected.Render(s.g.Cursor)
	}
	return s.g.NoCursor
}

// wrap breaks text into lines of at most width-indent cells, indenting the
// lines after the first by indent. It breaks at spaces only, so names with
// hyphens, URLs and JSON stay whole; a word wider than a line is broken
// after a '/' or ',' where it has one (paths, keychain accounts, JSON
// elements) and only otherwise where it must.
func wrap(text string, width, indent int) string {
	avail := width - indent
	if width <= indent+10 {
		return text
	}
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		var cur strings.Builder
		curW, started := 0, false
		flush := func() {
			out = append(out, cur.String())
			cur.Reset()
			curW, started = 0, false
		}
		for _, w := range strings.Split(para, " ") {
			ww := ansi.StringWidth(w)
			if started && curW+1+ww <= avail {
				cur.WriteString(" " + w)
				curW += 1 + ww
				continue
			}
			if started {
				flush()
			}
			for ansi.StringWidth(w) > avail {
				head, rest := splitWord(w, avail)
				out = append(out, head)
				w = rest
			}
			cur.WriteString(w)
			curW, started = ansi.StringWidth(w), true
		}
		flush()
	}
	for i := 1; i < len(out); i++ {
		out[i] = pad + out[i]
	}
	return strings.Join(out, "\n")
}

// splitWord cuts a word wider than limit: after its last '/' or ',' that
// fits, else at the limit.
func splitWord(w string, limit int) (head, rest string) {
	plain := []rune(ansi.Strip(w))
	cut := limit
	for i := min(limit, len(plain)) - 1; i > 0; i-- {
		if plain[i] == '/' || plain[i] == ',' {
			cut = i + 1
			break
		}
	}
	return ansi.Cut(w, 0, cut), ansi.Cut(w, cut, ansi.StringWidth(w))
}
