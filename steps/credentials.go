package steps

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrCertificateKey means the key under the requested name is a certificate
// key: it has no client secret, so it cannot be used with client credentials.
var ErrCertificateKey = errors.New("certificate key")

// CertificateKeyError explains a certificate key found under the key name.
type CertificateKeyError struct{ Key string }

func (e *CertificateKeyError) Error() string {
	return fmt.Sprintf("key %q is a certificate key (it has a certificate and private key, no client secret); "+
		"choose another key name (e.g. --key %s-secret) to create a ClientId/Secret key, or delete %q in the cockpit first",
		e.Key, e.Key, e.Key)
}

// Is lets errors.Is(err, ErrCertificateKey) match.
func (e *CertificateKeyError) Is(target error) bool { return target == ErrCertificateKey }

// ParseCredentials extracts the credentials of a service key. It accepts
// the shapes seen in the wild (docs/protocol/it-rt.md §4.1): {"credentials":{"oauth":
// {...}}}, {"oauth":{...}} and the fields at the top level. A ClientId/Secret
// key has clientid, clientsecret, tokenurl and url; a certificate key a
// certificate (PEM chain) instead of the secret, and, when SAP generated
// it, the private key ("key"); an external certificate key has none
// (docs/protocol/it-rt.md §4.3). Errors never include field values.
func ParseCredentials(keyName string, raw []byte) (Credentials, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(raw, &root); err != nil {
		return Credentials{}, fmt.Errorf("key %q: credentials are not a JSON object", keyName)
	}
	obj := root
	if inner, ok := root["credentials"]; ok {
		if m, ok := asObject(inner); ok {
			obj = m
		}
	}
	if inner, ok := obj["oauth"]; ok {
		if m, ok := asObject(inner); ok {
			obj = m
		}
	}
	c := Credentials{
		ClientID:     stringField(obj, "clientid"),
		ClientSecret: stringField(obj, "clientsecret"),
		TokenURL:     stringField(obj, "tokenurl"),
		URL:          stringField(obj, "url"),
		KeyType:      KeyTypeSecret,
	}
	need := []struct{ name, v string }{{"clientid", c.ClientID}, {"clientsecret", c.ClientSecret}, {"tokenurl", c.TokenURL}, {"url", c.URL}}
	if cert := unescapePEM(stringField(obj, "certificate")); c.ClientSecret == "" && cert != "" {
		c.Certificate, c.KeyType = cert, KeyTypeExternal
		if key := unescapePEM(stringField(obj, "key")); key != "" {
			c.PrivateKey, c.KeyType = PrivateKeyPEM(key), KeyTypeCertificate
		}
		var pin bool
		if p, ok := obj["certificate-pinning"]; ok && json.Unmarshal(p, &pin) == nil {
			c.Pinning = &pin
		}
		info, err := certificateInfo(cert, obj["certificatedetails"])
		if err != nil {
			return Credentials{}, fmt.Errorf("key %q: %v", keyName, err)
		}
		c.CertificateInfo = info
		need[1] = struct{ name, v string }{"certificate", c.Certificate}
	}
	var missing []string
	for _, f := range need {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("key %q: the credentials lack %s; this does not look like an it-rt service key",
			keyName, strings.Join(missing, ", "))
	}
	return c, nil
}

// unescapePEM turns the literal \n escapes some downloads carry into
// newlines (docs/protocol/it-rt.md §4.3).
func unescapePEM(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, `\n`, "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// certificateInfo reads the leaf of a PEM chain; SAP's certificatedetails
// fill what the certificate cannot be read for.
func certificateInfo(chain string, details json.RawMessage) (*CertificateInfo, error) {
	if b, _ := pem.Decode([]byte(chain)); b != nil && b.Type == "CERTIFICATE" {
		if leaf, err := x509.ParseCertificate(b.Bytes); err == nil {
			return &CertificateInfo{SubjectDN: dn(leaf.RawSubject), IssuerDN: dn(leaf.RawIssuer),
				SerialNumber: fmt.Sprintf("0x%X", leaf.SerialNumber), ValidUntil: leaf.NotAfter.UTC()}, nil
		}
	}
	var d struct {
		IssuerDN     string `json:"issuerdn"`
		SubjectDN    string `json:"subjectdn"`
		ValidUntil   string `json:"validuntil"`
		SerialNumber string `json:"serialnumber"`
	}
	if len(details) == 0 || json.Unmarshal(details, &d) != nil {
		return nil, errors.New("the certificate cannot be read")
	}
	until, err := time.Parse(time.RFC3339, d.ValidUntil)
	if err != nil {
		return nil, errors.New("the certificate cannot be read, and certificatedetails.validuntil is not a date")
	}
	return &CertificateInfo{SubjectDN: d.SubjectDN, IssuerDN: d.IssuerDN, SerialNumber: d.SerialNumber, ValidUntil: until.UTC()}, nil
}

// dn renders a distinguished name in the order the certificate holds it
// (pkix.Name would regroup attributes by type): what SAP shows.
func dn(raw []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(raw, &rdn); err != nil || len(rest) > 0 {
		return ""
	}
	return rdn.String()
}

func asObject(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

func stringField(m map[string]json.RawMessage, name string) string {
	raw, ok := m[name]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
