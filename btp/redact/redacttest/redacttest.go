// Package redacttest checks redaction independently of package redact: it
// echoes secrets with the standard library's encoders and finds any that
// survive, for the fuzz targets of every client that scrubs server text.
package redacttest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cpikey/cpikey/btp/redact"
)

// Leaks reports the encodings of secret that survive in out, found with
// the standard library's encoders (not with Forms): raw, encoding/json
// (both HTML modes), net/url (query and path) and any base64 run that
// decodes to bytes holding one of those. The mask is opaque: the text between
// two masks is searched, a match across one is the mask's own letters.
func Leaks(out, secret string) []string {
	var found []string
	forms := map[string]string{"raw": secret, "query": url.QueryEscape(secret), "path": url.PathEscape(secret)}
	if b, err := json.Marshal(secret); err == nil && utf8.ValidString(secret) {
		forms["json"] = string(b[1 : len(b)-1])
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(secret) //nolint:errcheck
		forms["json, no HTML escaping"] = strings.TrimSuffix(buf.String(), "\n")[1 : buf.Len()-2]
	}
	for _, piece := range strings.Split(out, redact.Mask) {
		for name, f := range forms {
			if strings.Contains(piece, f) {
				found = append(found, name)
			}
		}
		for name, alphabet := range map[string]string{
			"base64":    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
			"base64url": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		} {
			enc := base64.RawStdEncoding
			if name == "base64url" {
				enc = base64.RawURLEncoding
			}
			for _, run := range strings.FieldsFunc(piece, func(r rune) bool { return !strings.ContainsRune(alphabet, r) }) {
				for o := 0; o < 4 && o < len(run); o++ {
					r := run[o:]
					if len(r)%4 == 1 {
						r = r[:len(r)-1]
					}
					if d, err := enc.DecodeString(r); err == nil {
						for fn, f := range forms {
							if bytes.Contains(d, []byte(f)) {
								found = append(found, name+" of "+fn)
							}
						}
					}
				}
			}
		}
	}
	return found
}

// Echo returns secret the way a server may echo it, in the which-th of
// its encodings (taken modulo their number); pre goes before the secret
// inside base64 (a Basic credential's "user:").
func Echo(which int, secret string, pre []byte) string {
	if which < 0 {
		which = -which
	}
	return encodings[which%len(encodings)](secret, pre)
}

var encodings = []func(secret string, pre []byte) string{
	func(s string, _ []byte) string { return s },
	func(s string, _ []byte) string { b, _ := json.Marshal(s); return string(b) },
	func(s string, _ []byte) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s) //nolint:errcheck
		return buf.String()
	},
	func(s string, _ []byte) string { return url.QueryEscape(s) },
	func(s string, _ []byte) string { return url.PathEscape(s) },
	func(s string, pre []byte) string { return base64.StdEncoding.EncodeToString(append(pre, s...)) },
	func(s string, pre []byte) string { return base64.URLEncoding.EncodeToString(append(pre, s...)) },
	func(s string, pre []byte) string {
		return base64.RawStdEncoding.EncodeToString(append(append(pre, s...), pre...))
	},
	func(s string, pre []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(append(pre, s...), pre...))
	},
}

// Encodings returns the number of encodings Echo knows.
func Encodings() int { return len(encodings) }
