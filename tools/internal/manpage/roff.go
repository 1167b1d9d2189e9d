package manpage

import (
	"fmt"
	"strings"
	"unicode"
)

// Meta is what the page says about itself in its title line.
type Meta struct {
	Name    string // program name, e.g. "cpikey"
	Version string // shown in the footer, e.g. "1.2.0"
	Date    string // YYYY-MM-DD
	Manual  string // defaults to "User Commands"
}

// Section titles that man pages spell differently from help texts.
var sectionNames = map[string]string{
	"FLAGS":              "OPTIONS",
	"AVAILABLE COMMANDS": "COMMANDS",
	"GLOBAL FLAGS":       "GLOBAL OPTIONS",
}

// Paragraphs of the root help that begin with one of these words start the
// man section of that name ("Environment: BTP_USERNAME, ...").
var inlineSections = []struct{ prefix, title string }{
	{"Environment:", "ENVIRONMENT"},
	{"Exit codes:", "EXIT STATUS"},
	{"Exit status:", "EXIT STATUS"},
}

// Render writes a man(7) page, section 1, from the root help and the help of
// each command (in the order given).
func Render(m Meta, root Help, cmds []Help) []byte {
	var w roffWriter
	manual := m.Manual
	if manual == "" {
		manual = "User Commands"
	}
	rootSecs := parse(root.Text)
	known := map[string]bool{m.Name: true}
	for _, c := range cmds {
		known[c.Name()] = true
	}
	w.comment(fmt.Sprintf("Generated from `%s --help` and each command's --help; edit the help texts, not this file.", m.Name))
	w.request(".TH", strings.ToUpper(m.Name), "1", m.Date, m.Name+" "+m.Version, manual)
	// Neither hyphenate nor justify: option names stay whole and copyable.
	w.line(".nh")
	w.line(".ad l")

	w.request(".SH", "NAME")
	name := m.Name
	if s := summary(m.Name, rootSecs); s != "" {
		name += ` \- ` + escape(s)
	}
	w.raw(bold(m.Name) + name[len(m.Name):])

	w.request(".SH", "SYNOPSIS")
	w.line(".nf")
	syn := usages(rootSecs)
	if len(syn) == 0 {
		syn = []string{m.Name + " [flags]"}
	}
	for _, c := range cmds {
		syn = append(syn, usages(parse(c.Text))...)
	}
	for _, u := range dedupe(syn) {
		w.raw(boldCommand(u, known))
	}
	w.line(".fi")

	w.request(".SH", "DESCRIPTION")
	for i, s := range rootSecs {
		if s.title == "Usage" {
			continue // in SYNOPSIS
		}
		if i > 0 {
			title := strings.ToUpper(s.title)
			if n, ok := sectionNames[title]; ok {
				title = n
			}
			w.request(".SH", title)
			if s.note != "" {
				w.paragraph([]string{sentence(s.note)})
			}
		}
		for _, b := range s.blocks {
			switch b.kind {
			case paragraph:
				w.rootParagraph(b.lines)
			case literal:
				w.literal(b.lines)
			case usage:
				w.usage(b.lines[0], known)
			}
		}
	}

	if len(cmds) > 0 {
		w.request(".SH", "COMMAND REFERENCE")
		for _, c := range cmds {
			w.request(".SS", c.Name())
			for _, s := range parse(c.Text) {
				if s.title != "" {
					w.line(".PP")
					w.raw(bold(escape(s.title + ":")))
					if s.note != "" {
						w.raw(escape("(" + s.note + ")"))
					}
				}
				for _, b := range s.blocks {
					switch b.kind {
					case paragraph:
						w.commandParagraph(b.lines)
					case literal:
						w.literal(b.lines)
					case usage:
						w.usage(b.lines[0], known)
					}
				}
			}
		}
	}
	return []byte(w.b.String())
}

type roffWriter struct{ b strings.Builder }

func (w *roffWriter) line(s string) { w.b.WriteString(s + "\n") }

// raw writes a line of already escaped text, protecting a leading control
// character.
func (w *roffWriter) raw(s string) {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	w.line(s)
}

func (w *roffWriter) comment(s string) { w.line(`.\" ` + escape(s)) }

// request writes a macro call with quoted arguments.
func (w *roffWriter) request(macro string, args ...string) {
	var b strings.Builder
	b.WriteString(macro)
	for _, a := range args {
		b.WriteString(` "` + strings.ReplaceAll(escape(a), `"`, `\(dq`) + `"`)
	}
	w.line(b.String())
}

func (w *roffWriter) paragraph(lines []string) {
	w.line(".PP")
	for _, l := range lines {
		w.raw(escape(l))
	}
}

// rootParagraph is paragraph, except that lines beginning with
// "Environment:" or "Exit codes:" open that man section.
func (w *roffWriter) rootParagraph(lines []string) {
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			w.paragraph(cur)
			cur = nil
		}
	}
	for _, l := range lines {
		opened := false
		for _, is := range inlineSections {
			if rest, ok := strings.CutPrefix(l, is.prefix); ok {
				flush()
				w.request(".SH", is.title)
				if rest = strings.TrimSpace(rest); rest != "" {
					cur = append(cur, rest)
				}
				opened = true
				break
			}
		}
		if !opened {
			cur = append(cur, l)
		}
	}
	flush()
}

// commandParagraph is paragraph, except that lines beginning with
// "Environment:" or "Exit codes:" start a new line with that lead-in in bold.
func (w *roffWriter) commandParagraph(lines []string) {
	w.line(".PP")
	for i, l := range lines {
		lead := false
		for _, is := range inlineSections {
			if rest, ok := strings.CutPrefix(l, is.prefix); ok {
				if i > 0 {
					w.line(".br")
				}
				w.raw(bold(escape(is.prefix)) + escape(rest))
				lead = true
				break
			}
		}
		if !lead {
			w.raw(escape(l))
		}
	}
}

// usage prints "Usage: cpikey list [--json]" as a paragraph of its own.
func (w *roffWriter) usage(line string, known map[string]bool) {
	w.line(".PP")
	w.raw(bold("Usage:") + " " + boldCommand(usageLineRE.FindStringSubmatch(line)[1], known))
}

// literal prints indented lines as they are, less their common indentation.
func (w *roffWriter) literal(lines []string) {
	indent := -1
	for _, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	w.line(".PP")
	w.line(".RS 4")
	w.line(".nf")
	for _, l := range lines {
		w.raw(escape(l[indent:]))
	}
	w.line(".fi")
	w.line(".RE")
}

// escape makes text safe in roff: backslashes and hyphen-minus are escaped
// (so options can be copied from the rendered page), non-ASCII characters
// become \[uXXXX] and control characters are dropped.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r < 0x20 || r == 0x7f:
		case r > 0x7e:
			if unicode.IsControl(r) {
				continue
			}
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func bold(s string) string { return `\fB` + s + `\fR` }

// boldCommand escapes a usage line and sets the longest leading words that
// name a known command in bold: "\fBcpikey list\fR [\-\-json]".
func boldCommand(usage string, known map[string]bool) string {
	fields := strings.Fields(usage)
	head := ""
	for k := len(fields); k > 0; k-- {
		if h := strings.Join(fields[:k], " "); known[h] && strings.HasPrefix(usage, h) {
			head = h
			break
		}
	}
	if head == "" {
		return escape(usage)
	}
	return bold(escape(head)) + escape(strings.TrimPrefix(usage, head))
}

// sentence turns a parenthetical note into a sentence: capital first letter,
// final period.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
