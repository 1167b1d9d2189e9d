// Package redact removes secrets cpikey holds (passwords, passcodes, session
// ids, tokens, client secrets) from text a server sent, before that text
// becomes part of an error. Servers echo what they were given in whatever
// encoding they parsed it from, so every secret is searched for raw,
// JSON-escaped, URL-encoded and base64-encoded (standard and URL alphabets,
// also inside a longer base64 text such as a Basic credential).
package redact

import (
	"encoding/base64"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Mask replaces every secret.
const Mask = "[REDACTED]"

// MinLen is the shortest secret String looks for: shorter ones would mask
// ordinary words, and no credential cpikey handles is that short.
const MinLen = 4

// String returns s with every occurrence of each secret, in each encoding
// Forms lists, replaced by Mask. Overlapping matches become one Mask.
func String(s string, secrets ...string) string {
	if s == "" {
		return s
	}
	type span struct{ from, to int }
	var spans []span
	for _, secret := range secrets {
		for _, f := range Forms(secret) {
			for i := 0; i+len(f) <= len(s); {
				j := strings.Index(s[i:], f)
				if j < 0 {
					break
				}
				spans = append(spans, span{i + j, i + j + len(f)})
				i += j + 1
			}
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].from < spans[b].from })
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for k := 0; k < len(spans); {
		from, to := spans[k].from, spans[k].to
		for k++; k < len(spans) && spans[k].from <= to; k++ {
			to = max(to, spans[k].to)
		}
		b.WriteString(s[last:from])
		b.WriteString(Mask)
		last = to
	}
	b.WriteString(s[last:])
	return b.String()
}

// Forms returns the texts String removes for secret: the secret itself, its
// JSON-string escapings (with and without HTML escaping, \u escapes of
// non-ASCII, upper-case hex, escaped '/'), its URL encodings (query and
// path, upper- and lower-case hex, '+' or %20 for a space), and the base64
// encodings of all these at each of the three byte alignments they can have
// inside a longer encoded text (only the characters that depend on them
// alone, so the match does not depend on what surrounds them). Secrets shorter than
// MinLen give none.
func Forms(secret string) []string {
	if len(secret) < MinLen {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if len(f) >= MinLen && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	add(secret)
	for v := range 8 {
		j := jsonEscape(secret, v&1 != 0, v&2 != 0, v&4 != 0)
		add(j)
		add(strings.ReplaceAll(j, "/", `\/`))
		up := upperHexEscapes(j)
		add(up)
		add(strings.ReplaceAll(up, "/", `\/`))
	}
	q := url.QueryEscape(secret)
	p := url.PathEscape(secret)
	for _, u := range []string{q, strings.ReplaceAll(q, "+", "%20"), p} {
		add(u)
		add(lowerHexEscapes(u))
	}
	// Base64 of each of the above: a Basic credential holds the secret
	// form-encoded (RFC 6749 §2.3.1), a JWT payload JSON-escaped.
	for _, text := range slices.Clone(out) {
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			for k := range 3 {
				add(base64Core(enc, text, k))
			}
		}
	}
	return out
}

// base64Core returns the part of the base64 text of secret, preceded by k
// other bytes, that only the secret's bits determine.
func base64Core(enc *base64.Encoding, secret string, k int) string {
	buf := make([]byte, k+len(secret))
	copy(buf[k:], secret)
	e := enc.EncodeToString(buf)
	from := (8*k + 5) / 6             // first character without bits of the k bytes before
	to := (8 * (k + len(secret))) / 6 // end of the last character holding only secret bits
	if from >= to {
		return ""
	}
	return e[from:to]
}

// jsonEscape escapes s as the inside of a JSON string: always '"', '\' and
// control characters (\b and \f as such with short, as Go and Python
// write them, else \u0008 and \u000c); with html also '<', '>', '&' (Go's
// default); with ascii every non-ASCII rune as \u escapes (Python's
// default); U+2028 and U+2029 as Go does. Invalid UTF-8 is kept as is.
func jsonEscape(s string, html, ascii, short bool) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	u4 := func(r rune) {
		b.WriteString(`\u`)
		for sh := 12; sh >= 0; sh -= 4 {
			b.WriteByte(hex[r>>sh&0xf])
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteByte(s[i])
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case short && r == '\b':
			b.WriteString(`\b`)
		case short && r == '\f':
			b.WriteString(`\f`)
		case r < 0x20, html && (r == '<' || r == '>' || r == '&'), r == 0x2028, r == 0x2029:
			u4(r)
		case ascii && r >= 0x80:
			if r >= 0x10000 {
				r -= 0x10000
				u4(0xd800 + r>>10)
				u4(0xdc00 + r&0x3ff)
			} else {
				u4(r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// upperHexEscapes upper-cases the hex digits of each \u escape of a JSON
// string body (escaped backslashes are skipped, not mistaken for one).
func upperHexEscapes(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) {
			for j := i + 2; j < i+6; j++ {
				if b[j] >= 'a' && b[j] <= 'f' {
					b[j] -= 'a' - 'A'
				}
			}
		}
		i++ // the escaped character
	}
	return string(b)
}

// lowerHexEscapes lower-cases the two hex digits of each %XX.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if b[j] >= 'A' && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}
