package cliserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// fastRetry keeps retry tests in milliseconds.
var fastRetry = transport.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxElapsed: 5 * time.Second}

type env struct {
	t   *testing.T
	s   *sim.Server
	c   *Client
	rec *recorder
}

// recorder sees every request the client sends (headers, URL, body): it observes
// the real exchange with the simulator, it does not replace it.
type recorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	reqs   []http.Header
	urls   []string
	bodies []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body := ""
	if req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(rc)
			body = string(b)
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Header.Clone())
	r.urls = append(r.urls, req.URL.String())
	r.bodies = append(r.bodies, body)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) lastBody() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[len(r.bodies)-1]
}

func (r *recorder) lastURL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.urls[len(r.urls)-1]
}

func (r *recorder) headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.reqs...)
}

func newEnv(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	if cfg.EntitlementPadding == 0 {
		cfg.EntitlementPadding = 64 << 10
	}
	s, err := sim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	rec := &recorder{next: http.DefaultTransport}
	c, err := New(s.CLIServerURL(), transport.NewHTTPClient(transport.Options{Base: rec, Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = fastRetry
	return &env{t: t, s: s, c: c, rec: rec}
}

func (e *env) login(user, pass string) *Session {
	e.t.Helper()
	s, err := e.c.Login(context.Background(), LoginRequest{Subdomain: sim.GASubdomain, User: user, Password: pass})
	if err != nil {
		e.t.Fatalf("login %s: %v", user, err)
	}
	return s
}

func (e *env) admin() *env {
	e.login(sim.AdminUser, sim.AdminPassword)
	return e
}

func (e *env) sub(subdomain string) sim.Subaccount {
	e.t.Helper()
	sa, ok := e.s.SubaccountBySubdomain(subdomain)
	if !ok {
		e.t.Fatalf("no subaccount %s", subdomain)
	}
	return sa
}

// count returns how many requests with exactly this key the simulator saw.
func (e *env) count(key string) int {
	n := 0
	for _, k := range e.s.Requests() {
		if k == key {
			n++
		}
	}
	return n
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls f every few ms until it reports done.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

func asErr(t *testing.T, err error) *Error {
	t.Helper()
	e := asError(err)
	if e == nil {
		t.Fatalf("error %v (%T) is not a *cliserver.Error", err, err)
	}
	return e
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
