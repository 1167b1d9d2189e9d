package transport_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/transport"
)

func TestCheckURL_PlainHTTPOnlyToLoopback(t *testing.T) {
	cases := []struct {
		url  string
		ok   bool
		want string // part of the refusal
	}{
		{"https://cli.btp.cloud.sap", true, ""},
		{"https://api.cf.eu10.hana.ondemand.com/", true, ""},
		{"http://127.0.0.1:8080", true, ""},
		{"http://127.9.9.9", true, ""},
		{"http://localhost:3000/x", true, ""},
		{"http://LOCALHOST", true, ""},
		{"http://[::1]:9000", true, ""},
		{"http://cli.btp.cloud.sap", false, "refusing plain http:// to cli.btp.cloud.sap"},
		{"http://10.0.0.1", false, "refusing plain http://"},
		{"http://0.0.0.0:80", false, "refusing plain http://"},
		{"http://localhost.example.com", false, "refusing plain http://"},
		{"http://127.0.0.1.nip.io", false, "refusing plain http://"},
		{"HTTP://cli.btp.cloud.sap", false, "refusing plain http://"},
		{"ftp://127.0.0.1", false, "unsupported URL scheme"},
		{"cli.btp.cloud.sap", false, "unsupported URL scheme"},
		{"https://", false, "has no host"},
		{"https://a b", false, "invalid URL"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			_, err := transport.CheckURL(tc.url)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

// headerRecorder is "another host": it records what reaches it.
type headerRecorder struct {
	mu   sync.Mutex
	reqs []http.Header
	body []string
	srv  *httptest.Server
}

func newHeaderRecorder(t *testing.T) *headerRecorder { return newHeaderRecorderOn(t, "") }

// newHeaderRecorderOn listens on addr (e.g. 127.0.0.2:0, another loopback
// host), or on a free port of 127.0.0.1 when addr is "" or unusable.
func newHeaderRecorderOn(t *testing.T, addr string) *headerRecorder {
	r := &headerRecorder{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/from" {
			http.Redirect(w, req, "/to", http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Header.Clone())
		r.body = append(r.body, string(b))
		r.mu.Unlock()
		io.WriteString(w, "{}") //nolint:errcheck
	}))
	if addr != "" {
		if ln, err := net.Listen("tcp", addr); err == nil {
			r.srv.Listener.Close()
			r.srv.Listener = ln
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *headerRecorder) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.body...)
}

func (r *headerRecorder) seen() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.reqs...)
}

// redirector answers every request with a 307 to target+path.
func redirector(t *testing.T, target string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target+req.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(s.Close)
	return s
}

var sensitive = map[string]string{
	"Authorization":       "bearer CANARY-access-token",
	"X-Cpcli-Sessionid":   "CANARY-session-id",
	"Cookie":              "JSESSIONID=CANARY-cookie",
	"Proxy-Authorization": "Basic Q0FOQVJZ",
}

// TestNewHTTPClient_FollowsRedirectsOnlyWithinTheOrigin: another port or
// host gets nothing at all (no body, no headers); the same origin gets the
// request again, body and headers included.
func TestNewHTTPClient_FollowsRedirectsOnlyWithinTheOrigin(t *testing.T) {
	const body = `{"paramValues":{}}`
	cases := []struct {
		name   string
		start  func(rec *headerRecorder) string // URL of the first request
		follow bool
	}{
		{"other port", func(rec *headerRecorder) string { return redirector(t, rec.srv.URL).URL + "/command" }, false},
		{"other host name", func(rec *headerRecorder) string {
			return redirector(t, strings.Replace(rec.srv.URL, "127.0.0.1", "localhost", 1)).URL + "/command"
		}, false},
		// Same host and port: everything is sent again, which proves the
		// recorder would see it had it been forwarded elsewhere.
		{"same origin", func(rec *headerRecorder) string { return rec.srv.URL + "/from" }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newHeaderRecorder(t)
			hc := transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second})
			req, _ := http.NewRequest(http.MethodPost, tc.start(rec), strings.NewReader(body))
			for k, v := range sensitive {
				req.Header.Set(k, v)
			}
			resp, err := hc.Do(req)
			got := rec.seen()
			if !tc.follow {
				if len(got) != 0 {
					t.Fatalf("the other origin saw %d requests, want none", len(got))
				}
				if !transport.IsRedirectRefused(err) {
					t.Fatalf("err = %v, want a refused redirect", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(got) != 1 || rec.bodies()[0] != body {
				t.Fatalf("redirect target saw %d requests (%q), want 1 with the body", len(got), rec.bodies())
			}
			for k, v := range sensitive {
				if got[0].Get(k) != v {
					t.Errorf("%s was not kept within the origin", k)
				}
			}
		})
	}
}

func TestNewHTTPClient_RedirectElsewhereIsRefusedBeforeAnyConnection(t *testing.T) {
	// cli.btp.example.invalid never resolves; the refusal must come first.
	for _, target := range []string{"http://cli.btp.example.invalid", "https://cli.btp.example.invalid"} {
		s := redirector(t, target)
		hc := transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second})
		resp, err := hc.Get(s.URL + "/x")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("followed a redirect to %s", target)
		}
		if !transport.IsRedirectRefused(err) || !strings.Contains(err.Error(), "cli.btp.example.invalid, where cpikey does not send credentials; nothing was sent there") {
			t.Fatalf("error %q does not name the refusal", err)
		}
	}
}

func TestNewHTTPClient_StopsAfterFiveRedirects(t *testing.T) {
	var n atomic.Int32
	var s *httptest.Server
	s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Redirect(w, r, s.URL+"/again", http.StatusFound)
	}))
	defer s.Close()
	_, err := transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}).Get(s.URL)
	if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
		t.Fatalf("err = %v", err)
	}
	if n.Load() > 6 {
		t.Fatalf("%d requests for a redirect loop", n.Load())
	}
}

// endless is a reader that never ends and counts what was taken from it.
type endless struct{ n atomic.Int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n.Add(int64(len(p)))
	return len(p), nil
}

func TestReadBody_RefusesOversizedBodiesWithoutReadingThemWhole(t *testing.T) {
	cases := []struct {
		name  string
		limit int64
		body  func() (io.Reader, *endless)
		ok    bool
	}{
		{"under the limit", 10, func() (io.Reader, *endless) { return strings.NewReader("0123456789"), nil }, true},
		{"one byte over", 10, func() (io.Reader, *endless) { return strings.NewReader("0123456789x"), nil }, false},
		{"endless", 1 << 10, func() (io.Reader, *endless) { e := &endless{}; return e, e }, false},
		{"endless, default limit", 0, func() (io.Reader, *endless) { e := &endless{}; return e, e }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, counter := tc.body()
			b, err := transport.ReadBody(r, tc.limit)
			if tc.ok {
				if err != nil || int64(len(b)) != tc.limit {
					t.Fatalf("ReadBody = %d bytes, %v", len(b), err)
				}
				return
			}
			if !errors.Is(err, transport.ErrBodyTooLarge) {
				t.Fatalf("err = %v, want ErrBodyTooLarge", err)
			}
			limit := tc.limit
			if limit <= 0 {
				limit = transport.MaxBodyBytes
			}
			if counter != nil && counter.n.Load() > limit+64<<10 {
				t.Fatalf("read %d bytes for a limit of %d", counter.n.Load(), limit)
			}
		})
	}
}

func TestLimitedReader_StopsAStreamingDecoderAtTheLimit(t *testing.T) {
	e := &endless{}
	r := transport.LimitedReader(io.MultiReader(strings.NewReader(`{"a":"`), e), 4<<10)
	_, err := io.Copy(io.Discard, r)
	if !errors.Is(err, transport.ErrBodyTooLarge) {
		t.Fatalf("err = %v, want ErrBodyTooLarge", err)
	}
	if e.n.Load() > 4<<10 {
		t.Fatalf("consumed %d bytes past a 4 KiB limit", e.n.Load())
	}
}

// TestNewHTTPClient_OversizedResponseOverTheWire streams an endless body
// from a real server: reading stops at the limit and the request ends.
func TestNewHTTPClient_OversizedResponseOverTheWire(t *testing.T) {
	var written atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat(" ", 32<<10))
		for {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer s.Close()
	hc := transport.NewHTTPClient(transport.Options{Timeout: 10 * time.Second})
	resp, err := hc.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1 << 20
	_, err = transport.ReadBody(resp.Body, limit)
	resp.Body.Close()
	if !errors.Is(err, transport.ErrBodyTooLarge) {
		t.Fatalf("err = %v", err)
	}
	// Socket buffers let the server get ahead a little, never endlessly.
	if w := written.Load(); w > 64<<20 {
		t.Fatalf("server wrote %d bytes for a 1 MiB limit", w)
	}
}

// connectProxy records CONNECT requests and refuses to tunnel anywhere, so
// no traffic ever leaves loopback.
type connectProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
}

func startConnectProxy(t *testing.T) *connectProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				var hdr []string
				for k := range req.Header {
					hdr = append(hdr, k)
				}
				p.mu.Lock()
				p.lines = append(p.lines, req.Method+" "+req.Host+" headers="+strings.Join(hdr, ","))
				p.mu.Unlock()
				io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") //nolint:errcheck
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

const proxyChildEnv = "CPIKEY_TRANSPORT_PROXY_CHILD"

// TestNewHTTPClient_HonoursHTTPSProxy runs the request in a child process:
// net/http reads the proxy variables once per process.
func TestNewHTTPClient_HonoursHTTPSProxy(t *testing.T) {
	if os.Getenv(proxyChildEnv) == "1" {
		proxyChild()
		return
	}
	p := startConnectProxy(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNewHTTPClient_HonoursHTTPSProxy$", "-test.count=1")
	cmd.Env = append(cleanProxyEnv(os.Environ()), proxyChildEnv+"=1",
		"HTTPS_PROXY=http://"+p.ln.Addr().String(), "NO_PROXY=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child: proxy refused the tunnel") {
		t.Fatalf("child did not report the proxy's refusal:\n%s", out)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) != 1 || !strings.HasPrefix(p.lines[0], "CONNECT cli.btp.example.invalid:443") {
		t.Fatalf("proxy saw %q, want one CONNECT cli.btp.example.invalid:443", p.lines)
	}
	for _, h := range []string{"Authorization", "X-Cpcli-Sessionid"} {
		if strings.Contains(p.lines[0], h) {
			t.Fatalf("the CONNECT request carried %s: %s", h, p.lines[0])
		}
	}
}

func proxyChild() {
	hc := transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://cli.btp.example.invalid/login/v2.106.1", strings.NewReader("{}"))
	req.Header.Set("X-Cpcli-Sessionid", "CANARY-session-id")
	req.Header.Set("Authorization", "bearer CANARY")
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
		fmt.Println("child: request succeeded unexpectedly")
		os.Exit(3)
	}
	// "proxyconnect" or the proxy's status means the client went through it.
	if strings.Contains(err.Error(), "Forbidden") || strings.Contains(err.Error(), "proxyconnect") {
		fmt.Println("child: proxy refused the tunnel")
		return
	}
	fmt.Println("child: unexpected error:", err)
	os.Exit(4)
}

func cleanProxyEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "REQUEST_METHOD":
			continue
		}
		out = append(out, kv)
	}
	return out
}
