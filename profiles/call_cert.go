package profiles

import (
	"context"
	"errors"
	"net/http"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/steps"
)

// certCredential is a certificate key (SAP-generated or external): the
// token comes from the certificate host over mTLS with the certificate and
// private key from the keychain, read when first needed (a reused token
// does not touch them). The tenant takes the bearer token.
type certCredential struct {
	m     *Manager
	p     Profile
	chain string
	key   steps.PrivateKeyPEM
}

func (c *certCredential) Token(ctx context.Context) (*oauth.Token, error) {
	if c.key == "" {
		chain, key, err := c.m.certificate(ctx, c.p)
		if err != nil {
			return nil, err
		}
		c.chain, c.key = chain, key
	}
	return oauth.FetchWithCertificate(ctx, c.m.HTTPClient, oauth.CertCredentials{ClientID: c.p.ClientID,
		Certificate: c.chain, PrivateKey: string(c.key), TokenURL: c.p.TokenURL})
}

func (c *certCredential) Basic(context.Context) (string, string, error) {
	return "", "", errors.New("a certificate key has no client secret for Basic authentication: drop --basic, the call then takes a token fetched with the certificate")
}

func (c *certCredential) HTTPClient() *http.Client { return c.m.HTTPClient }
func (c *certCredential) Certificate() bool        { return true }
