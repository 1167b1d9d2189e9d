package profiles

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/safetext"
)

// CallOutput says how `cpikey call` prints.
type CallOutput struct {
	JSON    bool // one JSON object on stdout (status, headers, timing, body)
	Include bool // -i: status and headers on stderr before the body
	// Terminal: stdout is a terminal, so the body's control characters are
	// shown inert instead of reaching it.
	Terminal bool
}

// callJSON is the --json shape of a call.
type callJSON struct {
	Profile string `json:"profile"`
	Request struct {
		Method    string `json:"method"`
		URL       string `json:"url"`
		Auth      string `json:"auth"`
		BodyBytes int    `json:"bodyBytes"`
	} `json:"request"`
	Status     int                 `json:"status"`
	StatusText string              `json:"statusText"`
	OK         bool                `json:"ok"`
	Headers    map[string][]string `json:"headers"`
	Timing     struct {
		TotalMs  float64 `json:"totalMs"`
		TokenMs  float64 `json:"tokenMs"`
		TenantMs float64 `json:"tenantMs"`
	} `json:"timing"`
	BodyBytes   int      `json:"bodyBytes"`
	Body        *string  `json:"body,omitempty"`       // when it is UTF-8 text
	BodyBase64  string   `json:"bodyBase64,omitempty"` // otherwise
	TokenReused bool     `json:"tokenReused"`
	RoundTrips  int      `json:"roundTrips"`
	CSRF        string   `json:"csrf,omitempty"` // "resent" or "fetch-failed"
	MPLID       string   `json:"mplId,omitempty"`
	Diagnosis   string   `json:"diagnosis,omitempty"`
	Notes       []string `json:"notes,omitempty"`
}

func ms(d time.Duration) float64 {
	return float64(d.Round(100*time.Microsecond)) / float64(time.Millisecond)
}

// WriteCall prints a call: the body (or the JSON result) on stdout; notes,
// -i's status and headers, and the diagnosis on stderr. Cookies and CSRF
// tokens the tenant sets are redacted (session ids are secrets).
func WriteCall(stdout, stderr io.Writer, r *CallResult, o CallOutput) error {
	resp := r.Response
	var b strings.Builder
	for _, n := range r.Notes {
		b.WriteString("! " + n + "\n")
	}
	if o.Include {
		fmt.Fprintf(&b, "%d %s in %s, %d bytes\n", resp.Status, resp.StatusText, r.Total.Round(time.Millisecond), len(resp.Body))
		hs := safeHeaders(resp.Header)
		names := make([]string, 0, len(hs))
		for n := range hs {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			for _, v := range hs[n] {
				b.WriteString(n + ": " + safetext.Line(v) + "\n")
			}
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(stderr, b.String()); err != nil {
		return err
	}

	if o.JSON {
		var out callJSON
		out.Profile = r.Profile
		out.Request.Method, out.Request.URL, out.Request.Auth, out.Request.BodyBytes = r.Method, r.URL, r.Auth, r.RequestBytes
		out.Status, out.StatusText, out.OK = resp.Status, resp.StatusText, r.OK()
		out.Headers = safeHeaders(resp.Header)
		out.Timing.TotalMs, out.Timing.TokenMs, out.Timing.TenantMs = ms(r.Total), ms(r.TokenTime), ms(resp.Elapsed)
		out.BodyBytes = len(resp.Body)
		if utf8.Valid(resp.Body) {
			s := string(resp.Body)
			out.Body = &s
		} else {
			out.BodyBase64 = base64.StdEncoding.EncodeToString(resp.Body)
		}
		out.TokenReused, out.RoundTrips, out.CSRF = r.TokenReused, r.RoundTrips, string(resp.CSRF)
		out.MPLID, out.Diagnosis, out.Notes = resp.MPLID(), r.Diagnosis, r.Notes
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else if o.Terminal {
		body := safetext.Text(string(resp.Body))
		if body != "" && !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		if _, err := io.WriteString(stdout, body); err != nil {
			return err
		}
	} else if _, err := stdout.Write(resp.Body); err != nil {
		return err
	}

	switch {
	case r.Diagnosis != "":
		_, err := fmt.Fprintln(stderr, "✗ "+r.Diagnosis)
		return err
	case o.Terminal && !o.Include && !o.JSON:
		_, err := fmt.Fprintf(stderr, "✓ %d %s in %s\n", resp.Status, resp.StatusText, r.Total.Round(time.Millisecond))
		return err
	}
	return nil
}

// headerNames shows the runtime's own spelling of headers Go canonicalizes
// oddly (SAP_MessageProcessingLogID reads Sap_messageprocessinglogid).
var headerNames = map[string]string{
	http.CanonicalHeaderKey(itrt.MPLHeader):  itrt.MPLHeader,
	http.CanonicalHeaderKey(itrt.CSRFHeader): itrt.CSRFHeader,
}

// safeHeaders copies h with session cookies and CSRF tokens redacted.
func safeHeaders(h http.Header) map[string][]string {
	out := map[string][]string{}
	for k, vs := range h {
		name := k
		if n, ok := headerNames[k]; ok {
			name = n
		}
		for _, v := range vs {
			switch http.CanonicalHeaderKey(k) {
			case "Set-Cookie":
				cookie, attrs, _ := strings.Cut(v, ";")
				cname, _, _ := strings.Cut(cookie, "=")
				v = cname + "=[redacted]"
				if attrs != "" {
					v += ";" + attrs
				}
			case http.CanonicalHeaderKey(itrt.CSRFHeader):
				if !strings.EqualFold(v, itrt.CSRFRequired) && !strings.EqualFold(v, itrt.CSRFFetch) {
					v = "[redacted]"
				}
			case "Authorization", "Proxy-Authorization", "Cookie":
				v = "[redacted]"
			}
			out[name] = append(out[name], v)
		}
	}
	return out
}

// BodyPreview is the first lines of a body made inert for a terminal (the
// wizard's inline call shows them), and whether more followed.
func BodyPreview(body []byte, lines int) ([]string, bool) {
	if !utf8.Valid(body) {
		return []string{fmt.Sprintf("(%d bytes, not text)", len(body))}, false
	}
	all := strings.Split(strings.TrimRight(string(body), "\r\n"), "\n")
	if len(body) == 0 {
		return nil, false
	}
	more := len(all) > lines
	if more {
		all = all[:lines]
	}
	out := make([]string, len(all))
	for i, l := range all {
		out[i] = safetext.Line(strings.TrimSuffix(l, "\r"))
	}
	return out, more
}
