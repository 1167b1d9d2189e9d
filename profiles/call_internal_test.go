package profiles

import (
	"net/http"
	"strings"
	"testing"
)

func TestGuessContentType_FromNameThenFirstByte(t *testing.T) {
	cases := []struct{ body, name, path, want string }{
		{"<a/>", "", "/http/x", "application/xml"},
		{"  <soap:Envelope/>", "", "/cxf/x", "text/xml; charset=utf-8"},
		{`{"a":1}`, "", "/http/x", "application/json"},
		{"[1]", "", "/http/x", "application/json"},
		{"hello", "", "/http/x", "text/plain; charset=utf-8"},
		{"hello", "order.json", "/http/x", "application/json"},
		{"x", "msg.XML", "/cxf/x", "text/xml; charset=utf-8"},
	}
	for _, tc := range cases {
		if got := guessContentType([]byte(tc.body), tc.name, tc.path); got != tc.want {
			t.Errorf("%q %q %q: %q, want %q", tc.body, tc.name, tc.path, got, tc.want)
		}
	}
}

func TestSafeHeaders_RedactSessionsAndCSRFTokens(t *testing.T) {
	h := http.Header{}
	h.Add("Set-Cookie", "JSESSIONID=ABC123SECRET; Path=/; HttpOnly")
	h.Add("Set-Cookie", "__VCAP_ID__=vcapsecret")
	h.Set("X-Csrf-Token", "tok-secret")
	h.Set("Sap_messageprocessinglogid", "AGxyz")
	h.Set("Content-Type", "text/plain")
	out := safeHeaders(h)
	all := ""
	for k, vs := range out {
		all += k + ": " + strings.Join(vs, " | ") + "\n"
	}
	for _, secret := range []string{"ABC123SECRET", "vcapsecret", "tok-secret"} {
		if strings.Contains(all, secret) {
			t.Errorf("%s shown:\n%s", secret, all)
		}
	}
	for _, want := range []string{"JSESSIONID=[redacted]; Path=/; HttpOnly", "__VCAP_ID__=[redacted]", "X-CSRF-Token: [redacted]", "SAP_MessageProcessingLogID: AGxyz"} {
		if !strings.Contains(all, want) {
			t.Errorf("lacks %q:\n%s", want, all)
		}
	}
	h.Set("X-Csrf-Token", "Required")
	if safeHeaders(h)["X-CSRF-Token"][0] != "Required" {
		t.Error("X-CSRF-Token: Required is not a secret and should show")
	}
}

func TestBodyPreview_FirstLinesInert(t *testing.T) {
	lines, more := BodyPreview([]byte("a\r\nb\x1b[2J\nc\nd\n"), 3)
	if !more || len(lines) != 3 || lines[0] != "a" || lines[1] != `b\x1b[2J` {
		t.Errorf("%q %v", lines, more)
	}
	if lines, more := BodyPreview(nil, 3); lines != nil || more {
		t.Errorf("empty body: %q", lines)
	}
	if lines, _ := BodyPreview([]byte{0xff, 0xfe}, 3); len(lines) != 1 || !strings.Contains(lines[0], "not text") {
		t.Errorf("binary: %q", lines)
	}
}
