package profiles

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
)

// simKey creates an integration-flow instance and key in the simulator
// over its CF API and returns the key's credentials (the secret has a '$').
func simKey(t *testing.T) (s *sim.Server, clientID, secret, tokenURL string) {
	t.Helper()
	s, o := simKeyWith(t, json.RawMessage(`{"key-type":"client_id_secret"}`))
	secret, _ = o["clientsecret"].(string)
	if !strings.Contains(secret, "$") {
		t.Fatal("the simulator's secret should contain a $")
	}
	return s, o["clientid"].(string), secret, o["tokenurl"].(string)
}

// simKeyWith creates an integration-flow instance and a key with keyParams
// in the simulator over its CF API and returns the key's oauth object.
func simKeyWith(t *testing.T, keyParams json.RawMessage) (*sim.Server, map[string]any) {
	t.Helper()
	s, err := sim.Start(sim.Config{ProvisionTime: 5 * time.Millisecond, BindTime: 2 * time.Millisecond, EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cf.New(s.CFAPIURL(), transport.NewHTTPClient(transport.Options{Timeout: 5 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LoginPassword(ctx, sim.AdminUser, sim.AdminPassword, ""); err != nil {
		t.Fatal(err)
	}
	var orgGUID string
	s.Do(func(w *sim.World) {
		for _, sa := range w.Subaccounts {
			if sa.Subdomain == sim.SubReadySubdomain {
				orgGUID = sa.OrgGUID
			}
		}
	})
	sp, err := c.GetSpaceByName(ctx, orgGUID, "dev")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.FindPlan(ctx, "it-rt", "integration-flow", sp.GUID)
	if err != nil || plan == nil {
		t.Fatalf("plan: %v %v", plan, err)
	}
	poll := cf.PollInterval{Min: time.Millisecond, Max: 5 * time.Millisecond}
	job, err := c.CreateInstance(ctx, "CPI_SAMPLE_INSTANCE", sp.GUID, plan.GUID,
		json.RawMessage(`{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[],"token-validity":3600}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitJob(ctx, job, poll, nil); err != nil {
		t.Fatal(err)
	}
	inst, err := c.FindInstance(ctx, "CPI_SAMPLE_INSTANCE", sp.GUID)
	if err != nil || inst == nil {
		t.Fatalf("instance: %v %v", inst, err)
	}
	kjob, err := c.CreateKey(ctx, "CPI_SAMPLE_INSTANCE-key", inst.GUID, keyParams)
	if err != nil {
		t.Fatal(err)
	}
	kj, err := c.WaitJob(ctx, kjob, poll, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.KeyDetails(ctx, kj.ResourceGUID)
	if err != nil {
		t.Fatal(err)
	}
	var creds struct {
		OAuth map[string]any `json:"oauth"`
	}
	if err := json.Unmarshal(raw, &creds); err != nil || creds.OAuth["clientid"] == nil {
		t.Fatalf("credentials: %v", err)
	}
	return s, creds.OAuth
}

// fakeTenant stands in for the Cloud Integration runtime: it records the
// path and the bearer token of every call.
type fakeTenant struct {
	mu    sync.Mutex
	calls []string // "<request URI> <client_id claim of the bearer token>"
}

func (f *fakeTenant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	cid := "no-token"
	if parts := strings.Split(tok, "."); ok && len(parts) == 3 {
		var claims struct {
			ClientID string `json:"client_id"`
		}
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &claims) == nil {
			cid = claims.ClientID
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, r.URL.RequestURI()+" "+cid)
	f.mu.Unlock()
	w.Write([]byte("iflow says hi"))
}

// The curl snippet really works: run by sh, it reads the secret (from the
// environment or a stand-in for the OS keychain tool), gets a token from the
// simulator's XSUAA endpoint with curl, and calls the tenant with it.
func TestCurlSnippet_RunsAgainstSimulator(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX sh snippet")
	}
	for _, tool := range []string{"sh", "curl", "sed", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	s, clientID, secret, tokenURL := simKey(t)
	tenant := &fakeTenant{}
	srv := httptest.NewServer(tenant)
	defer srv.Close()
	_ = s

	// An account name that needs quoting in sh.
	account := "acme-dev/CPI_'quoted' $HOME/key"
	base := fixture()
	base.ClientID, base.TokenURL, base.URL, base.KeychainAccount = clientID, tokenURL, srv.URL, account

	apiProfile := base
	apiProfile.Plan, apiProfile.Roles = "api", []string{"MonitoringDataRead"}
	noKeychain := base
	noKeychain.KeychainAccount = ""

	tests := []struct {
		name     string
		p        Profile
		goos     string
		env      []string
		keychain string // what the fake keychain tool returns; "" = nothing stored
		dotenv   bool   // source a .env export (with the secret) before the snippet
		wantOK   bool
		wantCall string // request URI the tenant sees
		wantErr  string
	}{
		{name: "linux keychain", p: base, goos: "linux", keychain: secret, wantOK: true, wantCall: "/http/your/endpoint"},
		{name: "macOS keychain (base64 by go-keyring)", p: base, goos: "darwin", keychain: "go-keyring-base64:" + base64.StdEncoding.EncodeToString([]byte(secret)), wantOK: true, wantCall: "/http/your/endpoint"},
		{name: "environment wins", p: base, goos: "linux", env: []string{"CPI_CLIENT_SECRET=" + secret}, wantOK: true, wantCall: "/http/your/endpoint"},
		{name: "secret from a sourced .env export", p: base, goos: "linux", dotenv: true, wantOK: true, wantCall: "/http/your/endpoint"},
		{name: "endpoint override", p: base, goos: "linux", keychain: secret, env: []string{"CPI_ENDPOINT=/http/orders/v1"}, wantOK: true, wantCall: "/http/orders/v1"},
		{name: "api plan keeps $ in the query", p: apiProfile, goos: "linux", keychain: secret, wantOK: true, wantCall: "/api/v1/MessageProcessingLogs?$top=1&$format=json"},
		{name: "windows with environment", p: base, goos: "windows", env: []string{"CPI_CLIENT_SECRET=" + secret}, wantOK: true, wantCall: "/http/your/endpoint"},
		{name: "windows without environment", p: base, goos: "windows", wantErr: "set CPI_CLIENT_SECRET first"},
		{name: "no keychain entry", p: noKeychain, goos: "linux", keychain: secret, wantErr: "no keychain entry"},
		{name: "nothing in the keychain", p: base, goos: "linux", wantErr: "no client secret in the keychain for " + account},
		{name: "wrong secret", p: base, goos: "linux", keychain: secret + "x", wantErr: "Bad credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			os.Mkdir(bin, 0o700)
			os.WriteFile(filepath.Join(dir, "stored"), []byte(tc.keychain), 0o600)
			// Stand-ins for secret-tool and security: check the exact
			// arguments, then print what the keychain holds.
			fake := `#!/bin/sh
[ "$*" = "$EXPECT_ARGS" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
[ -s "$STORED" ] || exit 1
cat "$STORED"; echo
`
			for _, n := range []string{"secret-tool", "security"} {
				os.WriteFile(filepath.Join(bin, n), []byte(fake), 0o700)
			}
			expect := "lookup service cpikey username " + account
			if tc.goos == "darwin" {
				expect = "find-generic-password -s cpikey -a " + account + " -w"
			}
			var script bytes.Buffer
			if err := (Exporter{GOOS: tc.goos}).Export(tc.p, FormatCurl, secret, &script); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(script.String(), secret) {
				t.Fatal("the snippet embeds the secret")
			}
			path := filepath.Join(dir, "cpi.sh")
			os.WriteFile(path, script.Bytes(), 0o700)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", path)
			if tc.dotenv {
				envFile := filepath.Join(dir, ".env")
				if err := WriteEnvFile(envFile, tc.p, secret, false); err != nil {
					t.Fatal(err)
				}
				cmd = exec.CommandContext(ctx, "sh", "-c", `set -a; . "$1"; set +a; exec sh "$2"`, "sh", envFile, path)
			}
			cmd.Env = append([]string{
				"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
				"HOME=" + dir, // no ~/.curlrc
				"STORED=" + filepath.Join(dir, "stored"),
				"EXPECT_ARGS=" + expect,
			}, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()

			tenant.mu.Lock()
			calls := tenant.calls
			tenant.calls = nil
			tenant.mu.Unlock()
			if tc.wantOK {
				if err != nil {
					t.Fatalf("snippet failed: %v\nstderr: %s", err, stderr.String())
				}
				if want := []string{tc.wantCall + " " + clientID}; strings.Join(calls, "|") != strings.Join(want, "|") {
					t.Errorf("tenant calls %q, want %q", calls, want)
				}
				if !strings.Contains(stdout.String(), "iflow says hi") || !strings.Contains(stdout.String(), "HTTP status 200") {
					t.Errorf("stdout: %s", stdout.String())
				}
			} else {
				if err == nil || !strings.Contains(stderr.String(), tc.wantErr) {
					t.Fatalf("err %v, stderr %q; want failure mentioning %q", err, stderr.String(), tc.wantErr)
				}
				if len(calls) != 0 {
					t.Errorf("tenant was called: %q", calls)
				}
			}
			if out := stdout.String() + stderr.String(); strings.Contains(out, secret) {
				t.Error("the snippet printed the secret")
			}
		})
	}
}
