// Package safetext makes text a server sent inert for a terminal before it is
// shown: control characters, escape sequences, bidirectional controls and
// invalid UTF-8 are written as visible escapes (\x1b, \u202e) instead of
// being interpreted, so a hostile name cannot retitle the window, set the
// clipboard (OSC 52), clear the screen or fake a line of output.
//
// Only what a terminal would act on is escaped; the backslash is kept as is,
// so escaping twice changes nothing and ordinary text (paths, quotes, any
// printable script) passes through unchanged. The text cpikey sends to a
// server is never passed through here: requests keep names exact.
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Text makes s inert and keeps its layout: newline and tab stay, CRLF
// becomes a newline; everything else a terminal would interpret is escaped
// (C0 and C1 controls including a bare carriage return, DEL, and with them
// the ESC that starts every escape sequence; bidirectional controls; line
// and paragraph separators; invalid UTF-8 bytes).
func Text(s string) string { return clean(s, false) }

// Line is Text for single-line fields (names, IDs): newline and tab are
// escaped too, so the value cannot break out of its line or column.
func Line(s string) string { return clean(s, true) }

func clean(s string, line bool) string {
	// Fast path: nothing to escape, no allocation.
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || !line && (c == '\n' || c == '\t') {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || escapedRune(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 0x20 && c < 0x7f:
				b.WriteByte(c)
			case c == '\n' && line:
				b.WriteString(`\n`)
			case c == '\t' && line:
				b.WriteString(`\t`)
			case c == '\n' || c == '\t':
				b.WriteByte(c)
			case c == '\r' && !line && i+1 < len(s) && s[i+1] == '\n':
				// CRLF ends a line like LF; only a bare CR can overwrite one.
			case c == '\r':
				b.WriteString(`\r`)
			default:
				hexByte(&b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			hexByte(&b, c) // invalid UTF-8 (a lone 0x9b is an 8-bit CSI)
		case escapedRune(r):
			b.WriteString(`\u`)
			const hex = "0123456789abcdef"
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// escapedRune reports non-ASCII runes a terminal interprets or that change
// how the text around them is shown: C1 controls (U+0080-U+009F, among them
// the 8-bit CSI and OSC), bidirectional controls (U+061C, U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069) and the line and paragraph separators
// (U+2028, U+2029).
func escapedRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x2028 && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func hexByte(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

// Controls returns, in order, what in s a terminal would act on: C0
// controls other than newline and tab (ESC, which starts every escape
// sequence, and a bare CR among them), DEL, C1 controls, bidirectional
// controls, line and paragraph separators, and invalid UTF-8 bytes (as
// utf8.RuneError). Text never leaves any; tests use it on whole outputs.
func Controls(s string) []rune {
	var out []rune
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			out = append(out, r)
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f, r >= 0x80 && r <= 0x9f:
			out = append(out, r)
		case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			out = append(out, r)
		}
	}
	return out
}

// JSON makes JSON text inert without changing what it says: encoding/json
// escapes C0 controls but writes DEL, C1 and bidirectional controls raw,
// and a terminal acts on those. JSON returns b with each of them written as
// a \uXXXX escape instead; outside strings JSON has only ASCII structure,
// so the decoded values stay exact. Clean text is returned as is.
func JSON(b []byte) []byte {
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf && c != 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if c == 0x7f || escapedRune(r) {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r == 0x7f || r != utf8.RuneError && escapedRune(r) {
			const hex = "0123456789abcdef"
			out = append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}
