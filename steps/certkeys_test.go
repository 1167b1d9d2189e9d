package steps_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// keyParams returns the parameters the simulator's key of that name got.
func keyParams(t *testing.T, s *sim.Server, name string) map[string]any {
	t.Helper()
	var p map[string]any
	s.Do(func(w *sim.World) {
		for _, k := range w.Keys {
			if k.Name == name && !k.Deleted {
				p = k.Parameters
			}
		}
	})
	if p == nil {
		t.Fatalf("no key %s in the simulator", name)
	}
	return p
}

// stored reads the keychain entry of res and splits it.
func stored(t *testing.T, e *env, res *steps.Result) (string, steps.PrivateKeyPEM) {
	t.Helper()
	if res.Keychain == nil {
		t.Fatalf("not stored: %v", res.KeychainErr)
	}
	b, err := keychain.GetSplit(context.Background(), e.cfg.Keyring, res.Keychain.Service, res.Keychain.Account)
	if err != nil {
		t.Fatal(err)
	}
	chain, key, err := steps.ParseCertBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	return chain, key
}

func TestFlow_CertificateKey_CreatedVerifiedStored(t *testing.T) {
	for _, rt := range []steps.Runtime{steps.RuntimeCF, steps.RuntimeOther} {
		t.Run(string(rt), func(t *testing.T) {
			e := newEnv(t, sim.Config{})
			in := e.input(sim.SubReady)
			in.Runtime = rt
			in.KeySpec = steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 30, KeyLength: 1024}
			res, err := e.run(t, in)
			if err != nil {
				t.Fatal(err)
			}
			c := res.Credentials
			if !res.Verified || c.KeyType != steps.KeyTypeCertificate || c.ClientSecret != "" || c.PrivateKey == "" {
				t.Fatalf("verified %v (%v), type %s", res.Verified, res.VerifyErr, c.KeyType)
			}
			if !res.HasScope(".ESBMessaging.send") {
				t.Errorf("scopes %v", res.Scopes)
			}
			if d := c.CertificateInfo.DaysLeft(time.Now()); d < 29 || d > 30 {
				t.Errorf("%d days left, want 30", d)
			}
			if !strings.Contains(c.CertificateInfo.SubjectDN, "OU=SAP Cloud Platform Clients") || !strings.HasPrefix(c.CertificateInfo.IssuerDN, "CN=SAP PKI Certificate Service Client CA") {
				t.Errorf("certificate info %+v", c.CertificateInfo)
			}
			if p := keyParams(t, e.sim, res.Key.Name); p["key-type"] != "certificate" || p["validity"] != 30.0 || p["key-length"] != 1024.0 || len(p) != 3 {
				t.Errorf("key parameters sent: %v", p)
			}
			if !seen(e.sim.Requests(), "certauth:POST /oauth/token") || seen(e.sim.Requests(), "xsuaa:POST /oauth/token") {
				t.Errorf("the token did not come from the certificate host over mTLS: %v", e.sim.Requests())
			}
			chain, key := stored(t, e, res)
			if chain != c.Certificate || key != c.PrivateKey {
				t.Error("the keychain holds another certificate or key than SAP gave")
			}
			for _, ev := range e.rec.events {
				if strings.Contains(ev.Message, "PRIVATE KEY") || (ev.Err != nil && strings.Contains(ev.Err.Error(), "PRIVATE KEY")) {
					t.Errorf("progress shows the private key: %q", ev.Message)
				}
			}
		})
	}
}

func seen(reqs []string, key string) bool {
	for _, r := range reqs {
		if strings.HasPrefix(r, key) {
			return true
		}
	}
	return false
}

func TestFlow_ExternalCertificate_WithKeyFile(t *testing.T) {
	e := newEnv(t, sim.Config{})
	cert, key, err := e.sim.NewCompanyCertificate("sender.acme.example", 90)
	if err != nil {
		t.Fatal(err)
	}
	in := e.input(sim.SubReady)
	in.KeySpec = steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(cert), PrivateKey: steps.PrivateKeyPEM(key)}
	res, err := e.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Credentials.KeyType != steps.KeyTypeExternal {
		t.Fatalf("verified %v (%v), type %s", res.Verified, res.VerifyErr, res.Credentials.KeyType)
	}
	p := keyParams(t, e.sim, res.Key.Name)
	if p["key-type"] != "certificate_external" || p["X.509"] != string(cert) || p["certificate-pinning"] != true {
		t.Errorf("key parameters sent: %v", p)
	}
	chain, stKey := stored(t, e, res)
	if chain != string(cert) || string(stKey) != string(key) {
		t.Error("keychain bundle differs from the given certificate and key")
	}
}

func TestFlow_ExternalCertificate_FromCSR(t *testing.T) {
	e := newEnv(t, sim.Config{})
	f := steps.New(e.cfg)
	ctx := context.Background()
	csr, err := f.NewCSR(ctx, "CN=sender.acme.example,O=ACME Corp,C=DE", 2048)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(csr.PEM), "PRIVATE") || !strings.HasPrefix(csr.Account, "csr/") {
		t.Fatalf("request %q, account %s", csr.PEM[:40], csr.Account)
	}
	cert, err := e.sim.SignCSR(csr.PEM, 180)
	if err != nil {
		t.Fatal(err)
	}
	in := e.input(sim.SubReady)
	in.Plan, in.Roles = "api", []string{"MonitoringDataRead"}
	in.KeySpec = steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(cert)} // no key file: the keychain has it
	res, err := e.run(t, in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || !res.HasScope(".MonitoringDataRead") {
		t.Fatalf("verified %v (%v)", res.Verified, res.VerifyErr)
	}
	if _, has := keyParams(t, e.sim, res.Key.Name)["certificate-pinning"]; has {
		t.Error("certificate-pinning sent for plan api")
	}
	if _, err := e.cfg.Keyring.Get(ctx, steps.KeychainService, csr.Account); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("the csr entry outlived the key's own entry: %v", err)
	}
	if _, key := stored(t, e, res); steps.MatchKey(string(cert), key) != nil {
		t.Error("the stored key is not the certificate's")
	}
}

func TestKeySpec_RefusedBeforeAnyRequest(t *testing.T) {
	e := newEnv(t, sim.Config{})
	good, goodKey, err := e.sim.NewCompanyCertificate("ok.acme.example", 30)
	if err != nil {
		t.Fatal(err)
	}
	expired, expiredKey := certificate(t, false, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	caCert, caKey := certificate(t, true, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	_, otherKey := certificate(t, false, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	off := false
	cases := []struct {
		name string
		plan string
		spec steps.KeySpec
		want string
	}{
		{"validity 0 days is SAP's default, 400 is not", "", steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 400}, "1 to 365 days"},
		{"key length", "", steps.KeySpec{Type: steps.KeyTypeCertificate, KeyLength: 1000}, "1024, 2048, 3072 or 4096"},
		{"validity on a secret key", "", steps.KeySpec{Validity: 30}, "certificate keys only"},
		{"pinning on plan api", "api", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(good), PrivateKey: steps.PrivateKeyPEM(goodKey), Pinning: &off}, "integration-flow only"},
		{"expired certificate", "", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: expired, PrivateKey: steps.PrivateKeyPEM(expiredKey)}, "expired on"},
		{"CA certificate", "", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: caCert, PrivateKey: steps.PrivateKeyPEM(caKey)}, "CA certificate"},
		{"not a certificate", "", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: "hello", PrivateKey: steps.PrivateKeyPEM(goodKey)}, "not a PEM certificate"},
		{"someone else's key", "", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(good), PrivateKey: steps.PrivateKeyPEM(otherKey)}, "does not belong to the certificate"},
		{"no key anywhere", "", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(good)}, "private key of the external certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.sim.ResetRequests()
			in := e.input(sim.SubReady)
			in.KeySpec = tc.spec
			if tc.plan != "" {
				in.Plan, in.Roles = tc.plan, []string{"MonitoringDataRead"}
			}
			_, err := e.run(t, in)
			var usage *steps.UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a usage error containing %q", err, tc.want)
			}
			if r := e.sim.Requests(); len(r) > 0 {
				t.Errorf("requests before the refusal: %v", r)
			}
			for _, k := range []string{pemLine(goodKey), pemLine(otherKey), pemLine(expiredKey)} {
				if k != "" && strings.Contains(err.Error(), k) {
					t.Error("the error quotes a private key")
				}
			}
		})
	}
}

// pemLine is the second line of a PEM text, a stretch of its base64.
func pemLine[T ~string | ~[]byte](p T) string {
	lines := strings.Split(string(p), "\n")
	if len(lines) < 3 {
		return ""
	}
	return lines[1]
}

// certificate makes a self-signed certificate and its key (PEM).
func certificate(t *testing.T, isCA bool, from, until time.Time) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "t"}, NotBefore: from, NotAfter: until,
		IsCA: isCA, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}

func TestFlow_KeyTypeMismatchUnderTheName(t *testing.T) {
	e := newEnv(t, sim.Config{})
	if _, err := e.run(t, e.input(sim.SubReady)); err != nil { // a ClientId/Secret key
		t.Fatal(err)
	}
	in := e.input(sim.SubReady)
	in.KeySpec = steps.KeySpec{Type: steps.KeyTypeCertificate, KeyLength: 1024}
	_, err := e.run(t, in)
	var kt *steps.KeyTypeError
	if !errors.As(err, &kt) || kt.Got != steps.KeyTypeSecret || !strings.Contains(err.Error(), "choose another key name") {
		t.Fatalf("err %v", err)
	}
}

func TestPrivateKeyPEM_NeverFormats(t *testing.T) {
	k := steps.PrivateKeyPEM("-----BEGIN RSA PRIVATE KEY-----\nSECRETSECRET\n-----END RSA PRIVATE KEY-----\n")
	spec := steps.KeySpec{Type: steps.KeyTypeExternal, PrivateKey: k}
	creds := steps.Credentials{PrivateKey: k}
	j, _ := json.Marshal(creds)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%s %q %v %+v %#v", k, k, spec, spec, creds), string(j)} {
		if strings.Contains(s, "SECRETSECRET") {
			t.Errorf("formatted: %s", s)
		}
	}
}

func TestApplyKeyFlags(t *testing.T) {
	files := map[string]string{"cert.pem": "CERT", "key.pem": "KEY"}
	read := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("open %s: no such file or directory", p)
	}
	off := false
	cases := []struct {
		name string
		kf   steps.KeyFlags
		want steps.KeySpec
		err  string
	}{
		{"default", steps.KeyFlags{}, steps.KeySpec{Type: steps.KeyTypeSecret}, ""},
		{"certificate", steps.KeyFlags{Type: "certificate", Validity: 90, KeyLength: 4096}, steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 90, KeyLength: 4096}, ""},
		{"external", steps.KeyFlags{Type: "external-certificate", Cert: "cert.pem", CertKey: "key.pem", PinningSet: true}, steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: "CERT", PrivateKey: "KEY", Pinning: &off}, ""},
		{"unknown type", steps.KeyFlags{Type: "x509"}, steps.KeySpec{}, "--key-type"},
		{"validity for secret", steps.KeyFlags{Validity: 30}, steps.KeySpec{}, "--validity applies to --key-type certificate only"},
		{"validity too long", steps.KeyFlags{Type: "certificate", Validity: 366}, steps.KeySpec{}, "--validity must be 1 to 365"},
		{"key length", steps.KeyFlags{Type: "certificate", KeyLength: 512}, steps.KeySpec{}, "--key-length must be"},
		{"cert for certificate", steps.KeyFlags{Type: "certificate", Cert: "cert.pem"}, steps.KeySpec{}, "--cert and --cert-key apply"},
		{"pinning for certificate", steps.KeyFlags{Type: "certificate", PinningSet: true}, steps.KeySpec{}, "--certificate-pinning applies"},
		{"external without cert", steps.KeyFlags{Type: "external-certificate"}, steps.KeySpec{}, "needs --cert FILE"},
		{"missing file", steps.KeyFlags{Type: "external-certificate", Cert: "nope.pem"}, steps.KeySpec{}, "--cert: open nope.pem"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in steps.HeadlessInput
			err := in.ApplyKeyFlags(tc.kf, read)
			if tc.err != "" {
				var u *steps.UsageError
				if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, want := in.KeySpec, tc.want
			if got.Type != want.Type || got.Validity != want.Validity || got.KeyLength != want.KeyLength || got.Certificate != want.Certificate ||
				got.PrivateKey != want.PrivateKey || (got.Pinning == nil) != (want.Pinning == nil) || (got.Pinning != nil && *got.Pinning != *want.Pinning) {
				t.Fatalf("spec %+v, want %+v", got, want)
			}
		})
	}
}

func TestKeySpec_ParametersAreSAPsJSON(t *testing.T) {
	cert, _ := certificate(t, false, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	cases := []struct {
		spec steps.KeySpec
		plan string
		want string
	}{
		{steps.KeySpec{}, "integration-flow", `{"key-type":"client_id_secret"}`},
		{steps.KeySpec{Type: steps.KeyTypeCertificate}, "api", `{"key-type":"certificate","validity":365,"key-length":2048}`},
		{steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 7, KeyLength: 4096}, "api", `{"key-type":"certificate","validity":7,"key-length":4096}`},
	}
	for _, tc := range cases {
		if got := string(tc.spec.Parameters(tc.plan)); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.spec, got, tc.want)
		}
	}
	ext := steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: "leading text\n" + cert + cert}
	var p map[string]any
	json.Unmarshal(ext.Parameters("integration-flow"), &p) //nolint:errcheck
	if p["X.509"] != cert || p["certificate-pinning"] != true || len(p) != 3 {
		t.Errorf("external parameters %v: want the leaf only and pinning on", p)
	}
	var q map[string]any
	json.Unmarshal(ext.Parameters("api"), &q) //nolint:errcheck
	if _, has := q["certificate-pinning"]; has || len(q) != 2 {
		t.Errorf("api plan: %v", p)
	}
}
