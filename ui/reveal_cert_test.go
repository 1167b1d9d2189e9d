package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/steps"
)

const testKeyBody = "MIIEowIBAAKCAQEAtestPrivateKeyMaterialThatMustNeverShow"

func certResult(days int, typ steps.KeyType) *steps.Result {
	r := testResult()
	r.Credentials.ClientSecret = ""
	r.Credentials.KeyType = typ
	r.Credentials.TokenURL = "https://acme-cpi-dev-k3x9q2ab.authentication.cert.eu10.hana.ondemand.com/oauth/token"
	r.Credentials.Certificate = "-----BEGIN CERTIFICATE-----\nMIIPUBLIC\n-----END CERTIFICATE-----\n"
	r.Credentials.PrivateKey = steps.PrivateKeyPEM("-----BEGIN RSA PRIVATE KEY-----\n" + testKeyBody + "\n-----END RSA PRIVATE KEY-----\n")
	r.Credentials.CertificateInfo = &steps.CertificateInfo{
		SubjectDN: "CN=2f6c1e0a-key,L=sap-uaa,OU=SAP Cloud Platform Clients,O=SAP SE,C=DE",
		IssuerDN:  "CN=SAP PKI Certificate Service Client CA,OU=SAP BTP Clients,O=SAP SE,L=cf-eu10,C=DE", SerialNumber: "0x1A2B",
		// Half a day more: the whole days left do not depend on when the test runs.
		ValidUntil: time.Now().Add(time.Duration(days)*24*time.Hour + 12*time.Hour),
	}
	return r
}

func TestRevealScreen_Certificate(t *testing.T) {
	cases := []struct {
		name   string
		result *steps.Result
		want   []string
	}{
		{"certificate", certResult(364, steps.KeyTypeCertificate), []string{"Certificate", "(364 days left)", "CN=SAP PKI Certificate Service Client CA", "never shown"}},
		{"expiring", certResult(11, steps.KeyTypeCertificate), []string{"(11 days left: cpikey rotate makes a new key)"}},
		{"external", certResult(200, steps.KeyTypeExternal), []string{"External Certificate"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t, func(o *Options) { o.SaveProfile = keepProfile(nil) })
			resize(m, 120, 40)
			atReveal(t, m, tc.result)
			runProfileSave(t, m)
			v := m.View()
			for _, w := range tc.want {
				if !strings.Contains(v, w) {
					t.Errorf("reveal lacks %q:\n%s", w, v)
				}
			}
			send(m, runes("s")) // nothing to show: the key stays hidden
			if v := m.View(); strings.Contains(v, testKeyBody) || strings.Contains(v, "PRIVATE KEY") || strings.Contains(v, "s show") {
				t.Fatalf("the reveal screen shows the private key or offers to:\n%s", v)
			}
		})
	}
}

func TestReveal_CertificateCopiesNoPrivateKey(t *testing.T) {
	cb := &fakeClipboard{}
	m := newTestModel(t, func(o *Options) { o.Clipboard = cb })
	resize(m, 120, 40)
	atReveal(t, m, certResult(100, steps.KeyTypeCertificate))
	for _, k := range []string{"1", "2", "3", "4", "j"} {
		if cmd := send(m, runes(k)); cmd != nil {
			send(m, cmd())
		}
	}
	if len(cb.copies) != 5 {
		t.Fatalf("%d copies, want 5", len(cb.copies))
	}
	for i, c := range cb.copies {
		if strings.Contains(c, testKeyBody) || cb.secrets[i] {
			t.Errorf("copy %d holds the private key or is marked secret: %q", i, c)
		}
	}
	if !strings.Contains(cb.copies[1], "BEGIN CERTIFICATE") || !strings.Contains(cb.copies[4], `"certificate"`) {
		t.Errorf("2 and j copied %q and %q", cb.copies[1], cb.copies[4])
	}
}

func TestReveal_CertificateExportWritesKeyFilesOnRequest(t *testing.T) {
	dir := t.TempDir()
	m := newTestModel(t, func(o *Options) { o.ExportDir = dir })
	resize(m, 100, 30)
	m.c.target = testTarget()
	atReveal(t, m, certResult(100, steps.KeyTypeCertificate))
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files before any export: %v", entries)
	}
	send(m, runes("e"))
	if !strings.Contains(m.View(), "with the certificate and private key in two files beside it") {
		t.Fatalf("chooser:\n%s", m.View())
	}
	cmd := send(m, runes("e")) // .env
	send(m, cmd())
	envFile := filepath.Join(dir, "CPI_SAMPLE_INSTANCE-key.env")
	keyFile := filepath.Join(dir, "CPI_SAMPLE_INSTANCE-key.key.pem")
	env, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil || !strings.Contains(string(key), testKeyBody) || strings.Contains(string(env), testKeyBody) || !strings.Contains(string(env), keyFile) {
		t.Fatalf("env:\n%s\nkey file: %v", env, err)
	}
	if st, _ := os.Stat(keyFile); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	if v := m.View(); strings.Contains(v, testKeyBody) || !strings.Contains(v, "Wrote the private key (mode 0600") {
		t.Fatalf("status:\n%s", v)
	}
}

func TestReveal_CertificatePostmanExportWritesCollectionAndKeyFiles(t *testing.T) {
	dir := t.TempDir()
	m := newTestModel(t, func(o *Options) { o.ExportDir = dir })
	resize(m, 100, 30)
	m.c.target = testTarget()
	atReveal(t, m, certResult(100, steps.KeyTypeCertificate))
	send(m, runes("e"))
	send(m, send(m, runes("p"))())
	for _, f := range []string{"CPI_SAMPLE_INSTANCE-key.postman_environment.json", "CPI_SAMPLE_INSTANCE-key.postman_collection.json",
		"CPI_SAMPLE_INSTANCE-key.cert.pem", "CPI_SAMPLE_INSTANCE-key.key.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v\n%s", f, err, m.View())
		}
	}
	if v := m.View(); !strings.Contains(v, "Settings > Certificates") || strings.Contains(v, testKeyBody) {
		t.Errorf("status:\n%s", v)
	}
}

func TestReveal_CertificateNamesFromSAPAreInert(t *testing.T) {
	r := certResult(100, steps.KeyTypeCertificate)
	r.Credentials.CertificateInfo.SubjectDN = "CN=evil\x1b[2J\x1b]52;c;AAAA\a,O=x"
	r.Credentials.CertificateInfo.IssuerDN = "CN=\u202eACS\u202c CA"
	m := newTestModel(t)
	resize(m, 120, 40)
	atReveal(t, m, r)
	if v := m.View(); strings.Contains(v, "\x1b[2J") || strings.Contains(v, "\x1b]52") || strings.Contains(v, "\u202e") {
		t.Fatalf("raw control or bidi characters from the certificate reached the screen:\n%q", v)
	}
}
