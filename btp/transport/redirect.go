package transport

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxRedirects bounds one chain of redirects.
const maxRedirects = 5

// Redirects is a redirect policy for an http.Client. A redirect is followed
// only within the origin (scheme, host and port) of the chain's first
// request, or over https to a URL Allow accepts; any other redirect is
// refused before anything (body, headers, even a connection) goes there.
//
// Refusing in CheckRedirect is what keeps a POST body at home: net/http
// prepares the follow-up request, body included, but sends it only after
// CheckRedirect returned nil.
type Redirects struct {
	// Allow reports whether a redirect may leave the first request's
	// origin for u. Only https URLs are offered; nil allows none.
	Allow func(u *url.URL) bool
	// CopyFromResponse names headers that, when a redirect answer in the
	// chain carries them, are set on the follow-up request (the latest
	// answer wins).
	CopyFromResponse []string
	// Hint is appended to a refusal: what the user should check.
	Hint string
}

// Check implements http.Client.CheckRedirect.
func (p Redirects) Check(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	from := via[0].URL
	if !SameOrigin(from, req.URL) && (req.URL.Scheme != "https" || p.Allow == nil || !p.Allow(req.URL)) {
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return &RedirectError{From: from.Host, To: req.URL.Host, Status: status, Hint: p.Hint}
	}
	for _, h := range p.CopyFromResponse {
		v := ""
		for _, r := range append(via[1:], req) {
			if r.Response != nil {
				if x := r.Response.Header.Get(h); x != "" {
					v = x
				}
			}
		}
		if v != "" {
			req.Header.Set(h, v)
		}
	}
	return nil
}

// RedirectError is a redirect cpikey refused to follow; nothing was sent to
// To. It is final: repeating the request would be redirected again.
type RedirectError struct {
	From, To string // host[:port] of the redirecting server and of the target
	Status   int    // the redirect's HTTP status
	Hint     string
}

func (e *RedirectError) Error() string {
	to := e.To
	if to == "" {
		to = "an address without a host"
	}
	msg := fmt.Sprintf("%s redirected the request (HTTP %d) to %s, where cpikey does not send credentials; nothing was sent there", e.From, e.Status, to)
	if e.Hint != "" {
		msg += ". " + e.Hint
	}
	return msg
}

// IsRedirectRefused reports whether err is (or wraps) a refused redirect.
func IsRedirectRefused(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}

// SameOrigin reports whether a and b share scheme, host and port (default
// ports made explicit), the browser's notion of one server.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			return strconv.Itoa(n)
		}
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// defaultRedirects is the policy of NewHTTPClient: the same origin only.
// Clients that must follow SAP's redirects elsewhere set their own.
var defaultRedirects = Redirects{Hint: "cpikey follows redirects only within the server it was given; check the URL and any proxy or gateway in between"}
