package btpsession

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// env is a simulator and a client of it.
type env struct {
	t *testing.T
	s *sim.Server
	c *cliserver.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s, err := sim.Start(sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c, err := cliserver.New(s.CLIServerURL(), transport.NewHTTPClient(transport.Options{Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, c: c}
}

// login logs the admin in and returns the session id the simulator issued.
func (e *env) login() string {
	e.t.Helper()
	if _, err := e.c.Login(ctxT(e.t), cliserver.LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		e.t.Fatal(err)
	}
	issued := e.s.IssuedSecrets() // the session id first, then the users' passwords
	return issued[0]
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

// cliHome points the user config and cache directories at a temp dir.
func cliHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	return home
}

// setOS pretends to run on goos for the test's duration.
func setOS(t *testing.T, os string) {
	t.Helper()
	old := goos
	goos = os
	t.Cleanup(func() { goos = old })
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func btpConfigJSON(serverURL, securestore string) string {
	settings := ""
	if securestore != "" {
		settings = fmt.Sprintf(`,"Settings":{"login.securestore":%q}`, securestore)
	}
	return fmt.Sprintf(`{"ServerURL":%q,"UserName":"admin","Authentication":{"Mail":%q,"Issuer":"accounts.sap.com"},`+
		`"TargetHierarchy":[{"Type":"globalaccount","ID":"x","Subdomain":%q}]%s}`, serverURL, sim.AdminUser, sim.GASubdomain, settings)
}

func TestCLISession_ReuseFromFile(t *testing.T) {
	home := cliHome(t)
	e := newEnv(t)
	sid := e.login() // a live session, as the btp CLI would have it
	e.c.SetSession(nil)

	cfgPath, err := DefaultConfigPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "config", ".btp", "config.json"); cfgPath != want {
		t.Fatalf("default config %s, want %s", cfgPath, want)
	}
	if _, err := Find(""); !errors.Is(err, cliserver.ErrNoCLISession) {
		t.Fatalf("without config: %v", err)
	}
	writeFile(t, cfgPath, btpConfigJSON(e.s.CLIServerURL(), ""))
	if _, err := Find(""); !errors.Is(err, cliserver.ErrNoCLISession) {
		t.Fatalf("without session file: %v", err)
	}
	key := sessionKey(cfgPath)
	if len(key) != 32 || strings.ToLower(key) != key {
		t.Fatalf("key %q", key)
	}
	writeFile(t, filepath.Join(home, "cache", ".btp", key, "session"), sid+"\n")

	for _, arg := range []string{"", cfgPath, filepath.Dir(cfgPath)} {
		cs, err := Find(arg)
		if err != nil {
			t.Fatalf("Find(%q): %v", arg, err)
		}
		if cs.id != sid || cs.Source != "file" || cs.Subdomain != sim.GASubdomain || cs.Mail != sim.AdminUser || cs.ConfigPath != cfgPath || cs.CustomIdP != "" {
			t.Fatalf("session %v (id match %t)", cs, cs.id == sid)
		}
		if s := fmt.Sprintf("%v %+v %#v", cs, *cs, cs); strings.Contains(s, sid) {
			t.Fatalf("CLISession printed its id: %s", s)
		}
	}
	cs, _ := Find("")
	s, err := cs.Use(e.c, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Subdomain != sim.GASubdomain {
		t.Errorf("session %v", s)
	}
	if _, err := e.c.GetGlobalAccount(ctxT(t), "", true); err != nil {
		t.Fatalf("command with the reused session: %v", err)
	}
	if n := e.count("cli:login"); n != 1 {
		t.Fatalf("session reuse logged in again (%d logins)", n)
	}

	// A session of another server is not sent to this one.
	other, _ := cliserver.New("https://cli.btp.cloud.sap", nil)
	if _, err := cs.Use(other, ""); err == nil || !strings.Contains(err.Error(), "belongs to") {
		t.Errorf("foreign server: %v", err)
	}
	// An expired session shows up as IsUnauthorized on first use.
	e.s.Inject(sim.Fault{Kind: sim.FaultSessionExpiry, Match: "cli:"})
	if _, err := e.c.ListSubaccounts(ctxT(t), ""); !cliserver.IsUnauthorized(err) {
		t.Errorf("expired reused session: %v", err)
	}
}

func TestCLISession_Keychain(t *testing.T) {
	home := cliHome(t)
	setOS(t, "darwin")
	keyring.MockInit()
	cfgPath := filepath.Join(home, "btpcfg", "config.json")
	key := sessionKey(cfgPath)
	filePath := filepath.Join(home, "cache", ".btp", key, "session")
	writeFile(t, filePath, "file-session-id")

	tests := []struct {
		name        string
		securestore string
		keychain    func()
		wantSource  string
		wantID      string
	}{
		{"secure store by default", "", func() { keyring.MockInit(); _ = keyring.Set(keychainService, key, "keychain-session-id") }, "keychain", "keychain-session-id"},
		{"secure store default keyword", "default", func() { keyring.MockInit(); _ = keyring.Set(keychainService, key, "keychain-session-id") }, "keychain", "keychain-session-id"},
		{"secure store off", "false", func() { keyring.MockInit(); _ = keyring.Set(keychainService, key, "keychain-session-id") }, "file", "file-session-id"},
		{"keychain broken: file fallback", "true", func() { keyring.MockInitWithError(errors.New("no keychain")) }, "file", "file-session-id"},
		{"keychain hangs: file fallback", "true", func() {
			keyringGet = func(string, string) (string, error) { time.Sleep(time.Second); return "late", nil }
		}, "file", "file-session-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldGet, oldTimeout := keyringGet, keyringTimeout
			keyringGet, keyringTimeout = keyring.Get, 30*time.Millisecond
			t.Cleanup(func() { keyringGet, keyringTimeout = oldGet, oldTimeout })
			tt.keychain()
			writeFile(t, cfgPath, btpConfigJSON("https://cli.btp.cloud.sap", tt.securestore))
			cs, err := Find(filepath.Dir(cfgPath))
			if err != nil {
				t.Fatal(err)
			}
			if cs.Source != tt.wantSource || cs.id != tt.wantID {
				t.Errorf("source %s, id match %t", cs.Source, cs.id == tt.wantID)
			}
		})
	}
	// Linux never asks the keychain, even with the secure store on.
	setOS(t, "linux")
	keyring.MockInit()
	_ = keyring.Set(keychainService, key, "keychain-session-id")
	writeFile(t, cfgPath, btpConfigJSON("https://cli.btp.cloud.sap", "true"))
	if cs, err := Find(cfgPath); err != nil || cs.Source != "file" {
		t.Errorf("linux: %v %v", cs, err)
	}
}

func TestCLISession_WindowsPaths(t *testing.T) {
	home := cliHome(t)
	setOS(t, "windows")
	keyring.MockInitWithError(errors.New("no keychain"))
	p, err := DefaultConfigPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "config", "SAP", "btp", "config.json"); p != want {
		t.Errorf("windows config path %s, want %s", p, want)
	}
	writeFile(t, p, `{"ServerURL":"https://cli.btp.cloud.sap","Authentication":{"Mail":"a@b","Issuer":"mytenant.accounts.ondemand.com"}}`)
	writeFile(t, filepath.Join(home, "cache", "SAP", "btp", sessionKey(p), "session"), "  win-session \r\n")
	cs, err := Find("")
	if err != nil {
		t.Fatal(err)
	}
	if cs.id != "win-session" || cs.CustomIdP != "mytenant.accounts.ondemand.com" || cs.Subdomain != "" {
		t.Errorf("windows session %v idp %q", cs, cs.CustomIdP)
	}
	c, _ := cliserver.New("https://cli.btp.cloud.sap", nil)
	if _, err := cs.Use(c, ""); err == nil || !strings.Contains(err.Error(), "global account") {
		t.Errorf("no target global account: %v", err)
	}
	if s, err := cs.Use(c, "my-ga"); err != nil || s.Subdomain != "my-ga" || s.CustomIdP != "mytenant.accounts.ondemand.com" {
		t.Errorf("with subdomain: %v %v", s, err)
	}
}
