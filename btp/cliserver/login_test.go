package cliserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

func TestNew_RefusesUnsafeURLs(t *testing.T) {
	for _, u := range []string{"http://cli.btp.cloud.sap", "ftp://x", "https://", ":bad"} {
		if _, err := New(u, nil); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	c, err := New("https://cli.btp.cloud.sap", nil)
	if err != nil || c.ServerURL() != "https://cli.btp.cloud.sap/" {
		t.Fatalf("New: %v %v", c, err)
	}
	if _, err := c.Execute(context.Background(), "accounts/global-account", "get", nil); err != ErrNotLoggedIn {
		t.Errorf("command before login: %v", err)
	}
}

func TestLogin_SessionHeadersOnLaterCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	s := e.login(sim.AdminUser, sim.AdminPassword)
	if s.Mail != sim.AdminUser || s.Subdomain != sim.GASubdomain || s.Issuer == "" || s.id == "" {
		t.Fatalf("session %+v", s)
	}
	if _, err := e.c.GetGlobalAccount(ctxT(t), "", false); err != nil {
		t.Fatal(err)
	}
	h := e.rec.headers()
	login, cmd := h[0], h[len(h)-1]
	for _, hh := range []http.Header{login, cmd} {
		if hh.Get("Content-Type") != "application/json" || hh.Get("X-Cpcli-Format") != "json" ||
			!regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(hh.Get("X-Correlationid")) {
			t.Errorf("headers %v", hh)
		}
	}
	if login.Get("X-Cpcli-Sessionid") != "" {
		t.Errorf("login request carries a session id")
	}
	if cmd.Get("X-Cpcli-Sessionid") != s.id || cmd.Get("X-Cpcli-Subdomain") != sim.GASubdomain {
		t.Errorf("command headers %v", cmd)
	}
	if v, ok := cmd["X-Cpcli-Customidp"]; !ok || len(v) != 1 || v[0] != "" {
		t.Errorf("X-Cpcli-Customidp must be sent empty for SAP ID service, got %v", v)
	}
	if login.Get("X-Correlationid") == cmd.Get("X-Correlationid") {
		t.Errorf("two logical calls share a correlation id")
	}
}

func TestWireBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	_, _ = e.c.Login(ctxT(t), LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: "a<b>&c"})
	want := `{"customIdp":"","subdomain":"` + sim.GASubdomain + `","userName":"` + sim.AdminUser + `","password":"a<b>&c"}` + "\n"
	if got := e.rec.lastBody(); got != want {
		t.Errorf("login body %q, want %q (exact field names, no HTML escaping)", got, want)
	}
	if got := e.rec.lastURL(); got != e.s.CLIServerURL()+"/login/"+ProtocolVersion {
		t.Errorf("login URL %s", got)
	}
	e.admin()
	ready := e.sub(sim.SubReadySubdomain)
	if _, err := e.c.ListEntitlements(ctxT(t), "", ready.GUID, "", "it-rt"); err != nil {
		t.Fatal(err)
	}
	want = `{"paramValues":{"globalAccount":"` + sim.GASubdomain + `","subaccountFilter":"` + ready.GUID + `"}}` + "\n"
	if got := e.rec.lastBody(); got != want {
		t.Errorf("command body %q, want %q (sorted keys, empty directory omitted)", got, want)
	}
	if got := e.rec.lastURL(); got != e.s.CLIServerURL()+"/command/"+ProtocolVersion+"/accounts/entitlement?list" {
		t.Errorf("command URL %s", got)
	}
}

func TestLogin_Failures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	e.s.Do(func(w *sim.World) {
		w.Users = append(w.Users, &sim.User{Email: "norole@acme.example", Password: "pw-norole", Origin: "sap.ids"})
	})
	tests := []struct {
		name   string
		req    LoginRequest
		status int
		text   []string
		check  func(error) bool
	}{
		{"wrong password", LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: "wrong"}, 401,
			[]string{"login failed", "SAP ID service", "browser (SSO) login"}, IsUnauthorized},
		{"custom IdP mismatch", LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword, CustomIdP: sim.CustomIdP}, 401,
			[]string{`identity provider "` + sim.CustomIdP + `"`}, IsUnauthorized},
		{"unknown global account", LoginRequest{Subdomain: "acme-typo", User: sim.AdminUser, Password: sim.AdminPassword}, 404,
			[]string{`global account "acme-typo" not found`, "subdomain"}, IsNotFound},
		{"no access", LoginRequest{Subdomain: sim.GASubdomain, User: "norole@acme.example", Password: "pw-norole"}, 403,
			[]string{"cannot access global account", "Global Account Viewer"}, IsForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.c.Login(ctxT(t), tt.req)
			x := asErr(t, err)
			if x.HTTPStatus != tt.status || !tt.check(err) || !containsAll(err.Error(), tt.text...) || x.CorrelationID == "" {
				t.Errorf("HTTP %d, text %q", x.HTTPStatus, err)
			}
		})
	}
	if e.c.Session() != nil {
		t.Errorf("failed logins left a session")
	}
}

func TestLogin_OutdatedProtocol412(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	// Speak an old protocol version over the real connection.
	e.rec.next = rewriteVersion{next: http.DefaultTransport, to: "v2.64.0"}
	_, err := e.c.Login(ctxT(t), LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword})
	x := asErr(t, err)
	if x.HTTPStatus != 412 || !strings.Contains(err.Error(), "Update cpikey") {
		t.Errorf("412: %v", err)
	}
}

type rewriteVersion struct {
	next http.RoundTripper
	to   string
}

func (r rewriteVersion) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Path = strings.Replace(req.URL.Path, ProtocolVersion, r.to, 1)
	return r.next.RoundTrip(req)
}

func TestSession_NeverPrintsItsID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	s := e.login(sim.AdminUser, sim.AdminPassword)
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("session", "s", *s, "p", s)
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, *s, s, s, s), s.String(), s.GoString(), logs.String()}
	for _, o := range outs {
		if strings.Contains(o, s.id) {
			t.Fatalf("session id printed: %s", o)
		}
		if !strings.Contains(o, "REDACTED") {
			t.Errorf("no redaction marker in %q", o)
		}
	}
}

func TestBrowserLogin(t *testing.T) {
	t.Parallel()
	t.Run("manual: completes when the page is opened", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, sim.Config{SSOManual: true})
		bl, err := e.c.StartBrowserLogin(ctxT(t), "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(bl.URL, e.s.CLIServerURL()+"/login/"+ProtocolVersion+"/browser/"+bl.ID) {
			t.Fatalf("URL %s", bl.URL)
		}
		var opened atomic.Bool
		go func() {
			time.Sleep(30 * time.Millisecond)
			opened.Store(true)
			resp, err := http.Get(bl.URL) // the user's browser
			if err == nil {
				resp.Body.Close()
			}
		}()
		s, err := e.c.WaitBrowserLogin(ctxT(t), bl, sim.GASubdomain)
		if err != nil {
			t.Fatal(err)
		}
		if !opened.Load() {
			t.Error("login completed before the page was opened")
		}
		if s.Mail != sim.AdminUser || e.c.Session() != s {
			t.Errorf("session %v", s)
		}
		if _, err := e.c.ListSubaccounts(ctxT(t), ""); err != nil {
			t.Error(err)
		}
		h := e.rec.headers()
		if h[0].Get("X-Correlationid") != h[1].Get("X-Correlationid") {
			t.Errorf("SSO GET and POST must share one correlation id")
		}
	})
	t.Run("server times out the long poll: asks again", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, sim.Config{SSODelay: 50 * time.Millisecond})
		e.s.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "cli:login", Skip: 1, Times: 2, Status: 504})
		bl, err := e.c.StartBrowserLogin(ctxT(t), sim.CustomIdP)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(bl.URL, "/idp/"+sim.CustomIdP) {
			t.Errorf("custom IdP URL %s", bl.URL)
		}
		if _, err := e.c.WaitBrowserLogin(ctxT(t), bl, sim.GASubdomain); err != nil {
			t.Fatal(err)
		}
		if n := e.count("cli:login"); n != 4 {
			t.Errorf("%d login requests, want start + 2 timed-out polls + 1", n)
		}
	})
	t.Run("unknown login id", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, sim.Config{})
		_, err := e.c.WaitBrowserLogin(ctxT(t), &BrowserLogin{ID: "nope"}, sim.GASubdomain)
		if !IsUnauthorized(err) || !strings.Contains(err.Error(), "Start the login again") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, sim.Config{SSOManual: true})
		bl, err := e.c.StartBrowserLogin(ctxT(t), "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := e.c.WaitBrowserLogin(ctx, bl, sim.GASubdomain); err == nil || !strings.Contains(err.Error(), "stopped waiting") {
			t.Errorf("err %v", err)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	old := e.c.Session()
	if err := e.c.Logout(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if e.c.Session() != nil {
		t.Fatal("session kept after logout")
	}
	e.c.SetSession(old)
	if _, err := e.c.ListSubaccounts(ctxT(t), ""); !IsUnauthorized(err) || !strings.Contains(err.Error(), "Log in again") {
		t.Errorf("old session after logout: %v", err)
	}
}
