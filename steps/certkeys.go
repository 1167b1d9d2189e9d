package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/oauth"
)

// Certificate keys in the flow: the key type the user asked for against
// the one SAP has under the name, verification over mTLS, and the
// certificate chain with its private key in the OS keychain.

// KeyTypeError: a key of another type exists under the requested name.
type KeyTypeError struct {
	Key       string
	Want, Got KeyType
}

func (e *KeyTypeError) Error() string {
	return fmt.Sprintf("key %q exists as a %s key, not %s; choose another key name (e.g. --key %s-%s) or delete %q in the cockpit first",
		e.Key, e.Got.Label(), e.Want.Label(), e.Key, strings.ReplaceAll(e.Want.Flag(), "external-", "ext-"), e.Key)
}

// checkKeyType matches the revealed credentials with the requested spec.
// An external key gets the local private key; its certificate must be the
// one the user gave (a reused key may hold another).
func checkKeyType(t Target, c *Credentials) error {
	want := t.KeySpec.Type.Or()
	switch {
	case want == KeyTypeSecret && c.KeyType != KeyTypeSecret:
		return &CertificateKeyError{Key: t.Key}
	case want != c.KeyType:
		return &KeyTypeError{Key: t.Key, Want: want, Got: c.KeyType}
	case want != KeyTypeExternal:
		return nil
	}
	mine, err := ExternalLeaf(t.KeySpec.Certificate, time.Time{})
	if err != nil {
		return err
	}
	theirs, err := ExternalLeaf(c.Certificate, time.Time{})
	if err != nil || !bytes.Equal(mine.Raw, theirs.Raw) {
		return fmt.Errorf("key %q holds another certificate than the one given; choose another key name, or give that key's certificate and private key", t.Key)
	}
	c.PrivateKey = t.KeySpec.PrivateKey
	return nil
}

// VerifyCredentials fetches a client-credentials token with c, by client
// secret or, for certificate keys, by client certificate over mTLS, and
// returns what the token grants.
func VerifyCredentials(ctx context.Context, hc *http.Client, c Credentials) (*oauth.TokenInfo, error) {
	if c.KeyType.IsCertificate() {
		return oauth.VerifyCertificate(ctx, hc, c.CertCredentials())
	}
	return oauth.Verify(ctx, hc, oauth.Credentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL})
}

// verifyToken is VerifyCredentials that also hands back the access token
// (the flow's tenant check).
func verifyToken(ctx context.Context, hc *http.Client, c Credentials) (*oauth.TokenInfo, string, error) {
	if c.KeyType.IsCertificate() {
		return oauth.VerifyCertificateToken(ctx, hc, c.CertCredentials())
	}
	return oauth.VerifyToken(ctx, hc, oauth.Credentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL})
}

// CertCredentials is what a token request with the certificate needs.
func (c Credentials) CertCredentials() oauth.CertCredentials {
	return oauth.CertCredentials{ClientID: c.ClientID, Certificate: c.Certificate, PrivateKey: string(c.PrivateKey), TokenURL: c.TokenURL}
}

// CertBundle is what the keychain keeps of a certificate key: the chain
// followed by the private key, both PEM (curl takes it as --cert file).
func CertBundle(chain string, key PrivateKeyPEM) string {
	return strings.TrimRight(chain, "\n") + "\n" + strings.TrimRight(string(key), "\n") + "\n"
}

// ParseCertBundle splits a CertBundle into chain and private key.
func ParseCertBundle(b string) (chain string, key PrivateKeyPEM, err error) {
	var certs, keys bytes.Buffer
	rest := []byte(b)
	for {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		switch {
		case blk.Type == "CERTIFICATE":
			pem.Encode(&certs, blk) //nolint:errcheck // a bytes.Buffer
		case strings.HasSuffix(blk.Type, "PRIVATE KEY"):
			pem.Encode(&keys, blk) //nolint:errcheck
		}
	}
	if certs.Len() == 0 || keys.Len() == 0 {
		return "", "", errors.New("the keychain entry holds no certificate with a private key")
	}
	return certs.String(), PrivateKeyPEM(keys.String()), nil
}

// PendingAccount is the keychain account of a private key cpikey csr made,
// found again by the certificate the CA issued for it: the SHA-256 of the
// public key.
func PendingAccount(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "csr/" + hex.EncodeToString(sum[:16]), nil
}

// ResolveKey completes an External Certificate spec whose private key was
// not given: it is the key cpikey csr kept in the OS keychain for this
// certificate. Nothing is sent anywhere.
func (f *Flow) ResolveKey(ctx context.Context, spec *KeySpec) error {
	if spec.Type != KeyTypeExternal || spec.PrivateKey != "" || spec.Certificate == "" {
		return nil
	}
	leaf, err := ExternalLeaf(spec.Certificate, time.Time{})
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if f.cfg.Keyring == nil {
		return usagef("the private key of the external certificate is missing: give its file (--cert-key); without the OS keychain cpikey cannot look for a key made by cpikey csr")
	}
	acct, err := PendingAccount(leaf.PublicKey)
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	key, err := keychain.GetSplit(ctx, f.cfg.Keyring, f.KeychainService(), acct)
	if errors.Is(err, keychain.ErrNotFound) {
		return usagef("the private key of the external certificate (%s) is missing: give its file (--cert-key), or get the certificate issued for a request made by cpikey csr on this machine", leaf.Subject)
	}
	if err != nil {
		return fmt.Errorf("read the private key of the external certificate from the OS keychain: %w", err)
	}
	spec.PrivateKey = PrivateKeyPEM(key)
	return nil
}

// saveCertificate stores chain and private key under the key's account,
// split as the platform needs, and drops the csr entry the key came from.
func (f *Flow) saveCertificate(ctx context.Context, r *Result, account string) error {
	c := r.Credentials
	if c.PrivateKey == "" {
		return errors.New("there is no private key to save")
	}
	if err := keychain.SetSplit(ctx, f.cfg.Keyring, f.KeychainService(), account, CertBundle(c.Certificate, c.PrivateKey)); err != nil {
		return err
	}
	if c.KeyType == KeyTypeExternal {
		if leaf, err := ExternalLeaf(c.Certificate, time.Time{}); err == nil {
			if pending, err := PendingAccount(leaf.PublicKey); err == nil {
				// The key lives under the profile's account now.
				keychain.DeleteSplit(ctx, f.cfg.Keyring, f.KeychainService(), pending) //nolint:errcheck // absent when a file was given
			}
		}
	}
	return nil
}
