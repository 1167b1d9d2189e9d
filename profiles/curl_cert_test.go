package profiles

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/steps"
)

// The curl snippet of a certificate key really works: run by sh, it reads
// the certificate and private key from a stand-in for the keychain tool
// (split in parts, as cpikey stores them) or from files, gets a token from
// the simulator's certificate token host over mTLS with curl, and calls
// the tenant with it.
func TestCurlSnippet_CertificateKeyOverMTLS(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX sh snippet")
	}
	for _, tool := range []string{"sh", "curl", "sed", "base64", "mkfifo", "mktemp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	// 2048 bits: OpenSSL at its default security level refuses 1024-bit keys.
	s, o := simKeyWith(t, json.RawMessage(`{"key-type":"certificate","validity":30,"key-length":2048}`))
	chain, key := o["certificate"].(string), o["key"].(string)
	clientID := o["clientid"].(string)
	tenant := &fakeTenant{}
	srv := httptest.NewServer(tenant)
	defer srv.Close()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "sim-ca.pem")
	os.WriteFile(caFile, s.CACertPEM(), 0o600)
	certFile, keyFile := filepath.Join(dir, "k.cert.pem"), filepath.Join(dir, "k.key.pem")
	os.WriteFile(certFile, []byte(chain), 0o600)
	os.WriteFile(keyFile, []byte(key), 0o600)

	p := certFixture()
	p.ClientID, p.TokenURL, p.URL = clientID, o["tokenurl"].(string), srv.URL
	p.KeychainAccount = "acme-dev/CPI_'quoted' $HOME/key"
	bundle := steps.CertBundle(chain, steps.PrivateKeyPEM(key))

	tests := []struct {
		name    string
		goos    string
		stored  bool // the keychain holds the certificate
		env     []string
		wantErr string
	}{
		{name: "linux keychain, split in parts", goos: "linux", stored: true},
		{name: "macOS keychain (base64 by go-keyring)", goos: "darwin", stored: true},
		{name: "files from a sourced .env export", goos: "linux", env: []string{"CPI_CERT_FILE=" + certFile, "CPI_KEY_FILE=" + keyFile}},
		{name: "windows without files", goos: "windows", stored: true, wantErr: "set CPI_CERT_FILE and CPI_KEY_FILE first"},
		{name: "nothing in the keychain", goos: "linux", wantErr: "no certificate in the keychain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := t.TempDir()
			bin, store, tmp := filepath.Join(run, "bin"), filepath.Join(run, "store"), filepath.Join(run, "tmp")
			for _, d := range []string{bin, store, tmp} {
				os.Mkdir(d, 0o700)
			}
			if tc.stored {
				// What keychain.SetSplit writes, entry by entry.
				kv := &fileKV{dir: store, darwin: tc.goos == "darwin"}
				if err := keychain.SetSplit(context.Background(), kv, "cpikey", p.KeychainAccount, bundle); err != nil {
					t.Fatal(err)
				}
			}
			// secret-tool lookup service cpikey username ACCT / security
			// find-generic-password -s cpikey -a ACCT -w: ACCT is $5.
			fake := `#!/bin/sh
acct=$5
case $acct in
"$ACCOUNT") f=$STORE/head ;;
"$ACCOUNT"#*) f=$STORE/part${acct##*#} ;;
*) echo "unexpected account: $acct" >&2; exit 2 ;;
esac
[ -s "$f" ] || exit 1
cat "$f"; echo
`
			for _, n := range []string{"secret-tool", "security"} {
				os.WriteFile(filepath.Join(bin, n), []byte(fake), 0o700)
			}
			var script bytes.Buffer
			if err := (Exporter{GOOS: tc.goos}).Export(p, FormatCurl, "", &script); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(run, "cpi.sh")
			os.WriteFile(path, script.Bytes(), 0o700)
			c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			cmd := exec.CommandContext(c, "sh", path)
			cmd.Env = append([]string{
				"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
				"HOME=" + run, "TMPDIR=" + tmp,
				"CURL_CA_BUNDLE=" + caFile, // the simulator's CA, as --demo trusts it
				"STORE=" + store, "ACCOUNT=" + p.KeychainAccount,
			}, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			tenant.mu.Lock()
			calls := tenant.calls
			tenant.calls = nil
			tenant.mu.Unlock()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("snippet failed: %v\nstderr: %s", err, stderr.String())
				}
				if len(calls) != 1 || calls[0] != "/http/your/endpoint "+clientID {
					t.Errorf("tenant calls %q", calls)
				}
			} else if err == nil || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("err %v, stderr %q; want %q", err, stderr.String(), tc.wantErr)
			}
			out := stdout.String() + stderr.String()
			if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, strings.Split(key, "\n")[3]) {
				t.Error("the snippet printed the private key")
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left behind in TMPDIR: %v", left)
			}
		})
	}
}

// fileKV writes keychain entries to files as the fake keychain tools read
// them: head for the account, partN for its parts; darwin stores values as
// go-keyring does on macOS.
type fileKV struct {
	dir    string
	darwin bool
}

func (f *fileKV) name(account string) string {
	if i := strings.LastIndex(account, "#"); i >= 0 {
		if _, err := strconv.Atoi(account[i+1:]); err == nil {
			return filepath.Join(f.dir, "part"+account[i+1:])
		}
	}
	return filepath.Join(f.dir, "head")
}

func (f *fileKV) Set(_ context.Context, _, account, v string) error {
	if f.darwin {
		v = "go-keyring-base64:" + base64.StdEncoding.EncodeToString([]byte(v))
	}
	return os.WriteFile(f.name(account), []byte(v), 0o600)
}

func (f *fileKV) Get(_ context.Context, _, account string) (string, error) {
	b, err := os.ReadFile(f.name(account))
	if err != nil {
		return "", keychain.ErrNotFound
	}
	return string(b), nil
}

func (f *fileKV) Delete(_ context.Context, _, account string) error {
	return os.Remove(f.name(account))
}
