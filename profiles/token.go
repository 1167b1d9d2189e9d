package profiles

import (
	"context"
	"fmt"
	"io"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/safetext"
)

// Token fetches a fresh access token with the profile's client credentials
// (the secret, or a certificate key's certificate and private key over
// mTLS, read from the keychain) and prints only the token and a
// newline, so that $(cpikey token) is the token; asJSON prints the token
// endpoint's answer instead (access_token, token_type, expires_in, scope,
// jti; never the client secret).
func (m *Manager) Token(ctx context.Context, w io.Writer, name string, asJSON bool) error {
	p, err := m.resolve(name)
	if err != nil {
		return err
	}
	var tok *oauth.Token
	if p.IsCertificate() {
		chain, key, cerr := m.certificate(ctx, p)
		if cerr != nil {
			return cerr
		}
		tok, err = oauth.FetchWithCertificate(ctx, m.HTTPClient, oauth.CertCredentials{ClientID: p.ClientID, Certificate: chain, PrivateKey: string(key), TokenURL: p.TokenURL})
	} else {
		secret, serr := m.secret(ctx, p)
		if serr != nil {
			return serr
		}
		tok, err = oauth.Fetch(ctx, m.HTTPClient, oauth.Credentials{ClientID: p.ClientID, ClientSecret: secret, TokenURL: p.TokenURL})
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("token for profile %s: %w", p.Name, err)
	}
	if asJSON {
		return writeJSON(w, tok)
	}
	// A token is base64url and dots, which pass unchanged; anything else
	// the token endpoint sent is shown inert.
	_, err = fmt.Fprintln(w, safetext.Line(tok.AccessToken))
	return err
}
