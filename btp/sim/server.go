// Package sim is an embedded SAP BTP simulator. It serves, on loopback, the
// three wire protocols cpikey speaks (BTP CLI server, Cloud Foundry v3 + UAA,
// and the XSUAA token endpoint of it-rt keys), and the Cloud Integration
// tenant the keys are used against, as written down in docs/protocol (a bare
// § in a comment cites the document of the protocol that file serves),
// quirks included. Tests, --demo and the benchmarks run
// against it. It deliberately imports none of cpikey's clients, so a client
// bug and a simulator bug cannot cancel out.
package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config tunes the simulator. The zero value is fast (tests).
type Config struct {
	// Seed makes GUIDs, ids and secrets deterministic. 0 means 1.
	Seed uint64
	// ProvisionTime is how long an instance create/delete takes (0: 30ms).
	ProvisionTime time.Duration
	// BindTime is how long a key create/delete takes (0: 10ms).
	BindTime time.Duration
	// EntitleTime is how long an entitlement assignment takes (0: 10ms).
	EntitleTime time.Duration
	// SubscribeTime is how long a subscription takes (0: 20ms);
	// SubscribeFailures makes the first n subscriptions end in
	// SUBSCRIBE_FAILED (integration-suite.md §1.6).
	SubscribeTime     time.Duration
	SubscribeFailures int
	// Latency is added to every request.
	Latency time.Duration
	// TokenLifetime is the CF access token lifetime (0: 20 minutes).
	TokenLifetime time.Duration
	// EntitlementPadding is the approximate size in bytes of filler services
	// (base64 icons, data-centre lists) in entitlement listings. 0 means 3 MB;
	// negative means none.
	EntitlementPadding int
	// SSOManual: the SSO login completes only when the browser URL is opened.
	// Otherwise the waiting POST completes by itself after SSODelay.
	SSOManual bool
	SSODelay  time.Duration
	// StateFile, when set, persists the world between runs (demo mode).
	StateFile string
	// Now overrides the clock (tests).
	Now func() time.Time
	// CLIServerAddr, CFAddr and XSUAAAddr fix the listen addresses
	// ("127.0.0.1:8080"); they must be loopback. Empty: a free port.
	CLIServerAddr, CFAddr, XSUAAAddr string
	// RuntimeAddr and TenantAPIAddr do the same for the tenant's runtime
	// host (url of integration-flow keys) and management host (api keys).
	RuntimeAddr, TenantAPIAddr string
	// Hostile makes SAP an attacker (hostile.go): display names,
	// descriptions, broker and job failure texts, X-Cpcli-Backend-Message
	// and X-Cpcli-Server-Message, CF error details and UAA error
	// descriptions carry terminal escape sequences, a bare CR with a forged
	// line, bidi and C1 controls and DEL.
	Hostile bool
}

// Server is a running simulator.
type Server struct {
	cfg Config

	mu    sync.Mutex
	world *World
	rnd   *rand.Rand
	// reqRnd draws X-Vcap-Request-Ids: a stream of its own, so the GUIDs
	// of what a test creates do not depend on how many reads came first.
	reqRnd *rand.Rand

	// Sessions and tokens live only in memory: a restart logs everyone out.
	sessions map[string]*session  // CLI server session id -> session
	sso      map[string]*ssoLogin // login id -> pending SSO login
	tokens   map[string]*cfToken  // CF access token -> owner
	refresh  map[string]string    // refresh token -> user email
	passcode map[string]passcode  // SSO passcodes (single use, 5 minutes)

	faults   []*Fault
	requests []string
	issued   []string // every session id, token and passcode handed out (inspect.go)

	cli, cf, xsuaa *listener
	tenant         *tenantState // the runtime and management hosts (tenant.go)
	certAuth       *listener    // the certificate token host (cert_token.go)
	pki            *pkiRuntime  // parsed CAs (certs.go)
	// subscribeFailures counts down Config.SubscribeFailures.
	subscribeFailures int
	// padding is built on the first entitlement listing: building 3 MB
	// in Start would delay the demo's first frame by ~20 ms.
	paddingOnce sync.Once
	padding     []byte

	hostile hostileLog // Config.Hostile: what was seeded and sent
}

type session struct {
	User      string
	Subdomain string
	IdP       string
}

type ssoLogin struct {
	IdP  string
	done chan struct{}
	user string
}

// passcode is a one-time UAA code: single use, valid five minutes.
type passcode struct {
	User    string
	Expires time.Time
}

type cfToken struct {
	User    string
	Expires time.Time
}

type listener struct {
	ln  net.Listener
	srv *http.Server
	url string
}

// Start creates the world (or loads it from cfg.StateFile) and serves it on
// three loopback listeners until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.ProvisionTime == 0 {
		cfg.ProvisionTime = 30 * time.Millisecond
	}
	if cfg.BindTime == 0 {
		cfg.BindTime = 10 * time.Millisecond
	}
	if cfg.EntitleTime == 0 {
		cfg.EntitleTime = 10 * time.Millisecond
	}
	if cfg.SubscribeTime == 0 {
		cfg.SubscribeTime = 20 * time.Millisecond
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = 20 * time.Minute
	}
	if cfg.SSODelay == 0 {
		cfg.SSODelay = 300 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:      cfg,
		rnd:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		reqRnd:   rand.New(rand.NewPCG(cfg.Seed^0x5851f42d4c957f2d, cfg.Seed+0x14057b7ef767814f)),
		sessions: map[string]*session{},
		sso:      map[string]*ssoLogin{},
		tokens:   map[string]*cfToken{},
		refresh:  map[string]string{},
		passcode: map[string]passcode{},

		subscribeFailures: cfg.SubscribeFailures,
	}
	if cfg.StateFile != "" {
		if b, err := os.ReadFile(cfg.StateFile); err == nil {
			var w World
			if err := json.Unmarshal(b, &w); err == nil && w.GlobalAccountGUID != "" {
				s.world = &w
				// Do not replay the same GUID sequence as the run that saved.
				s.rnd = rand.New(rand.NewPCG(cfg.Seed+w.Seq, uint64(time.Now().UnixNano())))
			}
		}
	}
	if s.world == nil {
		s.world = newWorld(s.rnd, cfg.Now())
		s.world.addEmptySubaccount(cfg.Now())
		if cfg.Hostile {
			s.hostileWorldLocked()
		}
	}
	// Also into demo state saved before the empty subaccount existed.
	s.world.addEmptySubaccount(cfg.Now())

	var err error
	if s.cli, err = serve("BTP CLI server", cfg.CLIServerAddr, s.wrap("cli", s.suiteUI(s.cliServerHandler()))); err != nil {
		return nil, err
	}
	if s.cf, err = serve("Cloud Foundry", cfg.CFAddr, s.wrap("cf", s.cfHandler())); err != nil {
		s.Close()
		return nil, err
	}
	if s.xsuaa, err = serve("XSUAA", cfg.XSUAAAddr, s.wrap("xsuaa", s.xsuaaHandler())); err != nil {
		s.Close()
		return nil, err
	}
	if err = s.startTenant(); err != nil {
		s.Close()
		return nil, err
	}
	s.mu.Lock()
	err = s.initPKILocked()
	if err == nil {
		err = s.startCertAuthLocked()
	}
	if err != nil {
		s.mu.Unlock()
		s.Close()
		return nil, fmt.Errorf("simulator certificate token host: %w", err)
	}
	s.saveLocked()
	s.mu.Unlock()
	return s, nil
}

// serve listens on addr, which must be loopback ("" picks a free port):
// the simulator hands out demo credentials and must not be reachable from
// other machines.
func serve(name, addr string, h http.Handler) (*listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("simulator %s address %q: %w", name, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("simulator %s address %q is not loopback; use 127.0.0.1:PORT", name, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulator %s listener on %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return &listener{ln: ln, srv: srv, url: "http://" + ln.Addr().String()}, nil
}

// Close stops all listeners.
func (s *Server) Close() {
	s.closeTenant()
	for _, l := range []*listener{s.cli, s.cf, s.xsuaa, s.certAuth} {
		if l != nil {
			// Close, not Shutdown: long-polls and keep-alives would only delay
			// the end of every test.
			l.srv.Close()
		}
	}
	s.mu.Lock()
	s.saveLocked()
	s.mu.Unlock()
}

// CLIServerURL is the BTP CLI server base URL (BTP_CLI_SERVER_URL).
func (s *Server) CLIServerURL() string { return s.cli.url }

// CFAPIURL is the Cloud Foundry API endpoint (also serves /login and
// /oauth/token of UAA, as the root document says).
func (s *Server) CFAPIURL() string { return s.cf.url }

// TokenBaseURL is the XSUAA host that it-rt keys' tokenurl points to.
func (s *Server) TokenBaseURL() string { return s.xsuaa.url }

func (s *Server) now() time.Time { return s.cfg.Now() }

// nextID returns a fresh GUID; callers hold s.mu.
func (s *Server) nextID() string {
	s.world.Seq++
	return guid(s.rnd)
}

// saveLocked persists the world in demo mode; callers hold s.mu.
func (s *Server) saveLocked() {
	if s.cfg.StateFile == "" {
		return
	}
	b, err := json.Marshal(s.world)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(s.cfg.StateFile), 0o700); err != nil {
		return
	}
	tmp := s.cfg.StateFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return
	}
	os.Rename(tmp, s.cfg.StateFile) //nolint:errcheck // best effort
}

// --- request accounting and scripted faults -------------------------------

// FaultKind names a scripted failure.
type FaultKind string

// The fault kinds the simulator can script.
const (
	// FaultHTTPStatus answers with Status (CLI server: empty body and
	// X-Cpcli-Server-Message; CF: an errors[] body) before handling.
	FaultHTTPStatus FaultKind = "http-status"
	// FaultBackend429: CLI server HTTP 200, backend 429 [Error: 11006/429].
	FaultBackend429 FaultKind = "backend-429"
	// FaultEntitlementLock: CLI server HTTP 200, backend 400 [Error: 30004/400].
	FaultEntitlementLock FaultKind = "entitlement-lock"
	// FaultCF429: CF 429 with text/plain JSON body and Retry-After.
	FaultCF429 FaultKind = "cf-429"
	// FaultConnReset closes the connection without an answer.
	FaultConnReset FaultKind = "conn-reset"
	// FaultLatency delays matching requests by Latency.
	FaultLatency FaultKind = "latency"
	// FaultBrokerFailure makes the next provision fail with Message (or the
	// tenant-not-provisioned text).
	FaultBrokerFailure FaultKind = "broker-failure"
	// FaultJobFailure makes the next CF job end FAILED.
	FaultJobFailure FaultKind = "job-failure"
	// FaultTokenExpiry invalidates all CF access tokens on the matching request.
	FaultTokenExpiry FaultKind = "token-expiry"
	// FaultSessionExpiry invalidates all CLI server sessions on the matching request.
	FaultSessionExpiry FaultKind = "session-expiry"
	// FaultEntitlementFailure makes the next assignment end PROCESSING_FAILED.
	FaultEntitlementFailure FaultKind = "entitlement-failure"
)

// Fault scripts a failure for requests whose key starts with Match. Keys are
// "cli:login", "cli:<group>/<object>?<action>", "cf:<METHOD> <path>",
// "uaa:<METHOD> <path>" and "xsuaa:<METHOD> <path>". State faults (broker,
// job, entitlement failure) use the key of the creating request.
type Fault struct {
	Kind       FaultKind
	Match      string
	Times      int // requests affected; 0 means 1
	Skip       int // matching requests let through first
	Status     int
	RetryAfter time.Duration
	Latency    time.Duration
	Message    string
}

// Inject adds a scripted fault.
func (s *Server) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults removes all pending faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault returns and consumes the first pending fault of one of kinds
// matching key. Callers must NOT hold s.mu.
func (s *Server) takeFault(key string, kinds ...FaultKind) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeFaultLocked(key, kinds...)
}

func (s *Server) takeFaultLocked(key string, kinds ...FaultKind) *Fault {
	for i, f := range s.faults {
		if !strings.HasPrefix(key, f.Match) {
			continue
		}
		ok := false
		for _, k := range kinds {
			if f.Kind == k {
				ok = true
			}
		}
		if !ok {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		c := *f
		return &c
	}
	return nil
}

// entitlementPadding returns the filler services, built on first use.
func (s *Server) entitlementPadding() []byte {
	s.paddingOnce.Do(func() { s.padding = entitlementPadding(s.cfg.EntitlementPadding) })
	return s.padding
}

// Requests returns the keys of all requests served so far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// ResetRequests clears the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

// RequestKey classifies a request the way Fault.Match expects.
func RequestKey(surface string, r *http.Request) string {
	p := r.URL.Path
	if surface == "cli" {
		switch {
		case strings.HasPrefix(p, "/login/"):
			return "cli:login"
		case strings.HasPrefix(p, "/logout/"):
			return "cli:logout"
		case strings.HasPrefix(p, "/command/"):
			rest := strings.TrimPrefix(p, "/command/")
			if i := strings.Index(rest, "/"); i >= 0 {
				rest = rest[i+1:] // drop the protocol version
			}
			return "cli:" + rest + "?" + r.URL.RawQuery
		}
		return "cli:" + r.Method + " " + p
	}
	if surface == "cf" && (p == "/login" || strings.HasPrefix(p, "/oauth/") || p == "/passcode") {
		surface = "uaa"
	}
	return surface + ":" + r.Method + " " + p
}

// wrap adds latency, request accounting and connection-level faults.
func (s *Server) wrap(surface string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := RequestKey(surface, r)
		s.mu.Lock()
		s.requests = append(s.requests, key)
		s.mu.Unlock()
		delay := s.cfg.Latency
		if f := s.takeFault(key, FaultLatency); f != nil {
			delay += f.Latency
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if f := s.takeFault(key, FaultConnReset); f != nil {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					if tc, ok := conn.(*net.TCPConn); ok {
						tc.SetLinger(0) //nolint:errcheck // RST instead of FIN
					}
					conn.Close()
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// errNotFound is used by lookups inside handlers.
var errNotFound = errors.New("not found")
