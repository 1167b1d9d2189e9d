package steps

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// KeyType is a service key's type, named as the it-rt broker names it
// (docs/protocol/it-rt.md §3).
type KeyType string

// The three key types of the cockpit's Create Service Key dialog.
const (
	KeyTypeSecret      KeyType = "client_id_secret"     // ClientId/Secret
	KeyTypeCertificate KeyType = "certificate"          // Certificate (SAP generates key and certificate)
	KeyTypeExternal    KeyType = "certificate_external" // External Certificate (you bring the certificate)
)

// KeyTypes lists the types in the order the wizard offers them.
var KeyTypes = []KeyType{KeyTypeSecret, KeyTypeCertificate, KeyTypeExternal}

// Limits of the certificate key parameters (docs/protocol/it-rt.md §3).
const (
	MinValidity      = 1
	MaxValidity      = 365
	DefaultValidity  = 365
	DefaultKeyLength = 2048
)

// KeyLengths are the key lengths SAP generates.
var KeyLengths = []int{1024, 2048, 3072, 4096}

// Or returns k, or ClientId/Secret for the zero value.
func (k KeyType) Or() KeyType {
	if k == "" {
		return KeyTypeSecret
	}
	return k
}

// IsCertificate: either certificate type.
func (k KeyType) IsCertificate() bool {
	return k == KeyTypeCertificate || k == KeyTypeExternal
}

// Flag is the type as --key-type takes it.
func (k KeyType) Flag() string {
	switch k.Or() {
	case KeyTypeCertificate:
		return "certificate"
	case KeyTypeExternal:
		return "external-certificate"
	}
	return "client-id-secret"
}

// Label is the type as SAP's cockpit names it.
func (k KeyType) Label() string {
	switch k.Or() {
	case KeyTypeCertificate:
		return "Certificate"
	case KeyTypeExternal:
		return "External Certificate"
	}
	return "ClientId/Secret"
}

// ParseKeyType reads --key-type: client-id-secret, certificate or
// external-certificate (the broker's names are accepted too).
func ParseKeyType(s string) (KeyType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "client-id-secret", string(KeyTypeSecret):
		return KeyTypeSecret, nil
	case "certificate":
		return KeyTypeCertificate, nil
	case "external-certificate", string(KeyTypeExternal):
		return KeyTypeExternal, nil
	}
	return "", fmt.Errorf("unknown key type %q: use client-id-secret, certificate or external-certificate", s)
}

// PrivateKeyPEM is a private key in PEM. It formats as a placeholder (%v,
// %s, %q, %#v, JSON), so no log line or struct dump can show it; string(k)
// is the key, for the few places that hand it on on purpose.
type PrivateKeyPEM string

const redactedKey = "[private key redacted]"

func (k PrivateKeyPEM) String() string   { return redactedKey }
func (k PrivateKeyPEM) GoString() string { return redactedKey }

// MarshalJSON writes the placeholder.
func (k PrivateKeyPEM) MarshalJSON() ([]byte, error) { return json.Marshal(redactedKey) }

// KeySpec is the type of the key to create and its parameters.
type KeySpec struct {
	Type KeyType // "" means ClientId/Secret
	// Certificate keys: validity in days (1-365) and RSA key length; zero
	// means SAP's default (365 days, 2048 bits).
	Validity, KeyLength int
	// External Certificate keys: the leaf certificate (PEM) to upload and
	// its private key, which stays on this machine (a file, or the OS
	// keychain after cpikey csr). Pinning is "certificate-pinning"
	// (integration-flow only); nil means SAP's default, on.
	Certificate string
	PrivateKey  PrivateKeyPEM
	Pinning     *bool
}

// Normalized fills SAP's defaults, so the parameters state them.
func (s KeySpec) Normalized() KeySpec {
	s.Type = s.Type.Or()
	if s.Type == KeyTypeCertificate {
		if s.Validity == 0 {
			s.Validity = DefaultValidity
		}
		if s.KeyLength == 0 {
			s.KeyLength = DefaultKeyLength
		}
	}
	return s
}

// Validate checks the spec against the key schema for plan before any
// request: what SAP would refuse, and what cpikey could not use (an
// external certificate without its private key, an expired one).
func (s KeySpec) Validate(plan string, now time.Time) error {
	return s.validate(plan, now, true)
}

// ValidatePending is Validate for a spec whose External Certificate
// private key may still be in the OS keychain (ResolveKey finds it later).
func (s KeySpec) ValidatePending(plan string, now time.Time) error {
	return s.validate(plan, now, false)
}

// validate is Validate; needKey false accepts an External Certificate
// whose private key is still to be found in the keychain (ResolveKey).
func (s KeySpec) validate(plan string, now time.Time, needKey bool) error {
	t := s.Type.Or()
	if !slices.Contains(KeyTypes, t) {
		return fmt.Errorf("unknown key type %q: use client-id-secret, certificate or external-certificate", s.Type)
	}
	if t != KeyTypeCertificate && (s.Validity != 0 || s.KeyLength != 0) {
		return fmt.Errorf("validity and key length apply to certificate keys only (SAP generates those), not to %s keys", t.Label())
	}
	if t != KeyTypeExternal && (s.Certificate != "" || s.PrivateKey != "" || s.Pinning != nil) {
		return fmt.Errorf("a certificate file and certificate pinning apply to External Certificate keys only, not to %s keys", t.Label())
	}
	switch t {
	case KeyTypeCertificate:
		if s.Validity != 0 && (s.Validity < MinValidity || s.Validity > MaxValidity) {
			return fmt.Errorf("validity %d days: SAP issues certificates for %d to %d days", s.Validity, MinValidity, MaxValidity)
		}
		if s.KeyLength != 0 && !slices.Contains(KeyLengths, s.KeyLength) {
			return fmt.Errorf("key length %d: SAP generates keys of 1024, 2048, 3072 or 4096 bits", s.KeyLength)
		}
	case KeyTypeExternal:
		if s.Pinning != nil && plan != itrt.PlanIntegrationFlow {
			return fmt.Errorf("certificate pinning is a setting of plan integration-flow only; leave it out for plan %s", plan)
		}
		if _, err := ExternalLeaf(s.Certificate, now); err != nil {
			return err
		}
		if s.PrivateKey == "" && !needKey {
			return nil
		}
		if s.PrivateKey == "" {
			return errors.New("the private key of the external certificate is missing: give its file (--cert-key), or create the certificate request with cpikey csr so the key is in the OS keychain")
		}
		if err := MatchKey(s.Certificate, s.PrivateKey); err != nil {
			return err
		}
	}
	return nil
}

// Parameters is the exact JSON of the key's binding parameters, SAP's
// defaults spelled out: {"key-type":"client_id_secret"},
// {"key-type":"certificate","validity":365,"key-length":2048},
// {"key-type":"certificate_external","X.509":"…","certificate-pinning":true}.
func (s KeySpec) Parameters(plan string) json.RawMessage {
	s = s.Normalized()
	switch s.Type {
	case KeyTypeCertificate:
		b, _ := json.Marshal(struct {
			Type      KeyType `json:"key-type"`
			Validity  int     `json:"validity"`
			KeyLength int     `json:"key-length"`
		}{s.Type, s.Validity, s.KeyLength})
		return b
	case KeyTypeExternal:
		leaf, _ := ExternalLeaf(s.Certificate, time.Time{})
		p := struct {
			Type    KeyType `json:"key-type"`
			X509    string  `json:"X.509"`
			Pinning *bool   `json:"certificate-pinning,omitempty"`
		}{Type: s.Type, Pinning: s.Pinning}
		if leaf != nil {
			p.X509 = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}))
		}
		if plan == itrt.PlanIntegrationFlow && p.Pinning == nil {
			on := true
			p.Pinning = &on
		}
		b, _ := json.Marshal(p)
		return b
	}
	return KeyParameters
}

// Describe is the spec in a few words for the review screen and progress.
func (s KeySpec) Describe(plan string) string {
	s = s.Normalized()
	switch s.Type {
	case KeyTypeCertificate:
		return fmt.Sprintf("Certificate, %d days, %d-bit RSA key", s.Validity, s.KeyLength)
	case KeyTypeExternal:
		d := "External Certificate"
		if leaf, err := ExternalLeaf(s.Certificate, time.Time{}); err == nil {
			d += " " + leaf.Subject.String()
		}
		if plan == itrt.PlanIntegrationFlow && s.Pinning != nil && !*s.Pinning {
			d += ", pinning off"
		}
		return d
	}
	return "ClientId/Secret"
}

// ExternalLeaf reads the certificate to upload: the first certificate of a
// PEM file (SAP takes the leaf only, no chain). It must be a client
// certificate, not a CA, and not expired at now (zero: not checked).
func ExternalLeaf(certPEM string, now time.Time) (*x509.Certificate, error) {
	var b *pem.Block
	rest := []byte(certPEM)
	for {
		if b, rest = pem.Decode(rest); b == nil || b.Type == "CERTIFICATE" {
			break
		}
	}
	if b == nil {
		return nil, errors.New("the external certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, errors.New("the external certificate cannot be parsed as X.509")
	}
	if c.IsCA {
		return nil, errors.New("the external certificate is a CA certificate; give the client (leaf) certificate your CA issued")
	}
	if !now.IsZero() && now.After(c.NotAfter) {
		return nil, fmt.Errorf("the external certificate expired on %s; get a renewed one from your CA", c.NotAfter.UTC().Format("2006-01-02"))
	}
	return c, nil
}

// MatchKey checks that key (PEM) is the private key of the first
// certificate in certPEM. Errors never quote either.
func MatchKey(certPEM string, key PrivateKeyPEM) error {
	leaf, err := ExternalLeaf(certPEM, time.Time{})
	if err != nil {
		return err
	}
	k, err := ParsePrivateKey(key)
	if err != nil {
		return err
	}
	pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return errors.New("the private key does not belong to the certificate (their public keys differ)")
	}
	return nil
}

// ParsePrivateKey reads a PEM private key: PKCS#1 (RSA PRIVATE KEY, SAP's
// form), PKCS#8 (PRIVATE KEY) or SEC 1 (EC PRIVATE KEY). Encrypted keys
// are refused: cpikey could not present them without the passphrase.
func ParsePrivateKey(key PrivateKeyPEM) (crypto.Signer, error) {
	rest := []byte(key)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM private key found (-----BEGIN … PRIVATE KEY-----)")
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			continue
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return nil, errors.New("the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem), or create a new one with cpikey csr")
		}
		var k any
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		}
		if err != nil {
			return nil, errors.New("the private key cannot be parsed")
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, errors.New("unsupported private key type")
		}
		return s, nil
	}
}

// KeyFlags are the headless key flags as given on the command line.
type KeyFlags struct {
	Type       string // --key-type: client-id-secret | certificate | external-certificate
	Validity   int    // --validity DAYS (0: not given)
	KeyLength  int    // --key-length BITS (0: not given)
	Pinning    bool   // --certificate-pinning (true unless =false)
	PinningSet bool   // --certificate-pinning was given
	Cert       string // --cert FILE
	CertKey    string // --cert-key FILE
}

// ApplyKeyFlags validates the key flags against each other and reads the
// certificate files into in.KeySpec. The plan-dependent checks (pinning)
// and the schema follow in Normalize; a missing --cert-key is looked up in
// the OS keychain (cpikey csr) by RunHeadless. Errors are UsageErrors.
func (in *HeadlessInput) ApplyKeyFlags(kf KeyFlags, readFile func(string) ([]byte, error)) error {
	t, err := ParseKeyType(kf.Type)
	if err != nil {
		return &UsageError{Msg: "--key-type: " + err.Error()}
	}
	spec := KeySpec{Type: t}
	switch {
	case t != KeyTypeCertificate && kf.Validity != 0:
		return usagef("--validity applies to --key-type certificate only")
	case t != KeyTypeCertificate && kf.KeyLength != 0:
		return usagef("--key-length applies to --key-type certificate only")
	case t != KeyTypeExternal && (kf.Cert != "" || kf.CertKey != ""):
		return usagef("--cert and --cert-key apply to --key-type external-certificate only")
	case t != KeyTypeExternal && kf.PinningSet:
		return usagef("--certificate-pinning applies to --key-type external-certificate only")
	case t == KeyTypeExternal && kf.Cert == "":
		return usagef("--key-type external-certificate needs --cert FILE (the certificate your CA issued; cpikey csr makes the request)")
	}
	if t == KeyTypeCertificate {
		if kf.Validity < 0 || kf.Validity > MaxValidity {
			return usagef("--validity must be %d to %d days, not %d", MinValidity, MaxValidity, kf.Validity)
		}
		if kf.KeyLength != 0 && !slices.Contains(KeyLengths, kf.KeyLength) {
			return usagef("--key-length must be 1024, 2048, 3072 or 4096, not %d", kf.KeyLength)
		}
		spec.Validity, spec.KeyLength = kf.Validity, kf.KeyLength
	}
	if t == KeyTypeExternal {
		b, err := readFile(kf.Cert)
		if err != nil {
			return usagef("--cert: %v", err)
		}
		spec.Certificate = string(b)
		if kf.CertKey != "" {
			k, err := readFile(kf.CertKey)
			if err != nil {
				return usagef("--cert-key: %v", err)
			}
			spec.PrivateKey = PrivateKeyPEM(k)
		}
		if kf.PinningSet {
			p := kf.Pinning
			spec.Pinning = &p
		}
	}
	in.KeySpec = spec
	return nil
}

// DisplayParameters is Parameters for people: an external certificate's
// PEM is shortened to its subject.
func (s KeySpec) DisplayParameters(plan string) string {
	p := string(s.Parameters(plan))
	if s.Type == KeyTypeExternal {
		if leaf, err := ExternalLeaf(s.Certificate, time.Time{}); err == nil {
			pemJSON, _ := json.Marshal(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})))
			short, _ := json.Marshal("<certificate " + leaf.Subject.String() + ">")
			p = strings.Replace(p, string(pemJSON), string(short), 1)
		}
	}
	return p
}
