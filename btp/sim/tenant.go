package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// The Cloud Integration tenant behind it-rt keys (it-rt.md §5.2-§5.4). The
// url of an integration-flow key is the runtime host ("-rt"), which serves
// the deployed iFlows under /http and /cxf; the url of an api key is the
// management host, which serves the OData API under /api/v1. Real keys
// point at https hosts on hana.ondemand.com; the simulator's keys point at
// two loopback listeners instead, as their tokenurl already does, so every
// client reaches them without a name resolver or a certificate authority.
// Which tenant a request belongs to follows from its credentials.

// The iFlows deployed on every simulated tenant.
const (
	// FlowEcho answers with the request body (HTTPS sender, ESBMessaging.send).
	FlowEcho = "/http/demo/echo"
	// FlowCSRF is the echo behind a CSRF-protected HTTPS sender.
	FlowCSRF = "/http/demo/csrf"
	// FlowOrders needs the custom role OrdersRole, not ESBMessaging.send.
	FlowOrders = "/http/demo/orders"
	// FlowFail runs and fails: 500 with the MPL id.
	FlowFail = "/http/demo/fail"
	// FlowSOAP is a SOAP sender: POST an envelope, GET ?wsdl.
	FlowSOAP = "/cxf/demo/orders"

	// SendRole is the default user role of sender adapters.
	SendRole = "ESBMessaging.send"
	// OrdersRole is the custom user role of FlowOrders.
	OrdersRole = "Orders.send"
)

// tenantState is what the tenant keeps in memory: CSRF sessions and the
// message processing logs of the messages it ran (per subaccount).
type tenantState struct {
	rt, api *listener
	csrf    map[string]string      // session cookie -> CSRF token
	mpls    map[string][]*mplEntry // subaccount GUID -> logs, oldest first
}

// mplEntry is one message processing log.
type mplEntry struct {
	ID, Flow, Status, Error string
	Start, End              time.Time
}

const maxMPLs = 200 // per subaccount; the oldest go first

// startTenant serves the runtime and management hosts.
func (s *Server) startTenant() error {
	s.tenant = &tenantState{csrf: map[string]string{}, mpls: map[string][]*mplEntry{}}
	var err error
	if s.tenant.rt, err = serve("Cloud Integration runtime", s.cfg.RuntimeAddr, s.wrap("rt", http.HandlerFunc(s.serveRuntime))); err != nil {
		return err
	}
	s.tenant.api, err = serve("Cloud Integration API", s.cfg.TenantAPIAddr, s.wrap("api", http.HandlerFunc(s.serveTenantAPI)))
	return err
}

func (s *Server) closeTenant() {
	if s.tenant == nil {
		return
	}
	for _, l := range []*listener{s.tenant.rt, s.tenant.api} {
		if l != nil {
			l.srv.Close()
		}
	}
}

// RuntimeURL is the url of integration-flow keys: the runtime host.
func (s *Server) RuntimeURL() string { return s.tenant.rt.url }

// TenantAPIURL is the url of api keys: the management host (OData /api/v1).
func (s *Server) TenantAPIURL() string { return s.tenant.api.url }

// keyCredentials is the broker's credentials object with the url of the
// key's plan. Callers hold s.mu.
func (s *Server) keyCredentials(k *Key, inst *Instance, sa *Subaccount) map[string]any {
	c := s.world.credentials(k, inst, sa, s.TokenBaseURL())
	u := s.RuntimeURL()
	if inst.Plan == itrt.PlanAPI {
		u = s.TenantAPIURL()
	}
	c["oauth"].(map[string]any)["url"] = u
	return c
}

// caller is who a tenant request authenticated as.
type caller struct {
	clientID   string
	subaccount string   // GUID
	roles      []string // role names, e.g. ESBMessaging.send
	basic      bool
}

func (c *caller) has(role string) bool { return contains(c.roles, role) }

// authenticate reads the Authorization header: a bearer token the XSUAA
// endpoint issued (signature, issuer, expiry), or, where allowBasic, the
// clientid and secret of an integration-flow key. Callers hold s.mu.
// A nil caller means 401.
func (s *Server) authenticate(r *http.Request, allowBasic bool) *caller {
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		return s.bearerCaller(strings.TrimSpace(cred))
	case "basic":
		if !allowBasic {
			return nil
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			return nil
		}
		return s.basicCaller(id, secret)
	}
	return nil
}

func (s *Server) bearerCaller(tok string) *caller {
	claims, ok := verifyJWT(s.world.SecretSeed, tok)
	if !ok {
		return nil
	}
	iss, _ := claims["iss"].(string)
	ext, _ := claims["ext_attr"].(map[string]any)
	// Only XSUAA tokens of it-rt clients: a CF token is signed alike but
	// is not meant for the tenant.
	if !strings.HasSuffix(iss, "/oauth/token") || ext == nil || ext["enhancer"] != "XSUAA" {
		return nil
	}
	exp, _ := claims["exp"].(float64)
	if !s.now().Before(time.Unix(int64(exp), 0)) {
		return nil
	}
	c := &caller{}
	c.clientID, _ = claims["client_id"].(string)
	c.subaccount, _ = ext["subaccountid"].(string)
	scopes, _ := claims["scope"].([]any)
	for _, sc := range scopes {
		if str, ok := sc.(string); ok {
			if role := itrt.RoleOfScope(str); role != "" {
				c.roles = append(c.roles, role)
			}
		}
	}
	return c
}

// basicCaller accepts the clientid and secret of a live ClientId/Secret
// key of plan integration-flow (§5.2: Basic works on iFlow endpoints).
func (s *Server) basicCaller(id, secret string) *caller {
	now := s.now()
	for _, k := range s.world.Keys {
		if k.Deleted || k.ClientID != id || k.KeyType != "client_id_secret" {
			continue
		}
		inst := s.world.instance(k.Instance)
		if inst == nil || inst.Plan != itrt.PlanIntegrationFlow || (k.Op.Type == "create" && (now.Before(k.Op.ReadyAt) || k.Op.Fail != "")) {
			return nil
		}
		if subtle.ConstantTimeCompare([]byte(secret), []byte(s.world.clientSecret(k.GUID))) != 1 {
			return nil
		}
		sa := s.world.subaccount(inst.Subaccount)
		if sa == nil {
			return nil
		}
		c := &caller{clientID: id, subaccount: sa.GUID, basic: true}
		for _, sc := range scopesFor(inst, sa.Subdomain, now) {
			if role := itrt.RoleOfScope(sc); role != "" {
				c.roles = append(c.roles, role)
			}
		}
		return c
	}
	return nil
}

// verifyJWT checks a token signed by signJWT and returns its claims.
func verifyJWT(seed, tok string) (map[string]any, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, false
	}
	m := hmac.New(sha256.New, []byte("sim-jwt:"+seed))
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return nil, false
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var claims map[string]any
	if json.Unmarshal(body, &claims) != nil {
		return nil, false
	}
	return claims, true
}

// writeUnauthorized is the runtime's 401: no body worth reading.
func writeUnauthorized(w http.ResponseWriter, realm string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprint(w, "Unauthorized")
}

// writeTomcat404 is the servlet container's page for a path nothing is
// deployed at: HTML, and no message processing log (§5.4).
func writeTomcat404(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html;charset=utf-8")
	w.Header().Set("Content-Language", "en")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head>`+
		`<body><h1>HTTP Status 404 – Not Found</h1><hr class="line" /><p><b>Type</b> Status Report</p>`+
		`<p><b>Description</b> The origin server did not find a current representation for the target resource or is not willing to disclose that one exists.</p>`+
		`<hr class="line" /><h3>Apache Tomcat</h3></body></html>`)
}

// writeTenantFault answers a scripted FaultHTTPStatus the way the CF router
// in front of the tenant does.
func writeTenantFault(w http.ResponseWriter, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("%d %s", status, http.StatusText(status))
	}
	fmt.Fprintln(w, msg)
}

// newMPLLocked records a message processing log and returns its id, shaped
// like SAP's (28 characters of base64url, starting "AG").
func (s *Server) newMPLLocked(c *caller, flow, status, errText string) string {
	id := "AG" + base64.RawURLEncoding.EncodeToString(randBytes(s.rnd, 19))[:26]
	now := s.now()
	e := &mplEntry{ID: id, Flow: flow, Status: status, Error: errText, Start: now, End: now}
	l := append(s.tenant.mpls[c.subaccount], e)
	if len(l) > maxMPLs {
		l = l[len(l)-maxMPLs:]
	}
	s.tenant.mpls[c.subaccount] = l
	return id
}
