package transport_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/transport"
)

func clientCert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mtlsServer answers with the common name of the client certificate it
// was shown; it requires one.
func mtlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName+" "+r.UserAgent()) //nolint:errcheck
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestWithClientCertificate_PresentsItKeepingTrustTraceAndAgent(t *testing.T) {
	srv := mtlsServer(t)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	var trace bytes.Buffer
	base := transport.NewHTTPClient(transport.Options{RootCAs: pool, Trace: &trace})

	if _, err := base.Get(srv.URL); err == nil {
		t.Fatal("the server requires a client certificate, yet the plain client got through")
	}
	c, err := transport.WithClientCertificate(base, clientCert(t, "key-one"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if got := string(b); got != "key-one "+transport.UserAgent {
		t.Errorf("server saw %q", got)
	}
	if !strings.Contains(trace.String(), "http: GET "+srv.URL) {
		t.Errorf("the --debug trace lost the request: %q", trace.String())
	}
	// The base client stays without a certificate.
	if _, err := base.Get(srv.URL); err == nil {
		t.Error("WithClientCertificate changed the client it was given")
	}
}

func TestNewHTTPClient_TrustsOnlyWhatItIsTold(t *testing.T) {
	srv := mtlsServer(t)
	c, err := transport.WithClientCertificate(transport.NewHTTPClient(transport.Options{}), clientCert(t, "x"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a server of an unknown CA was trusted: %v", err)
	}
}

type opaque struct{}

func (opaque) RoundTrip(*http.Request) (*http.Response, error) { return nil, nil }

func TestWithClientCertificate_UnknownTransport(t *testing.T) {
	if _, err := transport.WithClientCertificate(&http.Client{Transport: opaque{}}, clientCert(t, "x")); err != transport.ErrNoClientCertificate {
		t.Fatalf("err %v", err)
	}
}
