package steps

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cpikey/cpikey/adapters/keychain"
)

// An External Certificate key without handing anyone a private key: cpikey
// makes the key pair here, keeps the private key only in the OS keychain,
// and writes a certificate signing request for the company's CA. When the
// CA's certificate comes back, ResolveKey finds the key again by the
// certificate's public key.

// CSRKeyLengths are the RSA sizes cpikey csr makes (1024 is too weak to
// ask a CA for).
var CSRKeyLengths = []int{2048, 3072, 4096}

// ParseSubject reads a distinguished name written as RFC 4514 shows it,
// most specific first: "CN=sender.acme.example,OU=Integration,O=ACME
// Corp,C=DE". Known attributes: CN, OU, O, L, ST, C. Commas inside values
// are not supported.
func ParseSubject(s string) (pkix.Name, error) {
	var n pkix.Name
	if strings.TrimSpace(s) == "" {
		return n, errors.New("the subject is empty: give at least CN=…, e.g. CN=sender.acme.example,O=ACME Corp,C=DE")
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToUpper(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return n, fmt.Errorf("subject part %q is not ATTRIBUTE=value", strings.TrimSpace(part))
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return n, errors.New("the subject contains a control character")
			}
		}
		switch k {
		case "CN":
			n.CommonName = v
		case "OU":
			n.OrganizationalUnit = append(n.OrganizationalUnit, v)
		case "O":
			n.Organization = append(n.Organization, v)
		case "L":
			n.Locality = append(n.Locality, v)
		case "ST":
			n.Province = append(n.Province, v)
		case "C":
			if len(v) != 2 {
				return n, fmt.Errorf("C=%s: the country is a two-letter code, e.g. C=DE", v)
			}
			n.Country = append(n.Country, strings.ToUpper(v))
		default:
			return n, fmt.Errorf("subject attribute %q is not one of CN, OU, O, L, ST, C", k)
		}
	}
	if n.CommonName == "" {
		return n, errors.New("the subject needs a CN=…")
	}
	return n, nil
}

// CSR is a made certificate signing request.
type CSR struct {
	PEM     []byte // the request, for the CA (it holds no secret)
	Account string // where the OS keychain keeps its private key
	Subject string
}

// NewCSR makes an RSA key of bits (0: 2048) and a certificate signing
// request for subject (ParseSubject). The private key goes to the OS
// keychain only; nothing is sent anywhere.
func (f *Flow) NewCSR(ctx context.Context, subject string, bits int) (*CSR, error) {
	name, err := ParseSubject(subject)
	if err != nil {
		return nil, &UsageError{Msg: "--subject: " + err.Error()}
	}
	if bits == 0 {
		bits = DefaultKeyLength
	}
	if !slices.Contains(CSRKeyLengths, bits) {
		return nil, usagef("--key-length must be 2048, 3072 or 4096, not %d", bits)
	}
	if f.cfg.Keyring == nil {
		return nil, errors.New("cpikey csr keeps the private key only in the OS keychain, and there is none here; " +
			"make the key and request with your own tools instead and give both with --cert and --cert-key")
	}
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: name}, key)
	if err != nil {
		return nil, fmt.Errorf("create the certificate request: %w", err)
	}
	acct, err := PendingAccount(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := keychain.SetSplit(ctx, f.cfg.Keyring, f.KeychainService(), acct, string(keyPEM)); err != nil {
		return nil, fmt.Errorf("the private key was not saved in the OS keychain, so no request was written: %w", err)
	}
	return &CSR{PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), Account: acct, Subject: name.String()}, nil
}
