package transport_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// The policy as every SAP client of cpikey applies it, over real loopback
// HTTP against the simulator.

func TestClients_RefusePlainHTTPToNonLoopbackBeforeAnyRequest(t *testing.T) {
	const target = "http://cli.btp.example.invalid"
	// The transport fails the test if anything is sent at all.
	sent := 0
	hc := transport.NewHTTPClient(transport.Options{Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("must not be sent")
	})})
	cases := []struct {
		name string
		do   func() error
	}{
		{"cliserver.New", func() error { _, err := cliserver.New(target, hc); return err }},
		{"cf.New", func() error { _, err := cf.New(target, hc); return err }},
		{"oauth.Verify", func() error {
			_, err := oauth.Verify(context.Background(), hc, oauth.Credentials{ClientID: "sb-x", ClientSecret: "CANARY$s", TokenURL: target + "/oauth/token"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil || !strings.Contains(err.Error(), "refusing plain http://") {
				t.Fatalf("err = %v, want a refusal of plain http", err)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Fatal("the refusal quotes the secret")
			}
		})
	}
	if sent != 0 {
		t.Fatalf("%d requests were sent", sent)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// front proxies to upstream, except paths with redirectPrefix, which are
// answered with a 307 to elsewhere.
func front(t *testing.T, upstream, redirectPrefix, elsewhere string) *httptest.Server {
	u, _ := url.Parse(upstream)
	rp := httputil.NewSingleHostReverseProxy(u)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, redirectPrefix) {
			http.Redirect(w, r, elsewhere+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func startSim(t *testing.T) *sim.Server {
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestCLIServerClient_RedirectToAnotherHostSendsNothingThere(t *testing.T) {
	s := startSim(t)
	rec := newHeaderRecorder(t)
	f := front(t, s.CLIServerURL(), "/command/", rec.srv.URL)
	c, err := cliserver.New(f.URL, transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = transport.RetryPolicy{MaxAttempts: 1}
	ctx := context.Background()
	if _, err := c.Login(ctx, cliserver.LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Execute(ctx, "accounts/global-account", "get", nil)
	if !transport.IsRedirectRefused(err) {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
	if n := len(rec.seen()); n != 0 {
		t.Fatalf("the other host saw %d requests, want none", n)
	}
}

func TestCFClient_NeverFollowsRedirectsWithTheBearerToken(t *testing.T) {
	s := startSim(t)
	rec := newHeaderRecorder(t)
	f := front(t, s.CFAPIURL(), "/v3/", rec.srv.URL)
	c, err := cf.New(f.URL, transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = transport.RetryPolicy{MaxAttempts: 1}
	ctx := context.Background()
	if err := c.LoginPassword(ctx, sim.AdminUser, sim.AdminPassword, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListOrgs(ctx); err == nil {
		t.Fatal("a redirect was taken for an answer")
	}
	if n := len(rec.seen()); n != 0 {
		t.Fatalf("the bearer token was carried to another host (%d requests)", n)
	}
}

// TestCFLogin_PasswordAndPasscodeNeverFollowARedirect: UAA token requests
// answered 307/308 towards another loopback address send nothing there.
func TestCFLogin_PasswordAndPasscodeNeverFollowARedirect(t *testing.T) {
	const password, passcode = "CANARY-cf-Pa$$word", "CANARY-passcode-7f3a"
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, login := range []struct {
			name string
			do   func(ctx context.Context, c *cf.Client) error
		}{
			{"password", func(ctx context.Context, c *cf.Client) error {
				return c.LoginPassword(ctx, "u@example.com", password, "")
			}},
			{"passcode", func(ctx context.Context, c *cf.Client) error { return c.LoginPasscode(ctx, passcode) }},
		} {
			t.Run(http.StatusText(status)+"/"+login.name, func(t *testing.T) {
				rec := newHeaderRecorderOn(t, "127.0.0.2:0")
				// A Cloud Foundry root that names itself as login server and
				// redirects its token endpoint.
				var api *httptest.Server
				api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/" {
						io.WriteString(w, `{"links":{"login":{"href":"`+api.URL+`"},"uaa":{"href":"`+api.URL+`"}}}`) //nolint:errcheck
						return
					}
					w.Header().Set("Location", rec.srv.URL+r.URL.RequestURI())
					w.WriteHeader(status)
				}))
				t.Cleanup(api.Close)
				c, err := cf.New(api.URL, transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}))
				if err != nil {
					t.Fatal(err)
				}
				c.Retry = transport.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}
				err = login.do(context.Background(), c)
				if err == nil {
					t.Fatal("logged in through a redirect")
				}
				if strings.Contains(err.Error(), "CANARY") {
					t.Fatalf("the error quotes a secret: %v", err)
				}
				if got := rec.bodies(); len(got) != 0 {
					t.Fatalf("%s received %d requests: %q", rec.srv.Listener.Addr(), len(got), got)
				}
			})
		}
	}
}

func TestOAuthVerify_NeverFollowsRedirectsWithTheClientSecret(t *testing.T) {
	rec := newHeaderRecorder(t)
	r := redirector(t, rec.srv.URL)
	_, err := oauth.Verify(context.Background(), transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}),
		oauth.Credentials{ClientID: "sb-x", ClientSecret: "CANARY$secret", TokenURL: r.URL + "/oauth/token"})
	if err == nil {
		t.Fatal("a redirect was taken for a token")
	}
	if strings.Contains(err.Error(), "CANARY") {
		t.Fatal("the error quotes the secret")
	}
	if n := len(rec.seen()); n != 0 {
		t.Fatalf("the client credentials were carried to another host (%d requests)", n)
	}
}

func TestCLIServerClient_RefusesAnOversizedAnswer(t *testing.T) {
	s := startSim(t)
	// Log in through the simulator, then answer the command with an endless
	// body: the client must give up at transport.MaxBodyBytes.
	u, _ := url.Parse(s.CLIServerURL())
	rp := httputil.NewSingleHostReverseProxy(u)
	f := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/command/") {
			rp.ServeHTTP(w, r)
			return
		}
		w.Header().Set("X-Cpcli-Backend-Status", "200")
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer f.Close()
	c, err := cliserver.New(f.URL, transport.NewHTTPClient(transport.Options{Timeout: 20 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = transport.RetryPolicy{MaxAttempts: 1}
	ctx := context.Background()
	if _, err := c.Login(ctx, cliserver.LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Execute(ctx, "accounts/global-account", "get", nil)
	if !errors.Is(err, transport.ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("took %s to refuse", d)
	}
}
