package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// recordingKeyring passes every call to the real adapter (go-keyring's mock
// in tests) and remembers the service of each write.
type recordingKeyring struct {
	steps.Keyring
	mu     sync.Mutex
	writes []string // "set service account", "delete service account"
}

func (r *recordingKeyring) Set(ctx context.Context, service, account, secret string) error {
	r.mu.Lock()
	r.writes = append(r.writes, "set "+service+" "+account)
	r.mu.Unlock()
	return r.Keyring.Set(ctx, service, account, secret)
}

func (r *recordingKeyring) Delete(ctx context.Context, service, account string) error {
	r.mu.Lock()
	r.writes = append(r.writes, "delete "+service+" "+account)
	r.mu.Unlock()
	return r.Keyring.Delete(ctx, service, account)
}

func (r *recordingKeyring) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.writes
	r.writes = nil
	return w
}

// demoWorld is a fresh HOME holding a real user's configuration, with the
// demo's simulated SAP made fast.
type demoWorld struct {
	home string
	kc   *recordingKeyring
	env  func(string) string
	// real is the real configuration's files and their content before any
	// demo run.
	real map[string]string
}

const realProfiles = `{"version":1,"profiles":[{"name":"real-sub/REAL_INSTANCE/REAL_INSTANCE-key","globalAccount":"real-ga",` +
	`"subaccount":{"id":"0000","subdomain":"real-sub"},"runtime":"cf","plan":"integration-flow","instance":{"name":"REAL_INSTANCE"},` +
	`"key":{"name":"REAL_INSTANCE-key"},"clientid":"sb-real","tokenurl":"https://real.example/oauth/token","url":"https://real.example",` +
	`"keychainService":"cpikey","keychainAccount":"real-sub/REAL_INSTANCE/REAL_INSTANCE-key","createdAt":"2026-01-01T00:00:00Z"}]}`

func newDemoWorld(t *testing.T) *demoWorld {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	keyring.MockInit()
	old := demoTiming
	demoTiming = sim.Config{ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond, EntitleTime: time.Nanosecond, EntitlementPadding: -1}
	t.Cleanup(func() { demoTiming = old })
	w := &demoWorld{home: home}
	oldKR := newKeyring
	newKeyring = func(getenv func(string) string) steps.Keyring {
		w.kc = &recordingKeyring{Keyring: oldKR(getenv)}
		return w.kc
	}
	t.Cleanup(func() { newKeyring = oldKR })

	// A real user: their preferences, a profile, its secret, and their
	// account in the environment, none of which a demo run may touch.
	w.real = map[string]string{
		".config/cpikey/prefs.json":    `{"lastGlobalAccount":"real-ga"}`,
		".config/cpikey/profiles.json": realProfiles,
	}
	for rel, content := range w.real {
		p := filepath.Join(home, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := keyring.Set("cpikey", "real-sub/REAL_INSTANCE/REAL_INSTANCE-key", "real-$ecret"); err != nil {
		t.Fatal(err)
	}
	w.env = envFunc(map[string]string{"BTP_USERNAME": "real.user@example.com", "BTP_PASSWORD": "Real-pa$$word",
		"BTP_GLOBALACCOUNT": "real-ga", "BTP_IDP": "real-idp", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/test/bus"})
	return w
}

func (w *demoWorld) cpikey(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr, w.env)
	if code != want {
		t.Fatalf("cpikey %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "Real-pa$$word") {
		t.Fatal("the real password was printed")
	}
	return stdout.String(), stderr.String()
}

// files lists every file under HOME, relative, sorted.
func (w *demoWorld) files(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(w.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(w.home, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// checkReal fails unless the real configuration is byte for byte as it was
// and the demo wrote nothing outside its namespace.
func (w *demoWorld) checkReal(t *testing.T, demoFiles ...string) {
	t.Helper()
	for rel, content := range w.real {
		if b, err := os.ReadFile(filepath.Join(w.home, rel)); err != nil || string(b) != content {
			t.Errorf("the demo changed the real %s: %v\n%s", rel, err, b)
		}
	}
	want := append(slices.Collect(func(yield func(string) bool) {
		for rel := range w.real {
			if !yield(rel) {
				return
			}
		}
	}), demoFiles...)
	slices.Sort(want)
	if got := w.files(t); !slices.Equal(got, want) {
		t.Errorf("files under HOME:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if s, err := keyring.Get("cpikey", "real-sub/REAL_INSTANCE/REAL_INSTANCE-key"); err != nil || s != "real-$ecret" {
		t.Errorf("the real keychain entry changed: %q, %v", s, err)
	}
	if w.kc != nil {
		for _, c := range w.kc.take() {
			// The secrets' service, and the one of the tokens cpikey call keeps.
			if !strings.Contains(c, " "+demoKeychainService+" ") && !strings.Contains(c, " "+demoKeychainService+":token ") {
				t.Errorf("a demo run wrote outside the demo keychain service: %s", c)
			}
		}
	}
}

// The files a demo run writes: all of them in the demo namespace.
var demoRunFiles = []string{".cache/cpikey/demo/state.json", ".config/cpikey/demo/prefs.json", ".config/cpikey/demo/prefs.json.lock",
	".config/cpikey/demo/profiles.json", ".config/cpikey/demo/profiles.json.lock"}

// TestDemo_IsolatedAndEveryCommandWorks runs the demo headless and then
// every profile command on what it kept, --demo before and after the
// command name, each in a new process-like run (a new simulator on new
// ports, started from the saved state), checking after each step that the
// real configuration, file by file, and the real keychain service are
// untouched.
func TestDemo_IsolatedAndEveryCommandWorks(t *testing.T) {
	w := newDemoWorld(t)
	name := sim.SubFreshSubdomain + "/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"

	out, errOut := w.cpikey(t, 0, "--demo", "--yes", "--json", "--show-secret")
	var res struct {
		Credentials struct{ ClientID, ClientSecret, TokenURL string }
		Keychain    struct{ Service, Account string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Keychain.Service != demoKeychainService || res.Keychain.Account != name {
		t.Errorf("demo secret stored as %+v", res.Keychain)
	}
	if !strings.Contains(errOut, "Profile "+name+" kept (cpikey --demo token") {
		t.Errorf("the demo did not keep (or name) its profile:\n%s", errOut)
	}
	if s, err := keyring.Get(demoKeychainService, name); err != nil || s != res.Credentials.ClientSecret {
		t.Errorf("demo secret not under %s: %v", demoKeychainService, err)
	}
	if _, err := keyring.Get("cpikey", name); err == nil {
		t.Error("the demo secret is under the real keychain service")
	}
	w.checkReal(t, demoRunFiles...)
	prefs, _ := os.ReadFile(filepath.Join(w.home, ".config/cpikey/demo/prefs.json"))
	if !strings.Contains(string(prefs), sim.GASubdomain) {
		t.Errorf("demo prefs: %s", prefs)
	}

	t.Run("list", func(t *testing.T) {
		for _, args := range [][]string{{"list", "--demo"}, {"--demo", "list"}} {
			if out, _ := w.cpikey(t, 0, args...); out != name+"\n" {
				t.Errorf("%v = %q", args, out)
			}
		}
		if out, _ := w.cpikey(t, 0, "list"); !strings.HasPrefix(out, "real-sub/") || strings.Contains(out, name) {
			t.Errorf("list without --demo shows the demo (or lost the real profile): %q", out)
		}
		w.checkReal(t, demoRunFiles...)
	})
	t.Run("show", func(t *testing.T) {
		out, _ := w.cpikey(t, 0, "show", "--demo")
		if !strings.Contains(out, res.Credentials.ClientID) || strings.Contains(out, res.Credentials.ClientSecret) ||
			!strings.Contains(out, "service "+demoKeychainService) {
			t.Errorf("show --demo:\n%s", out)
		}
		if out, _ := w.cpikey(t, 0, "--demo", "show", name, "--json", "--show-secret"); !strings.Contains(out, res.Credentials.ClientSecret) {
			t.Errorf("show --json --show-secret lacks the secret:\n%s", out)
		}
		w.checkReal(t, demoRunFiles...)
	})
	t.Run("token, after the simulator moved to new ports", func(t *testing.T) {
		out, errOut := w.cpikey(t, 0, "token", "--demo")
		claims, err := oauth.DecodeJWTPayload(strings.TrimSpace(out))
		if err != nil || claims["client_id"] != res.Credentials.ClientID || errOut != "" {
			t.Fatalf("token --demo: %v, stdout %q, stderr %q", err, out, errOut)
		}
		w.checkReal(t, demoRunFiles...)
	})
	t.Run("call, after the simulator moved to new ports", func(t *testing.T) {
		if out, _ := w.cpikey(t, 0, "call", "--demo", sim.FlowEcho, "-d", "hello"); out != "hello" {
			t.Errorf("call --demo: %q", out)
		}
		_, errOut := w.cpikey(t, 1, "--demo", "call", sim.FlowOrders, "-d", "x")
		if !strings.Contains(errOut, "(ESBMessaging.send)") {
			t.Errorf("call --demo to the custom-role iFlow: %s", errOut)
		}
		w.checkReal(t, demoRunFiles...)
	})
	t.Run("export", func(t *testing.T) {
		envFile := filepath.Join(t.TempDir(), ".env")
		w.cpikey(t, 0, "--demo", "export", "--format", "env", "-o", envFile)
		if b, _ := os.ReadFile(envFile); !strings.Contains(string(b), res.Credentials.ClientSecret) {
			t.Errorf("env export:\n%s", b)
		}
		if out, _ := w.cpikey(t, 0, "export", "--demo", "--format", "terraform"); !strings.Contains(out, "CPI_SAMPLE_INSTANCE") {
			t.Errorf("terraform export:\n%s", out)
		}
		w.checkReal(t, demoRunFiles...)
	})
	t.Run("rotate", func(t *testing.T) {
		out, _ := w.cpikey(t, 0, "rotate", "--demo", "--json")
		var p struct{ ClientID, KeychainService string }
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.ClientID == res.Credentials.ClientID || p.KeychainService != demoKeychainService {
			t.Fatalf("rotate --demo: %v %+v", err, p)
		}
		w.cpikey(t, 0, "--demo", "token")
		w.checkReal(t, demoRunFiles...)
	})
	t.Run("forget --delete-key", func(t *testing.T) {
		_, errOut := w.cpikey(t, 0, "forget", name, "--demo", "--delete-key")
		if !strings.Contains(errOut, "deleted in SAP") {
			t.Errorf("forget: %s", errOut)
		}
		if out, _ := w.cpikey(t, 0, "--demo", "list", "--json"); strings.TrimSpace(out) != "[]" {
			t.Errorf("list after forget: %q", out)
		}
		if _, err := keyring.Get(demoKeychainService, name); err == nil {
			t.Error("forget left the demo secret")
		}
		_, errOut = w.cpikey(t, 1, "token", "--demo")
		if !strings.Contains(errOut, "run cpikey --demo first") {
			t.Errorf("token without a demo profile: %s", errOut)
		}
		w.checkReal(t, demoRunFiles...)
	})
}

// TestDemo_ResetRemovesEverything: --demo-reset removes the demo's state,
// profiles, preferences and keychain entries, and nothing real.
func TestDemo_ResetRemovesEverything(t *testing.T) {
	w := newDemoWorld(t)
	old := sim.SubFreshSubdomain + "/OLD_INSTANCE/OLD_INSTANCE-key"
	w.cpikey(t, 0, "--demo", "--yes", "--instance", "OLD_INSTANCE")
	if _, err := keyring.Get(demoKeychainService, old); err != nil {
		t.Fatalf("no demo secret to reset: %v", err)
	}
	w.cpikey(t, 0, "--demo", "call", sim.FlowEcho) // keeps a token in the keychain too
	if _, err := keyring.Get(demoKeychainService+":token", old); err != nil {
		t.Fatalf("no kept demo token to reset: %v", err)
	}
	w.checkReal(t, demoRunFiles...)

	_, errOut := w.cpikey(t, 0, "--demo", "--demo-reset", "--yes", "--instance", "NEW_INSTANCE")
	if !strings.Contains(errOut, "Demo reset") || !strings.Contains(errOut, "2 keychain entries") {
		t.Errorf("reset did not say what it removed:\n%s", errOut)
	}
	if _, err := keyring.Get(demoKeychainService, old); err == nil {
		t.Error("--demo-reset left the old demo secret in the keychain")
	}
	if _, err := keyring.Get(demoKeychainService+":token", old); err == nil {
		t.Error("--demo-reset left the old demo token in the keychain")
	}
	out, _ := w.cpikey(t, 0, "--demo", "list")
	if out != sim.SubFreshSubdomain+"/NEW_INSTANCE/NEW_INSTANCE-key\n" {
		t.Errorf("demo profiles after the reset: %q", out)
	}
	state, _ := os.ReadFile(filepath.Join(w.home, ".cache/cpikey/demo/state.json"))
	if bytes.Contains(state, []byte("OLD_INSTANCE")) {
		t.Error("the simulated landscape still has the instance from before the reset")
	}
	w.checkReal(t, demoRunFiles...)

	if _, errOut := w.cpikey(t, 2, "--demo-reset", "--yes"); !strings.Contains(errOut, "--demo-reset needs --demo") {
		t.Errorf("--demo-reset without --demo: %s", errOut)
	}
}
