package ui

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/steps"
)

func TestForm_CertificateKeyBuildsTarget(t *testing.T) {
	m := newTestModel(t)
	resize(m, 100, 40)
	atForm(t, m)
	send(m, tab, tab, tab, tab, down) // key type Certificate
	send(m, tab)
	clearInput(m, 3)
	typeText(m, "400")
	if !strings.Contains(m.View(), "1 to 365 days") {
		t.Fatalf("no reason for 400 days:\n%s", m.View())
	}
	send(m, tab, enter)
	if m.screen() != screenForm || frm(m).focus != formCertA {
		t.Fatal("submitted 400 days")
	}
	clearInput(m, 3)
	typeText(m, "90")
	send(m, tab)
	clearInput(m, 4)
	typeText(m, "4096")
	send(m, enter)
	if m.screen() != screenReview {
		t.Fatalf("screen %v, want review:\n%s", m.screen(), m.View())
	}
	if ks := m.c.target.KeySpec; ks.Type != steps.KeyTypeCertificate || ks.Validity != 90 || ks.KeyLength != 4096 {
		t.Fatalf("key spec %+v", ks)
	}
}

func TestForm_ExternalCertificateReadsTheFilesInACmd(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedLeaf(t)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, []byte(certPEM), 0o600)
	os.WriteFile(keyFile, []byte(keyPEM), 0o600)
	cases := []struct {
		name, cert, key string
		want            string // error on the form; "" means on to review
	}{
		{"certificate and key", certFile, keyFile, ""},
		{"key from cpikey csr (found later)", certFile, "", ""},
		{"missing file", filepath.Join(dir, "nope.pem"), "", "ertificate file: open"},
		{"a certificate as the key file", certFile, certFile, "PEM private key found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t)
			resize(m, 100, 40)
			atForm(t, m)
			send(m, tab, tab, tab, tab, down, down, tab)
			typeText(m, tc.cert)
			send(m, tab)
			typeText(m, tc.key)
			cmd := send(m, enter)
			if cmd == nil || m.screen() != screenForm {
				t.Fatalf("enter read the files in Update (screen %v)", m.screen())
			}
			send(m, cmd())
			if tc.want != "" {
				if m.screen() != screenForm || !strings.Contains(m.View(), tc.want) {
					t.Fatalf("screen %v, want the form saying %q:\n%s", m.screen(), tc.want, m.View())
				}
				return
			}
			if m.screen() != screenReview {
				t.Fatalf("screen %v, want review:\n%s", m.screen(), m.View())
			}
			ks := m.c.target.KeySpec
			if ks.Type != steps.KeyTypeExternal || ks.Certificate != certPEM || string(ks.PrivateKey) != map[string]string{keyFile: keyPEM, "": ""}[tc.key] {
				t.Fatalf("key spec %+v", ks)
			}
			if strings.Contains(m.View(), "PRIVATE") {
				t.Error("the screen shows the private key")
			}
		})
	}
}

func TestForm_KeyTypeFromFlags(t *testing.T) {
	m := newTestModel(t, func(o *Options) {
		o.Prefill.Plan, o.Prefill.Instance, o.Prefill.Key = "integration-flow", "I", "K"
		o.Prefill.KeySpec = steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 30}
	})
	resize(m, 80, 24)
	atCheck(t, m, subQA, reportReady())
	send(m, enter)
	cmd := m.apply(whereChosen{runtime: steps.RuntimeOther})
	send(m, cmd())
	if m.screen() != screenReview {
		t.Fatalf("screen %v, want review", m.screen())
	}
	if ks := m.c.target.KeySpec; ks.Type != steps.KeyTypeCertificate || ks.Validity != 30 || ks.KeyLength != steps.DefaultKeyLength {
		t.Fatalf("key spec %+v", ks)
	}
}

func selfSignedLeaf(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(5), Subject: pkix.Name{CommonName: "sender.acme.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}
