package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

// UAA of the CF landscape (cloud-foundry.md §2): /login prompts, the
// browser passcode page and /oauth/token for client "cf" with an empty secret.

var cfScopes = []string{"openid", "uaa.user", "cloud_controller.read", "password.write", "cloud_controller.write"}

func (s *Server) serveUAA(w http.ResponseWriter, r *http.Request, base string) {
	switch {
	case r.URL.Path == "/login" && r.Method == http.MethodGet:
		s.uaaLogin(w, r, base)
	case r.URL.Path == "/passcode" && r.Method == http.MethodGet:
		s.uaaPasscodePage(w, r)
	case r.URL.Path == "/oauth/token" && r.Method == http.MethodPost:
		s.uaaToken(w, r)
	case r.URL.Path == "/oauth/token":
		s.writeUAAError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("Request method '%s' not supported", r.Method))
	default:
		s.writeUAAError(w, http.StatusNotFound, "not_found", "Not Found")
	}
}

// uaaLogin serves the prompts; JSON only with Accept: application/json (§2.2).
func (s *Server) uaaLogin(w http.ResponseWriter, r *http.Request, base string) {
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>Log in</title></head><body><h1>Simulated SAP ID service</h1><p>Use the cf CLI or <a href=\"%s/passcode\">get a passcode</a>.</p></body></html>", html.EscapeString(base))
		return
	}
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	writeUAAJSON(w, http.StatusOK, map[string]any{
		"app":            map[string]any{"version": "4.28.0"},
		"showLoginLinks": true,
		"links": map[string]any{"uaa": base, "passwd": "/forgot_password", "login": base,
			"register": "/create_account"},
		"zone_name":      "uaa",
		"entityID":       host,
		"commit_id":      "8917980",
		"idpDefinitions": map[string]any{},
		"prompts": map[string]any{
			"username": []string{"text", "Email"},
			"password": []string{"password", "Password"},
			"passcode": []string{"password", "Temporary Authentication Code ( Get one at " + base + "/passcode )"},
		},
		"timestamp": s.now().UTC().Format("2006-01-02T15:04:05-0700"),
	})
}

// IssuePasscode creates a single-use SSO passcode for the user, as the
// browser page does after the IdP login (tests and --demo use it).
func (s *Server) IssuePasscode(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuePasscodeLocked(email)
}

const passcodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

func (s *Server) issuePasscodeLocked(email string) string {
	b := make([]byte, 10)
	for i := range b {
		b[i] = passcodeAlphabet[s.rnd.IntN(len(passcodeAlphabet))]
	}
	code := string(b)
	s.passcode[code] = passcode{User: email, Expires: s.now().Add(5 * time.Minute)}
	s.issued = append(s.issued, code)
	return code
}

// uaaPasscodePage is the browser page of §2.4. The simulator has no IdP
// session, so the code is for the admin user (or ?user=<email>).
func (s *Server) uaaPasscodePage(w http.ResponseWriter, r *http.Request) {
	email := AdminUser
	if u := r.URL.Query().Get("user"); u != "" {
		email = u
	}
	s.mu.Lock()
	known := s.world.user(email) != nil
	code := ""
	if known {
		code = s.issuePasscodeLocked(email)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	if !known {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<!DOCTYPE html><html><body><p>Unknown user %s</p></body></html>", html.EscapeString(email))
		return
	}
	fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Temporary Authentication Code</title></head><body>
<h1>Temporary Authentication Code</h1>
<p>Signed in as %s (simulated).</p>
<h2 id="passcode">%s</h2>
<p>Enter this code where you are asked for it. It can be used once and expires in 5 minutes.</p>
</body></html>
`, html.EscapeString(email), html.EscapeString(code))
}

// knownOrigins are the identity providers UAA accepts in login_hint.
func (s *Server) knownOriginsLocked() map[string]bool {
	m := map[string]bool{"sap.ids": true, "uaa": true, CustomIdP: true}
	for _, u := range s.world.Users {
		if u.Origin != "" {
			m[u.Origin] = true
		}
	}
	return m
}

// uaaToken is POST /oauth/token for client cf (§2.3-§2.5).
func (s *Server) uaaToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeUAAError(w, http.StatusBadRequest, "invalid_request", "Malformed form body")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != "cf" || secret != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"`)
		s.writeUAAError(w, http.StatusUnauthorized, "invalid_client", "Bad credentials")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "password":
		s.uaaPasswordGrant(w, r)
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		email, ok := s.refresh[rt]
		u := s.world.user(email)
		if !ok || u == nil {
			s.writeUAAError(w, http.StatusUnauthorized, "invalid_token", "The token expired, was revoked, or the token ID is incorrect.")
			return
		}
		// BTP hands the same opaque refresh token back (§2.5).
		s.writeCFToken(w, u, rt, "refresh_token")
	case "":
		s.writeUAAError(w, http.StatusBadRequest, "invalid_request", "Missing grant type")
	case "client_credentials", "authorization_code", "urn:ietf:params:oauth:grant-type:jwt-bearer":
		s.writeUAAError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized grant type: "+gt)
	default:
		s.writeUAAError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+gt)
	}
}

func (s *Server) uaaPasswordGrant(w http.ResponseWriter, r *http.Request) {
	if code := r.PostForm.Get("passcode"); code != "" {
		pc, ok := s.passcode[code]
		delete(s.passcode, code) // single use, even when the user vanished
		ok = ok && s.now().Before(pc.Expires)
		email := pc.User
		u := s.world.user(email)
		if !ok || u == nil {
			s.writeUAAError(w, http.StatusUnauthorized, "unauthorized", "Invalid passcode")
			return
		}
		s.writeCFToken(w, u, s.newRefreshLocked(u.Email), "password")
		return
	}
	origin := "sap.ids"
	hint := r.URL.Query().Get("login_hint")
	if hint == "" {
		hint = r.PostForm.Get("login_hint")
	}
	if hint != "" {
		var h struct {
			Origin string `json:"origin"`
		}
		if err := json.Unmarshal([]byte(hint), &h); err != nil || !s.knownOriginsLocked()[h.Origin] {
			s.writeUAAError(w, http.StatusUnauthorized, "unauthorized", "The origin provided in the login hint is invalid.")
			return
		}
		origin = h.Origin
	}
	u := s.world.user(r.PostForm.Get("username"))
	if u == nil || !hmac.Equal([]byte(u.Password), []byte(r.PostForm.Get("password"))) || userOrigin(u) != origin {
		s.writeUAAError(w, http.StatusUnauthorized, "unauthorized", "Bad credentials")
		return
	}
	s.writeCFToken(w, u, s.newRefreshLocked(u.Email), "password")
}

func userOrigin(u *User) string {
	if u.Origin == "" {
		return "sap.ids"
	}
	return u.Origin
}

func (s *Server) newRefreshLocked(email string) string {
	rt := hex.EncodeToString(randBytes(s.rnd, 16)) + "-r"
	s.refresh[rt] = email
	return rt
}

// writeCFToken issues an access token (HS256 JWT) for u and answers the
// token JSON of §2.3. s.mu is held.
func (s *Server) writeCFToken(w http.ResponseWriter, u *User, refresh, grant string) {
	now := s.now()
	life := s.cfg.TokenLifetime
	exp := now.Add(life)
	jti := hex.EncodeToString(randBytes(s.rnd, 16))
	userID := s.world.stableGUID("user:" + strings.ToLower(u.Email))
	claims := map[string]any{
		"jti": jti, "sub": userID, "scope": cfScopes, "client_id": "cf", "cid": "cf", "azp": "cf",
		"grant_type": grant, "user_id": userID, "origin": userOrigin(u), "user_name": u.Email,
		"email": u.Email, "auth_time": now.Unix(), "rev_sig": "5f3b1a2c", "iat": now.Unix(),
		"exp": exp.Unix(), "iss": "http://localhost/uaa/oauth/token", "zid": "uaa",
		"aud": []string{"cloud_controller", "openid", "password", "uaa", "cf"}, "revocable": false,
	}
	access := signJWT(s.world.SecretSeed, claims)
	idToken := signJWT(s.world.SecretSeed, map[string]any{
		"sub": userID, "aud": []string{"cf"}, "iss": "http://localhost/uaa/oauth/token", "exp": exp.Unix(),
		"iat": now.Unix(), "user_name": u.Email, "email": u.Email, "origin": userOrigin(u), "cid": "cf",
	})
	s.tokens[access] = &cfToken{User: u.Email, Expires: exp}
	s.issued = append(s.issued, access, idToken, refresh)
	expiresIn := int(life/time.Second) - 1
	if expiresIn < 0 {
		expiresIn = 0
	}
	writeUAAJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "bearer", "id_token": idToken,
		"refresh_token": refresh, "expires_in": expiresIn,
		"scope": strings.Join(cfScopes, " "), "jti": jti,
	})
}

// signJWT builds an HS256 JWT keyed by the world seed. Clients decode it
// without checking the signature, as the cf CLI does.
func signJWT(seed string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"sim-key-1"}`))
	body, _ := json.Marshal(claims)
	msg := hdr + "." + enc.EncodeToString(body)
	m := hmac.New(sha256.New, []byte("sim-jwt:"+seed))
	m.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(m.Sum(nil))
}

func writeUAAJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck
}

func (s *Server) writeUAAError(w http.ResponseWriter, status int, code, desc string) {
	writeUAAJSON(w, status, map[string]any{"error": code, "error_description": s.say(desc)})
}

// writeUAAFault answers a scripted fault on the UAA (or XSUAA) surface.
func (s *Server) writeUAAFault(w http.ResponseWriter, f *Fault) {
	if f.Kind == FaultCF429 || f.Status == http.StatusTooManyRequests {
		// UAA's rate limiter answers in plain text (§2.7).
		w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, "429 - Too Many Requests - Request limited by Rate Limiter configuration: simulated")
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	code, desc := "server_error", http.StatusText(status)
	if status == http.StatusUnauthorized {
		code, desc = "invalid_client", "Bad credentials"
		w.Header().Set("WWW-Authenticate", `Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"`)
	}
	if f.Message != "" {
		desc = f.Message
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
	}
	s.writeUAAError(w, status, code, desc)
}
