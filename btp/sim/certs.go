package sim

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"
)

// The simulator's PKI for certificate keys (docs/protocol/it-rt.md §3, §4.3). A root CA
// signs one "SAP PKI Certificate Service Client CA" per region, which issues
// the client certificates of `certificate` keys, and the TLS certificate of
// the certificate token host. A second root stands for a customer's own CA:
// it signs the certificates uploaded for `certificate_external` keys
// (SignCSR, NewCompanyCertificate). The token host trusts both roots for
// client certificates; clients trust only the first (CACertPEM), and only
// when told to (--demo, tests).

// PKI is the persisted part: certificates in PEM, private keys sealed with
// the world's seed, so the demo state file holds no private key literally
// (as it holds no client secret).
type PKI struct {
	Root    *SimCA                  `json:"root"`
	Company *SimCA                  `json:"company"`
	Client  map[string]*SimCA       `json:"client"` // region -> issuing CA
	Keys    map[string]*KeyMaterial `json:"keys"`   // key GUID -> what the broker issued or accepted
}

// SimCA is a certificate authority of the simulator.
type SimCA struct {
	CertPEM string `json:"certPem"`
	Sealed  []byte `json:"sealedKey"`
}

// KeyMaterial is a certificate key's certificate chain (leaf first) and,
// for SAP-generated keys, the sealed private key. For an external key the
// chain is the certificate the token host accepts now: with pinning off a
// renewed certificate replaces it.
type KeyMaterial struct {
	ChainPEM string `json:"chainPem"`
	Sealed   []byte `json:"sealedKey,omitempty"`
	Pinning  bool   `json:"pinning,omitempty"`
}

// Key types as the broker names them.
const (
	keyTypeSecret   = "client_id_secret"
	keyTypeCert     = "certificate"
	keyTypeExternal = "certificate_external"
)

// Key parameter defaults of the it-rt schema.
const (
	defaultValidityDays = 365
	defaultKeyLength    = 2048
)

// ca is a parsed SimCA.
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  string
}

// pkiRuntime holds what Start derives from PKI: parsed CAs and the TLS
// certificate of the certificate token host. Guarded by Server.mu.
type pkiRuntime struct {
	root, company *ca
	client        map[string]*ca
	serverCert    tls.Certificate
	clientCAs     *x509.CertPool
}

// initPKILocked loads the world's PKI, creating what is missing.
func (s *Server) initPKILocked() error {
	w := s.world
	if w.PKI == nil {
		w.PKI = &PKI{}
	}
	if w.PKI.Client == nil {
		w.PKI.Client = map[string]*SimCA{}
	}
	if w.PKI.Keys == nil {
		w.PKI.Keys = map[string]*KeyMaterial{}
	}
	rt := &pkiRuntime{client: map[string]*ca{}}
	var err error
	if rt.root, err = s.loadOrCreateCA(&w.PKI.Root, pkix.Name{Country: []string{"DE"}, Organization: []string{"cpikey simulator"}, CommonName: "cpikey Simulator Root CA"}, nil); err != nil {
		return err
	}
	if rt.company, err = s.loadOrCreateCA(&w.PKI.Company, pkix.Name{Country: []string{"DE"}, Organization: []string{"ACME Corp"}, CommonName: "ACME Corp Issuing CA (simulated customer CA)"}, nil); err != nil {
		return err
	}
	rt.clientCAs = x509.NewCertPool()
	rt.clientCAs.AddCert(rt.root.cert)
	rt.clientCAs.AddCert(rt.company.cert)
	if rt.serverCert, err = rt.root.issueServerCert(); err != nil {
		return err
	}
	s.pki = rt
	return nil
}

// loadOrCreateCA unseals *slot, or creates a CA there (signed by parent, or
// self-signed).
func (s *Server) loadOrCreateCA(slot **SimCA, name pkix.Name, parent *ca) (*ca, error) {
	if *slot != nil {
		c, err := s.openCA(*slot)
		if err == nil {
			return c, nil
		}
		// A state file from another seed cannot be opened: start afresh.
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// Backdated generously: tests run the simulator on clocks of their own.
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), Subject: name,
		NotBefore: now.AddDate(-10, 0, 0), NotAfter: now.AddDate(20, 0, 0),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		IsCA:     true, BasicConstraintsValid: true,
	}
	signer, signerCert := crypto.Signer(key), tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
		tmpl.MaxPathLenZero = true
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	sealed, err := s.seal(key)
	if err != nil {
		return nil, err
	}
	*slot = &SimCA{CertPEM: pemBlock("CERTIFICATE", der), Sealed: sealed}
	return s.openCA(*slot)
}

func (s *Server) openCA(c *SimCA) (*ca, error) {
	cert, err := parseCertPEM(c.CertPEM)
	if err != nil {
		return nil, err
	}
	key, err := s.unseal(c.Sealed)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("sim: CA key is not a signer")
	}
	return &ca{cert: cert, key: signer, pem: c.CertPEM}, nil
}

// issueServerCert is the TLS certificate of the certificate token host, for
// the loopback addresses it listens on.
func (c *ca) issueServerCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "authentication.cert.sim.hana.ondemand.com"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, c.cert.Raw}, PrivateKey: key}, nil
}

// clientCALocked is the issuing CA of a region, created on first use.
func (s *Server) clientCALocked(region string) (*ca, error) {
	if c := s.pki.client[region]; c != nil {
		return c, nil
	}
	slot := s.world.PKI.Client[region]
	c, err := s.loadOrCreateCA(&slot, pkix.Name{Country: []string{"DE"}, Locality: []string{"cf-" + region},
		Organization: []string{"SAP SE"}, OrganizationalUnit: []string{"SAP BTP Clients"},
		CommonName: "SAP PKI Certificate Service Client CA"}, s.pki.root)
	if err != nil {
		return nil, err
	}
	s.world.PKI.Client[region] = slot
	s.pki.client[region] = c
	return c, nil
}

// --- sealing -------------------------------------------------------------------

func (s *Server) sealer() (cipher.AEAD, error) {
	k := sha256.Sum256([]byte("cpikey-sim-pki\x00" + s.world.SecretSeed))
	b, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (s *Server) seal(key any) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	g, err := s.sealer()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, der, nil), nil
}

func (s *Server) unseal(b []byte) (any, error) {
	g, err := s.sealer()
	if err != nil {
		return nil, err
	}
	if len(b) < g.NonceSize() {
		return nil, errors.New("sim: sealed key too short")
	}
	der, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], nil)
	if err != nil {
		return nil, err
	}
	return x509.ParsePKCS8PrivateKey(der)
}

// --- RSA keys --------------------------------------------------------------------

// rsaKeys caches one key per length for the whole process: a 4096-bit key
// takes seconds to generate, and tests and the demo would otherwise wait for
// every certificate key. Each certificate is still new; only the key pair
// repeats within one run.
var rsaKeys = struct {
	sync.Mutex
	m map[int]*rsa.PrivateKey
}{m: map[int]*rsa.PrivateKey{}}

func rsaKey(bits int) (*rsa.PrivateKey, error) {
	rsaKeys.Lock()
	defer rsaKeys.Unlock()
	if k := rsaKeys.m[bits]; k != nil {
		return k, nil
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	rsaKeys.m[bits] = k
	return k, nil
}

// --- issuing and accepting --------------------------------------------------------

// brokerCertificateLocked does the certificate part of a bind after the
// schema check passed: it issues a client certificate for a `certificate`
// key, and registers the uploaded one of a `certificate_external` key,
// refusing a certificate another key already uses (docs/protocol/it-rt.md §3). It returns
// the broker's error text, "" on success.
func (s *Server) brokerCertificateLocked(k *Key, inst *Instance, sa *Subaccount, now time.Time) string {
	switch k.KeyType {
	case keyTypeCert:
		if err := s.issueClientCertLocked(k, sa, now); err != nil {
			return "Failed to generate the client certificate: " + err.Error()
		}
	case keyTypeExternal:
		raw, _ := k.Parameters["X.509"].(string)
		cert, err := parseCertPEM(raw)
		if err != nil {
			return "Invalid parameter X.509: " + err.Error()
		}
		if now.After(cert.NotAfter) {
			return fmt.Sprintf("Invalid parameter X.509: the certificate expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
		}
		for g, m := range s.world.PKI.Keys {
			other := s.world.key(g)
			if other == nil || other.GUID == k.GUID || other.KeyType != keyTypeExternal || !keyHoldsLocked(other, now) {
				continue
			}
			if oc, err := parseCertPEM(m.ChainPEM); err == nil && bytes.Equal(oc.Raw, cert.Raw) {
				appid := "it!b56186"
				if oi := s.world.instance(other.Instance); oi != nil && oi.Plan == "integration-flow" {
					if osa := s.world.subaccount(oi.Subaccount); osa != nil {
						appid = "it-rt-" + osa.Subdomain + "!b56186"
					}
				}
				return "Certificate already exists for Follower within Leader with appid [" + appid + "]."
			}
		}
		pinning := true
		if p, ok := k.Parameters["certificate-pinning"].(bool); ok {
			pinning = p
		}
		s.world.PKI.Keys[k.GUID] = &KeyMaterial{ChainPEM: pemBlock("CERTIFICATE", cert.Raw), Pinning: pinning}
	}
	return ""
}

// keyHoldsLocked: the key exists for the broker (created or being created,
// not deleted, not failed). A certificate stays taken until its key is gone.
func keyHoldsLocked(k *Key, now time.Time) bool {
	switch {
	case k.Deleted:
		return false
	case k.Op.Type == "create" && k.Op.Fail != "" && !now.Before(k.Op.ReadyAt):
		return false
	case k.Op.Type == "delete" && k.Op.Fail == "" && !now.Before(k.Op.ReadyAt):
		return false
	}
	return true
}

// issueClientCertLocked issues the client certificate of a `certificate`
// key: RSA of the requested length, valid the requested days, subject and
// issuer shaped like SAP's (docs/protocol/it-rt.md §4.3).
func (s *Server) issueClientCertLocked(k *Key, sa *Subaccount, now time.Time) error {
	days, bits := defaultValidityDays, defaultKeyLength
	if v, ok := k.Parameters["validity"].(float64); ok {
		days = int(v)
	}
	if v, ok := k.Parameters["key-length"].(float64); ok {
		bits = int(v)
	}
	issuer, err := s.clientCALocked(sa.Region)
	if err != nil {
		return err
	}
	key, err := rsaKey(bits)
	if err != nil {
		return err
	}
	// SAP's subject order: CN, L, OU, OU, O, C (written from C inwards).
	subject, err := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "DE"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "SAP SE"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "SAP Cloud Platform Clients"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: sa.GUID}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 7}, Value: "sap-uaa"}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: k.GUID}},
	})
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), RawSubject: subject,
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.cert, &key.PublicKey, issuer.key)
	if err != nil {
		return err
	}
	sealed, err := s.seal(key)
	if err != nil {
		return err
	}
	s.world.PKI.Keys[k.GUID] = &KeyMaterial{ChainPEM: pemBlock("CERTIFICATE", der) + issuer.pem, Sealed: sealed}
	return nil
}

// keyMaterialLocked returns the key's certificate material, issuing it on
// first use for certificate keys that predate it (older demo state, tests
// that reshape the world).
func (s *Server) keyMaterialLocked(k *Key, inst *Instance, sa *Subaccount) *KeyMaterial {
	if m := s.world.PKI.Keys[k.GUID]; m != nil {
		return m
	}
	if sa == nil || s.brokerCertificateLocked(k, inst, sa, s.now()) != "" {
		return nil
	}
	s.saveLocked()
	return s.world.PKI.Keys[k.GUID]
}

// keyCredentialsLocked is the broker's credentials object of k. A
// certificate key carries its certificate chain, an SAP-generated one also
// its private key and certificatedetails, and its tokenurl is on the
// certificate token host (docs/protocol/it-rt.md §4.3).
func (s *Server) keyCredentialsLocked(k *Key, inst *Instance, sa *Subaccount) map[string]any {
	creds := s.keyCredentials(k, inst, sa)
	if k.KeyType == keyTypeSecret {
		return creds
	}
	oauth := creds["oauth"].(map[string]any)
	oauth["tokenurl"] = s.CertTokenURL() + "/oauth/token"
	m := s.keyMaterialLocked(k, inst, sa)
	if m == nil {
		return creds
	}
	oauth["certificate"] = m.ChainPEM
	if k.KeyType == keyTypeExternal {
		oauth["certificate-pinning"] = m.Pinning
		return creds
	}
	if key, err := s.unseal(m.Sealed); err == nil {
		oauth["key"] = privateKeyPEM(key)
	}
	if leaf, err := leafOf(m.ChainPEM); err == nil {
		oauth["certificatedetails"] = map[string]any{
			"issuerdn":     dn(leaf.RawIssuer),
			"subjectdn":    dn(leaf.RawSubject),
			"validuntil":   leaf.NotAfter.UTC().Format("2006-01-02T15:04:05.000Z"),
			"serialnumber": fmt.Sprintf("0x%X", leaf.SerialNumber),
		}
	}
	return creds
}

// privateKeyPEM renders key as SAP does: PKCS#1 for RSA.
func privateKeyPEM(key any) string {
	if k, ok := key.(*rsa.PrivateKey); ok {
		return pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return ""
	}
	return pemBlock("PRIVATE KEY", der)
}

// --- for tests and the demo -----------------------------------------------------

// CACertPEM is the simulator's root CA. Clients that should reach the
// certificate token host trust it (cpikey --demo, tests); nothing else does.
func (s *Server) CACertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(s.pki.root.pem)
}

// CACertPool is CACertPEM as a pool.
func (s *Server) CACertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CACertPEM())
	return p
}

// CompanyCACertPEM is the simulated customer CA whose certificates the
// token host accepts for external certificate keys.
func (s *Server) CompanyCACertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(s.pki.company.pem)
}

// SignCSR plays the customer's CA: it signs a certificate signing request
// (PEM) for client authentication, valid for days, and returns the leaf
// certificate in PEM.
func (s *Server) SignCSR(csrPEM []byte, days int) ([]byte, error) {
	b, _ := pem.Decode(csrPEM)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("sim: not a PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	company := s.pki.company
	now := s.now()
	s.mu.Unlock()
	return signLeaf(company, csr.Subject, csr.PublicKey, now, days)
}

// NewCompanyCertificate returns a client certificate from the simulated
// customer CA and its private key (both PEM), as a user would bring them to
// an external certificate key. The key counts as issued (IssuedSecrets).
func (s *Server) NewCompanyCertificate(commonName string, days int) (certPEM, keyPEM []byte, err error) {
	key, err := rsaKey(1024)
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	company := s.pki.company
	now := s.now()
	s.mu.Unlock()
	cert, err := signLeaf(company, pkix.Name{Country: []string{"DE"}, Organization: []string{"ACME Corp"}, CommonName: commonName}, &key.PublicKey, now, days)
	if err != nil {
		return nil, nil, err
	}
	keyPEM = []byte(privateKeyPEM(key))
	s.mu.Lock()
	s.issued = append(s.issued, string(keyPEM))
	s.mu.Unlock()
	return cert, keyPEM, nil
}

func signLeaf(c *ca, subject pkix.Name, pub any, now time.Time, days int) ([]byte, error) {
	if days <= 0 {
		days = defaultValidityDays
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), Subject: subject,
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		return nil, err
	}
	return []byte(pemBlock("CERTIFICATE", der)), nil
}

// --- PEM helpers ------------------------------------------------------------------

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// parseCertPEM parses exactly one certificate. It also takes the one-line
// form of SAP's own example ("-----BEGIN CERTIFICATE-----MIIC…-----END
// CERTIFICATE-----") and literal \n escapes.
func parseCertPEM(s string) (*x509.Certificate, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), `\n`, "\n")
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	if strings.Count(s, begin) > 1 {
		return nil, errors.New("exactly one certificate is allowed (the leaf, no chain)")
	}
	if !strings.Contains(s, "\n") {
		s = strings.Replace(strings.Replace(s, begin, begin+"\n", 1), end, "\n"+end, 1)
	}
	b, rest := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM-encoded certificate")
	}
	if len(bytes.TrimSpace(rest)) > 0 && !bytes.HasPrefix(bytes.TrimSpace(rest), []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, errors.New("unexpected data after the certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, errors.New("the certificate cannot be parsed")
	}
	return c, nil
}

// dn renders a distinguished name in its own RDN order (pkix.Name would
// regroup the attributes by type).
func dn(raw []byte) string {
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &rdn); err != nil {
		return ""
	}
	return rdn.String()
}

// leafOf parses the first certificate of a PEM chain.
func leafOf(chain string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(chain))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<31-1))
	if err != nil || n.Sign() == 0 {
		return big.NewInt(1)
	}
	return n
}

// issuedPrivateKeysLocked lists, for the secret canaries, every private key
// the simulator handed out in the forms a leak could take: the PEM, the
// DER in one base64 line (how a store might keep it), and the last full
// line of the PEM body (private numbers only; the modulus, which is public
// and sits in the certificate too, comes first).
func (s *Server) issuedPrivateKeysLocked() []string {
	var out []string
	add := func(keyPEM string) {
		b, _ := pem.Decode([]byte(keyPEM))
		if b == nil {
			return
		}
		out = append(out, keyPEM, base64.StdEncoding.EncodeToString(b.Bytes))
		lines := strings.Split(strings.TrimSpace(keyPEM), "\n")
		if len(lines) > 3 {
			out = append(out, lines[len(lines)-3])
		}
	}
	for _, m := range s.world.PKI.Keys {
		if m.Sealed == nil {
			continue
		}
		if key, err := s.unseal(m.Sealed); err == nil {
			add(privateKeyPEM(key))
		}
	}
	for _, v := range s.issued {
		if strings.Contains(v, "PRIVATE KEY-----") {
			add(v)
		}
	}
	return out
}
