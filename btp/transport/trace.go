package transport

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cpikey/cpikey/safetext"
)

// Tracer writes one line per HTTP exchange for --debug: method, URL with
// sensitive query values redacted, status and duration. Headers and bodies
// are never written, so session ids, tokens and secrets cannot leak here;
// what the server sent is shown inert (safetext).
type Tracer struct {
	Next http.RoundTripper
	Out  io.Writer
	mu   sync.Mutex
}

// RoundTrip implements http.RoundTripper.
func (t *Tracer) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.Next.RoundTrip(r)
	line := fmt.Sprintf("http: %s %s", r.Method, RedactURL(r.URL))
	if err != nil {
		line += fmt.Sprintf(" -> error %s (%s)", errKind(err), time.Since(start).Round(time.Millisecond))
	} else {
		line += fmt.Sprintf(" -> %d", resp.StatusCode)
		if b := resp.Header.Get("X-Cpcli-Backend-Status"); b != "" {
			line += " backend " + b
		}
		line += fmt.Sprintf(" (%s)", time.Since(start).Round(time.Millisecond))
	}
	t.mu.Lock()
	// Header values and error texts are the server's words: one inert line.
	fmt.Fprintln(t.Out, safetext.Line(line))
	t.mu.Unlock()
	return resp, err
}

func errKind(err error) string {
	s := err.Error()
	// net/http errors quote the URL; keep only the tail describing the cause.
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

var sensitiveQuery = []string{"password", "passcode", "token", "access_token", "refresh_token", "client_secret", "clientsecret", "code", "assertion"}

// RedactURL renders u with credentials and sensitive query values masked.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			for _, s := range sensitiveQuery {
				if strings.EqualFold(k, s) {
					q.Set(k, "REDACTED")
					changed = true
				}
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}
