package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// fakeBrowser records the URLs cpikey asked to open.
type fakeBrowser struct {
	mu   sync.Mutex
	urls []string
}

func (b *fakeBrowser) Open(u string) error {
	b.mu.Lock()
	b.urls = append(b.urls, u)
	b.mu.Unlock()
	return nil
}

// TestEnv_EnableSSOAsTheTerraformProvider: BTP_ENABLE_SSO=true selects the
// browser login even with a user and password set; --sso=false overrides
// it; a value strconv.ParseBool rejects is a usage error.
func TestEnv_EnableSSOAsTheTerraformProvider(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, SSODelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := &fakeBrowser{}
	old := webBrowser
	webBrowser = b
	t.Cleanup(func() { webBrowser = old })
	cases := []struct {
		sso   string
		extra []string
		code  int
		want  string
		opens bool
	}{
		{"true", nil, 0, "Open this URL in your browser", true},
		{"1", nil, 0, "Open this URL in your browser", true},
		{"true", []string{"--sso=false"}, 0, "Logging in to global account", false},
		{"false", nil, 0, "Logging in to global account", false},
		{"yes please", nil, 2, `BTP_ENABLE_SSO="yes please": use true or false`, false},
	}
	for _, tc := range cases {
		t.Run(tc.sso+" "+strings.Join(tc.extra, " "), func(t *testing.T) {
			b.urls = nil
			env := envFunc(map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
				"BTP_PASSWORD": sim.AdminPassword, "BTP_GLOBALACCOUNT": sim.GASubdomain, "BTP_ENABLE_SSO": tc.sso})
			args := append([]string{"--yes", "--no-keychain", "--runtime", "other", "--subaccount", sim.SubNoCF}, tc.extra...)
			var stdout, stderr bytes.Buffer
			if code := run(args, strings.NewReader(""), &stdout, &stderr, env); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
			if opened := len(b.urls) > 0; opened != tc.opens {
				t.Errorf("browser opened: %v, want %v", opened, tc.opens)
			}
		})
	}
}

// TestEnv_BTPClientConfig: the btp CLI's session is looked for where
// BTP_CLIENTCONFIG says, as the btp CLI does; the demo never looks.
func TestEnv_BTPClientConfig(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A btp CLI logged in with its config somewhere else than the default.
	c, err := cliserver.New(s.CLIServerURL(), transport.NewHTTPClient(transport.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), cliserver.LoginRequest{Subdomain: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword}); err != nil {
		t.Fatal(err)
	}
	sessionID := s.IssuedSecrets()[0]
	config := filepath.Join(home, "work", "btp-config.json")
	cfg, _ := json.Marshal(map[string]any{"ServerURL": s.CLIServerURL(), "UserName": sim.AdminUser,
		"Authentication":  map[string]string{"Mail": sim.AdminUser},
		"TargetHierarchy": []map[string]string{{"Type": "globalaccount", "Subdomain": sim.GASubdomain}}})
	sum := sha256.Sum256([]byte(config))
	sessionFile := filepath.Join(home, ".cache", ".btp", hex.EncodeToString(sum[:16]), "session")
	for path, content := range map[string][]byte{config: cfg, sessionFile: []byte(sessionID)} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	args := []string{"--yes", "--no-keychain", "--runtime", "other", "--subaccount", sim.SubNoCF}
	base := map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_GLOBALACCOUNT": sim.GASubdomain}
	var stdout, stderr bytes.Buffer
	if code := run(args, strings.NewReader(""), &stdout, &stderr, envFunc(base)); code != 2 {
		t.Fatalf("without BTP_CLIENTCONFIG: exit %d, want 2 (no session at the default place)\n%s", code, stderr.String())
	}
	base["BTP_CLIENTCONFIG"] = config
	stdout.Reset()
	stderr.Reset()
	if code := run(args, strings.NewReader(""), &stdout, &stderr, envFunc(base)); code != 0 {
		t.Fatalf("with BTP_CLIENTCONFIG: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Using the btp CLI session of "+sim.AdminUser) {
		t.Errorf("the session was not reused:\n%s", stderr.String())
	}

	for _, demo := range []bool{false, true} {
		f := newFactory(strings.NewReader(""), &stdout, &stderr, envFunc(base))
		f.demo = demo
		flow, err := f.Flow(steps.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, found := flow.FindExistingSession(); found == demo {
			t.Errorf("demo %v: btp CLI session found = %v", demo, found)
		}
		f.Close()
	}
}
