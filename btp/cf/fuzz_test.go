package cf

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for what Cloud Foundry and UAA send back in errors. The
// client holds canary tokens: whatever the server echoes, no error text may
// carry them (or the password) out. `go test` runs the seeds (f.Add and
// testdata/fuzz); scripts/fuzz.sh fuzzes.

const (
	fuzzAccess   = "eyJhbGciOiJIUzI1NiJ9.CANARY-access.c2ln"
	fuzzRefresh  = "CANARY-refresh-0b1c2d3e4f-r"
	fuzzPassword = "CANARY-Pa$$w0rd"
)

func fuzzClient(t *testing.T) *Client {
	c, err := New("https://api.cf.example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.tok = tokenState{access: fuzzAccess, refresh: fuzzRefresh}
	return c
}

func noCanary(t *testing.T, what, msg string) {
	t.Helper()
	for _, s := range []string{fuzzAccess, fuzzRefresh, fuzzPassword} {
		if strings.Contains(msg, s) {
			t.Fatalf("%s carries a secret: %q", what, msg)
		}
	}
}

// FuzzCCError decodes arbitrary Cloud Controller error answers.
func FuzzCCError(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{422, "application/json", `{"errors":[{"detail":"The service instance name is taken: X.","title":"CF-UnprocessableEntity","code":10008}]}`},
		{403, "application/json", `{"errors":[{"detail":"You are not authorized to perform the requested action","title":"CF-NotAuthorized","code":10003}]}`},
		{401, "application/json", `{"errors":[{"detail":"Invalid Auth Token","title":"CF-InvalidAuthToken","code":1000}]}`},
		{429, "text/plain; charset=utf-8", `{"errors":[{"detail":"Rate Limit Exceeded","title":"CF-RateLimitExceeded","code":10013}]}`},
		{502, "text/html", `<html><body>502 Bad Gateway</body></html>`},
		{409, "application/json", `{"errors":[{"detail":"An operation for service instance x is in progress.","title":"CF-AsyncServiceInstanceOperationInProgress","code":60016}]}`},
		{400, "application/json", `{"errors":[{"detail":"bad token ` + fuzzAccess + `","title":"` + fuzzRefresh + `","code":1}]}`},
		{500, "application/json", `{"errors":[]}`},
		{404, "", ``},
		{422, "application/json", `{"errors":[{"detail":"There is an operation in progress for the service instance"},{"detail":"second"}]}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		c := fuzzClient(t)
		u, _ := url.Parse("https://api.cf.example.com/v3/service_instances")
		r := &response{status: status, header: http.Header{"Content-Type": {ct}}, body: body}
		err := c.ccError(http.MethodPost, u, r)
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("ccError returned %T", err)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "cloud foundry POST /v3/service_instances: ") {
			t.Fatalf("message %q does not say what failed", msg)
		}
		noCanary(t, "CC error", msg)
		if IsNameTaken(err) && status != http.StatusUnprocessableEntity {
			t.Fatal("name taken without 422")
		}
		if IsNotAuthorized(err) && (status != http.StatusForbidden || !e.hasCode(10003)) {
			t.Fatal("not authorized without 403/10003")
		}
		_ = IsOperationInProgress(err)
		_ = c.isInvalidToken(r)
		_ = retryable(http.MethodPost, r)
		if utf8.Valid(body) && utf8.ValidString(ct) && !utf8.ValidString(msg) {
			t.Fatalf("valid input became an invalid message %q", msg)
		}
	})
}

// FuzzAuthError decodes arbitrary UAA error answers to a password login.
func FuzzAuthError(f *testing.F) {
	seeds := []struct {
		status int
		body   string
	}{
		{401, `{"error":"unauthorized","error_description":"Bad credentials"}`},
		{401, `{"error":"unauthorized","error_description":"Unable to verify login hint"}`},
		{401, `{"error":"invalid_token","error_description":"Invalid refresh token (expired): ` + fuzzRefresh + `"}`},
		{400, `{"error":"invalid_request","error_description":"password ` + fuzzPassword + ` rejected"}`},
		{429, "429 - Too Many Requests - Request limited by Rate Limiter configuration: simulated"},
		{500, "<html><body>error</body></html>"},
		{401, "line one " + fuzzPassword + "\nline two"},
		{403, ``},
		{401, `{"error":"unauthorized","error_description":"Your account has been locked because of too many failed attempts to login."}`},
	}
	for _, s := range seeds {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		c := fuzzClient(t)
		err := c.authError(&response{status: status, body: body}, fuzzPassword)
		msg := err.Error()
		if !strings.HasPrefix(msg, "cloud foundry login: ") {
			t.Fatalf("message %q does not say what failed", msg)
		}
		noCanary(t, "UAA error", msg)
		_, _, _ = IsBadCredentials(err), IsInvalidOrigin(err), IsAccountLocked(err)
	})
}

// FuzzJWTClaims decodes arbitrary access tokens the way the client reads
// their expiry and user.
func FuzzJWTClaims(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDAsInVzZXJfbmFtZSI6ImFkbWluIn0.c2ln",
		"a.b.c", "..", "", "x", "a.e30.c", "a.bnVsbA.c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := jwtClaims(tok)
		if err != nil && len(tok) > 8 && strings.Contains(err.Error(), tok) {
			t.Fatal("error quotes the token")
		}
		c := fuzzClient(t)
		c.setTokens(tokenResponse{AccessToken: tok, RefreshToken: "r", ExpiresIn: 60})
		if claims == nil && c.User() != "" {
			t.Fatal("a user from a token without claims")
		}
	})
}
