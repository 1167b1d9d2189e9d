// Package tenant speaks to the SAP Cloud Integration tenant a key points at
// (docs/protocol/it-rt.md §5.2-§5.4): one request to an iFlow endpoint on
// the runtime host (/http, /cxf) or to the OData API on the management host
// (/api/v1), with the key's bearer token or its clientid and secret as
// Basic, the CSRF handshake of protected sender adapters, and a one-line
// diagnosis of an answer that is not a success.
//
// The tenant's address is the key's url; a request never goes to another
// host, and credentials never appear in an error.
package tenant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/transport"
)

// Auth is how a request authenticates: a bearer token or Basic clientid
// and secret. Its fields are unexported and it prints redacted.
type Auth struct {
	token, id, secret string
}

// Bearer authenticates with an OAuth access token.
func Bearer(token string) Auth { return Auth{token: token} }

// Basic authenticates with the key's clientid and secret (integration-flow
// keys, iFlow endpoints only).
func Basic(id, secret string) Auth { return Auth{id: id, secret: secret} }

// IsBasic reports Basic authentication.
func (a Auth) IsBasic() bool { return a.token == "" && a.id != "" }

func (a Auth) apply(r *http.Request) {
	if a.token != "" {
		r.Header.Set("Authorization", "Bearer "+a.token)
	} else if a.id != "" {
		r.SetBasicAuth(a.id, a.secret)
	}
}

// String keeps credentials out of %v.
func (a Auth) String() string {
	if a.IsBasic() {
		return "tenant.Auth{basic, redacted}"
	}
	return "tenant.Auth{bearer, redacted}"
}

// GoString keeps credentials out of %#v.
func (a Auth) GoString() string { return a.String() }

// HostError refuses a full URL whose host is not the key's.
type HostError struct {
	Host, KeyHost string
}

func (e *HostError) Error() string {
	return fmt.Sprintf("refusing to send the key's credentials to %s: PATH must be relative to the key's url (e.g. /http/your/endpoint) or a URL on its host %s", e.Host, e.KeyHost)
}

// PathError is a PATH that is not a path or URL cpikey can send to.
type PathError struct{ Msg string }

func (e *PathError) Error() string { return e.Msg }

// Resolve turns PATH into the request URL: a path starting with "/" is
// appended to the key's url; a full URL is accepted only on the key's own
// scheme and host. Nothing is sent anywhere else.
func Resolve(keyURL, path string) (*url.URL, error) {
	base, err := transport.CheckURL(strings.TrimSpace(keyURL))
	if err != nil {
		return nil, fmt.Errorf("the key's url: %w", err)
	}
	switch {
	case strings.HasPrefix(path, "//"):
		return nil, &PathError{fmt.Sprintf("PATH %q starts with //: write a path like /http/your/endpoint", path)}
	case strings.HasPrefix(path, "/"):
		rel, err := url.Parse(path)
		if err != nil {
			return nil, &PathError{fmt.Sprintf("PATH %q: %v", path, err)}
		}
		u := *base
		u.Path = strings.TrimSuffix(base.Path, "/") + rel.Path
		u.RawPath = ""
		if rel.RawPath != "" {
			u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + rel.RawPath
		}
		u.RawQuery, u.Fragment = rel.RawQuery, ""
		return &u, nil
	}
	full, err := url.Parse(path)
	if err != nil || full.Scheme == "" || full.Host == "" {
		return nil, &PathError{fmt.Sprintf("PATH %q must start with / (relative to the key's url, e.g. /http/your/endpoint) or be a full URL on the key's host", path)}
	}
	if !strings.EqualFold(full.Scheme, base.Scheme) || !sameHost(full, base) {
		return nil, &HostError{Host: full.Scheme + "://" + full.Host, KeyHost: base.Scheme + "://" + base.Host}
	}
	if full.User != nil {
		return nil, &PathError{"PATH must not carry user information (user@host): cpikey sends the key's credentials itself"}
	}
	full.Fragment = ""
	return full, nil
}

// sameHost compares host names case-insensitively and ports with the
// scheme's default filled in.
func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "http") {
			return "80"
		}
		return "443"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// Request is one call to the tenant.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header // the user's headers; Authorization is set from Auth
	Body   []byte
}

// CSRFOutcome says what the CSRF handshake did.
type CSRFOutcome string

// CSRF outcomes.
const (
	CSRFNone        CSRFOutcome = ""             // not asked for
	CSRFResent      CSRFOutcome = "resent"       // token fetched, request sent again with it
	CSRFFetchFailed CSRFOutcome = "fetch-failed" // the fetch gave no token; the first 403 stands
)

// Response is the tenant's answer to the request (after a CSRF retry, the
// answer to the retry).
type Response struct {
	Status     int
	StatusText string // e.g. "Not Found"
	Header     http.Header
	Body       []byte
	Elapsed    time.Duration // all round trips to the tenant
	RoundTrips int
	CSRF       CSRFOutcome
}

// OK is 2xx or 3xx: what `cpikey call` exits 0 for.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 400 }

// MPLID is the message processing log id of the message: the
// SAP_MessageProcessingLogID header, or the id a failed iFlow names in its
// body. Only an id of the expected alphabet is returned (it is server text).
func (r *Response) MPLID() string {
	if id := r.Header.Get(itrt.MPLHeader); validMPL(id) {
		return id
	}
	const marker = "MPL ID for the failed message is"
	if i := bytes.Index(r.Body, []byte(marker)); i >= 0 {
		rest := strings.TrimLeft(string(r.Body[i+len(marker):min(len(r.Body), i+len(marker)+80)]), " :")
		if f := strings.Fields(rest); len(f) > 0 && validMPL(strings.TrimRight(f[0], ".")) {
			return strings.TrimRight(f[0], ".")
		}
	}
	return ""
}

func validMPL(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// NetError is a request that got no answer.
type NetError struct {
	Host string
	Err  error
}

func (e *NetError) Error() string {
	return fmt.Sprintf("cannot reach the tenant at %s: %v", e.Host, e.Err)
}

// Unwrap returns the cause.
func (e *NetError) Unwrap() error { return e.Err }

// Client sends requests to a tenant.
type Client struct {
	// HTTP is the client of the transport policy (proxy, trace, limits);
	// for certificate keys one that presents the client certificate. nil:
	// the transport default.
	HTTP *http.Client
}

// Do sends the request once. Redirects are not followed (a 3xx is the
// answer). A 403 with "X-CSRF-Token: Required" is answered with a token
// fetch ("X-CSRF-Token: Fetch", cookies kept) and one resend; nothing else
// is retried, so a message is never delivered twice.
func (c *Client) Do(ctx context.Context, req Request, auth Auth) (*Response, error) {
	hc := c.HTTP
	if hc == nil {
		hc = transport.NewHTTPClient(transport.Options{})
	}
	client := *hc
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// Sessions (the CSRF token is bound to one) live as long as this call.
	jar, _ := cookiejar.New(nil)
	client.Jar = jar

	start := time.Now()
	out, err := send(ctx, &client, req, auth, nil)
	if err != nil {
		return nil, err
	}
	out.RoundTrips = 1
	if out.Status == http.StatusForbidden && strings.EqualFold(out.Header.Get(itrt.CSRFHeader), itrt.CSRFRequired) {
		fetch := Request{Method: http.MethodGet, URL: req.URL}
		f, err := send(ctx, &client, fetch, auth, http.Header{itrt.CSRFHeader: {itrt.CSRFFetch}})
		if err != nil {
			return nil, err
		}
		out.RoundTrips++
		tok := f.Header.Get(itrt.CSRFHeader)
		if f.Status >= 400 || tok == "" || strings.EqualFold(tok, itrt.CSRFRequired) {
			out.CSRF = CSRFFetchFailed
		} else {
			again, err := send(ctx, &client, req, auth, http.Header{itrt.CSRFHeader: {tok}})
			if err != nil {
				return nil, err
			}
			again.RoundTrips = out.RoundTrips + 1
			out = again
			out.CSRF = CSRFResent
		}
	}
	out.Elapsed = time.Since(start)
	return out, nil
}

func send(ctx context.Context, hc *http.Client, req Request, auth Auth, extra http.Header) (*Response, error) {
	var body io.Reader // nil, not a nil *bytes.Reader: no body at all
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL.String(), body)
	if err != nil {
		return nil, fmt.Errorf("request %s %s: %v", req.Method, transport.RedactURL(req.URL), err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	for k, vs := range extra {
		hr.Header[http.CanonicalHeaderKey(k)] = vs
	}
	auth.apply(hr)
	res, err := hc.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, by NetError
		}
		return nil, &NetError{Host: req.URL.Host, Err: err}
	}
	defer res.Body.Close()
	b, err := transport.ReadBody(res.Body, 0)
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", req.URL.Host, err)
	}
	return &Response{Status: res.StatusCode, StatusText: http.StatusText(res.StatusCode), Header: res.Header, Body: b}, nil
}
