// Package manpage turns a command-line program's own help text into a man(7)
// page, so the page says exactly what `--help` says and cannot drift from it.
//
// It reads the two help layouts cpikey has had: Go's flag package (headings
// such as "Examples:", "Usage: cpikey list [--json]" on one line, flags as
// "  -json\n    \tdescription") and cobra's ("Usage:", "Available Commands:",
// "Flags:", "Global Flags:" sections). Anything else is kept as paragraphs
// (text at column 0) and literal blocks (indented text).
package manpage

import (
	"regexp"
	"strings"
)

// Help is one command's help as the binary printed it.
type Help struct {
	// Path is the command line that names the command: ["cpikey"] or
	// ["cpikey", "list"].
	Path []string
	Text string
}

// Name is the command line as one string ("cpikey list").
func (h Help) Name() string { return strings.Join(h.Path, " ") }

type blockKind int

const (
	paragraph blockKind = iota // text at column 0, filled by the formatter
	literal                    // indented text, printed as is
	usage                      // a "Usage: cpikey list [--json]" line, on its own
)

type block struct {
	kind  blockKind
	lines []string
}

// section is a heading ("Examples", "Flags", ...) and what follows it up to
// the next heading. The text before the first heading is a section with no
// title.
type section struct {
	title  string // without the colon and without a parenthetical note
	note   string // "(after a run, ...)" in "Commands (after a run, ...):", without parentheses
	blocks []block
}

// A heading is a short capitalised line at column 0 that ends in a colon,
// optionally with a parenthetical note: "Flags:", "Available Commands:",
// "Commands (after a run, each key is kept as a profile):". Longer lines that
// end in a colon ("To load completions in your current shell session:") are
// sentences, not headings.
var headingRE = regexp.MustCompile(`^([A-Z][A-Za-z ]{0,30}?)(?: \(([^()]*)\))?:$`)

// A one-line usage ("Usage: cpikey list [--json]"), as Go's flag-based help
// prints it.
var usageLineRE = regexp.MustCompile(`^Usage: +(\S.*)$`)

// A command entry in a commands section: two or more spaces, the name, then
// two or more spaces (or the end of the line) before its description.
var commandEntryRE = regexp.MustCompile(`^ {2,}([a-z][a-z0-9-]*)(?: {2,}|$)`)

// normalise expands tabs to 8-column stops, drops other control characters
// and trailing blanks, and splits into lines.
func normalise(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var lines []string
	for _, raw := range strings.Split(text, "\n") {
		var b strings.Builder
		col := 0
		for _, r := range raw {
			switch {
			case r == '\t':
				n := 8 - col%8
				b.WriteString(strings.Repeat(" ", n))
				col += n
			case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
				// control characters (colour codes, ...) have no place in a man page
			default:
				b.WriteRune(r)
				col++
			}
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// parse splits help text into sections of paragraphs and literal blocks.
func parse(text string) []section {
	secs := []section{{}}
	cur := func() *section { return &secs[len(secs)-1] }
	var open *block // the block lines are being added to, nil after a blank line
	for _, line := range normalise(text) {
		switch {
		case line == "":
			open = nil
		case !strings.HasPrefix(line, " ") && headingRE.MatchString(line):
			m := headingRE.FindStringSubmatch(line)
			secs = append(secs, section{title: m[1], note: m[2]})
			open = nil
		case usageLineRE.MatchString(line):
			cur().blocks = append(cur().blocks, block{kind: usage, lines: []string{line}})
			open = nil
		default:
			kind := paragraph
			if strings.HasPrefix(line, " ") {
				kind = literal
			}
			if open == nil || open.kind != kind {
				cur().blocks = append(cur().blocks, block{kind: kind})
				open = &cur().blocks[len(cur().blocks)-1]
			}
			open.lines = append(open.lines, line)
		}
	}
	return secs
}

// Commands returns the names of the subcommands a help text lists, in its
// order: the entries of every section whose title mentions commands
// ("Commands", "Available Commands"). cobra's own "help" command is left out:
// its help is about help.
func Commands(text string) []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range parse(text) {
		if !strings.Contains(strings.ToLower(s.title), "commands") {
			continue
		}
		for _, b := range s.blocks {
			if b.kind != literal {
				continue
			}
			for _, l := range b.lines {
				m := commandEntryRE.FindStringSubmatch(l)
				if m == nil || m[1] == "help" || seen[m[1]] {
					continue
				}
				seen[m[1]] = true
				names = append(names, m[1])
			}
		}
	}
	return names
}

// usages returns the usage lines of a help text: the lines of a "Usage:"
// section (cobra) or the rest of a "Usage: ..." line (flag package).
func usages(secs []section) []string {
	var out []string
	for _, s := range secs {
		if s.title == "Usage" {
			for _, b := range s.blocks {
				for _, l := range b.lines {
					out = append(out, strings.TrimSpace(l))
				}
			}
			continue
		}
		for _, b := range s.blocks {
			if b.kind == usage {
				out = append(out, usageLineRE.FindStringSubmatch(b.lines[0])[1])
			}
		}
	}
	return out
}

// summary is the first sentence of the root help without the program's name
// in front ("cpikey: OAuth client ..." -> "OAuth client ...") and without its
// final period, for the NAME section.
func summary(name string, secs []section) string {
	for _, s := range secs {
		for _, b := range s.blocks {
			if b.kind != paragraph {
				continue
			}
			text := strings.Join(b.lines, " ")
			for _, sep := range []string{": ", " - ", " \u2014 "} {
				text = strings.TrimPrefix(text, name+sep)
			}
			if i := strings.Index(text, ". "); i >= 0 {
				text = text[:i]
			}
			return strings.TrimSuffix(strings.TrimSpace(text), ".")
		}
	}
	return ""
}
