package cliserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cpikey/cpikey/btp/redact/redacttest"
)

// Fuzz targets for what the CLI server sends back: the two-layer error
// decoder, the Service Manager label string, the environment labels (a
// JSON document inside a string) and the streamed entitlement listing.
// `go test` runs the seeds (f.Add and testdata/fuzz); scripts/fuzz.sh fuzzes.

const fuzzSession = "CANARY-session-4f1c9e2ab7d3"

// FuzzClassify feeds arbitrary answers to the error decoder of every
// command: status line, backend status header, server messages and body.
func FuzzClassify(f *testing.F) {
	seeds := []struct {
		status  int
		backend string
		srvMsg  string
		body    string
	}{
		{200, "200", "", `{"guid":"x"}`},
		{200, "400", "", `{"error":"Cannot update the entitlement [Error: 30004/400]"}`},
		{200, "429", "", `{"error":"Request rate limit exceeded [Error: 11006/429]"}`},
		{429, "", "", `{"error":{"code":11006,"message":"Request rate limit exceeded","target":"/x","details":[{"code":11006,"message":"Too many requests"}]}}`},
		{200, "502", "", `{"error":"BrokerError","description":"long","broker_error":{"StatusCode":409,"ErrorMessage":null,"Description":"Tenant is not provisioned"}}`},
		{200, "404", "", `{"error":"NotFound","description":"could not find such instance"}`},
		{200, "400", "", `{"ErrorMessage":"x","violations":[{"configuration":"c","errors":["a","b"]}]}`},
		{200, "500", "", `{"error_code":"E1","error_message":"boom"}`},
		{504, "", "Request timed out. Request was not sent to the backend.", ``},
		{401, "", "", ``},
		{200, "abc", "", ``},
		{200, "999", "", `null`},
		{200, "403", "", `{"error":{"code":1}}`},
		{200, "400", "", `{"error":"` + fuzzSession + `"}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.backend, s.srvMsg, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, backend, srvMsg string, body []byte) {
		if status < 100 || status > 999 {
			return // net/http never hands out such a status
		}
		resp := &http.Response{
			StatusCode: status,
			Header:     http.Header{"X-Cpcli-Backend-Status": {backend}, "X-Cpcli-Server-Message": {srvMsg}},
			Body:       io.NopCloser(bytes.NewReader(body)),
		}
		for _, cmd := range []string{"accounts/entitlement?assign", "services/instance?get", "login"} {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			c := &Client{}
			cl := &call{command: cmd, idempotent: strings.HasSuffix(cmd, "?get"), corrID: "corr-1", subdomain: "acme"}
			e, retry, _ := c.classify(cl, resp)
			if e == nil {
				if retry {
					t.Fatal("retry requested for a success")
				}
				continue
			}
			msg := e.Error()
			if !strings.Contains(msg, "[HTTP "+strconv.Itoa(status)) {
				t.Fatalf("%s: message %q lacks the HTTP status", cmd, msg)
			}
			if !strings.HasPrefix(msg, e.what()+": ") {
				t.Fatalf("%s: message %q does not start with what failed", cmd, msg)
			}
			if e.Code == 30004 && !IsLocked(e) {
				t.Fatal("code 30004 not classified as the entitlement lock")
			}
			if (status == http.StatusTooManyRequests || e.BackendStatus == http.StatusTooManyRequests) && !IsRateLimited(e) {
				t.Fatal("a 429 not classified as rate limited")
			}
			if utf8.ValidString(string(body)) && utf8.ValidString(srvMsg) && !utf8.ValidString(msg) {
				t.Fatalf("valid input became an invalid message %q", msg)
			}
		}
	})
}

// renderSMLabels writes labels the way Service Manager sends them.
func renderSMLabels(m map[string][]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" = "+strings.Join(m[k], ", "))
	}
	return strings.Join(parts, "; ")
}

// FuzzParseSMLabels checks the label string parser: keys and values come
// out trimmed, free of separators, and a re-rendered result parses the same.
func FuzzParseSMLabels(f *testing.F) {
	for _, s := range []string{
		"", "a=b", "k = v1, v2; k2 = v3", "subaccount_id = 8a1b; region = eu10",
		"noequals", "=v", "k=", ";;;", "k = a,, b ; k = c", "  spaced key = x ",
		"a=b=c", "k\t=\tv", "ключ = значение", "k = \x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := ParseSMLabels(s)
		if m == nil {
			t.Fatal("nil map")
		}
		for k, vs := range m {
			if k == "" || k != strings.TrimSpace(k) || strings.ContainsAny(k, ";=") {
				t.Fatalf("bad key %q from %q", k, s)
			}
			if vs == nil {
				t.Fatalf("key %q has a nil value list", k)
			}
			for _, v := range vs {
				if v == "" || v != strings.TrimSpace(v) || strings.ContainsAny(v, ";,") {
					t.Fatalf("bad value %q of %q from %q", v, k, s)
				}
			}
		}
		again := ParseSMLabels(renderSMLabels(m))
		if renderSMLabels(again) != renderSMLabels(m) {
			t.Fatalf("not stable: %q -> %v -> %v", s, m, again)
		}
	})
}

// FuzzSMLabelsField decodes the labels field in both shapes (string or map).
func FuzzSMLabelsField(f *testing.F) {
	for _, s := range []string{`"a = b; c = d, e"`, `{"a":["b"],"c":["d","e"]}`, `null`, `7`, `{"a":"b"}`, `""`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := smLabels(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if got, want := renderSMLabels(m), renderSMLabels(ParseSMLabels(s)); got != want {
				t.Fatalf("string labels %q decoded as %q, want %q", s, got, want)
			}
		}
	})
}

// FuzzEnvironmentLabels decodes environment-instance labels, a JSON object
// sent inside a string, where the Cloud Foundry API endpoint and org live.
func FuzzEnvironmentLabels(f *testing.F) {
	for _, s := range []string{
		`{"Org Name":"acme_dev","API Endpoint":"https://api.cf.eu10.hana.ondemand.com","Org ID":"1b2c"}`,
		`{"API Endpoint":7,"Org ID":null}`, `{}`, ``, `   `, `not json`, `[1,2]`, `"nested"`,
		`{"API Endpoint":"https://a","API Endpoint":"https://b"}`, `{"Org Name":{"x":[1]}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, labels string) {
		for _, v := range []any{labels, decodedOrString(labels)} {
			w := wireEnvironment{EnvironmentType: "cloudfoundry", Labels: v}
			e := w.toEnvironment()
			// What the labels say, decoded independently.
			var m map[string]any
			switch v := v.(type) {
			case map[string]any:
				m = v
			case string:
				if json.Unmarshal([]byte(v), &m) != nil {
					m = nil // a failed decode may leave partial results
				}
			}
			// Non-string values are rendered as JSON (documented on Labels);
			// null is an absent label.
			want := func(k string) string {
				v, ok := m[k]
				if s, isStr := v.(string); isStr || !ok || v == nil {
					return s
				}
				b, _ := json.Marshal(v)
				return string(b)
			}
			if e.APIEndpoint != want("API Endpoint") || e.OrgID != want("Org ID") || e.OrgName != want("Org Name") {
				t.Fatalf("labels %#v gave endpoint %q, org %q (%q)", v, e.APIEndpoint, e.OrgID, e.OrgName)
			}
		}
	})
}

// decodedOrString returns labels decoded (the lenient object shape) when
// it is JSON, else the string itself.
func decodedOrString(labels string) any {
	var v any
	if json.Unmarshal([]byte(labels), &v) != nil {
		return labels
	}
	return v
}

// FuzzDecodeEntitlements streams arbitrary listings through the decoder.
func FuzzDecodeEntitlements(f *testing.F) {
	for _, s := range []string{
		`{"entitledServices":[{"name":"it-rt","servicePlans":[{"name":"api","category":"SERVICE","amount":1}]}],"assignedServices":[]}`,
		`{"assignedServices":[{"name":"it-rt","servicePlans":[{"name":"integration-flow","assignmentInfo":[{"entityId":"sub","entityType":"SUBACCOUNT","entityState":"OK","amount":1}]}]}]}`,
		`{"entitledServices":null}`, `{}`, `[]`, `{"entitledServices":{}}`, `{"x":[1,2,{"y":null}]}`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ents, err := decodeEntitlements(bytes.NewReader(body), "sub", nil)
		if err == nil && ents == nil {
			t.Fatal("nil listing without error")
		}
		if err == nil && !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			t.Fatalf("accepted a listing that is no JSON object: %q", body)
		}
	})
}

// Canaries the client holds while the server's error texts echo them. In
// the fuzzed texts §P, §S, §C and §T stand for the password, session id,
// client secret and token in the encoding the input picks.
const (
	fuzzPassword = `CANARY-Pa$$ "w/<rd>&+=ü`
	fuzzSecret   = "CANARY-sb$Zk9=/+secret"
	fuzzToken    = "eyJhbGciOiJSUzI1NiJ9.CANARY-token.c2ln"
)

// FuzzErrorHidesSecrets feeds error answers that echo the client's secrets
// (raw, JSON-, URL- or base64-encoded) in the status headers and the body:
// no secret survives in Error() or in the fields steps show.
func FuzzErrorHidesSecrets(f *testing.F) {
	seeds := []struct {
		status                      int
		backend, srvMsg, backendMsg string
		body                        string
		which                       uint8
	}{
		{401, "", "bad credentials for §P", "", ``, 0},
		{200, "400", "", "", `{"error":"invalid session §S"}`, 1},
		{200, "502", "", "", `{"error":"BrokerError","broker_error":{"StatusCode":409,"Description":"clientsecret=§C rejected"}}`, 3},
		{200, "403", "", "You may not use session §S", ``, 5},
		{429, "", "", "", `{"error":{"code":11006,"message":"§T","details":[{"code":1,"message":"pw §P"}]}}`, 2},
		{200, "400", "", "", `{"description":"Authorization: Basic §P","error":"BadRequest"}`, 9},
		{200, "500", "", "", `{"error_code":"E1","error_message":"§C / §T"}`, 10},
		{504, "", "Request was not sent to the backend: §S", "", ``, 4},
		{200, "400", "", "", `{"ErrorMessage":"x","violations":[{"configuration":"§C","errors":["§P","§T"]}]}`, 6},
	}
	for _, s := range seeds {
		f.Add(s.status, s.backend, s.srvMsg, s.backendMsg, []byte(s.body), s.which)
	}
	f.Fuzz(func(t *testing.T, status int, backend, srvMsg, backendMsg string, body []byte, which uint8) {
		if status < 100 || status > 999 {
			return // net/http never hands out such a status
		}
		echo := strings.NewReplacer(
			"§P", redacttest.Echo(int(which), fuzzPassword, []byte("admin@acme.example:")),
			"§S", redacttest.Echo(int(which), fuzzSession, nil),
			"§C", redacttest.Echo(int(which), fuzzSecret, []byte("sb-x!b1:")),
			"§T", redacttest.Echo(int(which), fuzzToken, []byte("t")),
		).Replace
		c := &Client{}
		c.SetSession(&Session{id: fuzzSession, Subdomain: "acme"})
		c.remember([]byte(`{"oauth":{"clientid":"sb-x!b1","clientsecret":"` + fuzzSecret + `"},"access_token":"` + fuzzToken + `"}`))
		for _, cl := range []*call{
			{command: "login", corrID: "corr-1", subdomain: "acme", secrets: []string{fuzzPassword}},
			{command: "services/binding?delete", corrID: "corr-2", sess: c.Session()},
		} {
			resp := &http.Response{
				StatusCode: status,
				Header: http.Header{"X-Cpcli-Backend-Status": {echo(backend)}, "X-Cpcli-Server-Message": {echo(srvMsg)},
					"X-Cpcli-Backend-Message": {echo(backendMsg)}},
				Body: io.NopCloser(strings.NewReader(echo(string(body)))),
			}
			e, _, _ := c.classify(cl, resp)
			if e == nil {
				continue
			}
			secrets := []string{fuzzSession, fuzzSecret, fuzzToken}
			if cl.command == "login" {
				secrets = append(secrets, fuzzPassword)
			}
			for _, text := range []string{e.Error(), e.BrokerDescription, e.Message} {
				for _, s := range secrets {
					if l := redacttest.Leaks(text, s); len(l) > 0 {
						t.Fatalf("%s: %q survives (%v) in %q", cl.command, s, l, text)
					}
				}
			}
		}
	})
}
