package redact_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cpikey/cpikey/btp/redact"
	"github.com/cpikey/cpikey/btp/redact/redacttest"
)

const pw = `Pa$$ "wörd"/<1>&+=`

func TestString(t *testing.T) {
	// 19 bytes before the 19-byte password: characters 26 to 49 hold
	// only password bits; with one byte before, characters 2 to 25.
	basic := base64.StdEncoding.EncodeToString([]byte("admin@acme.example:" + pw))
	jwtish := base64.RawURLEncoding.EncodeToString([]byte("x" + pw))
	for _, tc := range []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"raw", "bad password " + pw + " given", []string{pw}, "bad password [REDACTED] given"},
		{"JSON as Go writes it", `{"password":"Pa$$ \"wörd\"/\u003c1\u003e\u0026+="}`, []string{pw}, `{"password":"[REDACTED]"}`},
		{"JSON without HTML escaping", `"Pa$$ \"wörd\"/<1>&+="`, []string{pw}, `"[REDACTED]"`},
		{"JSON with ASCII escapes, upper hex, escaped slash", `"Pa$$ \"w\u00F6rd\"\/<1>&+="`, []string{pw}, `"[REDACTED]"`},
		{"form-encoded", "username=a&password=Pa%24%24+%22w%C3%B6rd%22%2F%3C1%3E%26%2B%3D&x=1", []string{pw}, "username=a&password=[REDACTED]&x=1"},
		{"form-encoded, lower hex", "password=Pa%24%24+%22w%c3%b6rd%22%2f%3c1%3e%26%2b%3d", []string{pw}, "password=[REDACTED]"},
		{"path-encoded", "/login/Pa$$%20%22w%C3%B6rd%22%2F%3C1%3E&+=", []string{pw}, "/login/[REDACTED]"},
		{"inside a Basic credential", "Authorization: Basic " + basic, []string{pw}, "Authorization: Basic " + basic[:26] + "[REDACTED]" + basic[50:]},
		{"base64url, unpadded", "token " + jwtish, []string{pw}, "token " + jwtish[:2] + "[REDACTED]" + jwtish[26:]},
		{"several secrets, overlapping", "sid abcdefgh-1234 and abcdefgh-1234-tail", []string{"abcdefgh-1234", "1234-tail"}, "sid [REDACTED] and [REDACTED]"},
		{"every occurrence", "s3cr3t s3cr3t", []string{"s3cr3t"}, "[REDACTED] [REDACTED]"},
		{"too short to mask", "the abc is fine", []string{"abc", ""}, "the abc is fine"},
		{"no secret", "nothing to hide", nil, "nothing to hide"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.String(tc.in, tc.secrets...); got != tc.want {
				t.Errorf("redact.String(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzString: whatever the secret, the text around it and the encoding it
// is echoed in, none of the secret's encodings survives.
func FuzzString(f *testing.F) {
	f.Add(pw, "error: ", " rejected", uint8(0), []byte("admin:"))
	f.Add("CANARY-session-4f1c9e2ab7d3", `{"error":"`, `"}`, uint8(1), []byte{})
	f.Add("s3cr3t+/=$&", "q=", "&x", uint8(3), []byte("a"))
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.sig", "Basic ", "", uint8(5), []byte("sb-client!b1:"))
	f.Add("ÿü€𝄞 \u2028", "", "", uint8(2), []byte("xy"))
	f.Fuzz(func(t *testing.T, secret, prefix, suffix string, which uint8, pre []byte) {
		if len(secret) < redact.MinLen {
			return
		}
		in := prefix + redacttest.Echo(int(which), secret, pre) + suffix
		out := redact.String(in, secret)
		if l := redacttest.Leaks(out, secret); len(l) > 0 {
			t.Fatalf("the secret %q survives %v in %q (from %q)", secret, l, out, in)
		}
		if utf8.ValidString(in) && utf8.ValidString(secret) && !utf8.ValidString(out) {
			t.Fatalf("valid text became invalid: %q", out)
		}
	})
}

func BenchmarkString(b *testing.B) {
	msg := strings.Repeat("The service broker rejected the request: quota exceeded. ", 8)
	secrets := []string{pw, "CANARY-session-4f1c9e2ab7d3", "sb-secret$abc=="}
	b.ReportAllocs()
	for b.Loop() {
		redact.String(msg, secrets...)
	}
}

// TestLeaks_FindsEveryUnredactedEcho is the test of the fuzz targets'
// checker: each echo of a secret, left as it is, is reported.
func TestLeaks_FindsEveryUnredactedEcho(t *testing.T) {
	for _, secret := range []string{pw, "CANARY-session-4f1c9e2ab7d3", "ab/c+d=e$"} {
		for i := range redacttest.Encodings() {
			for _, pre := range [][]byte{nil, []byte("u"), []byte("us"), []byte("user:")} {
				echo := "before " + redacttest.Echo(i, secret, pre) + " after"
				if len(redacttest.Leaks(echo, secret)) == 0 {
					t.Errorf("echo %d of %q (after %q) not found in %q", i, secret, pre, echo)
				}
				if l := redacttest.Leaks(redact.String(echo, secret), secret); len(l) > 0 {
					t.Errorf("echo %d of %q (after %q) survives %v", i, secret, pre, l)
				}
			}
		}
	}
}

func TestCredentialValues(t *testing.T) {
	doc := `{"oauth":{"clientid":"sb-abc!b1|it-rt!b2","clientsecret":"0a1b2c3d$e=","tokenurl":"https://x.authentication.eu10.hana.ondemand.com/oauth/token",
		"url":"https://x.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com","key":"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
		"certificate":"-----BEGIN CERTIFICATE-----"},"tokens":[{"access_token":"eyJ.a.b"}],"password":"abc"}`
	got := redact.CredentialValues([]byte(doc))
	want := map[string]bool{"0a1b2c3d$e=": true, "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n": true, "eyJ.a.b": true}
	if len(got) != len(want) {
		t.Fatalf("CredentialValues = %q, want the secret, the key and the token", got)
	}
	for _, v := range got {
		if !want[v] {
			t.Errorf("%q is no secret", v)
		}
	}
	if redact.CredentialValues([]byte("not json")) != nil {
		t.Error("values from a document that is not JSON")
	}
}
