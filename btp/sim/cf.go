package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cloud Foundry v3 + UAA on one listener (cloud-foundry.md §11): the root
// document points login and uaa at this server itself.

// ccReq is one authenticated Cloud Controller request. Handlers run with
// s.mu held.
type ccReq struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	u    *User
	base string // absolute base URL as the client addressed us
	key  string // RequestKey, for state faults
	now  time.Time
}

// cfHandler serves Cloud Foundry v3 + UAA.
func (s *Server) cfHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := RequestKey("cf", r)
		isUAA := strings.HasPrefix(key, "uaa:")
		if !isUAA {
			s.rateLimitHeaders(w)
		}
		if f := s.takeFault(key, FaultCF429, FaultHTTPStatus); f != nil {
			if isUAA {
				s.writeUAAFault(w, f)
			} else {
				s.writeCCFault(w, f)
			}
			return
		}
		base := "http://" + r.Host
		switch {
		case r.URL.Path == "/" || r.URL.Path == "":
			if r.Method != http.MethodGet {
				s.writeCCError(w, http.StatusNotFound, 10000, "CF-NotFound", "Unknown request")
				return
			}
			// The global root comes from another Rails app than /v3: no
			// space before charset (§1.1).
			writeJSONAs(w, http.StatusOK, "application/json;charset=utf-8", rootDocument(base))
		case isUAA:
			s.serveUAA(w, r, base)
		case r.URL.Path == "/v3" || strings.HasPrefix(r.URL.Path, "/v3/"):
			s.serveCC(w, r, key, base)
		default:
			// /v2/info and everything else: v2 is not simulated.
			s.writeCCError(w, http.StatusNotFound, 10000, "CF-NotFound", "Unknown request")
		}
	})
}

// rateLimitHeaders adds the X-RateLimit-* and X-Vcap-Request-Id headers every
// CC response carries (§10, §3.2).
func (s *Server) rateLimitHeaders(w http.ResponseWriter) {
	s.mu.Lock()
	n := len(s.requests)
	id := guid(s.reqRnd) + "::" + guid(s.reqRnd)
	s.mu.Unlock()
	remaining := 18000 - n
	if remaining < 0 {
		remaining = 0
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", "20000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Hour).Truncate(time.Hour).Unix(), 10))
	h.Set("X-Vcap-Request-Id", id)
}

// rootDocument is GET / (§1.1) with absolute hrefs built from base.
func rootDocument(base string) map[string]any {
	link := func(p string) map[string]any { return map[string]any{"href": base + p} }
	return map[string]any{"links": map[string]any{
		"self":                link(""),
		"cloud_controller_v2": map[string]any{"href": base + "/v2", "meta": map[string]any{"version": "2.253.0"}},
		"cloud_controller_v3": map[string]any{"href": base + "/v3", "meta": map[string]any{"version": "3.188.0"}},
		"network_policy_v0":   link("/networking/v0/external"),
		"network_policy_v1":   link("/networking/v1/external"),
		"login":               link(""),
		"uaa":                 link(""),
		"credhub":             nil,
		"routing":             nil,
		"logging":             map[string]any{"href": "wss://doppler.cf.sim.invalid:443"},
		"log_cache":           map[string]any{"href": "https://log-cache.cf.sim.invalid"},
		"log_stream":          map[string]any{"href": "https://log-stream.cf.sim.invalid"},
		"app_ssh": map[string]any{"href": "ssh.cf.sim.invalid:2222",
			"meta": map[string]any{"host_key_fingerprint": "SIMULATEDFINGERPRINTxxxxxxxxxxxxxxxxxxxxxx", "oauth_client": "ssh-proxy"}},
	}}
}

// serveCC authenticates and routes a /v3 request.
func (s *Server) serveCC(w http.ResponseWriter, r *http.Request, key, base string) {
	if f := s.takeFault(key, FaultTokenExpiry); f != nil {
		s.mu.Lock()
		s.tokens = map[string]*cfToken{}
		s.mu.Unlock()
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		s.writeCCError(w, http.StatusUnauthorized, 10002, "CF-NotAuthenticated", "Authentication error")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var u *User
	if scheme, tok, ok := strings.Cut(authz, " "); ok && strings.EqualFold(scheme, "bearer") {
		if t := s.tokens[strings.TrimSpace(tok)]; t != nil {
			if now.Before(t.Expires) {
				u = s.world.user(t.User)
			} else {
				delete(s.tokens, strings.TrimSpace(tok))
			}
		}
	}
	if u == nil {
		s.writeCCError(w, http.StatusUnauthorized, 1000, "CF-InvalidAuthToken", "Invalid Auth Token")
		return
	}
	c := &ccReq{s: s, w: w, r: r, u: u, base: base, key: key, now: now}
	if s.sweepLocked(now) {
		s.saveLocked()
	}
	c.route()
}

// ccGets are the GET routes: the collection, then ":id" for a GUID or name
// segment, then fixed segments.
var ccGets = map[string]func(c *ccReq, id string){
	"organizations":                     func(c *ccReq, _ string) { c.listOrgs() },
	"organizations/:id":                 (*ccReq).getOrg,
	"organizations/:id/domains":         (*ccReq).listDomains,
	"organizations/:id/domains/default": (*ccReq).defaultDomain,
	"organization_quotas":               func(c *ccReq, _ string) { c.listOrgQuotas() },
	"organization_quotas/:id":           (*ccReq).getOrgQuota,
	"domains":                           func(c *ccReq, _ string) { c.listDomains("") },
	"domains/:id":                       (*ccReq).getDomain,
	"domains/:id/route_reservations":    (*ccReq).routeReservations,
	"spaces":                            func(c *ccReq, _ string) { c.listSpaces() },
	"spaces/:id":                        (*ccReq).getSpace,
	"spaces/:id/features":               (*ccReq).spaceFeatures,
	"service_brokers":                   func(c *ccReq, _ string) { c.listBrokers() },
	"service_brokers/:id":               (*ccReq).getBroker,
	"service_offerings":                 func(c *ccReq, _ string) { c.listOfferings() },
	"service_offerings/:id":             (*ccReq).getOffering,
	"service_plans":                     func(c *ccReq, _ string) { c.listPlans() },
	"service_plans/:id":                 (*ccReq).getPlan,
	"service_plans/:id/visibility":      (*ccReq).planVisibility,
	"service_instances":                 func(c *ccReq, _ string) { c.listInstances() },
	"service_instances/:id":             (*ccReq).getInstance,
	"service_instances/:id/parameters":  (*ccReq).instanceParameters,
	"service_instances/:id/permissions": (*ccReq).instancePermissions,
	"service_instances/:id/relationships/shared_spaces":               (*ccReq).sharedSpaces,
	"service_instances/:id/relationships/shared_spaces/usage_summary": (*ccReq).sharedSpacesUsage,
	"service_credential_bindings":                                     func(c *ccReq, _ string) { c.listKeys() },
	"service_credential_bindings/:id":                                 (*ccReq).getKey,
	"service_credential_bindings/:id/details":                         (*ccReq).keyDetails,
	"service_credential_bindings/:id/parameters":                      (*ccReq).keyParameters,
	"service_route_bindings":                                          func(c *ccReq, _ string) { c.listRouteBindings() },
	"jobs/:id":                                                        (*ccReq).getJob,
	"feature_flags/:id":                                               (*ccReq).getFeatureFlag,
}

// route dispatches on method and path; s.mu is held.
func (c *ccReq) route() {
	parts := strings.Split(strings.Trim(c.r.URL.Path, "/"), "/")
	if c.terraformRead(parts) {
		return
	}
	m := c.r.Method
	if len(parts) == 1 { // /v3
		if m == http.MethodGet {
			c.v3Root()
			return
		}
		c.unknown()
		return
	}
	coll := parts[1]
	rest := parts[2:]
	id := ""
	if len(rest) > 0 {
		id = rest[0]
	}
	switch {
	case m == http.MethodGet && coll == "spaces" && len(rest) == 3 && rest[1] == "features":
		c.spaceFeature(id, rest[2])
	case m == http.MethodGet:
		shape := coll
		if len(rest) > 0 {
			shape = strings.Join(append([]string{coll, ":id"}, rest[1:]...), "/")
		}
		if h := ccGets[shape]; h != nil {
			h(c, id)
			return
		}
		c.unknown()
	case m == http.MethodPost && len(rest) == 0 && coll == "service_instances":
		c.createInstance()
	case m == http.MethodPost && len(rest) == 0 && coll == "service_credential_bindings":
		c.createKey()
	case m == http.MethodPatch && len(rest) == 1 && coll == "service_instances":
		c.updateInstance(rest[0])
	case m == http.MethodDelete && len(rest) == 1 && coll == "service_instances":
		c.deleteInstance(id)
	case m == http.MethodDelete && len(rest) == 1 && coll == "service_credential_bindings":
		c.deleteKey(id)
	default:
		c.unknown()
	}
}

// v3Root lists the resource families the simulator serves (the real /v3
// lists more: apps, routes, ...). Each link answers a list.
func (c *ccReq) v3Root() {
	links := map[string]any{"self": map[string]any{"href": c.base + "/v3"}}
	for _, n := range []string{"domains", "organizations", "organization_quotas", "service_brokers", "service_credential_bindings",
		"service_instances", "service_offerings", "service_plans", "service_route_bindings", "spaces"} {
		links[n] = map[string]any{"href": c.base + "/v3/" + n}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"links": links})
}

// getFeatureFlag serves the one flag the cf CLI asks for (§14).
func (c *ccReq) getFeatureFlag(name string) {
	if name != "service_instance_sharing" {
		c.notFound("Feature flag not found")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"name": name, "enabled": false, "updated_at": nil,
		"custom_error_message": nil, "links": map[string]any{"self": map[string]any{"href": c.base + "/v3/feature_flags/" + name}}})
}

// --- responses ---------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, status, "application/json; charset=utf-8", v)
}

func writeJSONAs(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck
}

func ccErrorBody(code int, title, detail string) map[string]any {
	return map[string]any{"errors": []map[string]any{{"detail": detail, "title": title, "code": code}}}
}

func (s *Server) writeCCError(w http.ResponseWriter, status, code int, title, detail string) {
	writeJSON(w, status, ccErrorBody(code, title, s.say(detail)))
}

// writeCCFault answers a scripted CC fault.
func (s *Server) writeCCFault(w http.ResponseWriter, f *Fault) {
	if f.Kind == FaultCF429 {
		// The real quirk: JSON body, text/plain content type (§10).
		b, _ := json.Marshal(ccErrorBody(10013, "CF-RateLimitExceeded", s.say("Rate Limit Exceeded")))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(b) //nolint:errcheck
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusBadGateway
	}
	code, title, detail := 10001, "UnknownError", "An unknown error occurred."
	switch status {
	case http.StatusBadGateway:
		code, title, detail = 10001, "CF-ServiceBrokerBadResponse", "The service broker returned an invalid response. Status Code: 500 Internal Server Error, Body: {}"
	case http.StatusServiceUnavailable:
		code, title, detail = 10015, "CF-ServiceUnavailable", "Service unavailable"
	case http.StatusGatewayTimeout:
		code, title, detail = 10001, "CF-ServiceBrokerApiTimeout", "The request to the service broker timed out"
	case http.StatusUnauthorized:
		code, title, detail = 1000, "CF-InvalidAuthToken", "Invalid Auth Token"
	case http.StatusForbidden:
		code, title, detail = 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action"
	case http.StatusNotFound:
		code, title, detail = 10000, "CF-NotFound", "Unknown request"
	case http.StatusTooManyRequests:
		code, title, detail = 10013, "CF-RateLimitExceeded", "Rate Limit Exceeded"
	}
	if f.Message != "" {
		detail = f.Message
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
	}
	s.writeCCError(w, status, code, title, detail)
}

// retryAfterSeconds renders d as whole seconds, rounding up; 0 means 1.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		return "1"
	}
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

func (c *ccReq) fail(status, code int, title, detail string) {
	c.s.writeCCError(c.w, status, code, title, detail)
}

func (c *ccReq) notFound(detail string) {
	c.fail(http.StatusNotFound, 10010, "CF-ResourceNotFound", detail)
}

func (c *ccReq) unprocessable(detail string) {
	c.fail(http.StatusUnprocessableEntity, 10008, "CF-UnprocessableEntity", detail)
}

func (c *ccReq) notAuthorized() {
	c.fail(http.StatusForbidden, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action")
}

func (c *ccReq) badQuery(detail string) {
	c.fail(http.StatusBadRequest, 10005, "CF-BadQueryParameter", "The query parameter is invalid: "+detail)
}

func (c *ccReq) unknown() {
	c.fail(http.StatusNotFound, 10000, "CF-NotFound", "Unknown request")
}

// accepted answers 202 with an empty text/html body and the job's Location,
// like Rails' head :accepted (§6.3).
func (c *ccReq) accepted(job *Job) {
	h := c.w.Header()
	h.Set("Location", c.base+"/v3/jobs/"+job.GUID)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "0")
	c.w.WriteHeader(http.StatusAccepted)
}

// ts renders a CC timestamp.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func href(base, p string) map[string]any { return map[string]any{"href": base + p} }

func rel(g string) map[string]any {
	if g == "" {
		return map[string]any{"data": nil}
	}
	return map[string]any{"data": map[string]any{"guid": g}}
}

func emptyMetadata() map[string]any {
	return map[string]any{"labels": map[string]any{}, "annotations": map[string]any{}}
}

// stableGUID derives a GUID for fixed catalogue objects (offering, plans,
// quota, broker) from the world seed, so they survive restarts.
func (w *World) stableGUID(label string) string {
	s := w.clientSecret("stable:" + label) // hmac of the seed; only its uuid part
	u, _, _ := strings.Cut(s, "$")
	b := []byte(u)
	b[14] = '4'
	return string(b)
}

// fmtState helps error texts.
func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("'%s'", x)
	}
	return strings.Join(q, ", ")
}
