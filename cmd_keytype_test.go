package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/oauth"
)

// The three key types through the command line, against the demo (which
// alone trusts the simulator's CA): created, revealed, verified over mTLS,
// stored, listed, tokened, exported and rotated; the private key never on
// stdout or stderr.
func TestCLI_CertificateKeysEndToEnd(t *testing.T) {
	w := newDemoWorld(t)
	noKey := func(what, s string) {
		t.Helper()
		if strings.Contains(s, "PRIVATE KEY") {
			t.Fatalf("%s shows a private key:\n%s", what, s)
		}
	}

	out, errOut := w.cpikey(t, 0, "--demo", "--yes", "--json", "--instance", "CERT_IF", "--key-type", "certificate", "--validity", "30", "--key-length", "1024")
	noKey("--json", out+errOut)
	var res struct {
		Verified    bool
		Credentials struct {
			KeyType            string `json:"keytype"`
			Certificate        string `json:"certificate"`
			CertificateDetails struct {
				ValidUntil string `json:"validuntil"`
			} `json:"certificatedetails"`
		}
		Keychain *struct{ Account string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if !res.Verified || res.Credentials.KeyType != "certificate" || !strings.Contains(res.Credentials.Certificate, "BEGIN CERTIFICATE") ||
		res.Credentials.CertificateDetails.ValidUntil == "" || res.Keychain == nil {
		t.Fatalf("result %+v\nstderr: %s", res, errOut)
	}
	if !strings.Contains(errOut, "with the client certificate from https://127.0.0.1:") {
		t.Errorf("the token was not fetched over mTLS:\n%s", errOut)
	}

	out, _ = w.cpikey(t, 0, "--demo", "list")
	if !strings.Contains(out, "(Certificate, valid until ") || !strings.Contains(out, "(! 29 days left") && !strings.Contains(out, "(! 30 days left") {
		t.Errorf("list does not warn of the expiry in 30 days:\n%s", out)
	}
	out, errOut = w.cpikey(t, 0, "--demo", "token")
	noKey("token", out+errOut)
	if claims, err := oauth.DecodeJWTPayload(strings.TrimSpace(out)); err != nil || !strings.HasSuffix(claims["scope"].([]any)[1].(string), ".ESBMessaging.send") {
		t.Errorf("token: %v %v", claims, err)
	}
	dir := t.TempDir()
	_, errOut = w.cpikey(t, 0, "--demo", "export", "--format", "env", "-o", filepath.Join(dir, ".env"))
	if b, err := os.ReadFile(filepath.Join(dir, "CERT_IF-key.key.pem")); err != nil || !strings.Contains(string(b), "PRIVATE KEY") {
		t.Fatalf("the explicit export did not write the key file: %v\n%s", err, errOut)
	}
	out, errOut = w.cpikey(t, 0, "--demo", "rotate", "--json")
	noKey("rotate", out+errOut)
	if !strings.Contains(out, `"keyType": "certificate"`) || !strings.Contains(out, `"validity": 30`) {
		t.Errorf("rotated profile:\n%s", out)
	}

	// External Certificate: the key made here by cpikey csr, the
	// certificate signed by the demo's simulated CA.
	csrFile := filepath.Join(dir, "sender.csr")
	_, errOut = w.cpikey(t, 0, "--demo", "csr", "--subject", "CN=sender.acme.example,O=ACME Corp,C=DE", "-o", csrFile)
	noKey("csr", errOut)
	certFile := filepath.Join(dir, "sender.pem")
	if b, err := os.ReadFile(certFile); err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Fatalf("no signed certificate: %v\n%s", err, errOut)
	}
	if b, _ := os.ReadFile(csrFile); strings.Contains(string(b), "PRIVATE") || !strings.Contains(string(b), "CERTIFICATE REQUEST") {
		t.Fatalf("the request file:\n%s", b)
	}
	out, errOut = w.cpikey(t, 0, "--demo", "--yes", "--json", "--instance", "EXT_IF", "--key-type", "external-certificate", "--cert", certFile, "--certificate-pinning=false")
	noKey("external --json", out+errOut)
	if !strings.Contains(out, `"keytype": "certificate_external"`) || !strings.Contains(out, `"verified": true`) {
		t.Fatalf("external key:\n%s\n%s", out, errOut)
	}
	_, errOut = w.cpikey(t, 2, "--demo", "--yes", "--instance", "EXT_IF2", "--key-type", "external-certificate", "--cert", certFile,
		"--cert-key", filepath.Join(dir, "CERT_IF-key.key.pem"))
	if !strings.Contains(errOut, "does not belong to the certificate") {
		t.Errorf("a key of another certificate:\n%s", errOut)
	}
	// SAP takes a certificate only once: with its own key (from an export),
	// a second key on another instance is refused by the broker.
	extDir := t.TempDir()
	w.cpikey(t, 0, "--demo", "export", "--format", "env", "-o", filepath.Join(extDir, ".env"))
	_, errOut = w.cpikey(t, 1, "--demo", "--yes", "--instance", "EXT_IF2", "--key-type", "external-certificate", "--cert", certFile,
		"--cert-key", filepath.Join(extDir, "EXT_IF-key.key.pem"))
	if !strings.Contains(errOut, "Certificate already exists for Follower within Leader") {
		t.Errorf("the same certificate twice:\n%s", errOut)
	}
}

func TestCLI_KeyTypeFlagsRefusedBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--key-type", "x509"}, "--key-type"},
		{[]string{"--validity", "30"}, "--validity applies to --key-type certificate only"},
		{[]string{"--key-type", "certificate", "--validity", "400"}, "--validity must be 1 to 365"},
		{[]string{"--key-type", "certificate", "--key-length", "512"}, "--key-length must be"},
		{[]string{"--key-type", "external-certificate"}, "needs --cert FILE"},
		{[]string{"--key-type", "certificate", "--certificate-pinning=false"}, "--certificate-pinning applies"},
		{[]string{"--key-type", "external-certificate", "--cert", "/nonexistent.pem"}, "--cert: open /nonexistent.pem"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Setenv("HOME", t.TempDir())
			// No BTP_CLI_SERVER_URL: a request would go to SAP and fail differently.
			env := envFunc(map[string]string{"BTP_USERNAME": "u", "BTP_PASSWORD": "p", "BTP_GLOBALACCOUNT": "ga"})
			var stdout, stderr strings.Builder
			code := run(append([]string{"--yes", "--subaccount", "x"}, tc.args...), strings.NewReader(""), &stdout, &stderr, env)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
