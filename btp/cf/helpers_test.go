package cf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// fastRetry keeps retries in the millisecond range.
var fastRetry = transport.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxElapsed: 2 * time.Second}

var fastPoll = cf.PollInterval{Min: 2 * time.Millisecond, Max: 5 * time.Millisecond}

func startSim(t *testing.T, cfg sim.Config) *sim.Server {
	t.Helper()
	if cfg.ProvisionTime == 0 {
		cfg.ProvisionTime = 20 * time.Millisecond
	}
	if cfg.BindTime == 0 {
		cfg.BindTime = 5 * time.Millisecond
	}
	cfg.EntitlementPadding = -1
	s, err := sim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// recorder captures every token the client receives, so tests can prove
// none of them leaks into an error.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	toks []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/oauth/token") {
		return res, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		r.mu.Lock()
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, ok := m[k].(string); ok && s != "" {
				r.toks = append(r.toks, s)
			}
		}
		r.mu.Unlock()
	}
	return res, nil
}

func (r *recorder) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.toks...)
}

func newClient(t *testing.T, apiURL string) (*cf.Client, *recorder) {
	t.Helper()
	rec := &recorder{next: http.DefaultTransport}
	c, err := cf.New(apiURL, transport.NewHTTPClient(transport.Options{Base: rec, Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = fastRetry
	return c, rec
}

func loggedIn(t *testing.T, s *sim.Server, user, pass string) *cf.Client {
	t.Helper()
	c, _ := newClient(t, s.CFAPIURL())
	if err := c.LoginPassword(ctx(t), user, pass, ""); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// target resolves org and space of a subaccount by subdomain.
func target(t *testing.T, c *cf.Client, s *sim.Server, subdomain, space string) (org cf.Org, sp cf.Space) {
	t.Helper()
	var orgGUID string
	s.Do(func(w *sim.World) {
		for _, sa := range w.Subaccounts {
			if sa.Subdomain == subdomain {
				orgGUID = sa.OrgGUID
			}
		}
	})
	orgs, err := c.ListOrgs(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		if o.GUID == orgGUID {
			org = o
		}
	}
	got, err := c.GetSpaceByName(ctx(t), orgGUID, space)
	if err != nil {
		t.Fatalf("space %s: %v", space, err)
	}
	return org, *got
}

var ifParams = json.RawMessage(`{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[],"token-validity":3600}`)

// readyInstance creates an integration-flow instance and waits for it.
func readyInstance(t *testing.T, c *cf.Client, spaceGUID, name string) *cf.Instance {
	t.Helper()
	plan, err := c.FindPlan(ctx(t), "it-rt", "integration-flow", spaceGUID)
	if err != nil || plan == nil {
		t.Fatalf("plan: %v %v", plan, err)
	}
	job, err := c.CreateInstance(ctx(t), name, spaceGUID, plan.GUID, ifParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitJob(ctx(t), job, fastPoll, nil); err != nil {
		t.Fatal(err)
	}
	inst, err := c.FindInstance(ctx(t), name, spaceGUID)
	if err != nil || inst == nil {
		t.Fatalf("instance after create: %v %v", inst, err)
	}
	return inst
}

func countRequests(s *sim.Server, key string) int {
	n := 0
	for _, r := range s.Requests() {
		if r == key {
			n++
		}
	}
	return n
}
