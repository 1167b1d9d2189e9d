// Package cliserver speaks the BTP CLI server protocol (the one behind the
// btp CLI and SAP's Terraform provider): login, accounts, entitlements,
// environments and Service Manager commands, with the two status layers
// and retry rules of docs/protocol/btp-cli-server.md.
package cliserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cpikey/cpikey/btp/redact"
	"github.com/cpikey/cpikey/btp/transport"
)

// ProtocolVersion is the client protocol version in every path (§1.1).
const ProtocolVersion = "v2.106.1"

// DefaultServerURL is SAP's BTP CLI server.
const DefaultServerURL = "https://cli.btp.cloud.sap"

// errorBodyLimit bounds error bodies; they are small JSON documents.
const errorBodyLimit = 1 << 20

// Client talks to one BTP CLI server. It is safe for concurrent use once
// configured; set Retry before the first call.
type Client struct {
	base *url.URL
	hc   *http.Client

	// Retry bounds the retries of one logical call (transport errors,
	// HTTP 429/5xx, backend rate limit and entitlement lock). The zero
	// value is transport.DefaultRetry; tests use millisecond policies.
	Retry transport.RetryPolicy

	mu   sync.Mutex
	sess *Session
	// known are secrets the server sent (service key credentials): an
	// error text that echoes one must not show it. Guarded by mu.
	known []string

	// redirectAllowed replaces sapCLIServerURL in tests.
	redirectAllowed func(*url.URL) bool
}

// New returns a client for serverURL (https, or http on loopback only).
// A nil httpClient means transport.NewHTTPClient(transport.Options{}).
func New(serverURL string, httpClient *http.Client) (*Client, error) {
	u, err := transport.CheckURL(serverURL)
	if err != nil {
		return nil, fmt.Errorf("BTP CLI server URL: %w", err)
	}
	// Paths are resolved relative to the server URL: keep a path prefix.
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	if httpClient == nil {
		httpClient = transport.NewHTTPClient(transport.Options{})
	}
	c := &Client{base: u}
	hc := *httpClient
	hc.CheckRedirect = transport.Redirects{
		Allow: func(u *url.URL) bool {
			if c.redirectAllowed != nil {
				return c.redirectAllowed(u)
			}
			return sapCLIServerURL(u)
		},
		// What SAP's client copies (btp-cli-server.md §1.2 "Redirects").
		CopyFromResponse: []string{"X-Cpcli-Subdomain", "X-Id-Token"},
		Hint:             redirectHint,
	}.Check
	c.hc = &hc
	return c, nil
}

const redirectHint = "cpikey follows redirects only within the configured BTP CLI server or over https to SAP's BTP CLI servers " +
	"(cli.btp.cloud.sap, cpcli.cf.<region>.hana.ondemand.com): check BTP_CLI_SERVER_URL and any proxy or gateway in between"

// sapCLIServerURL reports the hosts SAP's BTP CLI servers answer on
// (btp-cli-server.md §1.1, integration-suite.md §1.5): the global server,
// SAP's canary, and the regional cpcli.cf.<region>.hana.ondemand.com that
// subscription commands were redirected to. https on the default port only.
func sapCLIServerURL(u *url.URL) bool {
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	switch host {
	case "cli.btp.cloud.sap", "canary.cli.btp.int.sap":
		return true
	}
	region, ok := strings.CutPrefix(host, "cpcli.cf.")
	if !ok {
		return false
	}
	region, ok = strings.CutSuffix(region, ".hana.ondemand.com")
	return ok && regionRE.MatchString(region)
}

// regionRE matches BTP region ids: eu10, us20, eu10-004, cn40.
var regionRE = regexp.MustCompile(`^[a-z]{2}[0-9]{2,3}(-[0-9]{3})?$`)

// ServerURL returns the server base URL (with a trailing slash).
func (c *Client) ServerURL() string { return c.base.String() }

// Session returns the current session, nil before a login.
func (c *Client) Session() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// SetSession makes s the session for later commands (nil logs out locally).
func (c *Client) SetSession(s *Session) {
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
}

// ErrNotLoggedIn is returned by commands issued before any login.
var ErrNotLoggedIn = errors.New("not logged in to the BTP CLI server: log in first")

// Response is a successful command answer: the backend's status, media type
// and body as relayed by the CLI server.
type Response struct {
	BackendStatus int
	MediaType     string
	Body          []byte
}

// call is one logical request, retried as a unit with one correlation id.
type call struct {
	command    string // "<group>/<object>?<action>" or "login"
	method     string
	path       string // relative to the server URL
	body       []byte
	sess       *Session // adds session headers when set
	idempotent bool
	corrID     string
	// login hints for error texts
	subdomain, customIdP string
	// secrets this call sends besides the session id (the password)
	secrets []string
}

// Execute runs "<command>?<action>" (e.g. "accounts/subaccount", "get")
// with string parameters; empty values are omitted as the btp CLI does.
// Backend statuses >= 400 come back as *Error.
func (c *Client) Execute(ctx context.Context, command, action string, params map[string]string) (*Response, error) {
	resp, err := c.command(ctx, command, action, params)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := transport.ReadBody(resp.Body, 0)
	if err != nil {
		return nil, fmt.Errorf("btp %s %s: reading the answer: %w", action, command, err)
	}
	return &Response{BackendStatus: backendStatusOf(resp), MediaType: resp.Header.Get("X-Cpcli-Backend-Mediatype"), Body: body}, nil
}

// command runs a command and returns the successful response with its body
// unread (the entitlement listing streams it); the caller closes it.
func (c *Client) command(ctx context.Context, command, action string, params map[string]string) (*http.Response, error) {
	sess := c.Session()
	if sess == nil {
		return nil, ErrNotLoggedIn
	}
	pv := make(map[string]string, len(params))
	for k, v := range params {
		if v != "" {
			pv[k] = v
		}
	}
	body, err := encodeJSON(map[string]any{"paramValues": pv})
	if err != nil {
		return nil, err
	}
	cl := &call{
		command:    command + "?" + action,
		method:     http.MethodPost,
		path:       "command/" + ProtocolVersion + "/" + command + "?" + action,
		body:       body,
		sess:       sess,
		idempotent: action == "get" || action == "list",
		corrID:     newUUID(),
	}
	return c.exchange(ctx, cl)
}

// exchange performs one logical call with the retry rules of §4.1 plus
// backend-level retries. On success the body is unread; otherwise the error
// is an *Error (server answered), a transport error, or ctx's error.
func (c *Client) exchange(ctx context.Context, cl *call) (*http.Response, error) {
	r := transport.NewRetrier(c.Retry)
	for {
		r.Begin()
		resp, err := c.once(ctx, cl)
		var final error
		var retry bool
		var after time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if re := redirectRefused(err); re != nil {
				// Final: the server would redirect a repetition again.
				return nil, fmt.Errorf("%s: %w", cl.what(), re)
			}
			final = transportError(cl, err)
			// A request that may have reached the server is repeated only
			// when repeating is harmless.
			retry = cl.idempotent || notSent(err)
		} else {
			var e *Error
			e, retry, after = c.classify(cl, resp)
			if e == nil {
				return resp, nil
			}
			final = e
		}
		if !retry {
			return nil, final
		}
		ok, werr := r.Wait(ctx, after)
		if werr != nil {
			return nil, werr
		}
		if !ok {
			return nil, final
		}
	}
}

func (c *Client) once(ctx context.Context, cl *call) (*http.Response, error) {
	u, err := c.base.Parse(cl.path)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("X-Cpcli-Format", "json")
	h.Set("X-Correlationid", cl.corrID)
	if s := cl.sess; s != nil {
		h.Set("X-Cpcli-Sessionid", s.id)
		h.Set("X-Cpcli-Subdomain", s.Subdomain)
		// Sent even when empty (SAP ID service), as the btp CLI does.
		h["X-Cpcli-Customidp"] = []string{s.CustomIdP}
	}
	return c.hc.Do(req)
}

// maxKnown bounds the remembered credential secrets (oldest go first).
const maxKnown = 256

// remember keeps the secrets of service key credentials for scrubbing.
func (c *Client) remember(creds []byte) {
	v := redact.CredentialValues(creds)
	if len(v) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range v {
		if !slices.Contains(c.known, x) {
			c.known = append(c.known, x)
		}
	}
	if n := len(c.known) - maxKnown; n > 0 {
		c.known = append([]string(nil), c.known[n:]...)
	}
}

// secrets lists what must not appear in cl's error texts: what cl sent
// (password, session id), the current session id and remembered secrets.
func (c *Client) secrets(cl *call) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), cl.secrets...)
	if cl.sess != nil {
		out = append(out, cl.sess.id)
	}
	if c.sess != nil {
		out = append(out, c.sess.id)
	}
	return append(out, c.known...)
}

// classify turns a response into success (nil) or an *Error, and says
// whether the call may be repeated. Failed responses are drained and closed.
// The error's server texts are scrubbed of every secret the client holds.
func (c *Client) classify(cl *call, resp *http.Response) (*Error, bool, time.Duration) {
	e, retry, after := c.classifyRaw(cl, resp)
	if e != nil {
		e.scrub(c.secrets(cl))
	}
	return e, retry, after
}

func (c *Client) classifyRaw(cl *call, resp *http.Response) (*Error, bool, time.Duration) {
	if resp.StatusCode == http.StatusOK && cl.command == "login" {
		return nil, false, 0
	}
	e := &Error{
		Command:        cl.command,
		HTTPStatus:     resp.StatusCode,
		ServerMessage:  resp.Header.Get("X-Cpcli-Server-Message"),
		BackendMessage: resp.Header.Get("X-Cpcli-Backend-Message"),
		CorrelationID:  cl.corrID,
	}
	after := transport.RetryAfter(resp.Header)
	if resp.StatusCode != http.StatusOK {
		body, _ := transport.ReadBody(resp.Body, errorBodyLimit)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			e.fillFromBody(body)
		}
		e.setHints(cl.subdomain, cl.customIdP)
		retry := false
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			retry = true // refused, not executed
		case resp.StatusCode == http.StatusGatewayTimeout && strings.Contains(e.ServerMessage, "not sent to the backend"):
			retry = true
		case transport.RetryableStatus(resp.StatusCode):
			retry = cl.idempotent
		}
		return e, retry, after
	}
	bs, err := strconv.Atoi(resp.Header.Get("X-Cpcli-Backend-Status"))
	if err != nil || bs < 100 || bs > 599 {
		resp.Body.Close()
		e.summary = "the BTP CLI server's answer has no valid X-Cpcli-Backend-Status header"
		return e, false, 0
	}
	if bs < 400 {
		return nil, false, 0
	}
	e.BackendStatus = bs
	body, _ := transport.ReadBody(resp.Body, errorBodyLimit)
	resp.Body.Close()
	e.fillFromBody(body)
	e.setHints(cl.subdomain, cl.customIdP)
	return e, e.retriableBackend(), after
}

func backendStatusOf(resp *http.Response) int {
	n, _ := strconv.Atoi(resp.Header.Get("X-Cpcli-Backend-Status"))
	return n
}

// notSent reports transport errors raised before the request left this
// machine (dial failures), which are safe to repeat for any command.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// redirectRefused returns the refused redirect in err, without net/http's
// wrapping (which quotes the whole Location the server sent).
func redirectRefused(err error) *transport.RedirectError {
	var re *transport.RedirectError
	if errors.As(err, &re) {
		return re
	}
	return nil
}

// what names the call the way the btp CLI spells it.
func (cl *call) what() string {
	if cl.command == "login" {
		return "BTP login"
	}
	cmd, action, _ := strings.Cut(cl.command, "?")
	return "btp " + action + " " + cmd
}

func transportError(cl *call, err error) error {
	what := cl.what()
	if cl.idempotent || notSent(err) {
		return fmt.Errorf("%s: no answer from the BTP CLI server; check the network, proxy settings (HTTPS_PROXY) and the server URL: %w", what, err)
	}
	return fmt.Errorf("%s: the connection broke before an answer arrived, so the command may or may not have run; check the current state before trying again: %w", what, err)
}

// encodeJSON encodes v like the btp CLI: no HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// newUUID returns a random version-4 UUID (correlation ids).
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// decode unmarshals a command's body into v with an error naming the command.
func decode(command, action string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("btp %s %s: unexpected answer from the BTP CLI server: %v", action, command, err)
	}
	return nil
}

// run executes a command and decodes its JSON body into v (if non-nil).
func (c *Client) run(ctx context.Context, command, action string, params map[string]string, v any) (*Response, error) {
	resp, err := c.Execute(ctx, command, action, params)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := decode(command, action, resp.Body, v); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// globalAccount returns sub, or the session's global account when empty.
func (c *Client) globalAccount(sub string) string {
	if sub != "" {
		return sub
	}
	if s := c.Session(); s != nil {
		return s.Subdomain
	}
	return ""
}
