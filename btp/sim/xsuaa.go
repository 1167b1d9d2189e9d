package sim

import (
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The XSUAA token endpoint that it-rt keys' tokenurl points to (it-rt.md §5.1).

// xsuaaHandler serves the it-rt token endpoint.
func (s *Server) xsuaaHandler() http.Handler { return s.tokenHostHandler("xsuaa", s.xsuaaToken) }

// tokenHostHandler serves an XSUAA token host (the secret one, or the
// certificate one behind mTLS): POST /oauth/token runs grant, the rest
// answers as XSUAA's Spring server does.
func (s *Server) tokenHostHandler(name string, grant func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := RequestKey(name, r)
		if f := s.takeFault(key, FaultCF429, FaultHTTPStatus); f != nil {
			s.writeUAAFault(w, f)
			return
		}
		switch {
		case r.URL.Path == "/oauth/token" && r.Method == http.MethodPost:
			grant(w, r)
		case r.URL.Path == "/oauth/token":
			s.writeUAAError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Request method '"+r.Method+"' not supported")
		default:
			w.Header().Set("Content-Type", "text/html;charset=UTF-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("<html><body><h1>Whitelabel Error Page</h1><p>There was an unexpected error (type=Not Found, status=404).</p></body></html>")) //nolint:errcheck
		}
	})
}

// xsuaaCredentials returns the client id and secret of the request. Like
// UAA in compatibility mode, Basic credentials are taken raw unless the
// client sends X-CF-ENCODED-CREDENTIALS: true, which means RFC 6749
// form-encoding (what golang.org/x/oauth2 does).
func xsuaaCredentials(r *http.Request) (id, secret string, ok bool) {
	if id, secret, ok = r.BasicAuth(); ok {
		if strings.EqualFold(r.Header.Get("X-CF-ENCODED-CREDENTIALS"), "true") {
			var err1, err2 error
			id, err1 = url.QueryUnescape(id)
			secret, err2 = url.QueryUnescape(secret)
			if err1 != nil || err2 != nil {
				return "", "", false
			}
		}
		return id, secret, true
	}
	id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	return id, secret, id != ""
}

func (s *Server) xsuaaToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeUAAError(w, http.StatusBadRequest, "invalid_request", "Malformed form body")
		return
	}
	badClient := func(desc string) {
		w.Header().Set("WWW-Authenticate", `Basic realm="UAA/client", error="unauthorized", error_description="`+desc+`"`)
		s.writeUAAError(w, http.StatusUnauthorized, "invalid_client", desc)
	}
	id, secret, ok := xsuaaCredentials(r)
	if !ok {
		badClient("Bad credentials")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.sweepLocked(now) {
		s.saveLocked()
	}
	w0 := s.world
	var k *Key
	for _, c := range w0.Keys {
		if !c.Deleted && c.ClientID == id && c.KeyType == "client_id_secret" {
			k = c
		}
	}
	var inst *Instance
	if k != nil {
		inst = w0.instance(k.Instance)
	}
	// A key whose create has not succeeded has no client yet.
	if k == nil || inst == nil || (k.Op.Type == "create" && (now.Before(k.Op.ReadyAt) || k.Op.Fail != "")) ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(w0.clientSecret(k.GUID))) != 1 {
		badClient("Bad credentials")
		return
	}
	if !s.clientCredentialsGrantLocked(w, r, inst, now, badClient) {
		return
	}
	s.writeClientTokenLocked(w, inst, id, s.TokenBaseURL()+"/oauth/token", now)
}

// clientCredentialsGrantLocked answers XSUAA's errors when the request is not
// a client-credentials grant or the instance does not allow one, and
// reports whether the grant may go on. Callers hold s.mu.
func (s *Server) clientCredentialsGrantLocked(w http.ResponseWriter, r *http.Request, inst *Instance, now time.Time, badClient func(string)) bool {
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			s.writeUAAError(w, http.StatusBadRequest, "invalid_request", "Missing grant type")
			return false
		}
		s.writeUAAError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+gt)
		return false
	}
	if params := inst.params(now); params["grant-types"] != nil && !contains(mustStrings(params["grant-types"]), "client_credentials") {
		badClient("Unauthorized grant type: client_credentials")
		return false
	}
	return true
}

// writeClientTokenLocked answers a client-credentials grant of a key of
// inst: a JWT with the instance's scopes, signed like every simulator token.
// iss is the token endpoint that issued it. Callers hold s.mu.
func (s *Server) writeClientTokenLocked(w http.ResponseWriter, inst *Instance, id, iss string, now time.Time) {
	w0 := s.world
	params := inst.params(now)
	sa := w0.subaccount(inst.Subaccount)
	sub, saGUID := "", ""
	if sa != nil {
		sub, saGUID = sa.Subdomain, sa.GUID
	}
	validity := 3600
	if inst.Plan == "api" {
		validity = 43200
	}
	if v, ok := params["token-validity"].(float64); ok && v >= 1 {
		validity = int(v)
	}
	scopes := scopesFor(inst, sub, now)
	jti := hex.EncodeToString(randBytes(s.rnd, 16))
	exp := now.Add(time.Duration(validity) * time.Second)
	access := signJWT(w0.SecretSeed, map[string]any{
		"jti": jti, "sub": id, "authorities": scopes, "scope": scopes, "client_id": id, "cid": id, "azp": id,
		"grant_type": "client_credentials", "rev_sig": "1a2b3c4d", "iat": now.Unix(), "exp": exp.Unix(),
		"iss": iss, "zid": saGUID, "aud": []string{strings.SplitN(id, "|", 2)[0]},
		"ext_attr": map[string]any{"enhancer": "XSUAA", "subaccountid": saGUID, "zdn": sub, "serviceinstanceid": inst.GUID},
	})
	s.issued = append(s.issued, access)
	writeUAAJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "bearer", "expires_in": validity - 1,
		"scope": strings.Join(scopes, " "), "jti": jti,
	})
}
