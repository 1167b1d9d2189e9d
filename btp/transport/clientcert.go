package transport

import (
	"crypto/tls"
	"errors"
	"net/http"
)

// ErrNoClientCertificate: the client's transport is not one this package
// knows how to give a client certificate.
var ErrNoClientCertificate = errors.New("this HTTP client cannot present a client certificate")

// WithClientCertificate returns a copy of c that presents cert in every TLS
// handshake (mTLS to a certificate key's token URL). Proxy, timeouts,
// trusted CAs, the User-Agent and the --debug trace stay as they are; the
// copy has its own connection pool, so no connection made with the
// certificate serves other requests. c nil means a default client.
func WithClientCertificate(c *http.Client, cert tls.Certificate) (*http.Client, error) {
	if c == nil {
		c = NewHTTPClient(Options{})
	}
	rt, err := withCert(c.Transport, cert)
	if err != nil {
		return nil, err
	}
	out := *c
	out.Transport = rt
	return &out, nil
}

func withCert(rt http.RoundTripper, cert tls.Certificate) (http.RoundTripper, error) {
	switch t := rt.(type) {
	case nil:
		return withCert(http.DefaultTransport, cert)
	case *http.Transport:
		c := t.Clone()
		if c.TLSClientConfig == nil {
			c.TLSClientConfig = &tls.Config{}
		}
		c.TLSClientConfig.Certificates = []tls.Certificate{cert}
		return c, nil
	case *userAgent:
		next, err := withCert(t.next, cert)
		if err != nil {
			return nil, err
		}
		return &userAgent{next: next}, nil
	case *Tracer:
		next, err := withCert(t.Next, cert)
		if err != nil {
			return nil, err
		}
		return &Tracer{Next: next, Out: t.Out}, nil
	}
	return nil, ErrNoClientCertificate
}
