package profiles

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/tenant"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// CallRequest is one `cpikey call`: a request to the profile's tenant.
type CallRequest struct {
	Profile string
	Method  string // "": GET, or POST when there is a body
	Path    string // relative to the key's url, or a full URL on its host
	Body    []byte // nil: no body
	// BodyName is the file the body came from (-d @FILE), for its type.
	BodyName   string
	Header     http.Header
	Basic      bool // clientid and secret as Basic instead of a token
	FreshToken bool // do not reuse the kept token
}

// CallResult is what happened. It holds no credential.
type CallResult struct {
	Profile string
	Method  string
	URL     string // as sent, sensitive query values redacted
	// RequestBytes is the size of the body sent.
	RequestBytes int
	Auth         string // "bearer" or "basic"
	Response     *tenant.Response
	TokenReused  bool
	TokenTime    time.Duration // fetching (or reading) the token
	Total        time.Duration
	RoundTrips   int    // HTTP requests: token and tenant
	Diagnosis    string // one line when the answer is not 2xx/3xx
	Notes        []string
}

// OK is a 2xx or 3xx answer.
func (r *CallResult) OK() bool { return r.Response != nil && r.Response.OK() }

// callKey is what a call needs to know of a key besides its credential.
type callKey struct {
	name, plan, url, instance string
	roles                     []string
}

// tokenSource hands out the bearer token of a call.
type tokenSource interface {
	token(ctx context.Context, fresh bool) (tok *oauth.Token, reused bool, err error)
	refused(ctx context.Context) // the tenant refused the token
}

// profileTokens reuses the token kept in the keychain and keeps new ones.
type profileTokens struct {
	m    *Manager
	p    Profile
	cred Credential
}

func (t *profileTokens) token(ctx context.Context, fresh bool) (*oauth.Token, bool, error) {
	if !fresh {
		if c, ok := t.m.reusableToken(ctx, t.p); ok {
			left := int64(time.Unix(c.Expires, 0).Sub(t.m.now()) / time.Second)
			return &oauth.Token{AccessToken: c.AccessToken, TokenType: "bearer", ExpiresIn: left}, true, nil
		}
	}
	issued := t.m.now()
	tok, err := t.cred.Token(ctx)
	if err != nil {
		return nil, false, err
	}
	t.m.keepToken(ctx, t.p, tok, issued)
	return tok, false, nil
}

func (t *profileTokens) refused(ctx context.Context) { t.m.dropToken(ctx, t.p) }

// Call sends one request to the profile's tenant and diagnoses the answer.
// PATH is checked against the key's url before anything is sent. An error
// means there was no answer; an answer that is not 2xx/3xx is a result
// with a Diagnosis.
func (m *Manager) Call(ctx context.Context, req CallRequest) (*CallResult, error) {
	p, err := m.resolve(req.Profile)
	if err != nil {
		return nil, err
	}
	u, err := callURL(p.URL, req.Path)
	if err != nil {
		return nil, err
	}
	cred := m.credential(p)
	k := callKey{name: p.Name, plan: p.Plan, url: p.URL, instance: p.Instance.Name, roles: p.Roles}
	return call(ctx, k, cred, &profileTokens{m: m, p: p, cred: cred}, req, u)
}

// callURL resolves PATH; a bad PATH or a URL of another host is a usage
// error (exit 2), refused before anything is sent.
func callURL(keyURL, path string) (*url.URL, error) {
	u, err := tenant.Resolve(keyURL, path)
	var (
		he *tenant.HostError
		pe *tenant.PathError
	)
	if errors.As(err, &he) || errors.As(err, &pe) {
		return nil, &steps.UsageError{Msg: err.Error()}
	}
	return u, err
}

// oneToken is the wizard's source: the key just revealed, a token per try,
// nothing kept.
type oneToken struct{ cred Credential }

func (o oneToken) token(ctx context.Context, _ bool) (*oauth.Token, bool, error) {
	tok, err := o.cred.Token(ctx)
	return tok, false, err
}
func (o oneToken) refused(context.Context) {}

// TryCall is the reveal screen's inline call with the credentials of the
// run just finished (the secret in memory): a token per try, nothing kept.
func TryCall(ctx context.Context, hc *http.Client, r *steps.Result, roles []string, method, path string) (*CallResult, error) {
	if r == nil {
		return nil, errors.New("no key to call with")
	}
	u, err := callURL(r.Credentials.URL, path)
	if err != nil {
		return nil, err
	}
	c := r.Credentials
	cred := &secretCredential{hc: hc, clientID: c.ClientID, tokenURL: c.TokenURL,
		secret: func(context.Context) (string, error) { return c.ClientSecret, nil }}
	k := callKey{name: r.Key.Name, plan: r.Plan, url: c.URL, instance: r.Instance.Name, roles: roles}
	return call(ctx, k, cred, oneToken{cred}, CallRequest{Method: method, Path: path}, u)
}

func call(ctx context.Context, k callKey, cred Credential, tokens tokenSource, req CallRequest, u *url.URL) (*CallResult, error) {
	start := time.Now()
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
		if req.Body != nil {
			method = http.MethodPost
		}
	}
	hdr := req.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if req.Body != nil && hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", guessContentType(req.Body, req.BodyName, u.Path))
	}
	res := &CallResult{Profile: k.name, Method: method, URL: transport.RedactURL(u), RequestBytes: len(req.Body)}
	facts := tenant.Facts{Plan: k.plan, Roles: k.roles, Method: method, Path: u.Path, Basic: req.Basic,
		Certificate: cred.Certificate(), Instance: k.instance}
	treq := tenant.Request{Method: method, URL: u, Header: hdr, Body: req.Body}
	client := &tenant.Client{HTTP: cred.HTTPClient()}

	var auth tenant.Auth
	bearer := func(fresh bool) error {
		t0 := time.Now()
		tok, reused, err := tokens.token(ctx, fresh)
		res.TokenTime += time.Since(t0)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("no token for %s: %w", k.name, err)
		}
		if !reused {
			res.RoundTrips++
		}
		res.TokenReused, facts.FreshToken = reused, !reused
		if r := tokenRoles(tok); len(r) > 0 {
			facts.Roles = r
		}
		auth = tenant.Bearer(tok.AccessToken)
		return nil
	}
	if req.Basic {
		if k.plan == itrt.PlanAPI {
			// Sent anyway (the diagnosis explains the 401), but said first.
			res.Notes = append(res.Notes, "api keys take a token: the API refuses Basic (drop --basic)")
		}
		id, secret, err := cred.Basic(ctx)
		if err != nil {
			return nil, err
		}
		res.Auth, auth = "basic", tenant.Basic(id, secret)
	} else {
		res.Auth = "bearer"
		if err := bearer(req.FreshToken); err != nil {
			return nil, err
		}
	}

	r, err := client.Do(ctx, treq, auth)
	if err == nil {
		res.RoundTrips += r.RoundTrips
		if !req.Basic && res.TokenReused && r.Status == http.StatusUnauthorized {
			// The kept token is refused (revoked, or issued by a token
			// server that has since forgotten it): one fresh token, one
			// resend. A 401 means nothing was processed.
			tokens.refused(ctx)
			res.Notes = append(res.Notes, "the tenant refused the kept token; fetched a new one and sent again")
			if err := bearer(true); err != nil {
				return nil, err
			}
			if r, err = client.Do(ctx, treq, auth); err == nil {
				res.RoundTrips += r.RoundTrips
			}
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &CallError{Msg: tenant.DiagnoseError(err, facts), Err: err}
	}
	res.Response = r
	if r.CSRF == tenant.CSRFResent && r.OK() {
		res.Notes = append(res.Notes, tenant.CSRFNote(u.Path))
	}
	res.Diagnosis = tenant.Diagnose(r, facts)
	res.Total = time.Since(start)
	return res, nil
}

// CallError is a call that got no answer; Msg says what to do.
type CallError struct {
	Msg string
	Err error
}

func (e *CallError) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *CallError) Unwrap() error { return e.Err }

// tokenRoles are the roles a token's scopes grant (suffix after the
// xsappname), from the JWT or the token answer's scope.
func tokenRoles(tok *oauth.Token) []string {
	var scopes []string
	if claims, err := oauth.DecodeJWTPayload(tok.AccessToken); err == nil {
		if l, ok := claims["scope"].([]any); ok {
			for _, s := range l {
				if str, ok := s.(string); ok {
					scopes = append(scopes, str)
				}
			}
		}
	}
	if len(scopes) == 0 {
		scopes = strings.Fields(tok.Scope)
	}
	var roles []string
	for _, s := range scopes {
		if r := itrt.RoleOfScope(s); r != "" {
			roles = append(roles, r)
		}
	}
	return roles
}

// guessContentType names the body's type when the user did not (-H):
// from the file name, else from its first byte; SOAP endpoints get text/xml.
func guessContentType(body []byte, name, path string) string {
	switch n := strings.ToLower(name); {
	case strings.HasSuffix(n, ".json"):
		return "application/json"
	case strings.HasSuffix(n, ".xml"), strings.HasSuffix(n, ".wsdl"):
		if strings.HasPrefix(path, itrt.PrefixCXF) {
			return "text/xml; charset=utf-8"
		}
		return "application/xml"
	}
	trimmed := strings.TrimLeft(string(body[:min(len(body), 64)]), " \t\r\n\ufeff")
	switch {
	case strings.HasPrefix(trimmed, "<") && strings.HasPrefix(path, itrt.PrefixCXF):
		return "text/xml; charset=utf-8"
	case strings.HasPrefix(trimmed, "<"):
		return "application/xml"
	case strings.HasPrefix(trimmed, "{"), strings.HasPrefix(trimmed, "["):
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}
