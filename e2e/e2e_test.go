package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

// The secret canary: the real binary runs against the simulator with canary
// passwords, and every secret the simulator hands out (session ids, access
// and refresh tokens, client secrets) is searched for in stdout, stderr
// (progress, the --debug trace, error messages, panics), every file written
// under the run's HOME (prefs, profiles, caches, temporary files) and the
// arguments of every child process (fake xdg-open, xclip, wl-copy,
// secret-tool, security first on PATH).

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cpikey once per test process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "cpikey-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "cpikey")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/cpikey/cpikey").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// fakeTool records its name and arguments (never its input) in
// $CPIKEY_FAKE_ARGV, one line per call.
const fakeTool = `#!/bin/sh
name=$(basename "$0")
{ printf '%s' "$name"; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\n'; } >> "$CPIKEY_FAKE_ARGV"
case "$name" in
xclip|xsel)
	case " $* " in
	*" -o "*|*" -out "*|*" --output "*) cat "$CPIKEY_FAKE_CLIP" 2>/dev/null ;;
	*) cat > "$CPIKEY_FAKE_CLIP" ;;
	esac ;;
wl-copy) cat > "$CPIKEY_FAKE_CLIP" ;;
wl-paste) cat "$CPIKEY_FAKE_CLIP" 2>/dev/null ;;
secret-tool|security) exit 1 ;;
esac
exit 0
`

var fakeNames = []string{"xdg-open", "open", "sensible-browser", "x-www-browser", "www-browser",
	"xclip", "xsel", "wl-copy", "wl-paste", "secret-tool", "security"}

// world is one simulator with canary passwords plus the places the runs
// write to.
type world struct {
	sim       *sim.Server
	password  string // the admin's canary password
	fakes     string // directory of the fake tools (not under any HOME)
	argvLog   string
	clipStore string
	mu        sync.Mutex
	outputs   []output // everything to scan at the end
}

type output struct {
	where string
	data  []byte
}

func newWorld(t *testing.T, cfg sim.Config) *world {
	t.Helper()
	cfg.EntitlementPadding = -1
	s, err := sim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	w := &world{sim: s, password: "Canary+Pw$&=/" + randHex(t)}
	s.Do(func(sw *sim.World) {
		for _, u := range sw.Users {
			u.Password = "Canary-" + strings.SplitN(u.Email, "@", 2)[0] + "-pw$" + randHex(t)
			if u.Email == sim.AdminUser {
				u.Password = w.password
			}
		}
	})
	w.fakes = t.TempDir()
	w.argvLog = filepath.Join(w.fakes, "argv.log")
	w.clipStore = filepath.Join(w.fakes, "clipboard")
	for _, n := range fakeNames {
		if err := os.WriteFile(filepath.Join(w.fakes, n), []byte(fakeTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func randHex(t *testing.T) string {
	b := make([]byte, 8)
	f, err := os.Open("/dev/urandom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(b); err != nil {
		t.Fatal(err)
	}
	const hex = "0123456789abcdef"
	var out []byte
	for _, x := range b {
		out = append(out, hex[x>>4], hex[x&15])
	}
	return string(out)
}

// caFile writes the simulator's CA (PEM) outside every HOME, for
// SSL_CERT_FILE: the certificate token host's TLS certificate chains to it.
func (w *world) caFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(w.fakes, "sim-ca.pem")
	if err := os.WriteFile(p, w.sim.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) record(where string, data []byte) {
	w.mu.Lock()
	w.outputs = append(w.outputs, output{where, append([]byte(nil), data...)})
	w.mu.Unlock()
}

// home makes a fresh HOME whose temp directory is inside it, so temporary
// files are scanned too.
func (w *world) home(t *testing.T) string {
	h := t.TempDir()
	if err := os.MkdirAll(filepath.Join(h, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

// env is the child's whole environment: nothing of the developer's (no real
// BTP_*, proxies, D-Bus session or display) leaks in.
func (w *world) env(home string, extra ...string) []string {
	return append([]string{
		"PATH=" + w.fakes + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"LANG=C.UTF-8",
		"BTP_CLI_SERVER_URL=" + w.sim.CLIServerURL(),
		"CPIKEY_FAKE_ARGV=" + w.argvLog,
		"CPIKEY_FAKE_CLIP=" + w.clipStore,
	}, extra...)
}

// recordHome records every regular file under home for the final scan and
// returns their paths relative to home.
func (w *world) recordHome(t *testing.T, label, home string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(home, p)
		files = append(files, rel)
		w.record(label+": file $HOME/"+rel, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// secrets is everything that must never show: what the simulator issued
// and knows, and the Basic credentials built from each key.
func (w *world) secrets() []string {
	all := w.sim.IssuedSecrets()
	var ids []string
	w.sim.Do(func(sw *sim.World) {
		for _, k := range sw.Keys {
			ids = append(ids, k.ClientID)
		}
	})
	base := append([]string(nil), all...)
	for _, id := range ids {
		for _, s := range base {
			all = append(all,
				base64.StdEncoding.EncodeToString([]byte(id+":"+s)),
				base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(s))))
		}
	}
	return all
}

// scanAll checks every recorded output, the fake tools' argument log and
// the clipboard left behind.
func (w *world) scanAll(t *testing.T) {
	t.Helper()
	secrets := w.secrets()
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets to look for: the runs did not get far", len(secrets))
	}
	w.mu.Lock()
	outs := append([]output(nil), w.outputs...)
	w.mu.Unlock()
	for _, o := range outs {
		if os.Getenv("CPIKEY_E2E_DUMP") != "" { // debugging: show what is scanned
			t.Logf("==== %s\n%s", o.where, o.data)
		}
		scanForSecrets(t, o.where, o.data, secrets)
		if bytes.Contains(o.data, []byte("panic:")) || bytes.Contains(o.data, []byte("goroutine ")) {
			t.Errorf("%s shows a panic", o.where)
		}
	}
	argv, _ := os.ReadFile(w.argvLog)
	scanForSecrets(t, "child process arguments", argv, secrets)
	t.Logf("scanned %d outputs for %d secrets (with encodings); child calls:\n%s", len(outs), len(secrets), argv)
}

type run struct {
	stdout, stderr []byte
	code           int
}

// runCPIKey runs the binary to completion (or until ctx ends).
func (w *world) runCPIKey(t *testing.T, label, home string, env []string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = env
	cmd.Stdin = nil
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := run{stdout: stdout.Bytes(), stderr: stderr.Bytes()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", label, err)
	}
	w.record(label+": stderr", r.stderr)
	return r
}

func TestSecretCanary_Headless(t *testing.T) {
	w := newWorld(t, sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1, SSODelay: 20 * time.Millisecond})
	user := []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password}
	base := []string{"--yes", "--debug", "--global-account", sim.GASubdomain}
	// Certificate keys: the binary trusts the simulator's CA through
	// SSL_CERT_FILE, as a user would a corporate CA; an external
	// certificate and its key come from the simulated customer CA, in files
	// outside HOME.
	certUser := append([]string{"SSL_CERT_FILE=" + w.caFile(t)}, user...)
	extCert, extKey, err := w.sim.NewCompanyCertificate("canary.acme.example", 90)
	if err != nil {
		t.Fatal(err)
	}
	extCertFile, extKeyFile := filepath.Join(w.fakes, "ext.pem"), filepath.Join(w.fakes, "ext.key")
	os.WriteFile(extCertFile, extCert, 0o600) //nolint:errcheck
	os.WriteFile(extKeyFile, extKey, 0o600)   //nolint:errcheck

	cases := []struct {
		name     string
		env      []string
		args     []string
		setup    func()
		wantCode int
		want     []string // in stderr
		// showsSecret: stdout legitimately holds the client secret (the
		// explicit export); the scanner must catch it there.
		showsSecret bool
	}{
		{name: "json", env: user, args: []string{"--json", "--subaccount", sim.SubReady}, want: []string{"http: POST", "Token fetched"}},
		{name: "text, entitling a fresh subaccount", env: user, args: []string{"--subaccount", sim.SubFresh}, want: []string{"entitled", "clientsecret"}},
		{name: "show-secret", env: user, args: []string{"--json", "--show-secret", "--subaccount", sim.SubReady}, showsSecret: true},
		{name: "session and token expiry", env: user, args: []string{"--json", "--subaccount", sim.SubReady, "--instance", "CANARY_EXPIRY"},
			setup: func() {
				w.sim.Inject(sim.Fault{Kind: sim.FaultSessionExpiry, Match: "cli:accounts/environment-instance?list"})
				w.sim.Inject(sim.Fault{Kind: sim.FaultTokenExpiry, Match: "cf:POST /v3/service_instances"})
			}},
		{name: "broker failure", env: user, args: []string{"--subaccount", sim.SubReady, "--instance", "CANARY_BROKER"}, wantCode: 1,
			setup: func() { w.sim.Inject(sim.Fault{Kind: sim.FaultBrokerFailure, Match: "cf:POST /v3/service_instances"}) },
			want:  []string{"service broker"}},
		{name: "wrong password", env: []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=Canary-wrong-" + w.password},
			args: []string{"--subaccount", sim.SubReady}, wantCode: 1, want: []string{"password"}},
		{name: "sso, runtime other", args: []string{"--sso", "--runtime", "other", "--subaccount", sim.SubNoCF}, want: []string{"Open this URL"}},
		{name: "certificate key", env: certUser, args: []string{"--json", "--show-secret", "--subaccount", sim.SubReady, "--instance", "CANARY_CERT",
			"--key-type", "certificate", "--validity", "30", "--key-length", "1024"}, want: []string{"with the client certificate", `"keytype": "certificate"`}},
		{name: "external certificate key", env: certUser, args: []string{"--subaccount", sim.SubReady, "--instance", "CANARY_EXT",
			"--key-type", "external-certificate", "--cert", extCertFile, "--cert-key", extKeyFile}, want: []string{"keytype:      External Certificate", "Token fetched"}},
		{name: "certificate key without trusting the token host", env: user, args: []string{"--subaccount", sim.SubReady, "--instance", "CANARY_CERT2",
			"--key-type", "certificate", "--key-length", "1024"}, want: []string{"cannot verify the TLS certificate of the token server"}},
		{name: "rate limits and resets", env: user, args: []string{"--json", "--subaccount", sim.SubReady, "--plan", "api", "--roles", "MonitoringDataRead", "--instance", "CANARY_API"},
			setup: func() {
				w.sim.Inject(sim.Fault{Kind: sim.FaultConnReset, Match: "cf:GET /v3/jobs/"})
				w.sim.Inject(sim.Fault{Kind: sim.FaultHTTPStatus, Match: "xsuaa:POST /oauth/token", Status: 503})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			home := w.home(t)
			r := w.runCPIKey(t, tc.name, home, w.env(home, tc.env...), append(append([]string(nil), base...), tc.args...)...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tc.wantCode, r.stderr)
			}
			for _, s := range tc.want {
				if !bytes.Contains(r.stderr, []byte(s)) && !bytes.Contains(r.stdout, []byte(s)) {
					t.Errorf("output lacks %q\nstderr:\n%s", s, r.stderr)
				}
			}
			if tc.showsSecret {
				// The test of the test on real output: the scanner reports
				// the secret the user asked to see.
				rec := &recordingTB{TB: t}
				scanForSecrets(rec, "stdout", r.stdout, w.sim.IssuedSecrets())
				if len(rec.errs) == 0 {
					t.Fatal("--show-secret printed the secret, yet the scanner saw nothing")
				}
				var out struct{ Credentials struct{ ClientSecret string } }
				if json.Unmarshal(r.stdout, &out) != nil || out.Credentials.ClientSecret == "" {
					t.Fatalf("no clientsecret in --show-secret output:\n%s", r.stdout)
				}
			} else {
				w.record(tc.name+": stdout", r.stdout)
			}
			files := w.recordHome(t, tc.name, home)
			if tc.wantCode == 0 && !slices.Contains(files, filepath.Join(".config", "cpikey", "prefs.json")) {
				t.Errorf("no prefs.json under the run's HOME (files: %v): is HOME ignored?", files)
			}
			if tc.name == "json" {
				t.Logf("files written under HOME: %v", files) // the profile file, once main keeps one
			}
			w.sim.ClearFaults()
		})
	}

	t.Run("call without the secret in a keychain", func(t *testing.T) {
		// No Secret Service here: the profile is kept without its secret,
		// so cpikey call says what to do; a foreign host is refused first.
		home := w.home(t)
		env := w.env(home, user...)
		if r := w.runCPIKey(t, "call: setup", home, env, append(append([]string(nil), base...), "--subaccount", sim.SubReady, "--instance", "CANARY_CALL")...); r.code != 0 {
			t.Fatalf("setup exit %d\n%s", r.code, r.stderr)
		}
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"call", "--debug", sim.FlowEcho, "-d", "x"}, 1, "no client secret in the OS keychain"},
			{[]string{"call", "https://evil.example/http/x"}, 2, "refusing to send the key's credentials"},
		} {
			r := w.runCPIKey(t, "call "+c.args[len(c.args)-1], home, env, c.args...)
			w.record("call: stdout", r.stdout)
			if r.code != c.code || !bytes.Contains(r.stderr, []byte(c.want)) {
				t.Errorf("%v: exit %d, stderr %s", c.args, r.code, r.stderr)
			}
		}
		w.recordHome(t, "call", home)
	})

	t.Run("a private key in the output is caught (the test of the test)", func(t *testing.T) {
		b, _ := pem.Decode(extKey)
		jsonKey, _ := json.Marshal(string(extKey))
		for _, leak := range [][]byte{extKey, jsonKey, []byte(base64.StdEncoding.EncodeToString(b.Bytes))} {
			rec := &recordingTB{TB: t}
			scanForSecrets(rec, "output", leak, w.secrets())
			if len(rec.errs) == 0 {
				t.Errorf("the scanner missed a private key (%.30s…)", leak)
			}
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		// SIGINT while the instance is being created: exit 130, nothing leaks.
		w.sim.Inject(sim.Fault{Kind: sim.FaultLatency, Match: "cf:POST /v3/service_instances", Latency: 10 * time.Second})
		defer w.sim.ClearFaults()
		w.sim.ResetRequests()
		home := w.home(t)
		cmd := exec.Command(binary(t), append(base, "--subaccount", sim.SubReady, "--instance", "CANARY_SIGINT")...)
		cmd.Env = w.env(home, user...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !seen(w.sim.Requests(), "cf:POST /v3/service_instances") {
			if time.Now().After(deadline) {
				cmd.Process.Kill() //nolint:errcheck
				t.Fatalf("the create request never came\nstderr:\n%s", stderr.Bytes())
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit %v, want 130\nstderr:\n%s", err, stderr.Bytes())
		}
		w.record("interrupted: stdout", stdout.Bytes())
		w.record("interrupted: stderr", stderr.Bytes())
		w.recordHome(t, "interrupted", home)
	})

	w.scanAll(t)
}

func seen(reqs []string, prefix string) bool {
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}
