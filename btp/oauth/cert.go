package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/cpikey/cpikey/btp/transport"
)

// CertCredentials are what a certificate key needs for a token: the client
// id, the certificate chain and private key (PEM) and the key's tokenurl on
// the certificate host (docs/protocol/it-rt.md §4.3). PrivateKey never appears in an
// error.
type CertCredentials struct {
	ClientID    string
	Certificate string // PEM, leaf first
	PrivateKey  string // PEM
	TokenURL    string
}

// String keeps the private key out of %v and %s.
func (c CertCredentials) String() string {
	return fmt.Sprintf("oauth.CertCredentials{clientid %q, tokenurl %q, private key redacted}", c.ClientID, c.TokenURL)
}

// GoString keeps the private key out of %#v.
func (c CertCredentials) GoString() string { return c.String() }

// VerifyCertificate fetches a client-credentials token with the client
// certificate (TLS client authentication; there is no secret) and reads the
// granted scopes, as Verify does for a secret.
func VerifyCertificate(ctx context.Context, httpClient *http.Client, c CertCredentials) (*TokenInfo, error) {
	tok, err := certToken(ctx, httpClient, c)
	if err != nil {
		return nil, err
	}
	return inspect(tok, Credentials{ClientID: c.ClientID, TokenURL: c.TokenURL})
}

// FetchWithCertificate gets a client-credentials token with the client
// certificate and returns the answer (cpikey token).
func FetchWithCertificate(ctx context.Context, httpClient *http.Client, c CertCredentials) (*Token, error) {
	tok, err := certToken(ctx, httpClient, c)
	if err != nil {
		return nil, err
	}
	return answer(tok), nil
}

func certToken(ctx context.Context, httpClient *http.Client, c CertCredentials) (*oauth2.Token, error) {
	if c.ClientID == "" || c.Certificate == "" || c.PrivateKey == "" {
		return nil, errors.New("the key has no clientid, certificate or private key: a certificate key needs all three for a token request")
	}
	u, err := transport.CheckURL(strings.TrimSpace(c.TokenURL))
	if err != nil {
		return nil, fmt.Errorf("tokenurl: %w", err)
	}
	if u.Scheme != "https" {
		// Client authentication happens in TLS: without it the
		// certificate would prove nothing.
		return nil, fmt.Errorf("tokenurl %s is not https: a certificate key authenticates in the TLS handshake", u.Host)
	}
	pair, err := tls.X509KeyPair([]byte(c.Certificate), []byte(c.PrivateKey))
	if err != nil {
		return nil, errors.New("the certificate and private key do not form a usable pair (PEM unreadable, or the key does not belong to the certificate)")
	}
	hc, err := transport.WithClientCertificate(httpClient, pair)
	if err != nil {
		return nil, err
	}
	defer hc.CloseIdleConnections()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx2 := context.WithValue(ctx, oauth2.HTTPClient, hc)
	// XSUAA's mTLS endpoint takes the client id in the form body.
	tok, err := fetch(ctx2, Credentials{ClientID: c.ClientID}, u.String(), oauth2.AuthStyleInParams)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, explainCert(err, u)
	}
	return tok, nil
}

// explainCert says what a failed certificate token request means. The TLS
// handshake is where a certificate is refused, so its failures get words of
// their own; the rest is explained as for secrets.
func explainCert(err error, u *url.URL) error {
	host := u.Host
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return fmt.Errorf("cannot verify the TLS certificate of the token server %s: check tokenurl; behind a TLS-inspecting proxy, add its CA to the system's trust store", host)
	case errors.As(err, &alert), strings.Contains(err.Error(), "remote error: tls"):
		return fmt.Errorf("the token server %s refused the client certificate in the TLS handshake: it must be the key's current certificate, unexpired, "+
			"and (for an external certificate) issued by a CA that SAP trusts", host)
	case errors.As(err, &re) && re.ErrorCode == "invalid_client":
		return errors.New("the token server did not accept this certificate for the client id (invalid_client) — the key may have been deleted or rotated, " +
			"or the certificate belongs to another key; create a new key")
	}
	return explain(err, u, Credentials{})
}

// VerifyCertificateToken is VerifyCertificate that also hands back the
// access token, as VerifyToken does for a secret (the flow's request to the
// tenant). The token is a credential: it must not be logged or kept.
func VerifyCertificateToken(ctx context.Context, httpClient *http.Client, c CertCredentials) (*TokenInfo, string, error) {
	tok, err := certToken(ctx, httpClient, c)
	if err != nil {
		return nil, "", err
	}
	info, err := inspect(tok, Credentials{ClientID: c.ClientID, TokenURL: c.TokenURL})
	if err != nil {
		return nil, "", err
	}
	return info, tok.AccessToken, nil
}
