package profiles

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The collection's pre-request script run by node with a stand-in for
// Postman's pm object: what token request it sends for a secret key and
// for a certificate key (Postman presents the certificate; the script must
// send the client id in the body and no Basic header).
func TestPostmanPrerequest_CertificateKeySendsClientIDWithoutBasic(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	harness := `
var realRequire = require;
var vars = JSON.parse(process.argv[2]);
var sent = null, failed = null, headers = [];
global.require = function () { return { enc: { Base64: { stringify: function (s) { return 'B64(' + s + ')'; } }, Utf8: { parse: function (s) { return s; } } } }; };
global.pm = {
  request: { auth: null, headers: { upsert: function (h) { headers.push(h); } } },
  variables: { get: function (k) { return vars[k]; } },
  collectionVariables: { get: function () { return ''; }, set: function () {} },
  sendRequest: function (req, cb) { sent = req; cb(null, { code: 200, json: function () { return { access_token: 'tok', expires_in: 3600 }; } }); },
  test: function (name, fn) { try { fn(); } catch (e) { failed = e.message; } },
  execution: { skipRequest: function () {} }
};
eval(realRequire('fs').readFileSync(process.argv[3], 'utf8'));
console.log(JSON.stringify({ sent: sent, failed: failed, headers: headers }));
`
	dir := t.TempDir()
	hp := filepath.Join(dir, "harness.js")
	os.WriteFile(hp, []byte(harness), 0o600) //nolint:errcheck
	// The script's require('crypto-js') gets the stand-in.
	script := filepath.Join(dir, "prerequest.js")
	os.WriteFile(script, []byte(strings.ReplaceAll(postmanPrerequest, "require('crypto-js')", "global.require('crypto-js')")), 0o600) //nolint:errcheck

	type result struct {
		Sent struct {
			Header []struct{ Key, Value string }
			Body   struct{ Urlencoded []struct{ Key, Value string } }
		}
		Failed  *string
		Headers []struct{ Key, Value string }
	}
	run := func(vars map[string]string) result {
		t.Helper()
		v, _ := json.Marshal(vars)
		out, err := exec.Command(node, hp, string(v), script).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var r result
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("harness output: %s", out)
		}
		return r
	}
	form := func(r result) map[string]string {
		m := map[string]string{}
		for _, f := range r.Sent.Body.Urlencoded {
			m[f.Key] = f.Value
		}
		return m
	}
	basic := func(r result) bool {
		for _, h := range r.Sent.Header {
			if h.Key == "Authorization" && strings.HasPrefix(h.Value, "Basic ") {
				return true
			}
		}
		return false
	}

	secret := run(map[string]string{"tokenUrl": "https://t/oauth/token", "clientId": "sb-id", "clientSecret": "s$"})
	if !basic(secret) || form(secret)["client_id"] != "" || form(secret)["grant_type"] != "client_credentials" {
		t.Errorf("secret key: %+v", secret.Sent)
	}
	cert := run(map[string]string{"tokenUrl": "https://t.cert/oauth/token", "clientId": "sb-id", "certFile": "/home/me/k.cert.pem"})
	if cert.Failed != nil || basic(cert) || form(cert)["client_id"] != "sb-id" || form(cert)["grant_type"] != "client_credentials" {
		t.Errorf("certificate key: sent %+v, failed %v", cert.Sent, cert.Failed)
	}
	if len(cert.Headers) != 1 || cert.Headers[0].Value != "Bearer tok" {
		t.Errorf("certificate key: the request did not get the token: %+v", cert.Headers)
	}
	none := run(map[string]string{"tokenUrl": "https://t/oauth/token", "clientId": "sb-id"})
	if none.Failed == nil || !strings.Contains(*none.Failed, "no value for clientSecret") {
		t.Errorf("neither secret nor certificate: %+v", none)
	}
}
