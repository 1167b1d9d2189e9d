package sim

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// The certificate token host (`<subdomain>.authentication.cert.<region>…`,
// docs/protocol/it-rt.md §4.3): the XSUAA token endpoint of certificate keys. It speaks
// TLS only and requires a client certificate that chains to the
// simulator's root or to the simulated customer CA; the certificate, not a
// secret, authenticates the client named by client_id.

// startCertAuthLocked serves the certificate token host on loopback.
func (s *Server) startCertAuthLocked() error {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{s.pki.serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    s.pki.clientCAs,
		MinVersion:   tls.VersionTLS12,
		Time:         s.cfg.Now,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.wrap("certauth", s.certAuthHandler()),
		ReadHeaderTimeout: 10 * time.Second,
		// A refused handshake is the expected outcome of some tests and of
		// a wrong certificate in the demo; net/http would log it to stderr,
		// across the wizard's screen.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go srv.Serve(tls.NewListener(ln, cfg)) //nolint:errcheck // ends with Close
	s.certAuth = &listener{ln: ln, srv: srv, url: "https://" + ln.Addr().String()}
	return nil
}

// CertTokenURL is the base URL of the certificate token host (https, on
// loopback; its TLS certificate chains to CACertPEM).
func (s *Server) CertTokenURL() string { return s.certAuth.url }

func (s *Server) certAuthHandler() http.Handler { return s.tokenHostHandler("certauth", s.certToken) }

// certToken is the client-credentials grant of a certificate key: the
// client names itself with client_id (form body) and proves it with the
// certificate of the TLS handshake.
func (s *Server) certToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeUAAError(w, http.StatusBadRequest, "invalid_request", "Malformed form body")
		return
	}
	badClient := func(desc string) {
		s.writeUAAError(w, http.StatusUnauthorized, "invalid_client", desc)
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		badClient("Client certificate required")
		return
	}
	presented := r.TLS.PeerCertificates[0]
	id := r.PostForm.Get("client_id")
	if id == "" {
		id, _, _ = r.BasicAuth()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.sweepLocked(now) {
		s.saveLocked()
	}
	var k *Key
	for _, c := range s.world.Keys {
		if !c.Deleted && c.ClientID == id && c.KeyType != keyTypeSecret {
			k = c
		}
	}
	var inst *Instance
	if k != nil {
		inst = s.world.instance(k.Instance)
	}
	if k == nil || inst == nil || !keyHoldsLocked(k, now) || (k.Op.Type == "create" && (now.Before(k.Op.ReadyAt) || k.Op.Fail != "")) ||
		(k.Op.Type == "delete" && !now.Before(k.Op.ReadyAt)) {
		badClient("Bad credentials")
		return
	}
	m := s.keyMaterialLocked(k, inst, s.world.subaccount(inst.Subaccount))
	if m == nil || !s.acceptCertLocked(m, presented) {
		badClient("Bad credentials")
		return
	}
	if !s.clientCredentialsGrantLocked(w, r, inst, now, badClient) {
		return
	}
	s.writeClientTokenLocked(w, inst, id, s.CertTokenURL()+"/oauth/token", now)
}

// acceptCertLocked compares the presented certificate with the key's. A
// pinned (or SAP-generated) certificate must be the very one. Without
// pinning only subject and issuer are compared, and a renewed certificate
// (issued later) is accepted and replaces the older one, which stops
// working (docs/protocol/it-rt.md §3).
func (s *Server) acceptCertLocked(m *KeyMaterial, presented *x509.Certificate) bool {
	registered, err := leafOf(m.ChainPEM)
	if err != nil {
		return false
	}
	if bytes.Equal(registered.Raw, presented.Raw) {
		return true
	}
	if m.Sealed != nil || m.Pinning {
		return false
	}
	if !bytes.Equal(registered.RawSubject, presented.RawSubject) || !bytes.Equal(registered.RawIssuer, presented.RawIssuer) ||
		!presented.NotBefore.After(registered.NotBefore) {
		return false
	}
	m.ChainPEM = pemBlock("CERTIFICATE", presented.Raw)
	s.saveLocked()
	return true
}
