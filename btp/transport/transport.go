// Package transport holds the HTTP policy every SAP client of cpikey shares:
// which URLs may be called, proxies, timeouts, the User-Agent, size-limited
// bodies, redirect hygiene, retry back-off and the redacted --debug trace.
package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is sent on every request; main sets the version at start-up.
var UserAgent = "cpikey/dev"

// MaxBodyBytes bounds every response body cpikey reads. The largest legitimate
// answer is the entitlement listing (a few MB), so 32 MiB leaves room without
// letting a broken or hostile server exhaust memory.
const MaxBodyBytes int64 = 32 << 20

// ErrBodyTooLarge is returned when a response body exceeds its limit.
var ErrBodyTooLarge = errors.New("response body exceeds the size limit")

// CheckURL refuses URLs cpikey must not send credentials to: anything that is
// not https, except plain http to a loopback address (the simulator, tests).
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q: %v", raw, err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("refusing plain http:// to %s: use https:// (http is only allowed for loopback addresses)", u.Host)
		}
	default:
		return nil, fmt.Errorf("unsupported URL scheme %q in %q: use https://", u.Scheme, raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", raw)
	}
	return u, nil
}

// IsLoopback reports whether host names this machine only.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Options configure NewHTTPClient.
type Options struct {
	// Timeout bounds one request including reading the body; 0 means 60s.
	Timeout time.Duration
	// Trace, when set, receives one redacted line per request (--debug).
	Trace io.Writer
	// Base replaces the default transport (tests wrap it); Proxy is kept
	// from the environment when Base is nil.
	Base http.RoundTripper
	// RootCAs, when set, replaces the system's trusted CAs (--demo trusts
	// the simulator's CA this way; nothing else sets it).
	RootCAs *x509.CertPool
}

// NewHTTPClient builds the client every SAP call goes through. It follows
// redirects only within the origin of the first request (see Redirects).
func NewHTTPClient(o Options) *http.Client {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	base := o.Base
	if base == nil {
		base = &http.Transport{
			// A custom Transport drops proxy support unless it is set again;
			// consultants sit behind corporate proxies.
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: timeout,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   8,
			ForceAttemptHTTP2:     true,
		}
		if o.RootCAs != nil {
			base.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: o.RootCAs}
		}
	}
	rt := &userAgent{next: base}
	var out http.RoundTripper = rt
	if o.Trace != nil {
		out = &Tracer{Next: rt, Out: o.Trace}
	}
	return &http.Client{
		Transport:     out,
		Timeout:       timeout,
		CheckRedirect: defaultRedirects.Check,
	}
}

type userAgent struct{ next http.RoundTripper }

func (u *userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", UserAgent)
	}
	return u.next.RoundTrip(r)
}

// ReadBody reads at most limit bytes of r and fails (without reading the rest)
// when the body is larger. A limit <= 0 means MaxBodyBytes.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// LimitedReader wraps r so a streaming decoder fails once limit bytes were
// consumed, instead of reading an oversized body whole.
func LimitedReader(r io.Reader, limit int64) io.Reader {
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	return &limited{r: r, left: limit}
}

type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrBodyTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
