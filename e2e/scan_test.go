package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// variant is one way a secret can end up in output.
type variant struct{ form, text string }

// variants lists the encodings a leak could take: raw, URL-encoded (query
// and path), JSON-escaped, base64 (the OSC 52 clipboard sequence, Basic
// auth), and the signature of a JWT on its own.
func variants(secret string) []variant {
	out := []variant{{"raw", secret}}
	add := func(form, text string) {
		if len(text) < 8 {
			return // too short to search without false alarms
		}
		for _, v := range out {
			if v.text == text {
				return
			}
		}
		out = append(out, variant{form, text})
	}
	add("query-escaped", url.QueryEscape(secret))
	add("path-escaped", url.PathEscape(secret))
	if b, err := json.Marshal(secret); err == nil { // HTML-escaped: & < > as \u0026 ...
		add("JSON-escaped", strings.Trim(string(b), `"`))
	}
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	if enc.Encode(secret) == nil {
		j := strings.Trim(strings.TrimSpace(plain.String()), `"`)
		add("JSON-escaped", j)
		add("JSON-escaped with \\/", strings.ReplaceAll(j, "/", `\/`)) // Java servers escape '/'
	}
	add("base64", base64.StdEncoding.EncodeToString([]byte(secret)))
	add("base64url", base64.RawURLEncoding.EncodeToString([]byte(secret)))
	if parts := strings.Split(secret, "."); len(parts) == 3 && len(parts[2]) >= 16 {
		add("JWT signature", parts[2])
	}
	return out
}

// scanForSecrets reports every secret (in any form variants knows) found in
// data. The report names the secret by its first characters only.
func scanForSecrets(tb testing.TB, where string, data []byte, secrets []string) {
	tb.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, v := range variants(s) {
			if i := bytes.Index(data, []byte(v.text)); i >= 0 {
				tb.Errorf("%s contains a secret (%s of %s…) at byte %d", where, v.form, prefix(s), i)
			}
		}
	}
}

func prefix(s string) string {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}

// recordingTB is a testing.TB that records Errorf instead of failing: the
// test of the test.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestScanForSecrets_ReportsADeliberateLeak(t *testing.T) {
	const secret = "8d1c2b3a-4e5f-CANARY$Zm9vYmFy/+=="
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	cases := []struct {
		name   string
		output string
		leaks  bool
	}{
		{"printed raw", "clientsecret: " + secret + "\n", true},
		{"in a form body", "client_secret=" + url.QueryEscape(secret), true},
		{"in JSON", `{"clientsecret":"` + strings.ReplaceAll(secret, "/", `\/`) + `"}`, true},
		{"as OSC 52", "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(secret)) + "\a", true},
		{"a token's signature", "sig " + strings.Split(token, ".")[2], true},
		{"masked", "clientsecret: ••••••••••••\n", false},
		{"a prefix only", "secret starts with 8d1c2b", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			scanForSecrets(rec, "stdout", []byte(tc.output), []string{secret, token})
			if got := len(rec.errs) > 0; got != tc.leaks {
				t.Fatalf("reported %v, want %v: %q", rec.errs, tc.leaks, tc.output)
			}
			for _, e := range rec.errs {
				if strings.Contains(e, secret) || strings.Contains(e, token) {
					t.Fatal("the report itself quotes the secret")
				}
			}
		})
	}
}
