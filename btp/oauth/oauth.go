// Package oauth checks revealed it-rt credentials: it fetches a
// client-credentials token from the key's tokenurl (docs/protocol/it-rt.md
// §5.1) and reads the granted scopes from the JWT, which proves the role
// without touching the runtime. Neither the secret nor the token ever
// appears in an error.
package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cpikey/cpikey/btp/redact"
	"github.com/cpikey/cpikey/btp/transport"
)

// Credentials are what a ClientId/Secret key holds.
type Credentials struct {
	ClientID     string
	ClientSecret string
	TokenURL     string
}

// TokenInfo describes a token the credentials obtained; the token itself is
// not kept.
type TokenInfo struct {
	Scopes    []string
	ExpiresIn time.Duration
	ClientID  string // as the token states it
}

// HasScopeSuffix reports a scope ending in suffix, e.g. ".ESBMessaging.send"
// (the xsappname prefix "it-rt-<subdomain>!b<n>" varies, §5.1).
func (t *TokenInfo) HasScopeSuffix(suffix string) bool {
	for _, s := range t.Scopes {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// Verify fetches a client-credentials token. It authenticates with HTTP
// Basic, form-encoded per RFC 6749 and flagged with X-CF-ENCODED-CREDENTIALS
// so XSUAA decodes it (it-rt secrets contain '$', '=' and '/'), and retries
// once with the credentials in the form body when the server says
// invalid_client: XSUAA accepts both, other UAAs only one of them.
func Verify(ctx context.Context, httpClient *http.Client, c Credentials) (*TokenInfo, error) {
	tok, err := token(ctx, httpClient, c)
	if err != nil {
		return nil, err
	}
	return inspect(tok, c)
}

// Token is a token endpoint's answer to a client-credentials grant, in its
// wire shape. AccessToken is a credential: it goes only where the user
// asked for it (cpikey token), never into an error or a log.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in,omitempty"` // seconds
	Scope       string `json:"scope,omitempty"`      // space separated
	JTI         string `json:"jti,omitempty"`
}

// String keeps the access token out of %v and %s.
func (t Token) String() string {
	return fmt.Sprintf("oauth.Token{type %q, expires in %ds, scope %q, access token redacted}", t.TokenType, t.ExpiresIn, t.Scope)
}

// GoString keeps the access token out of %#v.
func (t Token) GoString() string { return t.String() }

// Fetch gets a client-credentials token exactly as Verify does (Basic
// first, form body on invalid_client) and returns the answer.
func Fetch(ctx context.Context, httpClient *http.Client, c Credentials) (*Token, error) {
	tok, err := token(ctx, httpClient, c)
	if err != nil {
		return nil, err
	}
	return answer(tok), nil
}

// answer is the token endpoint's answer in its wire shape.
func answer(tok *oauth2.Token) *Token {
	out := &Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresIn: tok.ExpiresIn}
	if out.ExpiresIn == 0 && !tok.Expiry.IsZero() {
		out.ExpiresIn = int64(time.Until(tok.Expiry).Round(time.Second) / time.Second)
	}
	if s, ok := tok.Extra("scope").(string); ok {
		out.Scope = s
	} else if l := scopeList(tok.Extra("scope")); len(l) > 0 {
		out.Scope = strings.Join(l, " ")
	}
	if j, ok := tok.Extra("jti").(string); ok {
		out.JTI = j
	}
	return out
}

// token runs the client-credentials grant; errors are explained and carry
// neither the secret nor a token.
func token(ctx context.Context, httpClient *http.Client, c Credentials) (*oauth2.Token, error) {
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, errors.New("the key has no clientid or clientsecret: only ClientId/Secret keys can be verified with a token request")
	}
	u, err := transport.CheckURL(strings.TrimSpace(c.TokenURL))
	if err != nil {
		return nil, fmt.Errorf("tokenurl: %w", err)
	}
	if httpClient == nil {
		httpClient = transport.NewHTTPClient(transport.Options{})
	}
	hc := *httpClient
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = encodedCredentials{next: next}
	// A token endpoint does not redirect; a redirect means a login page or
	// a wrong host, and must not carry the credentials along.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx2 := context.WithValue(ctx, oauth2.HTTPClient, &hc)

	tok, err := fetch(ctx2, c, u.String(), oauth2.AuthStyleInHeader)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode == "invalid_client" && !strings.Contains(re.ErrorDescription, "grant type") {
		tok, err = fetch(ctx2, c, u.String(), oauth2.AuthStyleInParams)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, explain(err, u, c)
	}
	return tok, nil
}

func fetch(ctx context.Context, c Credentials, tokenURL string, style oauth2.AuthStyle) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: tokenURL, AuthStyle: style}
	return cfg.Token(ctx)
}

// encodedCredentials marks Basic credentials as RFC 6749 form-encoded, the
// way UAA in compatibility mode wants to be told (x/oauth2 encodes them).
type encodedCredentials struct{ next http.RoundTripper }

func (e encodedCredentials) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic ") {
		r = r.Clone(r.Context())
		r.Header.Set("X-CF-ENCODED-CREDENTIALS", "true")
	}
	return e.next.RoundTrip(r)
}

// explain turns an x/oauth2 error into a message that says what to do.
// It is built from our own words plus short server fields, scrubbed.
func explain(err error, u *url.URL, c Credentials) error {
	host := u.Host
	notOAuth := fmt.Errorf("%s did not answer like an OAuth token endpoint; check tokenurl (it must be the key's tokenurl, ending in /oauth/token)", host)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		switch {
		case re.ErrorCode == "invalid_client" && strings.Contains(re.ErrorDescription, "grant type"):
			return errors.New("the token server refused the client_credentials grant for this client (invalid_client: unauthorized grant type); the service instance needs \"grant-types\": [\"client_credentials\"]")
		case re.ErrorCode == "invalid_client":
			return errors.New("the token server rejected the client id or secret (invalid_client) — the key may have been deleted or rotated; create a new key")
		case re.ErrorCode == "" && (status == http.StatusTooManyRequests || status >= 500):
			// Busy or failing, not a wrong URL: XSUAA answers these in plain text.
			return fmt.Errorf("the token server %s is busy or failing (HTTP %d); try again in a minute (the key itself is fine)", host, status)
		case re.ErrorCode == "" || status == http.StatusNotFound || (status >= 300 && status < 400):
			if status != 0 {
				return fmt.Errorf("%w (HTTP %d)", notOAuth, status)
			}
			return notOAuth
		default:
			desc := scrub(re.ErrorDescription, c)
			if len(desc) > 200 {
				desc = desc[:200] + "…"
			}
			msg := fmt.Sprintf("the token server at %s refused the token request: %s", host, scrub(re.ErrorCode, c))
			if desc != "" {
				msg += ": " + desc
			}
			if status != 0 {
				msg += fmt.Sprintf(" (HTTP %d)", status)
			}
			return errors.New(msg)
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot reach the token server %s: %s", host, scrub(ue.Err.Error(), c))
	}
	msg := err.Error()
	if strings.Contains(msg, "cannot parse") || strings.Contains(msg, "missing access_token") {
		return notOAuth
	}
	return fmt.Errorf("token request to %s failed: %s", host, scrub(msg, c))
}

// scrub removes the secret, in any encoding, from server text.
func scrub(s string, c Credentials) string { return redact.String(s, c.ClientSecret) }

func inspect(tok *oauth2.Token, c Credentials) (*TokenInfo, error) {
	info := &TokenInfo{ClientID: c.ClientID}
	switch {
	case tok.ExpiresIn > 0:
		info.ExpiresIn = time.Duration(tok.ExpiresIn) * time.Second
	case !tok.Expiry.IsZero():
		info.ExpiresIn = time.Until(tok.Expiry).Round(time.Second)
	}
	claims, err := DecodeJWTPayload(tok.AccessToken)
	if err == nil {
		info.Scopes = scopeList(claims["scope"])
		if id, ok := claims["client_id"].(string); ok && id != "" {
			info.ClientID = id
		} else if id, ok := claims["cid"].(string); ok && id != "" {
			info.ClientID = id
		}
	}
	if len(info.Scopes) == 0 {
		// An opaque token: fall back to the scope field of the answer.
		info.Scopes = scopeList(tok.Extra("scope"))
	}
	return info, nil
}

// scopeList accepts a JSON array or a space-separated string.
func scopeList(v any) []string {
	switch s := v.(type) {
	case []any:
		out := make([]string, 0, len(s))
		for _, x := range s {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	case string:
		return strings.Fields(s)
	}
	return nil
}

// DecodeJWTPayload returns the claims of a JWT without checking its
// signature (only the server that issued it could). Errors never quote the
// token.
func DecodeJWTPayload(token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %d dot-separated parts instead of 3", len(parts))
	}
	p := strings.TrimRight(parts[1], "=")
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		// Some issuers use the standard alphabet; accept it too.
		if b, err = base64.RawStdEncoding.DecodeString(p); err != nil {
			return nil, errors.New("JWT payload is not base64url")
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errors.New("JWT payload is not a JSON object")
	}
	return m, nil
}
