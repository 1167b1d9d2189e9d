package profiles_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

// provisionKey runs the headless flow with spec and keeps the profile; it
// returns the profile and the credentials (for the certificate and key).
func (e *env) provisionKey(t *testing.T, plan string, spec steps.KeySpec) (profiles.Profile, steps.Credentials) {
	t.Helper()
	in := steps.HeadlessInput{GlobalAccount: sim.GASubdomain, Subaccount: sim.SubReady, User: sim.AdminUser, Password: sim.AdminPassword,
		Runtime: steps.RuntimeCF, Plan: plan, KeySpec: spec}
	if plan == "api" {
		in.Roles = []string{"MonitoringDataRead"}
	}
	f := steps.New(e.cfg)
	res, err := steps.RunHeadless(ctx(t), f, in)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified {
		t.Fatalf("not verified: %v", res.VerifyErr)
	}
	p, err := e.mgr.SaveResult(f, res, profiles.HeadlessTarget(in))
	if err != nil {
		t.Fatal(err)
	}
	return p, res.Credentials
}

// certWorks reports whether certificate and key still yield a token for
// the client.
func (e *env) certWorks(t *testing.T, p profiles.Profile, c steps.Credentials) bool {
	t.Helper()
	_, err := oauth.VerifyCertificate(ctx(t), e.cfg.HTTPClient, oauth.CertCredentials{ClientID: p.ClientID, Certificate: c.Certificate, PrivateKey: string(c.PrivateKey), TokenURL: p.TokenURL})
	return err == nil
}

func keyLines(k steps.PrivateKeyPEM) []string {
	lines := strings.Split(strings.TrimSpace(string(k)), "\n")
	return lines[1 : len(lines)-1]
}

// noKey fails if s holds any line of the private key's PEM body.
func noKey(t *testing.T, what, s string, k steps.PrivateKeyPEM) {
	t.Helper()
	for _, l := range keyLines(k) {
		if len(l) >= 32 && strings.Contains(s, l) {
			t.Fatalf("%s contains the private key", what)
		}
	}
}

func TestCertificateProfile_ListShowToken(t *testing.T) {
	e := newEnv(t)
	p, c := e.provisionKey(t, "integration-flow", steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 60, KeyLength: 1024})
	if p.KeyType != steps.KeyTypeCertificate || p.Validity != 60 || p.KeyLength != 1024 || p.Certificate == nil ||
		!p.Certificate.ValidUntil.Equal(c.CertificateInfo.ValidUntil) || p.Certificate.SubjectDN != c.CertificateInfo.SubjectDN {
		t.Fatalf("profile %+v", p)
	}
	raw, err := os.ReadFile(e.mgr.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	noKey(t, "profiles.json", string(raw), c.PrivateKey)
	if strings.Contains(string(raw), "BEGIN CERTIFICATE") {
		t.Error("profiles.json holds the certificate itself (it belongs in the keychain)")
	}

	var out bytes.Buffer
	if err := e.mgr.List(&out, false); err != nil {
		t.Fatal(err)
	}
	days := c.CertificateInfo.DaysLeft(e.mgr.Now())
	if !strings.Contains(out.String(), p.Name+"  (Certificate, valid until ") || !strings.Contains(out.String(), "days left") || days < 60 {
		t.Errorf("list: %q", out.String())
	}
	out.Reset()
	if err := e.mgr.Show(ctx(t), &out, "", false, false); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"key type:       Certificate", "subject:        " + p.Certificate.SubjectDN, "issuer:         CN=SAP PKI Certificate Service Client CA", "private key:", "days left"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("show lacks %q:\n%s", w, out.String())
		}
	}
	noKey(t, "show", out.String(), c.PrivateKey)
	var u *steps.UsageError
	if err := e.mgr.Show(ctx(t), &out, "", true, false); !errors.As(err, &u) || !strings.Contains(err.Error(), "never prints its private key") {
		t.Errorf("show --show-secret of a certificate key: %v", err)
	}

	out.Reset()
	e.sim.ResetRequests()
	if err := e.mgr.Token(ctx(t), &out, "", false); err != nil {
		t.Fatal(err)
	}
	claims, err := oauth.DecodeJWTPayload(strings.TrimSpace(out.String()))
	if err != nil || claims["client_id"] != p.ClientID {
		t.Fatalf("token: %v %v", claims, err)
	}
	if r := e.sim.Requests(); len(r) != 1 || r[0] != "certauth:POST /oauth/token" {
		t.Errorf("token requests %v, want one mTLS request", r)
	}
}

func TestCertificateProfile_ExportWritesTheFilesOnlyWhenAsked(t *testing.T) {
	e := newEnv(t)
	p, c := e.provisionKey(t, "integration-flow", steps.KeySpec{Type: steps.KeyTypeCertificate, KeyLength: 1024})
	dir := t.TempDir()
	for _, format := range []string{profiles.FormatPostman, profiles.FormatEnv, profiles.FormatDockerEnv} {
		t.Run(format, func(t *testing.T) {
			sub := filepath.Join(dir, format)
			os.Mkdir(sub, 0o700)
			var stdout bytes.Buffer
			var u *steps.UsageError
			if err := e.mgr.Export(ctx(t), &stdout, "", format, "", false); !errors.As(err, &u) || stdout.Len() != 0 {
				t.Fatalf("to stdout: %v %q", err, stdout.String())
			}
			out := filepath.Join(sub, "cpi."+format)
			if err := e.mgr.Export(ctx(t), &stdout, "", format, out, false); err != nil {
				t.Fatal(err)
			}
			certFile, keyFile := filepath.Join(sub, p.Key.Name+".cert.pem"), filepath.Join(sub, p.Key.Name+".key.pem")
			for f, want := range map[string]string{certFile: c.Certificate, keyFile: string(c.PrivateKey)} {
				st, err := os.Stat(f)
				if err != nil || st.Mode().Perm() != 0o600 {
					t.Fatalf("%s: %v %v", f, st, err)
				}
				if b, _ := os.ReadFile(f); string(b) != want {
					t.Errorf("%s holds something else", filepath.Base(f))
				}
			}
			main, _ := os.ReadFile(out)
			noKey(t, format+" export", string(main), c.PrivateKey)
			if !strings.Contains(string(main), keyFile) || !strings.Contains(string(main), certFile) {
				t.Errorf("%s does not name the files:\n%s", format, main)
			}
			if err := e.mgr.Export(ctx(t), &stdout, "", format, out, false); err == nil {
				t.Error("overwrote without --force")
			}
			if err := e.mgr.Export(ctx(t), &stdout, "", format, out, true); err != nil {
				t.Errorf("with --force: %v", err)
			}
		})
	}
	if !strings.Contains(e.notes.String(), "Settings > Certificates") {
		t.Errorf("no Postman hint: %s", e.notes.String())
	}
	var tf bytes.Buffer
	if err := e.mgr.Export(ctx(t), &tf, "", profiles.FormatTerraform, "", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tf.String(), `"key-type"   = "certificate"`) || strings.Contains(tf.String(), "BEGIN") {
		t.Errorf("terraform:\n%s", tf.String())
	}
}

func TestRotate_CertificateKeyRenewed(t *testing.T) {
	e := newEnv(t)
	old, oldCreds := e.provisionKey(t, "integration-flow", steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: 30, KeyLength: 1024})
	oldParts := keychainEntries(t, e, old.KeychainAccount)
	res, err := e.mgr.Rotate(ctx(t), e.flow(), "", e.login())
	if err != nil {
		t.Fatal(err)
	}
	np := res.Profile
	if np.KeyType != steps.KeyTypeCertificate || np.Validity != 30 || np.KeyLength != 1024 || np.ClientID == old.ClientID ||
		np.Certificate == nil || np.Certificate.SerialNumber == old.Certificate.SerialNumber {
		t.Fatalf("rotated %+v", np)
	}
	if e.certWorks(t, old, oldCreds) {
		t.Error("the old certificate still yields a token after the rotation")
	}
	for _, a := range oldParts {
		if _, err := e.cfg.Keyring.Get(ctx(t), "cpikey", a); !errors.Is(err, keychain.ErrNotFound) {
			t.Errorf("old keychain entry %s left: %v", a, err)
		}
	}
	var out bytes.Buffer
	if err := e.mgr.Token(ctx(t), &out, "", false); err != nil {
		t.Fatalf("token with the renewed certificate: %v", err)
	}
}

// keychainEntries lists the entry of account and all its parts.
func keychainEntries(t *testing.T, e *env, account string) []string {
	t.Helper()
	head, err := e.cfg.Keyring.Get(ctx(t), "cpikey", account)
	if err != nil || !strings.HasPrefix(head, keychain.SplitPrefix) {
		t.Fatalf("no split entry for %s: %q %v", account, head, err)
	}
	out := []string{account}
	for i := 1; ; i++ {
		a := keychain.PartAccount(account, i)
		if _, err := e.cfg.Keyring.Get(ctx(t), "cpikey", a); err != nil {
			break
		}
		out = append(out, a)
	}
	return out
}

func TestRotate_ExternalCertificateNeedsTheRenewedOne(t *testing.T) {
	e := newEnv(t)
	f := e.flow()
	csr, err := f.NewCSR(ctx(t), "CN=sender.acme.example,O=ACME Corp,C=DE", 0)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.sim.SignCSR(csr.PEM, 30)
	if err != nil {
		t.Fatal(err)
	}
	old, oldCreds := e.provisionKey(t, "integration-flow", steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(first)})
	if old.KeyType != steps.KeyTypeExternal || old.CertificatePinning == nil || !*old.CertificatePinning {
		t.Fatalf("profile %+v", old)
	}
	var u *steps.UsageError
	if _, err := e.mgr.Rotate(ctx(t), e.flow(), "", e.login()); !errors.As(err, &u) || !strings.Contains(err.Error(), "--cert FILE") {
		t.Fatalf("rotate without a new certificate: %v", err)
	}
	same := steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(first), PrivateKey: oldCreds.PrivateKey}
	if _, err := e.mgr.RotateWith(ctx(t), e.flow(), "", e.login(), &same); !errors.As(err, &u) || !strings.Contains(err.Error(), "only once") {
		t.Fatalf("rotate with the same certificate: %v", err)
	}
	// The CA renews: a new certificate for a new request.
	csr2, err := e.flow().NewCSR(ctx(t), "CN=sender.acme.example,O=ACME Corp,C=DE", 0)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := e.sim.SignCSR(csr2.PEM, 365)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.mgr.RotateWith(ctx(t), e.flow(), "", e.login(), &steps.KeySpec{Type: steps.KeyTypeExternal, Certificate: string(renewed)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile.Certificate.ValidUntil.Sub(old.Certificate.ValidUntil) < 300*24*time.Hour {
		t.Errorf("the profile did not take the renewed certificate: %v -> %v", old.Certificate.ValidUntil, res.Profile.Certificate.ValidUntil)
	}
	if e.certWorks(t, old, oldCreds) {
		t.Error("the old external key still yields a token")
	}
	var out bytes.Buffer
	if err := e.mgr.Token(ctx(t), &out, "", false); err != nil {
		t.Fatalf("token after the rotation: %v", err)
	}
}

func TestList_WarnsUnder30Days(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provisionKey(t, "api", steps.KeySpec{Type: steps.KeyTypeCertificate, KeyLength: 1024})
	p.Certificate.ValidUntil = e.mgr.Now().Add(12*24*time.Hour + time.Hour)
	if err := e.mgr.Store.Save(p); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.mgr.List(&out, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(! 12 days left: cpikey rotate makes a new key)") {
		t.Errorf("list: %q", out.String())
	}
	out.Reset()
	if err := e.mgr.List(&out, true); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if json.Unmarshal(out.Bytes(), &got) != nil || got[0]["keyType"] != "certificate" || got[0]["certificate"].(map[string]any)["validuntil"] == nil {
		t.Errorf("list --json: %s", out.String())
	}
}

func TestForget_CertificateProfileRemovesEveryPart(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provisionKey(t, "integration-flow", steps.KeySpec{Type: steps.KeyTypeCertificate, KeyLength: 1024})
	entries := keychainEntries(t, e, p.KeychainAccount)
	if len(entries) < 3 {
		t.Fatalf("a certificate with its key in %d entries; want it split", len(entries))
	}
	if err := e.mgr.Forget(ctx(t), nil, p.Name, false, profiles.Login{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if _, err := e.cfg.Keyring.Get(ctx(t), "cpikey", a); !errors.Is(err, keychain.ErrNotFound) {
			t.Errorf("%s left in the keychain: %v", a, err)
		}
	}
}

func TestCall_CertificateKeyTakesATokenFetchedOverMTLS(t *testing.T) {
	e := newEnv(t)
	p, c := e.provisionKey(t, "integration-flow", steps.KeySpec{Type: steps.KeyTypeCertificate, KeyLength: 1024})
	e.sim.ResetRequests()
	res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho, Body: []byte("<a/>")})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.sim.Requests(); !res.OK() || len(got) != 2 || got[0] != "certauth:POST /oauth/token" {
		t.Fatalf("requests %v, status %v", got, res.Response)
	}
	e.sim.ResetRequests()
	if res, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho}); err != nil || !res.TokenReused {
		t.Errorf("second call: %v, reused %v", err, res != nil && res.TokenReused)
	}
	if _, err := e.mgr.Call(ctx(t), profiles.CallRequest{Path: sim.FlowEcho, Basic: true}); err == nil || !strings.Contains(err.Error(), "drop --basic") {
		t.Errorf("--basic with a certificate key: %v", err)
	}
	noKey(t, "call result", fmt.Sprintf("%+v", res), c.PrivateKey)
	if kept(t, p) == "" {
		t.Error("the token of a certificate key is not kept for the next call")
	}
}
