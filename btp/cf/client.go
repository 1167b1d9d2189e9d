// Package cf speaks Cloud Foundry v3 and its UAA the way the cf CLI does
// (docs/protocol/cloud-foundry.md): discover endpoints, log in with a
// password or an SSO passcode, list orgs and spaces, and create it-rt
// service instances and keys. Tokens stay inside the Client; no error or
// method result ever carries one.
package cf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cpikey/cpikey/btp/redact"
	"github.com/cpikey/cpikey/btp/transport"
)

// Client talks to one Cloud Foundry API endpoint. It is safe for concurrent
// use once configured.
type Client struct {
	api *url.URL
	hc  *http.Client

	// Retry bounds the retries of 429 and 502/503/504 answers (and of
	// connection errors on GETs). Set it before the first call.
	Retry transport.RetryPolicy

	mu  sync.Mutex
	ep  *Endpoints
	tok tokenState

	refreshMu sync.Mutex
}

// New returns a client for the Cloud Foundry API at apiURL (e.g.
// https://api.cf.eu10.hana.ondemand.com). httpClient nil means
// transport.NewHTTPClient defaults. Redirects are never followed, so the
// bearer token cannot be carried to another host.
func New(apiURL string, httpClient *http.Client) (*Client, error) {
	u, err := transport.CheckURL(strings.TrimSpace(apiURL))
	if err != nil {
		return nil, fmt.Errorf("cloud foundry API URL: %w", err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("cloud foundry API URL %q must not carry a query, fragment or user info", apiURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if httpClient == nil {
		httpClient = transport.NewHTTPClient(transport.Options{})
	}
	hc := *httpClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{api: u, hc: &hc, Retry: transport.DefaultRetry}, nil
}

// APIURL is the API endpoint the client was made for.
func (c *Client) APIURL() string { return c.api.String() }

// apiRef resolves a path like "/v3/spaces" against the API URL.
func (c *Client) apiRef(path string, q url.Values) string {
	u := *c.api
	u.Path = c.api.Path + path
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// checkAPIHost refuses any URL outside the API host: pagination links, job
// Locations and the like come from the server and must never take the
// bearer token elsewhere.
func (c *Client) checkAPIHost(raw string) (*url.URL, error) {
	u, err := c.api.Parse(raw) // resolves relative references
	if err != nil {
		return nil, fmt.Errorf("cloud foundry sent an invalid link %q: %v", raw, err)
	}
	if u.Scheme != c.api.Scheme || !strings.EqualFold(u.Host, c.api.Host) {
		return nil, fmt.Errorf("refusing to follow a link to %s://%s: it is not the Cloud Foundry API host %s", u.Scheme, u.Host, c.api.Host)
	}
	return u, nil
}

// response is a fully read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// sendOnce performs one HTTP exchange and reads the (bounded) body.
func (c *Client) sendOnce(ctx context.Context, method, rawURL string, body []byte, hdr http.Header) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("cloud foundry %s: %v", method, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is added below, redacted
		}
		return nil, fmt.Errorf("cloud foundry %s %s: %w", method, transport.RedactURL(req.URL), err)
	}
	defer res.Body.Close()
	b, err := transport.ReadBody(res.Body, 0)
	if err != nil {
		return nil, fmt.Errorf("cloud foundry %s %s: reading the answer: %w", method, transport.RedactURL(req.URL), err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}, nil
}

// retryable decides whether an answer may be retried. GETs retry on 429,
// 502, 503 and 504. POST and DELETE change state, so they retry only when
// the request provably was not processed: 429 (CC's rate limiter answers
// before the request is handled, §10) and a 503 from the gorouter
// (X-Cf-Routererror: the request never reached the Cloud Controller).
func retryable(method string, r *response) bool {
	switch r.status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return method == http.MethodGet || r.header.Get("X-Cf-Routererror") != ""
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return method == http.MethodGet
	}
	return false
}

// retryAfter reads Retry-After, falling back to X-RateLimit-Reset on 429.
func retryAfter(r *response) time.Duration {
	if d := transport.RetryAfter(r.header); d > 0 {
		return d
	}
	if r.status == http.StatusTooManyRequests {
		if s, err := strconv.ParseInt(r.header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			if d := time.Until(time.Unix(s, 0)); d > 0 {
				return d
			}
		}
	}
	return 0
}

// cc performs an authenticated Cloud Controller request with proactive and
// reactive token refresh and bounded retries. body (if not nil) is JSON.
// Non-2xx answers come back as *Error.
func (c *Client) cc(ctx context.Context, method, rawURL string, body any) (*response, error) {
	u, err := c.checkAPIHost(rawURL)
	if err != nil {
		return nil, err
	}
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("cloud foundry %s %s: encoding the request: %v", method, u.Path, err)
		}
	}
	hdr := http.Header{"Accept": {"application/json"}}
	if payload != nil {
		hdr.Set("Content-Type", "application/json")
	}
	retr := transport.NewRetrier(c.Retry)
	retr.Begin()
	reauthed := false
	for {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		hdr.Set("Authorization", "bearer "+tok)
		r, err := c.sendOnce(ctx, method, u.String(), payload, hdr)
		if err != nil {
			if ctx.Err() != nil || method != http.MethodGet {
				return nil, err
			}
			if ok, werr := retr.Wait(ctx, 0); werr != nil {
				return nil, werr
			} else if ok {
				retr.Begin()
				continue
			}
			return nil, err
		}
		if r.status == http.StatusUnauthorized && c.isInvalidToken(r) {
			if reauthed {
				return nil, fmt.Errorf("%w: the API rejected even a freshly refreshed token (%v)", ErrLoginRequired, c.ccError(method, u, r))
			}
			// The token expired or was revoked early: refresh and retry
			// once, as go-cfclient does (§2.6).
			reauthed = true
			if err := c.refresh(ctx, tok); err != nil {
				return nil, err
			}
			continue
		}
		if retryable(method, r) {
			if ok, werr := retr.Wait(ctx, retryAfter(r)); werr != nil {
				return nil, werr
			} else if ok {
				retr.Begin()
				continue
			}
		}
		if r.status >= 300 {
			return nil, c.ccError(method, u, r)
		}
		return r, nil
	}
}

func (c *Client) isInvalidToken(r *response) bool {
	var body struct {
		Errors []APIError `json:"errors"`
	}
	if json.Unmarshal(r.body, &body) != nil {
		return false
	}
	for _, e := range body.Errors {
		if e.Code == 1000 || e.Title == "CF-InvalidAuthToken" {
			return true
		}
	}
	return false
}

// ccError builds *Error from a non-2xx answer. The body is parsed as JSON
// whatever its Content-Type claims (CC's 429 says text/plain).
func (c *Client) ccError(method string, u *url.URL, r *response) error {
	e := &Error{Status: r.status, Method: method, Path: u.Path, RequestID: r.header.Get("X-Vcap-Request-Id")}
	var body struct {
		Errors []APIError `json:"errors"`
	}
	if json.Unmarshal(r.body, &body) == nil && len(body.Errors) > 0 {
		secrets := c.secrets()
		for _, x := range body.Errors {
			x.Detail = redact.String(x.Detail, secrets...)
			x.Title = redact.String(x.Title, secrets...)
			e.Errors = append(e.Errors, x)
		}
	} else {
		e.ContentType = r.header.Get("Content-Type")
	}
	return e
}

// getJSON GETs an API URL and decodes the answer into v.
func (c *Client) getJSON(ctx context.Context, rawURL string, v any) error {
	r, err := c.cc(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	return decode(r, rawURL, v)
}

func decode(r *response, what string, v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		if u, perr := url.Parse(what); perr == nil {
			what = u.Path
		}
		return fmt.Errorf("cloud foundry %s: the answer is not the expected JSON (%v)", what, err)
	}
	return nil
}

// --- pagination ------------------------------------------------------------------

type link struct {
	Href string `json:"href"`
}

type page[T any] struct {
	Pagination struct {
		TotalResults int   `json:"total_results"`
		TotalPages   int   `json:"total_pages"`
		Next         *link `json:"next"`
	} `json:"pagination"`
	Resources []T `json:"resources"`
}

// maxPages stops a server that never ends a list.
const maxPages = 1000

// listAll GETs path?q and follows pagination.next.href as-is (the cf CLI's
// way), refusing links off the API host.
func listAll[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	next := c.apiRef(path, q)
	var out []T
	seen := map[string]bool{}
	for n := 0; next != ""; n++ {
		if n >= maxPages || seen[next] {
			return nil, fmt.Errorf("cloud foundry %s: pagination does not end (page %d); giving up", path, n+1)
		}
		seen[next] = true
		var p page[T]
		if err := c.getJSON(ctx, next, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Resources...)
		next = ""
		if p.Pagination.Next != nil && p.Pagination.Next.Href != "" {
			if _, err := c.checkAPIHost(p.Pagination.Next.Href); err != nil {
				return nil, fmt.Errorf("cloud foundry %s: %w", path, err)
			}
			next = p.Pagination.Next.Href
		}
	}
	return out, nil
}

// firstOf GETs path?q and returns its first page's resources.
func firstOf[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var p page[T]
	if err := c.getJSON(ctx, c.apiRef(path, q), &p); err != nil {
		return nil, err
	}
	return p.Resources, nil
}

// --- wire shapes shared by resources ------------------------------------------

type relationship struct {
	Data *struct {
		GUID string `json:"guid"`
	} `json:"data"`
}

func (r relationship) guid() string {
	if r.Data == nil {
		return ""
	}
	return r.Data.GUID
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// acceptedJob reads the job URL of a 202 answer. The body is empty
// text/html and is not decoded (§6.3).
func (c *Client) acceptedJob(what string, r *response) (string, error) {
	if r.status != http.StatusAccepted {
		return "", fmt.Errorf("cloud foundry %s: expected 202 Accepted with a job, got HTTP %d", what, r.status)
	}
	loc := r.header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("cloud foundry %s: 202 Accepted without a Location header", what)
	}
	u, err := c.checkAPIHost(loc)
	if err != nil {
		return "", fmt.Errorf("cloud foundry %s: %w", what, err)
	}
	return u.String(), nil
}

// jsonObject checks that params is empty or a JSON object.
func jsonObject(params json.RawMessage) (json.RawMessage, error) {
	p := bytes.TrimSpace(params)
	if len(p) == 0 || string(p) == "null" {
		return nil, nil
	}
	if p[0] != '{' || !json.Valid(p) {
		return nil, errors.New("parameters must be a JSON object")
	}
	return p, nil
}
