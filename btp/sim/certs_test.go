package sim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// newInstance creates a CF instance and returns its GUID once it exists.
func (f *cfFixture) newInstance(t *testing.T, name string, params any) string {
	t.Helper()
	api := f.s.CFAPIURL()
	r := call(t, "POST", api+"/v3/service_instances", f.tok, f.instanceBody(name, params))
	if r.status != 202 {
		t.Fatalf("create instance: %d %s", r.status, r.body)
	}
	f.clk.Add(8 * time.Second)
	href := f.get(t, r.header.Get("Location"))["links"].(map[string]any)["service_instances"].(map[string]any)["href"].(string)
	return href[strings.LastIndex(href, "/")+1:]
}

// createKey creates a key and waits for its job: the key's GUID, or "" and
// the job's error detail.
func (f *cfFixture) createKey(t *testing.T, inst, name string, params map[string]any) (guid, failure string) {
	t.Helper()
	b := map[string]any{"type": "key", "name": name,
		"relationships": map[string]any{"service_instance": map[string]any{"data": map[string]any{"guid": inst}}}}
	if params != nil {
		b["parameters"] = params
	}
	r := call(t, "POST", f.s.CFAPIURL()+"/v3/service_credential_bindings", f.tok, b)
	if r.status != 202 {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	f.clk.Add(2 * time.Second)
	job := f.get(t, r.header.Get("Location"))
	if job["state"] == "FAILED" {
		return "", job["errors"].([]any)[0].(map[string]any)["detail"].(string)
	}
	href := job["links"].(map[string]any)["service_credential_binding"].(map[string]any)["href"].(string)
	return href[strings.LastIndex(href, "/")+1:], ""
}

func (f *cfFixture) oauth(t *testing.T, key string) map[string]any {
	t.Helper()
	return f.get(t, f.s.CFAPIURL()+"/v3/service_credential_bindings/"+key+"/details")["credentials"].(map[string]any)["oauth"].(map[string]any)
}

func (f *cfFixture) deleteKey(t *testing.T, key string) {
	t.Helper()
	if r := call(t, "DELETE", f.s.CFAPIURL()+"/v3/service_credential_bindings/"+key, f.tok, nil); r.status != 202 {
		t.Fatalf("delete key: %d %s", r.status, r.body)
	}
	f.clk.Add(2 * time.Second)
}

// mtls posts a client-credentials grant to the certificate token host,
// presenting certPEM/keyPEM (none when empty). err is a failed exchange
// (TLS refused), status and body the answer otherwise.
func mtls(t *testing.T, s *Server, certPEM, keyPEM, clientID string) (int, map[string]any, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: s.CACertPool()}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	res, err := c.PostForm(s.CertTokenURL()+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}})
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	json.Unmarshal(b, &m) //nolint:errcheck // status tells
	return res.StatusCode, m, nil
}

func hasScope(t *testing.T, token, suffix string) bool {
	for _, s := range jwtClaims(t, token)["scope"].([]any) {
		if strings.HasSuffix(s.(string), suffix) {
			return true
		}
	}
	return false
}

func TestBrokerValidateKey_Schema(t *testing.T) {
	leaf := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	cases := []struct {
		name, plan string
		params     map[string]any
		wantType   string
		wantErr    string
	}{
		{"default", "integration-flow", nil, "client_id_secret", ""},
		{"certificate, SAP's exact JSON", "integration-flow", map[string]any{"key-type": "certificate", "validity": 365.0, "key-length": 2048.0}, "certificate", ""},
		{"validity 1", "api", map[string]any{"key-type": "certificate", "validity": 1.0}, "certificate", ""},
		{"validity 0", "api", map[string]any{"key-type": "certificate", "validity": 0.0}, "", "Invalid parameter validity"},
		{"validity 366", "api", map[string]any{"key-type": "certificate", "validity": 366.0}, "", "Invalid parameter validity"},
		{"validity fractional", "api", map[string]any{"key-type": "certificate", "validity": 1.5}, "", "Invalid parameter validity"},
		{"validity as string", "api", map[string]any{"key-type": "certificate", "validity": "30"}, "", "Invalid parameter validity"},
		{"key-length 4096", "api", map[string]any{"key-type": "certificate", "key-length": 4096.0}, "certificate", ""},
		{"key-length 1000", "api", map[string]any{"key-type": "certificate", "key-length": 1000.0}, "", "Invalid parameter key-length"},
		{"key-length 8192", "api", map[string]any{"key-type": "certificate", "key-length": 8192.0}, "", "Invalid parameter key-length"},
		{"external", "integration-flow", map[string]any{"key-type": "certificate_external", "X.509": leaf, "certificate-pinning": false}, "certificate_external", ""},
		{"external without X.509", "integration-flow", map[string]any{"key-type": "certificate_external"}, "", "Invalid parameter X.509"},
		{"pinning on plan api", "api", map[string]any{"key-type": "certificate_external", "X.509": leaf, "certificate-pinning": true}, "", "only supported by plan integration-flow"},
		{"pinning not boolean", "integration-flow", map[string]any{"key-type": "certificate_external", "X.509": leaf, "certificate-pinning": "no"}, "", "must be a boolean"},
		{"XSUAA's parameters", "integration-flow", map[string]any{"key-type": "certificate", "credential-type": "x509"}, "", "additional property"},
		{"unknown type", "integration-flow", map[string]any{"key-type": "x509"}, "", "Invalid parameter key-type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kt, msg := brokerValidateKey(tc.plan, tc.params)
			if tc.wantErr == "" && (msg != "" || kt != tc.wantType) {
				t.Fatalf("got %q, %q; want type %q", kt, msg, tc.wantType)
			}
			if tc.wantErr != "" && !strings.Contains(msg, tc.wantErr) {
				t.Fatalf("got %q, want an error containing %q", msg, tc.wantErr)
			}
		})
	}
}

func TestCertificateKey_CredentialsAsSAPShowsThem(t *testing.T) {
	f := newCFFixture(t)
	inst := f.newInstance(t, "cpi", map[string]any{"roles": []string{"ESBMessaging.send"}, "grant-types": []string{"client_credentials"}})
	kg, fail := f.createKey(t, inst, "kc", map[string]any{"key-type": "certificate", "validity": 30, "key-length": 1024})
	if fail != "" {
		t.Fatal(fail)
	}
	o := f.oauth(t, kg)
	if _, has := o["clientsecret"]; has {
		t.Error("a certificate key has a clientsecret")
	}
	if o["tokenurl"] != f.s.CertTokenURL()+"/oauth/token" || !strings.HasPrefix(o["tokenurl"].(string), "https://") {
		t.Errorf("tokenurl %v, want the certificate host over https", o["tokenurl"])
	}
	var chain []*x509.Certificate
	rest := []byte(o["certificate"].(string))
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) != 2 {
		t.Fatalf("certificate chain of %d certificates, want leaf and issuing CA", len(chain))
	}
	leaf := chain[0]
	kb, _ := pem.Decode([]byte(o["key"].(string)))
	if kb == nil || kb.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key is not a PEM RSA private key")
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 1024 || key.PublicKey.N.Cmp(leaf.PublicKey.(*rsa.PublicKey).N) != 0 {
		t.Errorf("key of %d bits, matches the certificate: %v", key.N.BitLen(), key.PublicKey.N.Cmp(leaf.PublicKey.(*rsa.PublicKey).N) == 0)
	}
	want := f.clk.Now().Add(30 * 24 * time.Hour)
	if d := leaf.NotAfter.Sub(want); d < -time.Minute || d > time.Minute {
		t.Errorf("valid until %s, want 30 days from %s", leaf.NotAfter, f.clk.Now())
	}
	sa, _ := f.s.SubaccountBySubdomain(SubReadySubdomain)
	det := o["certificatedetails"].(map[string]any)
	wantDetails := map[string]string{
		"issuerdn":     "CN=SAP PKI Certificate Service Client CA,OU=SAP BTP Clients,O=SAP SE,L=cf-eu10,C=DE",
		"subjectdn":    "CN=" + kg + ",L=sap-uaa,OU=" + sa.GUID + ",OU=SAP Cloud Platform Clients,O=SAP SE,C=DE",
		"validuntil":   leaf.NotAfter.UTC().Format("2006-01-02T15:04:05.000Z"),
		"serialnumber": "0x" + strings.ToUpper(leaf.SerialNumber.Text(16)),
	}
	for k, v := range wantDetails {
		if det[k] != v {
			t.Errorf("certificatedetails.%s = %v, want %v", k, det[k], v)
		}
	}
	if err := leaf.CheckSignatureFrom(chain[1]); err != nil {
		t.Errorf("the leaf is not signed by the CA after it: %v", err)
	}
	issued := f.s.IssuedSecrets()
	oneLine := base64.StdEncoding.EncodeToString(kb.Bytes) // the key as a store might keep it
	for _, form := range []string{o["key"].(string), oneLine} {
		if !slices.Contains(issued, form) {
			t.Errorf("IssuedSecrets lacks the private key it handed out (%.20s…)", form)
		}
	}
}

func TestCertTokenHost_RequiresTheKeysCertificate(t *testing.T) {
	f := newCFFixture(t)
	inst := f.newInstance(t, "cpi", map[string]any{"roles": []string{"ESBMessaging.send"}})
	k1, _ := f.createKey(t, inst, "k1", map[string]any{"key-type": "certificate", "key-length": 1024})
	k2, _ := f.createKey(t, inst, "k2", map[string]any{"key-type": "certificate", "key-length": 1024})
	o1, o2 := f.oauth(t, k1), f.oauth(t, k2)
	cert1, key1, id1 := o1["certificate"].(string), o1["key"].(string), o1["clientid"].(string)

	status, body, err := mtls(t, f.s, cert1, key1, id1)
	if err != nil || status != 200 {
		t.Fatalf("own certificate: %d %v %v", status, body, err)
	}
	if !hasScope(t, body["access_token"].(string), ".ESBMessaging.send") || body["token_type"] != "bearer" {
		t.Errorf("token %v lacks the ESBMessaging.send scope", body["scope"])
	}
	if iss := jwtClaims(t, body["access_token"].(string))["iss"]; iss != f.s.CertTokenURL()+"/oauth/token" {
		t.Errorf("issuer %v", iss)
	}
	if _, _, err := mtls(t, f.s, "", "", id1); err == nil {
		t.Error("no client certificate: the handshake succeeded")
	}
	if status, body, _ := mtls(t, f.s, o2["certificate"].(string), o2["key"].(string), id1); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("another key's certificate for k1: %d %v", status, body)
	}
	// A certificate of a CA the host does not trust never gets past TLS.
	selfCert, selfKey := selfSigned(t)
	if _, _, err := mtls(t, f.s, selfCert, selfKey, id1); err == nil {
		t.Error("a self-signed client certificate passed the handshake")
	}
	// The secret token host knows nothing of certificate keys.
	if r := call(t, "POST", f.s.TokenBaseURL()+"/oauth/token", "", url.Values{"grant_type": {"client_credentials"}, "client_id": {id1}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded"); r.status != 401 {
		t.Errorf("certificate key at the secret token host: %d", r.status)
	}
	f.deleteKey(t, k1)
	if status, _, _ := mtls(t, f.s, cert1, key1, id1); status != 401 {
		t.Errorf("deleted key's certificate: %d, want 401", status)
	}
}

func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "self"},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(1, 0, 0), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kd)
}

func TestExternalCertificate_UploadedOnceAcrossInstances(t *testing.T) {
	f := newCFFixture(t)
	a := f.newInstance(t, "cpi-a", map[string]any{"roles": []string{"ESBMessaging.send"}})
	b := f.newInstance(t, "cpi-b", map[string]any{"roles": []string{"ESBMessaging.send"}})
	certPEM, keyPEM, err := f.s.NewCompanyCertificate("sender.acme.example", 90)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"key-type": "certificate_external", "X.509": string(certPEM)}
	ka, fail := f.createKey(t, a, "ext", params)
	if fail != "" {
		t.Fatal(fail)
	}
	o := f.oauth(t, ka)
	if _, has := o["key"]; has {
		t.Error("an external certificate key carries a private key")
	}
	if o["certificate"] != string(certPEM) || o["certificate-pinning"] != true {
		t.Errorf("certificate %v, pinning %v", o["certificate"] == string(certPEM), o["certificate-pinning"])
	}
	if status, body, err := mtls(t, f.s, string(certPEM), string(keyPEM), o["clientid"].(string)); status != 200 {
		t.Fatalf("token with the uploaded certificate: %d %v %v", status, body, err)
	}
	_, fail = f.createKey(t, b, "ext", params)
	want := "bind could not be completed: Service broker error: Certificate already exists for Follower within Leader with appid [it-rt-" + SubReadySubdomain + "!b56186]."
	if fail != want {
		t.Fatalf("the same certificate on a second instance:\n got %q\nwant %q", fail, want)
	}
	f.deleteKey(t, ka)
	if _, fail = f.createKey(t, b, "ext2", params); fail != "" {
		t.Fatalf("after the first key is gone the certificate is free again: %s", fail)
	}
}

func TestExternalCertificate_RenewalWithoutPinning(t *testing.T) {
	f := newCFFixture(t)
	inst := f.newInstance(t, "cpi", map[string]any{"roles": []string{"ESBMessaging.send"}})
	csrFor := func(key *rsa.PrivateKey) []byte {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "renewing.acme.example"}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	key, err := rsaKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := privateKeyPEM(key)
	old, err := f.s.SignCSR(csrFor(key), 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, pinning := range []bool{true, false} {
		name := map[bool]string{true: "pinned", false: "unpinned"}[pinning]
		t.Run(name, func(t *testing.T) {
			kg, fail := f.createKey(t, inst, name, map[string]any{"key-type": "certificate_external", "X.509": string(old), "certificate-pinning": pinning})
			if fail != "" {
				t.Fatal(fail)
			}
			id := f.oauth(t, kg)["clientid"].(string)
			f.clk.Add(5 * time.Minute)
			renewed, err := f.s.SignCSR(csrFor(key), 365)
			if err != nil {
				t.Fatal(err)
			}
			status, _, _ := mtls(t, f.s, string(renewed), keyPEM, id)
			if pinning {
				if status != 401 {
					t.Fatalf("pinned key accepted a renewed certificate: %d", status)
				}
				f.deleteKey(t, kg)
				return
			}
			if status != 200 {
				t.Fatalf("unpinned key refused the renewed certificate: %d", status)
			}
			if status, _, _ := mtls(t, f.s, string(old), keyPEM, id); status != 401 {
				t.Errorf("the older certificate still works after the renewal: %d", status)
			}
		})
	}
}

func TestCertificateKey_SurvivesARestartWithoutPlainKeysOnDisk(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	s, clk := startCF(t, Config{StateFile: state})
	tok, _ := login(t, s, AdminUser, AdminPassword)
	f := &cfFixture{s: s, clk: clk, tok: tok, space: spaceGUID(t, s, SubReadySubdomain, "dev")}
	s.Do(func(w *World) { f.plan = w.planGUID("integration-flow") })
	inst := f.newInstance(t, "cpi", map[string]any{"roles": []string{"ESBMessaging.send"}})
	kg, _ := f.createKey(t, inst, "kc", map[string]any{"key-type": "certificate", "key-length": 1024})
	before := f.oauth(t, kg)
	s.Close()

	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	keys := s.issuedPrivateKeysLocked()
	s.mu.Unlock()
	if len(keys) == 0 {
		t.Fatal("no private key issued")
	}
	for _, secret := range keys {
		for _, form := range []string{secret, strings.ReplaceAll(secret, "\n", `\n`)} {
			if strings.Contains(string(raw), form) {
				t.Fatalf("the state file holds a secret in plain (%.12s…)", secret)
			}
		}
	}

	s2, err := Start(Config{StateFile: state, Now: clk.Now, EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s2.Close)
	tok2, _ := login(t, s2, AdminUser, AdminPassword)
	f2 := &cfFixture{s: s2, clk: clk, tok: tok2}
	after := f2.oauth(t, kg)
	if after["certificate"] != before["certificate"] || after["key"] != before["key"] {
		t.Fatal("certificate or key changed across a restart")
	}
	if status, body, err := mtls(t, s2, after["certificate"].(string), after["key"].(string), after["clientid"].(string)); status != 200 {
		t.Fatalf("token after restart: %d %v %v", status, body, err)
	}
}

func TestSignCSR_RefusesGarbage(t *testing.T) {
	s, _ := startCF(t, Config{})
	if _, err := s.SignCSR([]byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), 1); err == nil {
		t.Error("signed garbage")
	}
	if _, err := s.SignCSR([]byte("not pem"), 1); err == nil {
		t.Error("signed non-PEM")
	}
}

func TestSMBinding_CertificateKeys(t *testing.T) {
	c := newCLIT(t, Config{})
	c.login(AdminUser, AdminPassword)
	ready := c.sub(SubReadySubdomain).GUID
	var plan map[string]any
	c.cmd("services/plan", "get", map[string]any{"subaccount": ready, "name": "integration-flow", "offeringName": "it-rt"}).json(t, &plan)
	r := c.cmd("services/instance", "create", map[string]any{"subaccount": ready, "name": "CPI", "plan": plan["id"],
		"parameters": `{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"]}`})
	var acc map[string]string
	r.json(t, &acc)
	c.clock.add(time.Minute)

	r = c.cmd("services/binding", "create", map[string]any{"subaccount": ready, "name": "bad", "serviceInstanceID": acc["id"], "parameters": `{"key-type":"certificate","key-length":512}`})
	var be struct {
		Broker struct{ Description string } `json:"broker_error"`
	}
	r.json(t, &be)
	if r.backend() != "502" || be.Broker.Description != "Invalid parameter key-length: must be one of 1024, 2048, 3072, 4096" {
		t.Fatalf("schema violation: %s %s", r.backend(), r.body)
	}
	r = c.cmd("services/binding", "create", map[string]any{"subaccount": ready, "name": "kc", "serviceInstanceID": acc["id"], "parameters": `{"key-type":"certificate","validity":7,"key-length":1024}`})
	if r.backend() != "201" {
		t.Fatalf("create: %s %s", r.backend(), r.body)
	}
	var b map[string]any
	r.json(t, &b)
	c.clock.add(time.Minute)
	var got map[string]any
	c.cmd("services/binding", "get", map[string]any{"subaccount": ready, "id": b["id"]}).json(t, &got)
	o := got["credentials"].(map[string]any)["oauth"].(map[string]any)
	if status, body, err := mtls(t, c.s, o["certificate"].(string), o["key"].(string), o["clientid"].(string)); status != 200 {
		t.Fatalf("token: %d %v %v", status, body, err)
	}
}
