package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The BTP CLI server (btp-cli-server.md). Two status layers: the HTTP status
// is the CLI server's own verdict, X-Cpcli-Backend-Status the backend's.
// Handlers for the commands live in cliserver_accounts.go and
// cliserver_services.go; this file holds routing, login, SSO, sessions and
// the response plumbing they share.

// Server messages copied from the fixtures (§1.3, §3.4).
const (
	cliMsgTimeout      = "A timeout was reached while preparing the command execution. The command execution request was not sent to the backend."
	cliMsgNotAuthz     = "You are not authorized to use this command."
	cliMsgBackendError = "Unexpected response code returned by backend service while executing command."
	cliMediaCIS        = "application/json;charset=UTF-8"
	cliMediaSM         = "application/json"
	// cliMediaCISError: CIS error bodies come without the charset (as
	// recorded for 400 and 404).
	cliMediaCISError = "application/json"
	// cliSSOLongPoll is how long the waiting SSO POST blocks before 504.
	cliSSOLongPoll = 60 * time.Second
	// cliMinMinor is the oldest accepted protocol v2.<minor>.x: v2.97.0,
	// the version of SAP's Terraform provider v1.25.0, is evidenced as
	// accepted; older ones get 412.
	cliMinMinor = 97
)

var cliVersionRE = regexp.MustCompile(`^v2\.(\d+)\.(\d+)$`)

// cliResult is one CLI server answer.
type cliResult struct {
	status     int // HTTP status; 0 means 200
	serverMsg  string
	backend    int
	backendMsg string
	mediaType  string
	body       [][]byte // written in order (lets the listing stream the padding)
	retryAfter time.Duration
	sessionID  string // X-Cpcli-Sessionid of a successful login
}

// cliCall is one command execution; handlers run with s.mu held.
type cliCall struct {
	user *User
	sess *session
	p    map[string]string
	key  string // request key, for state faults
	now  time.Time
}

type cliHandler func(s *Server, c *cliCall) cliResult

// cliCommands maps "<group>/<object>?<action>" to its handler.
var cliCommands map[string]cliHandler

func init() {
	cliCommands = map[string]cliHandler{
		"accounts/global-account?get":        (*Server).cliGlobalAccountGet,
		"accounts/subaccount?list":           (*Server).cliSubaccountList,
		"accounts/subaccount?get":            (*Server).cliSubaccountGet,
		"accounts/entitlement?list":          (*Server).cliEntitlementList,
		"accounts/entitlement?assign":        (*Server).cliEntitlementAssign,
		"accounts/environment-instance?list": (*Server).cliEnvironmentList,
		"accounts/environment-instance?get":  (*Server).cliEnvironmentGet,
		"services/offering?list":             (*Server).cliOfferingList,
		"services/offering?get":              (*Server).cliOfferingGet,
		"services/plan?list":                 (*Server).cliPlanList,
		"services/plan?get":                  (*Server).cliPlanGet,
		"services/instance?create":           (*Server).cliInstanceCreate,
		"services/instance?get":              (*Server).cliInstanceGet,
		"services/instance?list":             (*Server).cliInstanceList,
		"services/instance?delete":           (*Server).cliInstanceDelete,
		"services/instance?update":           (*Server).cliInstanceUpdate,
		"services/binding?create":            (*Server).cliBindingCreate,
		"services/binding?get":               (*Server).cliBindingGet,
		"services/binding?list":              (*Server).cliBindingList,
		"services/binding?delete":            (*Server).cliBindingDelete,
		"accounts/subscription?list":         (*Server).cliSubscriptionList,
		"accounts/subscription?get":          (*Server).cliSubscriptionGet,
		"accounts/subaccount?subscribe":      (*Server).cliSubscribe,
		"security/role-collection?list":      (*Server).cliRoleCollectionList,
		"security/role-collection?get":       (*Server).cliRoleCollectionGet,
		"security/role-collection?assign":    (*Server).cliRoleCollectionAssign,
	}
}

// cliServerHandler serves the BTP CLI server protocol.
func (s *Server) cliServerHandler() http.Handler {
	return http.HandlerFunc(s.cliServe)
}

func (s *Server) cliServe(w http.ResponseWriter, r *http.Request) {
	key := RequestKey("cli", r)
	if f := s.takeFault(key, FaultSessionExpiry); f != nil {
		s.mu.Lock()
		s.sessions = map[string]*session{}
		s.mu.Unlock()
		s.cliWrite(w, cliResult{status: http.StatusUnauthorized})
		return
	}
	if f := s.takeFault(key, FaultHTTPStatus); f != nil {
		s.cliWrite(w, cliFaultStatus(f, r.URL.Path))
		return
	}

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	if m := cliVersionRE.FindStringSubmatch(parts[1]); m == nil {
		s.cliWrite(w, cliResult{status: http.StatusPreconditionFailed, serverMsg: "Unsupported client protocol version."})
		return
	} else if minor, _ := strconv.Atoi(m[1]); minor < cliMinMinor {
		s.cliWrite(w, cliResult{status: http.StatusPreconditionFailed, serverMsg: "The client version is outdated. Update the client."})
		return
	}

	switch {
	case parts[0] == "login" && len(parts) == 2 && r.Method == http.MethodPost:
		s.cliWrite(w, s.cliLogin(r))
	case parts[0] == "login" && len(parts) >= 3 && parts[2] == "browser":
		s.cliBrowser(w, r, parts[3:])
	case parts[0] == "logout" && len(parts) == 2 && r.Method == http.MethodPost:
		s.mu.Lock()
		delete(s.sessions, r.Header.Get("X-Cpcli-Sessionid"))
		s.mu.Unlock()
		s.cliWrite(w, cliResult{})
	case parts[0] == "command" && len(parts) == 4:
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		s.cliWrite(w, s.cliCommand(r, key, parts[2]+"/"+parts[3]+"?"+r.URL.RawQuery))
	default:
		http.NotFound(w, r)
	}
}

// cliFaultStatus renders a scripted HTTP-level failure.
func cliFaultStatus(f *Fault, path string) cliResult {
	res := cliResult{status: f.Status, retryAfter: f.RetryAfter}
	switch f.Status {
	case http.StatusGatewayTimeout:
		res.serverMsg = cliMsgTimeout
	case http.StatusTooManyRequests:
		msg := f.Message
		if msg == "" {
			msg = "Request rate limit exceeded"
		}
		res.body = [][]byte{cliJSON(map[string]any{"error": map[string]any{
			"code": 11006, "message": msg, "target": path,
			"details": []map[string]any{{"code": 11006, "message": "Too many requests from this user; retry later."}},
		}})}
		res.mediaType = cliMediaCIS
	}
	if f.Message != "" && f.Status != http.StatusTooManyRequests {
		res.serverMsg = f.Message
	}
	return res
}

// cliWrite writes res with the headers of §1.3.
func (s *Server) cliWrite(w http.ResponseWriter, res cliResult) {
	h := w.Header()
	n := 0
	for _, b := range res.body {
		n += len(b)
	}
	status := res.status
	if status == 0 {
		status = http.StatusOK
	}
	if res.sessionID != "" {
		h.Set("X-Cpcli-Sessionid", res.sessionID)
	}
	if res.serverMsg != "" {
		h.Set("X-Cpcli-Server-Message", s.sayHeader(res.serverMsg))
	}
	if res.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((res.retryAfter+time.Second-1)/time.Second)))
	}
	if status == http.StatusOK && res.backend != 0 {
		h.Set("X-Cpcli-Backend-Status", strconv.Itoa(res.backend))
		if res.backendMsg != "" {
			h.Set("X-Cpcli-Backend-Message", s.sayHeader(res.backendMsg))
		}
		if n > 0 {
			h.Set("X-Cpcli-Backend-Mediatype", res.mediaType)
		}
	}
	if n > 0 {
		if strings.HasPrefix(res.mediaType, "text/") {
			h.Set("Content-Type", res.mediaType)
		} else {
			h.Set("Content-Type", "application/json")
		}
	}
	h.Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(status)
	for _, b := range res.body {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
}

// cliJSON encodes v the way the CLI server does (no HTML escaping, no
// trailing newline).
func cliJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only our own values are encoded
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Result constructors.

func cliHTTP(status int, serverMsg string) cliResult {
	return cliResult{status: status, serverMsg: serverMsg}
}

func cliBody(backend int, media string, v any) cliResult {
	return cliResult{backend: backend, mediaType: media, body: [][]byte{cliJSON(v)}}
}

// cliCIS is a flattened CIS error: {"error":"<text> [Error: <code>/<status>]"}.
func cliCIS(backend, code int, text string) cliResult {
	return cliBody(backend, cliMediaCISError, map[string]string{"error": fmt.Sprintf("%s [Error: %d/%d]", text, code, backend)})
}

// cliSMError is a Service Manager error: {"error","description"}.
func cliSMError(backend int, name, desc string) cliResult {
	return cliBody(backend, cliMediaSM, map[string]string{"error": name, "description": desc})
}

func cliBadParams() cliResult { return cliHTTP(http.StatusBadRequest, "") }

func cliNoSubaccount(id string) cliResult {
	return cliHTTP(http.StatusForbidden, fmt.Sprintf("Subaccount '%s' does not exist and thus did not entitle you to execute the command.", id))
}

// cliRandomID returns an unguessable hex id (sessions, SSO logins).
func cliRandomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// --- login ------------------------------------------------------------------

type cliLoginBody struct {
	CustomIdP string `json:"customIdp"`
	Subdomain string `json:"subdomain"`
	UserName  string `json:"userName"`
	Password  string `json:"password"`
	JWT       string `json:"jwt"`
}

func (s *Server) cliLogin(r *http.Request) cliResult {
	var in cliLoginBody
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&in); err != nil {
		return cliHTTP(http.StatusBadRequest, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.EqualFold(in.Subdomain, s.world.GlobalAccountSubdomain) {
		return cliHTTP(http.StatusNotFound, "")
	}
	u := s.world.user(in.UserName)
	if u == nil || in.JWT != "" || u.Password == "" || u.Password != in.Password || !cliSameIdP(u.Origin, in.CustomIdP) {
		return cliHTTP(http.StatusUnauthorized, "")
	}
	return s.cliNewSessionLocked(u, in.CustomIdP)
}

// cliSameIdP: an empty customIdp means the SAP ID service.
func cliSameIdP(origin, customIdP string) bool {
	if customIdP == "" {
		customIdP = "sap.ids"
	}
	if origin == "" {
		origin = "sap.ids"
	}
	return strings.EqualFold(origin, customIdP)
}

func (s *Server) cliNewSessionLocked(u *User, idp string) cliResult {
	if !u.GAAdmin && !u.GAViewer {
		return cliHTTP(http.StatusForbidden, "")
	}
	id := cliRandomID(24)
	s.issued = append(s.issued, id)
	s.sessions[id] = &session{User: u.Email, Subdomain: s.world.GlobalAccountSubdomain, IdP: idp}
	issuer := "accounts.sap.com"
	if idp != "" {
		issuer = idp
	}
	// Only issuer and mail, as every recorded real login answers; SAP's own
	// unit-test fake adds "user", which a client must not rely on.
	return cliResult{sessionID: id, mediaType: cliMediaCIS,
		body: [][]byte{cliJSON(map[string]string{"issuer": issuer, "mail": u.Email})}}
}

// --- SSO ---------------------------------------------------------------------

func (s *Server) cliBrowser(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case r.Method == http.MethodGet && (len(rest) == 0 || (len(rest) == 2 && rest[0] == "idp")):
		idp := ""
		if len(rest) == 2 {
			idp = rest[1]
		}
		id := cliFormatGUID(cliRandomID(16))
		l := &ssoLogin{IdP: idp, done: make(chan struct{})}
		s.mu.Lock()
		s.sso[id] = l
		s.mu.Unlock()
		if !s.cfg.SSOManual {
			time.AfterFunc(s.cfg.SSODelay, func() { s.cliCompleteSSO(id) })
		}
		s.cliWrite(w, cliBody(0, cliMediaCIS, map[string]any{"loginId": id, "subdomainRequired": false}))
	case r.Method == http.MethodGet && (len(rest) == 1 || (len(rest) == 3 && rest[1] == "idp")):
		if !s.cliCompleteSSO(rest[0]) {
			http.Error(w, "This login link is unknown or has expired. Start the login again in the terminal.", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>SAP BTP CLI login</title></head><body><h1>You have successfully logged in.</h1><p>Return to the terminal to continue.</p></body></html>`)
	case r.Method == http.MethodPost && len(rest) == 1:
		s.cliWaitSSO(w, r, rest[0])
	default:
		http.NotFound(w, r)
	}
}

// cliCompleteSSO signs the pending login in as the admin user; false if the
// id is unknown.
func (s *Server) cliCompleteSSO(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.sso[id]
	if l == nil {
		return false
	}
	if l.user == "" {
		l.user = AdminUser
		close(l.done)
	}
	return true
}

func (s *Server) cliWaitSSO(w http.ResponseWriter, r *http.Request, id string) {
	var in struct {
		CustomIdP string `json:"customIdp"`
		Subdomain string `json:"subdomain"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&in); err != nil {
		s.cliWrite(w, cliHTTP(http.StatusBadRequest, ""))
		return
	}
	s.mu.Lock()
	l := s.sso[id]
	s.mu.Unlock()
	if l == nil {
		s.cliWrite(w, cliHTTP(http.StatusUnauthorized, ""))
		return
	}
	t := time.NewTimer(cliSSOLongPoll)
	defer t.Stop()
	select {
	case <-l.done:
	case <-t.C:
		s.cliWrite(w, cliHTTP(http.StatusGatewayTimeout, cliMsgTimeout))
		return
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.EqualFold(in.Subdomain, s.world.GlobalAccountSubdomain) {
		s.cliWrite(w, cliHTTP(http.StatusNotFound, ""))
		return
	}
	u := s.world.user(l.user)
	if u == nil {
		s.cliWrite(w, cliHTTP(http.StatusUnauthorized, ""))
		return
	}
	delete(s.sso, id)
	s.cliWrite(w, s.cliNewSessionLocked(u, l.IdP))
}

func cliFormatGUID(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// --- commands ---------------------------------------------------------------

func (s *Server) cliCommand(r *http.Request, key, cmd string) cliResult {
	if !strings.EqualFold(r.Header.Get("X-Cpcli-Format"), "json") {
		return cliHTTP(http.StatusBadRequest, "Only the JSON format is supported by this server (X-Cpcli-Format: json).")
	}
	sid := r.Header.Get("X-Cpcli-Sessionid")
	s.mu.Lock()
	sess := s.sessions[sid]
	s.mu.Unlock()
	if sid == "" || sess == nil {
		return cliHTTP(http.StatusUnauthorized, "")
	}
	if sub := r.Header.Get("X-Cpcli-Subdomain"); sub == "" || !strings.EqualFold(sub, sess.Subdomain) {
		return cliHTTP(http.StatusUnauthorized, "")
	}
	p, ok := cliParams(r)
	if !ok {
		return cliBadParams()
	}
	h := cliCommands[cmd]
	if h == nil {
		return cliHTTP(http.StatusBadRequest, fmt.Sprintf("Unknown command '%s'.", cmd))
	}
	if f := s.takeFault(key, FaultBackend429); f != nil {
		res := cliBody(http.StatusTooManyRequests, cliMediaCIS, map[string]string{"error": "Request rate limit exceeded [Error: 11006/429]"})
		res.retryAfter = f.RetryAfter
		return res
	}
	if f := s.takeFault(key, FaultEntitlementLock); f != nil {
		msg := f.Message
		if msg == "" {
			msg = "Cannot update the entitlement: another entitlement operation is still running for this service plan. Try again later."
		}
		return cliCIS(http.StatusBadRequest, 30004, msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.world.user(sess.User)
	if u == nil {
		return cliHTTP(http.StatusUnauthorized, "")
	}
	return h(s, &cliCall{user: u, sess: sess, p: p, key: key, now: s.now()})
}

// cliParams decodes {"paramValues":{...}}; values are strings, JSON booleans
// and numbers are tolerated and rendered as strings.
func cliParams(r *http.Request) (map[string]string, bool) {
	var in struct {
		ParamValues map[string]any `json:"paramValues"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return nil, false
	}
	out := make(map[string]string, len(in.ParamValues))
	for k, v := range in.ParamValues {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case json.Number:
			out[k] = v.String()
		case nil:
			out[k] = ""
		default:
			return nil, false
		}
	}
	return out, true
}

// need reports whether every named parameter is present and non-empty.
func (c *cliCall) need(names ...string) bool {
	for _, n := range names {
		if strings.TrimSpace(c.p[n]) == "" {
			return false
		}
	}
	return true
}

// cliSubaccountParam resolves the "subaccount" parameter: HTTP 400 when it
// is missing, HTTP 403 (the CLI server's pre-check) when unknown.
func (s *Server) cliSubaccountParam(c *cliCall) (*Subaccount, *cliResult) {
	id := c.p["subaccount"]
	if strings.TrimSpace(id) == "" {
		r := cliBadParams()
		return nil, &r
	}
	sa := s.world.subaccount(id)
	if sa == nil {
		r := cliNoSubaccount(id)
		return nil, &r
	}
	return sa, nil
}
