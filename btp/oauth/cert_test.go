package oauth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// newCertKey creates an instance and a certificate key of keyParams.
func newCertKey(t *testing.T, s *sim.Server, plan, name, instParams, keyParams string) oauth.CertCredentials {
	t.Helper()
	var d struct {
		ClientID    string `json:"clientid"`
		Certificate string `json:"certificate"`
		Key         string `json:"key"`
		TokenURL    string `json:"tokenurl"`
	}
	newKeyOf(t, s, plan, name, instParams, json.RawMessage(keyParams), &d)
	return oauth.CertCredentials{ClientID: d.ClientID, Certificate: d.Certificate, PrivateKey: d.Key, TokenURL: d.TokenURL}
}

// trusting is the client cpikey --demo builds: it trusts the simulator's CA.
func trusting(s *sim.Server, trace *bytes.Buffer) transport.Options {
	o := transport.Options{RootCAs: s.CACertPool()}
	if trace != nil {
		o.Trace = trace
	}
	return o
}

func TestVerifyCertificate_MTLSScopesOfBothPlans(t *testing.T) {
	s := startSim(t)
	tests := []struct{ plan, params, suffix string }{
		{"integration-flow", `{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"]}`, ".ESBMessaging.send"},
		{"api", `{"roles":["MonitoringDataRead"],"grant-types":["client_credentials"]}`, ".MonitoringDataRead"},
	}
	for _, tt := range tests {
		t.Run(tt.plan, func(t *testing.T) {
			c := newCertKey(t, s, tt.plan, "c-"+tt.plan, tt.params, `{"key-type":"certificate","validity":30,"key-length":1024}`)
			var trace bytes.Buffer
			info, err := oauth.VerifyCertificate(ctx(t), transport.NewHTTPClient(trusting(s, &trace)), c)
			if err != nil {
				t.Fatal(err)
			}
			if !info.HasScopeSuffix(tt.suffix) || info.ClientID != c.ClientID {
				t.Errorf("info %+v", info)
			}
			if n := countRequests(s, "certauth:POST /oauth/token"); n == 0 {
				t.Error("no request reached the certificate token host")
			}
			if strings.Contains(trace.String(), "PRIVATE") || !strings.Contains(trace.String(), "http: POST "+c.TokenURL) {
				t.Errorf("trace %q", trace.String())
			}
			tok, err := oauth.FetchWithCertificate(ctx(t), transport.NewHTTPClient(trusting(s, nil)), c)
			if err != nil || tok.AccessToken == "" || tok.TokenType != "bearer" || !strings.Contains(tok.Scope, tt.suffix) {
				t.Fatalf("fetch: %v %v", tok, err)
			}
		})
	}
}

func TestVerifyCertificate_FailuresSayWhatToDo(t *testing.T) {
	s := startSim(t)
	good := newCertKey(t, s, "integration-flow", "cf", `{"roles":["ESBMessaging.send"]}`, `{"key-type":"certificate","key-length":1024}`)
	other := newCertKey(t, s, "integration-flow", "cf2", `{"roles":["ESBMessaging.send"]}`, `{"key-type":"certificate","key-length":1024}`)
	selfCert, selfKey := selfSignedPEM(t)
	with := func(f func(*oauth.CertCredentials)) oauth.CertCredentials { c := good; f(&c); return c }
	trusted := transport.NewHTTPClient(trusting(s, nil))
	cases := []struct {
		name       string
		untrusting bool // a client without --demo's trust in the simulator
		creds      oauth.CertCredentials
		want       string
	}{
		{"server CA not trusted (no --demo)", true, good, "cannot verify the TLS certificate of the token server"},
		{"another key's certificate", false, with(func(c *oauth.CertCredentials) { c.Certificate, c.PrivateKey = other.Certificate, other.PrivateKey }), "did not accept this certificate"},
		{"certificate of an untrusted CA", false, with(func(c *oauth.CertCredentials) { c.Certificate, c.PrivateKey = selfCert, selfKey }), "refused the client certificate in the TLS handshake"},
		{"key of another certificate", false, with(func(c *oauth.CertCredentials) { c.PrivateKey = selfKey }), "do not form a usable pair"},
		{"no private key", false, with(func(c *oauth.CertCredentials) { c.PrivateKey = "" }), "certificate key needs all three"},
		{"plain http tokenurl", false, with(func(c *oauth.CertCredentials) { c.TokenURL = s.TokenBaseURL() + "/oauth/token" }), "is not https"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hc := trusted
			if tc.untrusting {
				hc = transport.NewHTTPClient(transport.Options{})
			}
			_, err := oauth.VerifyCertificate(ctx(t), hc, tc.creds)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			for _, secret := range []string{good.PrivateKey, other.PrivateKey, selfKey} {
				if body := pemBody(secret); body != "" && strings.Contains(err.Error(), body[:40]) {
					t.Error("the error quotes a private key")
				}
			}
			if s := fmt.Sprintf("%v %+v %#v", tc.creds, tc.creds, tc.creds); tc.creds.PrivateKey != "" && strings.Contains(s, pemBody(tc.creds.PrivateKey)[:40]) {
				t.Error("formatting CertCredentials prints the private key")
			}
		})
	}
}

func pemBody(s string) string {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return ""
	}
	return strings.Split(string(pem.EncodeToMemory(b)), "\n")[1]
}

func selfSignedPEM(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "self"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}
