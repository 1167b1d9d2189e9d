package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/oauth"
)

// Credential is how a key proves itself, to the token server and to the
// tenant. Secret keys use clientid and secret (secretCredential);
// certificate keys (mTLS) plug in here with an HTTP client that presents
// the key's certificate, which also carries the tenant request.
type Credential interface {
	// Token runs the client-credentials grant.
	Token(ctx context.Context) (*oauth.Token, error)
	// Basic is clientid and secret for --basic; an error when the key has
	// no secret.
	Basic(ctx context.Context) (id, secret string, err error)
	// HTTPClient carries the tenant request.
	HTTPClient() *http.Client
	// Certificate reports a key that authenticates with a client
	// certificate (the 403 diagnosis differs).
	Certificate() bool
}

// secretCredential is a ClientId/Secret key; the secret is read when first
// needed, so a call with a reused token does not touch it.
type secretCredential struct {
	hc                 *http.Client
	clientID, tokenURL string
	secret             func(ctx context.Context) (string, error)
	cached             string
}

func (c *secretCredential) get(ctx context.Context) (string, error) {
	if c.cached == "" {
		s, err := c.secret(ctx)
		if err != nil {
			return "", err
		}
		c.cached = s
	}
	return c.cached, nil
}

func (c *secretCredential) Token(ctx context.Context) (*oauth.Token, error) {
	s, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	return oauth.Fetch(ctx, c.hc, oauth.Credentials{ClientID: c.clientID, ClientSecret: s, TokenURL: c.tokenURL})
}

func (c *secretCredential) Basic(ctx context.Context) (string, string, error) {
	s, err := c.get(ctx)
	return c.clientID, s, err
}

func (c *secretCredential) HTTPClient() *http.Client { return c.hc }
func (c *secretCredential) Certificate() bool        { return false }

// credential picks how profile p authenticates. Certificate profiles get
// their own Credential here.
func (m *Manager) credential(p Profile) Credential {
	if p.IsCertificate() {
		return &certCredential{m: m, p: p}
	}
	return &secretCredential{hc: m.HTTPClient, clientID: p.ClientID, tokenURL: p.TokenURL,
		secret: func(ctx context.Context) (string, error) { return m.secret(ctx, p) }}
}

// The token of the last call is kept in the OS keychain only (never in a
// file), under the profile's keychain account and a service of its own, so
// the next call within its lifetime is one round trip.

// tokenLeeway: a token is not reused in its last minute.
const tokenLeeway = time.Minute

// cachedToken is what the keychain holds, kept short: Windows Credential
// Manager takes 2560 bytes (UTF-16), and a JWT is most of that. Key binds
// it to the key it was issued for (a hash of clientid and tokenurl), so a
// rotated profile does not reuse it.
type cachedToken struct {
	AccessToken string `json:"t"`
	Expires     int64  `json:"exp"` // Unix seconds
	Key         string `json:"key"`
}

// tokenKey is what binds a kept token to its key.
func tokenKey(p Profile) string {
	sum := sha256.Sum256([]byte(p.ClientID + "\n" + p.TokenURL))
	return hex.EncodeToString(sum[:8])
}

// String keeps the token out of %v.
func (c cachedToken) String() string { return "profiles.cachedToken{redacted}" }

// GoString keeps the token out of %#v.
func (c cachedToken) GoString() string { return c.String() }

// TokenService is the keychain service of a profile's cached token: the
// secret's service with ":token" appended, the account the same.
func TokenService(p Profile) string { return keychainService(p) + ":token" }

// tokenCache is where the profile's token may be kept; ok false when the
// profile has no keychain account or there is no keychain.
func (m *Manager) tokenCache(p Profile) (service, account string, ok bool) {
	if m.Keyring == nil || p.KeychainAccount == "" {
		return "", "", false
	}
	return TokenService(p), p.KeychainAccount, true
}

// reusableToken returns the cached token if it was issued to this key and
// lives for more than a minute.
func (m *Manager) reusableToken(ctx context.Context, p Profile) (*cachedToken, bool) {
	svc, acct, ok := m.tokenCache(p)
	if !ok {
		return nil, false
	}
	raw, err := m.Keyring.Get(ctx, svc, acct)
	if err != nil {
		return nil, false
	}
	var c cachedToken
	if json.Unmarshal([]byte(raw), &c) != nil || c.AccessToken == "" || c.Key != tokenKey(p) {
		return nil, false
	}
	if !m.now().Add(tokenLeeway).Before(time.Unix(c.Expires, 0)) {
		return nil, false
	}
	return &c, true
}

// keepToken stores tok for the next call; a keychain that cannot hold it
// (Windows limits a credential to 2560 bytes) only costs the reuse.
func (m *Manager) keepToken(ctx context.Context, p Profile, tok *oauth.Token, issued time.Time) {
	svc, acct, ok := m.tokenCache(p)
	if !ok || tok.ExpiresIn <= 0 {
		return
	}
	b, err := json.Marshal(cachedToken{AccessToken: tok.AccessToken, Key: tokenKey(p),
		Expires: issued.Add(time.Duration(tok.ExpiresIn) * time.Second).Unix()})
	if err != nil {
		return
	}
	if err := m.Keyring.Set(ctx, svc, acct, string(b)); err != nil {
		var tl *keychain.TooLargeError
		if errors.As(err, &tl) {
			m.note("! The token is too large for the OS keychain here; the next call fetches a new one.")
		}
	}
}

// dropToken forgets the cached token (forget, rotate, a refused token).
func (m *Manager) dropToken(ctx context.Context, p Profile) {
	if svc, acct, ok := m.tokenCache(p); ok {
		m.Keyring.Delete(ctx, svc, acct) //nolint:errcheck // absent is fine; a stale token is refused by its clientid
	}
}
