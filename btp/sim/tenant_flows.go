package sim

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cpikey/cpikey/btp/itrt"
)

// The runtime host: the iFlows of every simulated tenant, behind the
// checks the real runtime makes in this order: servlet prefix (Tomcat 404),
// credentials (401), CSRF (403 + X-CSRF-Token: Required), the sender
// adapter's user role (403), then the iFlow itself (200, or 500 with the
// MPL id), and a Tomcat 404 for an address nothing is deployed at.

const maxMessage = 10 << 20 // what the simulated runtime reads of a body

func (s *Server) serveRuntime(w http.ResponseWriter, r *http.Request) {
	if f := s.takeFault(RequestKey("rt", r), FaultHTTPStatus); f != nil {
		writeTenantFault(w, f)
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, itrt.PrefixHTTP) && !strings.HasPrefix(p, itrt.PrefixCXF) {
		writeTomcat404(w) // no servlet there, whoever asks
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxMessage+1))
	if err != nil {
		return
	}
	if len(body) > maxMessage {
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.authenticate(r, true)
	if c == nil {
		writeUnauthorized(w, "Cloud Integration runtime")
		return
	}
	switch p {
	case FlowEcho:
		if s.roleOK(w, c, SendRole) {
			s.echo(w, r, c, "demo/echo", body)
		}
	case FlowCSRF:
		if s.csrfOK(w, r) && s.roleOK(w, c, SendRole) {
			s.echo(w, r, c, "demo/csrf", body)
		}
	case FlowOrders:
		if s.roleOK(w, c, OrdersRole) {
			s.echo(w, r, c, "demo/orders", body)
		}
	case FlowFail:
		if s.roleOK(w, c, SendRole) {
			s.fail(w, c)
		}
	case FlowSOAP:
		if s.roleOK(w, c, SendRole) {
			s.soap(w, r, c, body)
		}
	default:
		writeTomcat404(w)
	}
}

// roleOK answers 403 unless the caller has the sender adapter's user role.
func (s *Server) roleOK(w http.ResponseWriter, c *caller, role string) bool {
	if c.has(role) {
		return true
	}
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, "Forbidden")
	return false
}

// csrfOK handles a CSRF-protected sender: "X-CSRF-Token: Fetch" gets a
// token bound to a new session cookie; a modifying request needs both.
func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request) bool {
	if strings.EqualFold(r.Header.Get(itrt.CSRFHeader), itrt.CSRFFetch) {
		sid := strings.ToUpper(hex.EncodeToString(randBytes(s.rnd, 16)))
		tok := hex.EncodeToString(randBytes(s.rnd, 16))
		s.tenant.csrf[sid] = tok
		s.issued = append(s.issued, sid, tok) // a session id is a secret
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: sid, Path: "/", HttpOnly: true})
		w.Header().Set(itrt.CSRFHeader, tok)
		w.WriteHeader(http.StatusOK)
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		if want, ok := s.tenant.csrf[ck.Value]; ok && want == r.Header.Get(itrt.CSRFHeader) {
			return true
		}
	}
	w.Header().Set(itrt.CSRFHeader, itrt.CSRFRequired)
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprint(w, "Forbidden")
	return false
}

// echo is an iFlow that answers with what it got.
func (s *Server) echo(w http.ResponseWriter, r *http.Request, c *caller, flow string, body []byte) {
	id := s.newMPLLocked(c, flow, "COMPLETED", "")
	w.Header().Set(itrt.MPLHeader, id)
	if len(body) == 0 {
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		fmt.Fprintf(w, "%s received a %s without a body; send one with -d to see it echoed.\n", flow, r.Method)
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Write(body) //nolint:errcheck
}

// fail is an iFlow whose mapping step throws: 500 with the MPL id in the
// header and in the body, as the runtime words it.
func (s *Server) fail(w http.ResponseWriter, c *caller) {
	const why = "com.sap.it.rt.adapter.http.api.exception.HttpResponseException: the mapping step of demo/fail failed (simulated)"
	id := s.newMPLLocked(c, "demo/fail", "FAILED", why)
	w.Header().Set(itrt.MPLHeader, id)
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, "An internal server error occured: %s.\nThe MPL ID for the failed message is : %s\nFor more details please check tail log.\n", why, id)
}

// soap is a SOAP sender (CXF): POST an envelope; GET ?wsdl for the WSDL.
func (s *Server) soap(w http.ResponseWriter, r *http.Request, c *caller, body []byte) {
	switch {
	case r.Method == http.MethodGet && strings.EqualFold(r.URL.RawQuery, "wsdl"):
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><wsdl:definitions name="DemoOrders" targetNamespace="urn:cpikey:demo" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"/>`)
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	case !bytes.Contains(body, []byte("Envelope")):
		// CXF refuses a body that is no SOAP message before any iFlow runs:
		// a fault, and no message processing log.
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Message part was not recognized. (Does it exist in service WSDL?)</faultstring></soap:Fault></soap:Body></soap:Envelope>`)
		return
	}
	id := s.newMPLLocked(c, "demo/orders (SOAP)", "COMPLETED", "")
	w.Header().Set(itrt.MPLHeader, id)
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	fmt.Fprintf(w, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><OrderResponse xmlns="urn:cpikey:demo"><status>received</status><bytes>%d</bytes></OrderResponse></soap:Body></soap:Envelope>`, len(body))
}
