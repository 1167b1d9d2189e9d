package cf

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/redact"
	"github.com/cpikey/cpikey/btp/transport"
)

// UAA: discovery, password and passcode login, token refresh
// (cloud-foundry.md §1-§2).

// refreshMargin: refresh before a request when less than this is left
// (the cf CLI's accessTokenExpirationMargin).
const refreshMargin = time.Minute

// Endpoints are what GET / of the API announces.
type Endpoints struct {
	API     string
	Login   string // authorization endpoint: /login and /oauth/token
	UAA     string
	Version string // Cloud Controller v3 version; "" when not announced
}

// Prompts is what the login server asks for.
type Prompts struct {
	// PasscodeURL is the browser page that shows a one-time passcode.
	PasscodeURL string
	// PasscodeText is UAA's prompt, e.g. "Temporary Authentication Code (
	// Get one at https://login…/passcode )"; "" when /login gave none.
	PasscodeText string
}

type tokenState struct {
	access  string
	refresh string
	expiry  time.Time // zero when unknown: refresh before every request
	user    string
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

// plain performs an unauthenticated request with bounded retries.
// canRetry decides on answers; connection errors retry only when retryConn.
func (c *Client) plain(ctx context.Context, method, rawURL string, body []byte, hdr http.Header,
	canRetry func(*response) bool, retryConn bool) (*response, error) {
	retr := transport.NewRetrier(c.Retry)
	retr.Begin()
	for {
		r, err := c.sendOnce(ctx, method, rawURL, body, hdr)
		if err != nil {
			if ctx.Err() != nil || !retryConn {
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
		if canRetry(r) {
			if ok, werr := retr.Wait(ctx, retryAfter(r)); werr != nil {
				return nil, werr
			} else if ok {
				retr.Begin()
				continue
			}
		}
		return r, nil
	}
}

func getRetryable(r *response) bool { return retryable(http.MethodGet, r) }

// Discover reads GET / of the API: the login and UAA endpoints.
func (c *Client) Discover(ctx context.Context) (*Endpoints, error) {
	r, err := c.plain(ctx, http.MethodGet, c.apiRef("/", nil), nil, http.Header{"Accept": {"application/json"}}, getRetryable, true)
	if err != nil {
		return nil, err
	}
	notCF := fmt.Errorf("%s did not answer like a Cloud Foundry API (GET / gave HTTP %d without links.login); check the API endpoint", c.api.Host, r.status)
	if r.status != http.StatusOK {
		return nil, notCF
	}
	var root struct {
		Links map[string]*struct {
			Href string `json:"href"`
			Meta struct {
				Version string `json:"version"`
			} `json:"meta"`
		} `json:"links"`
	}
	if json.Unmarshal(r.body, &root) != nil {
		return nil, notCF
	}
	href := func(k string) string {
		if l := root.Links[k]; l != nil {
			return strings.TrimRight(l.Href, "/")
		}
		return ""
	}
	ep := &Endpoints{API: c.api.String(), Login: href("login"), UAA: href("uaa")}
	if v := root.Links["cloud_controller_v3"]; v != nil {
		ep.Version = v.Meta.Version
	}
	if ep.Login == "" {
		ep.Login = ep.UAA // go-cfclient's choice; both front the same UAA (§1.1)
	}
	if ep.Login == "" {
		return nil, notCF
	}
	for _, h := range []string{ep.Login, ep.UAA} {
		if h == "" {
			continue
		}
		if _, err := transport.CheckURL(h); err != nil {
			return nil, fmt.Errorf("the Cloud Foundry API announces an unusable login endpoint: %w", err)
		}
	}
	c.mu.Lock()
	c.ep = ep
	c.mu.Unlock()
	return ep, nil
}

func (c *Client) endpoints(ctx context.Context) (*Endpoints, error) {
	c.mu.Lock()
	ep := c.ep
	c.mu.Unlock()
	if ep != nil {
		return ep, nil
	}
	return c.Discover(ctx)
}

var urlInText = regexp.MustCompile(`https?://[^\s)]+`)

// Prompts asks the login server what it accepts and where passcodes come
// from. When /login does not answer with prompts, the passcode URL falls
// back to {login}/passcode (the cf CLI's behaviour); only discovery and
// cancellation are errors.
func (c *Client) Prompts(ctx context.Context) (*Prompts, error) {
	ep, err := c.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	p := &Prompts{PasscodeURL: ep.Login + "/passcode"}
	r, err := c.plain(ctx, http.MethodGet, ep.Login+"/login", nil, http.Header{"Accept": {"application/json"}}, getRetryable, true)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return p, nil
	}
	var doc struct {
		Prompts map[string][]string `json:"prompts"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &doc) != nil {
		return p, nil
	}
	if pc := doc.Prompts["passcode"]; len(pc) >= 2 {
		p.PasscodeText = pc[1]
		if m := urlInText.FindString(pc[1]); m != "" {
			if _, err := transport.CheckURL(m); err == nil {
				p.PasscodeURL = m
			}
		}
	}
	return p, nil
}

// LoginPassword logs in with user and password (cf login -u -p). origin
// selects a custom identity provider (e.g. an SAP IAS tenant); "" means the
// default (SAP ID service).
func (c *Client) LoginPassword(ctx context.Context, user, password, origin string) error {
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}}
	var q url.Values
	if origin != "" {
		hint, _ := json.Marshal(map[string]string{"origin": origin})
		q = url.Values{"login_hint": {string(hint)}}
	}
	return c.grant(ctx, form, q, password)
}

// LoginPasscode logs in with a one-time SSO passcode (cf login --sso).
func (c *Client) LoginPasscode(ctx context.Context, passcode string) error {
	form := url.Values{"grant_type": {"password"}, "passcode": {strings.TrimSpace(passcode)}}
	return c.grant(ctx, form, nil, passcode)
}

// grant posts to {login}/oauth/token as client "cf" with an empty secret.
// secrets are scrubbed from any server text that ends up in an error.
func (c *Client) grant(ctx context.Context, form, query url.Values, secrets ...string) error {
	ep, err := c.endpoints(ctx)
	if err != nil {
		return err
	}
	u := ep.Login + "/oauth/token"
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	hdr := http.Header{
		"Accept":        {"application/json"},
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("cf:"))},
	}
	// A token request changes nothing UAA cannot repeat, but a passcode is
	// single-use: retry only answers that say the request was not handled.
	r, err := c.plain(ctx, http.MethodPost, u, []byte(form.Encode()), hdr, func(r *response) bool {
		return r.status == http.StatusTooManyRequests || r.status == http.StatusServiceUnavailable
	}, false)
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return c.authError(r, secrets...)
	}
	var tr tokenResponse
	if json.Unmarshal(r.body, &tr) != nil || tr.AccessToken == "" {
		return fmt.Errorf("cloud foundry login: %s did not return an access token (HTTP %d); check the API endpoint", hostOf(ep.Login), r.status)
	}
	c.setTokens(tr)
	return nil
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return raw
}

// authError turns a UAA error answer into *AuthError, scrubbing secrets.
func (c *Client) authError(r *response, secrets ...string) error {
	secrets = append(secrets, c.secrets()...)
	e := &AuthError{Status: r.status}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(r.body, &body) == nil && (body.Error != "" || body.Description != "") {
		e.Code = redact.String(body.Error, secrets...)
		e.Description = redact.String(body.Description, secrets...)
		return e
	}
	// Not JSON, e.g. UAA's plain-text rate limiter: keep one short line.
	line, _, _ := strings.Cut(strings.TrimSpace(string(r.body)), "\n")
	if len(line) > 200 || strings.Contains(line, "<") {
		line = ""
	}
	e.Description = redact.String(line, secrets...)
	return e
}

func (c *Client) setTokens(tr tokenResponse) {
	t := tokenState{access: tr.AccessToken, refresh: tr.RefreshToken}
	claims, _ := jwtClaims(tr.AccessToken)
	if exp, ok := claims["exp"].(float64); ok {
		t.expiry = time.Unix(int64(exp), 0)
	} else if tr.ExpiresIn > 0 {
		t.expiry = time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if u, ok := claims["user_name"].(string); ok {
		t.user = u
	}
	c.mu.Lock()
	if t.refresh == "" {
		t.refresh = c.tok.refresh // UAA may omit it on refresh
	}
	c.tok = t
	c.mu.Unlock()
}

// jwtClaims decodes a JWT payload without checking the signature, as the
// cf CLI does; only exp and user_name are read.
func jwtClaims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// accessToken returns a token with at least refreshMargin left, refreshing
// first when needed.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	t := c.tok
	c.mu.Unlock()
	if t.access == "" {
		return "", fmt.Errorf("not logged in to Cloud Foundry: %w", ErrLoginRequired)
	}
	if time.Until(t.expiry) >= refreshMargin {
		return t.access, nil
	}
	if err := c.refresh(ctx, t.access); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok.access, nil
}

// refresh trades the refresh token for a new access token unless another
// caller already replaced stale. A rejected refresh token ends the session.
func (c *Client) refresh(ctx context.Context, stale string) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	c.mu.Lock()
	t := c.tok
	c.mu.Unlock()
	if t.access != stale && t.access != "" {
		return nil
	}
	if t.refresh == "" {
		return fmt.Errorf("the Cloud Foundry token expired and there is no refresh token: %w", ErrLoginRequired)
	}
	err := c.grant(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.refresh}}, nil)
	var ae *AuthError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusBadRequest) {
		c.Logout()
		return fmt.Errorf("%w (%s)", ErrLoginRequired, ae.Error())
	}
	return err
}

// LoggedIn reports whether the client holds a session.
func (c *Client) LoggedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok.access != ""
}

// User is the logged-in user's name as the token states it ("" if unknown).
func (c *Client) User() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok.user
}

// Logout forgets the tokens (they are not revoked at UAA).
func (c *Client) Logout() {
	c.mu.Lock()
	c.tok = tokenState{}
	c.mu.Unlock()
}

// secrets lists the tokens held, for scrubbing server text.
func (c *Client) secrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []string{c.tok.access, c.tok.refresh}
}
