package cliserver

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// The CLI server may answer with 307/308 (integration-suite.md §1.5): cpikey
// follows only to SAP's CLI servers or within the configured server, and
// sends nothing anywhere else.

// caught is one request that reached an address.
type caught struct {
	method, path string
	header       http.Header
	body         string
}

// catcher is another address that records every request reaching it.
type catcher struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []caught
	// answer replies to a recorded request; nil means HTTP 500 (which a
	// retrying client would repeat).
	answer http.HandlerFunc
}

// newCatcher listens on 127.0.0.2 (another host than the client's server on
// 127.0.0.1), or on another port of 127.0.0.1 (another origin) where
// 127.0.0.2 is not routable.
func newCatcher(t *testing.T, useTLS bool, answer http.HandlerFunc) *catcher {
	c := &catcher{answer: answer}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err == nil {
		c.srv.Listener.Close()
		c.srv.Listener = ln
	}
	if useTLS {
		c.srv.StartTLS()
	} else {
		c.srv.Start()
	}
	t.Cleanup(c.srv.Close)
	return c
}

func (c *catcher) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, caught{r.Method, r.URL.RequestURI(), r.Header.Clone(), string(b)})
	c.mu.Unlock()
	if c.answer == nil {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	c.answer(w, r)
}

func (c *catcher) seen() []caught {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]caught(nil), c.reqs...)
}

// redirectFront proxies to the simulator, except requests match selects:
// those are answered with status and Location to(r), plus extra headers.
type redirectFront struct {
	srv        *httptest.Server
	mu         sync.Mutex
	redirected []caught
}

// Paths under /regional/ go to regional when it is set: a regional
// server within the front's own origin.
func newRedirectFront(t *testing.T, simURL string, status int, match func(*http.Request) bool, to func(*http.Request) string, extra http.Header, regional http.Handler) *redirectFront {
	u, _ := url.Parse(simURL)
	rp := httputil.NewSingleHostReverseProxy(u)
	f := &redirectFront{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if regional != nil && strings.HasPrefix(r.URL.Path, "/regional/") {
			regional.ServeHTTP(w, r)
			return
		}
		if !match(r) {
			rp.ServeHTTP(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.redirected = append(f.redirected, caught{r.Method, r.URL.RequestURI(), r.Header.Clone(), string(b)})
		f.mu.Unlock()
		for k, v := range extra {
			w.Header()[k] = v
		}
		w.Header().Set("Location", to(r))
		w.WriteHeader(status)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *redirectFront) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.redirected)
}

func (f *redirectFront) first() caught {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.redirected[0]
}

func pathPrefix(p string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, p) }
}

func redirectClient(t *testing.T, serverURL string, base http.RoundTripper) *Client {
	t.Helper()
	c, err := New(serverURL, transport.NewHTTPClient(transport.Options{Base: base, Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = fastRetry
	return c
}

func TestRedirect_CredentialsNeverReachAnotherHost(t *testing.T) {
	t.Parallel()
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, tc := range []struct {
			name   string
			prefix string
			run    func(ctx context.Context, c *Client) error
		}{
			{"password login", "/login/", func(ctx context.Context, c *Client) error {
				_, err := c.Login(ctx, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword})
				return err
			}},
			{"browser login wait", "/login/" + ProtocolVersion + "/browser/", func(ctx context.Context, c *Client) error {
				bl, err := c.StartBrowserLogin(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.WaitBrowserLogin(ctx, bl, sim.GASubdomain)
				return err
			}},
			{"command with session", "/command/", func(ctx context.Context, c *Client) error {
				if _, err := c.Login(ctx, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
					t.Fatal(err)
				}
				_, err := c.Execute(ctx, "accounts/global-account", "get", nil)
				return err
			}},
			{"write command with session", "/command/", func(ctx context.Context, c *Client) error {
				if _, err := c.Login(ctx, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
					t.Fatal(err)
				}
				_, err := c.Execute(ctx, "accounts/subaccount", "subscribe", map[string]string{"subaccount": "x", "appName": "it-app"})
				return err
			}},
		} {
			t.Run(http.StatusText(status)+"/"+tc.name, func(t *testing.T) {
				other := newCatcher(t, false, nil)
				f := newRedirectFront(t, s.CLIServerURL(), status, pathPrefix(tc.prefix),
					func(r *http.Request) string { return other.srv.URL + r.URL.RequestURI() }, nil, nil)
				c := redirectClient(t, f.srv.URL, nil)
				err := tc.run(ctxT(t), c)
				got := other.seen()
				for _, r := range got {
					t.Logf("%s %s reached %s with body %q", r.method, r.path, other.srv.Listener.Addr(), r.body)
				}
				t.Logf("%s received %d requests; %s was asked %d times", other.srv.Listener.Addr(), len(got), f.srv.Listener.Addr(), f.count())
				if len(got) != 0 {
					t.Errorf("%d requests reached the other host %s", len(got), other.srv.Listener.Addr())
				}
				for _, r := range got {
					for _, secret := range []string{sim.AdminPassword, c.Session().idOrEmpty()} {
						if secret != "" && (strings.Contains(r.body, secret) || strings.Contains(headerText(r.header), secret)) {
							t.Errorf("a secret reached %s: %s %s", other.srv.Listener.Addr(), r.method, r.path)
						}
					}
				}
				if err == nil {
					t.Fatal("the redirected call succeeded")
				}
				var re *transport.RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a refused redirect", err)
				}
				host := other.srv.Listener.Addr().String()
				if msg := err.Error(); !containsAll(msg, host, "nothing was sent", "BTP_CLI_SERVER_URL") {
					t.Errorf("message %q does not name %s, say nothing was sent and what to check", msg, host)
				}
				if n := f.count(); n != 1 {
					t.Errorf("the server was asked %d times, want 1: a refused redirect is not retried", n)
				}
			})
		}
	}
}

func (s *Session) idOrEmpty() string {
	if s == nil {
		return ""
	}
	return s.id
}

func headerText(h http.Header) string {
	var b strings.Builder
	for k, v := range h {
		b.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	return b.String()
}

// TestRedirect_FollowsLikeSAPsClient: within the configured server, or to
// an SAP CLI server host over https, the body is sent again and
// X-Cpcli-Subdomain of the redirect answer replaces the session's.
func TestRedirect_FollowsLikeSAPsClient(t *testing.T) {
	t.Parallel()
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cpcli-Backend-Status", "202")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"state":"IN_PROCESS"}`) //nolint:errcheck
	}
	const subSubdomain = "my-subaccount"
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, tc := range []struct {
			name    string
			tls     bool
			allow   bool // the catcher's host is on the (injected) SAP list
			follow  bool
			sameOrg bool // redirect to the front's own origin
		}{
			{"same origin", false, false, true, true},
			{"SAP host over https", true, true, true, false},
			{"SAP host over plain http", false, true, false, false},
			{"https host not SAP's", true, false, false, false},
		} {
			t.Run(http.StatusText(status)+"/"+tc.name, func(t *testing.T) {
				target := newCatcher(t, tc.tls, ok)
				var regional http.Handler
				if tc.sameOrg {
					regional = http.HandlerFunc(target.serve)
				}
				f := newRedirectFront(t, s.CLIServerURL(), status, pathPrefix("/command/"),
					func(r *http.Request) string {
						if tc.sameOrg {
							return "http://" + r.Host + "/regional" + r.URL.RequestURI()
						}
						return target.srv.URL + r.URL.RequestURI()
					},
					http.Header{"X-Cpcli-Subdomain": {subSubdomain}}, regional)
				var base http.RoundTripper
				if tc.tls {
					tr := target.srv.Client().Transport.(*http.Transport).Clone()
					// httptest's certificate names 127.0.0.1 and example.com, not 127.0.0.2.
					tr.TLSClientConfig.ServerName = "example.com"
					base = tr
				}
				c := redirectClient(t, f.srv.URL, base)
				targetHost := target.srv.Listener.Addr().String()
				if tc.sameOrg {
					targetHost = f.srv.Listener.Addr().String()
				}
				c.redirectAllowed = func(u *url.URL) bool { return tc.allow && u.Host == targetHost }
				ctx := ctxT(t)
				sess, err := c.Login(ctx, LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword})
				if err != nil {
					t.Fatal(err)
				}
				resp, err := c.Execute(ctx, "accounts/subaccount", "subscribe", map[string]string{"subaccount": "x", "appName": "it-app"})
				got := target.seen()
				for _, r := range got {
					t.Logf("%s %s reached %s with body %q", r.method, r.path, targetHost, r.body)
				}
				if !tc.follow {
					if len(got) != 0 || err == nil {
						t.Fatalf("followed a redirect it must refuse (err %v, %d requests)", err, len(got))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if resp.BackendStatus != 202 || len(got) != 1 {
					t.Fatalf("backend status %d, %d requests at the target", resp.BackendStatus, len(got))
				}
				sent := f.first()
				r := got[0]
				if r.method != http.MethodPost || r.body != sent.body || !strings.Contains(r.body, `"appName":"it-app"`) {
					t.Errorf("the redirected request is %s with body %q, want POST with %q", r.method, r.body, sent.body)
				}
				if v := r.header.Get("X-Cpcli-Subdomain"); v != subSubdomain {
					t.Errorf("X-Cpcli-Subdomain = %q, want %q from the redirect answer", v, subSubdomain)
				}
				if r.header.Get("X-Cpcli-Sessionid") != sess.id || r.header.Get("X-Correlationid") != sent.header.Get("X-Correlationid") {
					t.Errorf("the redirected command lost its session or correlation id: %v", r.header)
				}
			})
		}
	}
}

func TestSAPCLIServerURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://cli.btp.cloud.sap/command/v2.106.1/x", true},
		{"https://CLI.BTP.CLOUD.SAP/", true},
		{"https://cli.btp.cloud.sap:443/", true},
		{"https://canary.cli.btp.int.sap/", true},
		{"https://cpcli.cf.eu12.hana.ondemand.com/command/v2.64.0/accounts/subaccount?subscribe", true},
		{"https://cpcli.cf.eu10-004.hana.ondemand.com/", true},
		{"https://cpcli.cf.us10.hana.ondemand.com/", true},
		{"http://cpcli.cf.eu12.hana.ondemand.com/", false},
		{"http://cli.btp.cloud.sap/", false},
		{"https://cli.btp.cloud.sap:8443/", false},
		{"https://cli.btp.cloud.sap.evil.example/", false},
		{"https://evilcli.btp.cloud.sap/", false},
		{"https://x.cli.btp.cloud.sap/", false},
		{"https://cpcli.cf.eu12.hana.ondemand.com.evil.example/", false},
		{"https://cpcli.cf.eu12.evil.hana.ondemand.com/", false},
		{"https://api.cf.eu10.hana.ondemand.com/", false},
		{"https://cpcli.cf..hana.ondemand.com/", false},
		{"https://127.0.0.1/", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := sapCLIServerURL(u); got != tc.ok {
			t.Errorf("sapCLIServerURL(%s) = %v, want %v", tc.url, got, tc.ok)
		}
	}
}
