package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

// The Postman export, run by newman (the Postman runtime as a CLI) against
// the simulator's tenant: the collection's pre-request script must fetch a
// token with the environment's variables (one token request, reused on the
// second iteration) and the request must pass its status test. Nothing
// newman prints may hold the client secret or a token.
//
// It needs node and newman, so it runs only when CPIKEY_NEWMAN names the
// newman executable; .ci/newman-check.sh installs newman and sets it.

const tokenRequest = "xsuaa:POST /oauth/token"

func TestPostmanCollection_NewmanSends(t *testing.T) {
	newman := newmanPath(t)
	cases := []struct {
		name  string
		args  []string
		call  string // the request newman must make, as the simulator logs it
		cache bool   // also run the token cache cases
	}{
		{"integration-flow", []string{"--plan", "integration-flow"}, "rt:POST /http/demo/echo", true},
		{"api", []string{"--plan", "api", "--roles", "WorkspacePackagesRead"}, "api:GET /api/v1/IntegrationPackages", false},
		{"api, logs only", []string{"--plan", "api", "--roles", "MonitoringDataRead"}, "api:GET /api/v1/MessageProcessingLogs", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1})
			x := exportForNewman(t, w, tc.args)

			// A fresh import, run twice: one token, two calls.
			r := x.run(t, newman, "fresh", x.collection, 2)
			if r.code != 0 {
				t.Fatalf("newman exit %d:\n%s", r.code, r.output)
			}
			x.wantRequests(t, 1, tc.call, 2)
			x.wantPassed(t, r, 2)
			if t.Failed() {
				t.FailNow()
			}
			t.Logf("newman %s, 2 iterations: 1 token request, then %v, %v; %d tests passed",
				tc.name, r.calls[0], r.calls[1], r.passed)
			if !tc.cache {
				w.scanAll(t)
				return
			}

			// The cached token is used only while it is valid and only for
			// the key it was fetched with.
			future := time.Now().Add(time.Hour).UnixMilli()
			for _, c := range []struct {
				name         string
				token, owner string
				expiresAt    int64
				wantTokens   int
			}{
				{"a cached token that expired", x.token(t), x.owner(), time.Now().Add(-time.Minute).UnixMilli(), 1},
				{"a cached token of another key", x.token(t), "sb-other!b1|it-rt-other!b2 " + x.tokenURL, future, 1},
				{"a cached token that expires within a minute", x.token(t), x.owner(), time.Now().Add(30 * time.Second).UnixMilli(), 1},
				{"a valid cached token", x.token(t), x.owner(), future, 0},
			} {
				coll := x.withVariables(t, map[string]string{
					"accessToken": c.token, "accessTokenOwner": c.owner, "accessTokenExpiresAt": fmt.Sprint(c.expiresAt)})
				r := x.run(t, newman, c.name, coll, 1)
				if r.code != 0 {
					t.Fatalf("%s: newman exit %d:\n%s", c.name, r.code, r.output)
				}
				x.wantRequests(t, c.wantTokens, tc.call, 1)
				x.wantPassed(t, r, 1)
			}

			// A request with an authorization of its own (Basic, which
			// integration-flow endpoints take): the script leaves it alone.
			coll := x.edit(t, "basic", func(c map[string]any) {
				c["item"].([]any)[0].(map[string]any)["request"].(map[string]any)["auth"] = map[string]any{
					"type": "basic", "basic": []map[string]string{
						{"key": "username", "value": "{{clientId}}"}, {"key": "password", "value": "{{clientSecret}}"}}}
			})
			r = x.run(t, newman, "request auth", coll, 1)
			if r.code != 0 || len(r.calls) != 1 || r.calls[0].scheme() != "Basic" {
				t.Fatalf("with Basic on the request: newman exit %d, calls %v:\n%s", r.code, r.calls, r.output)
			}
			x.wantRequests(t, 0, tc.call, 1)

			// Postman's own OAuth 2.0 helper on the collection: its token
			// is the one sent.
			coll = x.edit(t, "oauth2", func(c map[string]any) {
				c["auth"] = map[string]any{"type": "oauth2", "oauth2": []map[string]string{
					{"key": "accessToken", "value": x.token(t)}, {"key": "addTokenTo", "value": "header"}}}
			})
			r = x.run(t, newman, "oauth2 helper", coll, 1)
			if r.code != 0 || len(r.calls) != 1 || r.calls[0].authorization != "Bearer "+x.token(t) {
				t.Fatalf("with the OAuth 2.0 helper: newman exit %d, %d calls; the helper's token was not sent:\n%s", r.code, len(r.calls), r.output)
			}

			// A wrong secret: the run fails on the token, says why, and the
			// request is not sent.
			x.setSecret(t, "not-the-secret")
			r = x.run(t, newman, "wrong secret", x.collection, 1)
			if r.code == 0 {
				t.Fatalf("newman passed with a wrong client secret:\n%s", r.output)
			}
			for _, want := range []string{"cpikey: an access token for the request", "HTTP 401", "invalid_client", "check clientId, clientSecret and tokenUrl"} {
				if !strings.Contains(r.output, want) {
					t.Errorf("wrong secret: newman's output lacks %q:\n%s", want, r.output)
				}
			}
			x.wantRequests(t, 1, tc.call, 0)

			// No secret in the environment (a profile without a keychain
			// entry): the run fails before any request.
			x.setSecret(t, "")
			r = x.run(t, newman, "no secret", x.collection, 1)
			if r.code == 0 || !strings.Contains(r.output, "no value for clientSecret") {
				t.Fatalf("no secret: newman exit %d:\n%s", r.code, r.output)
			}
			x.wantRequests(t, 0, tc.call, 0)
			w.scanAll(t)
		})
	}
}

func newmanPath(t *testing.T) string {
	newman := os.Getenv("CPIKEY_NEWMAN")
	if newman == "" {
		t.Skip("needs CPIKEY_NEWMAN, the newman executable (.ci/newman-check.sh sets it)")
	}
	return newman
}

// newmanExport is one fresh profile's Postman export in a private directory.
type newmanExport struct {
	w                          *world
	dir, home                  string
	environment, collection    string
	clientID, tokenURL, secret string
	cachedToken                string
}

// exportForNewman creates a key on a fresh subaccount (no keychain: the
// secret comes from the run's --json --show-secret, as a user without a
// keychain copies it) and exports the environment and the collection.
func exportForNewman(t *testing.T, w *world, args []string) *newmanExport {
	t.Helper()
	home := w.home(t)
	login := []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password}
	args = append([]string{"--yes", "--json", "--show-secret", "--no-keychain", "--global-account", sim.GASubdomain,
		"--subaccount", sim.SubFresh, "--runtime", "cf"}, args...)
	r := w.runCPIKey(t, "run", home, w.env(home, login...), args...)
	if r.code != 0 {
		t.Fatalf("cpikey exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	var res struct {
		Credentials struct{ ClientID, TokenURL, ClientSecret string }
	}
	if err := json.Unmarshal(r.stdout, &res); err != nil || res.Credentials.ClientSecret == "" {
		t.Fatalf("no credentials in the --json output: %v", err)
	}
	x := &newmanExport{w: w, dir: t.TempDir(), home: home, clientID: res.Credentials.ClientID,
		tokenURL: res.Credentials.TokenURL, secret: res.Credentials.ClientSecret}
	x.environment = filepath.Join(x.dir, "cpi.postman_environment.json")
	x.collection = filepath.Join(x.dir, "cpi.postman_collection.json")
	for format, path := range map[string]string{"postman": x.environment, "postman-collection": x.collection} {
		if r := w.runCPIKey(t, "export "+format, home, w.env(home), "export", "--format", format, "-o", path); r.code != 0 {
			t.Fatalf("cpikey export --format %s: exit %d\nstderr:\n%s", format, r.code, r.stderr)
		}
		checkPrivate(t, path)
	}
	coll, err := os.ReadFile(x.collection)
	if err != nil {
		t.Fatal(err)
	}
	w.record("the exported collection", coll) // scanned: no secret in it
	// Without a keychain entry the environment's clientSecret is empty;
	// the user fills it in.
	x.setSecret(t, x.secret)
	return x
}

func checkPrivate(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %#o, want 0600", filepath.Base(path), st.Mode().Perm())
	}
}

func (x *newmanExport) owner() string { return x.clientID + " " + x.tokenURL }

// setSecret writes secret into the environment's clientSecret.
func (x *newmanExport) setSecret(t *testing.T, secret string) {
	t.Helper()
	var env map[string]any
	readJSON(t, x.environment, &env)
	found := false
	for _, v := range env["values"].([]any) {
		if m := v.(map[string]any); m["key"] == "clientSecret" {
			m["value"], found = secret, true
		}
	}
	if !found {
		t.Fatal("the environment has no clientSecret")
	}
	writeJSON(t, x.environment, env)
}

// withVariables is a copy of the collection whose cache variables hold
// vars, as Postman keeps them between sends.
func (x *newmanExport) withVariables(t *testing.T, vars map[string]string) string {
	t.Helper()
	return x.edit(t, "preset", func(c map[string]any) {
		seen := 0
		for _, v := range c["variable"].([]any) {
			m := v.(map[string]any)
			if val, ok := vars[m["key"].(string)]; ok {
				m["value"] = val
				seen++
			}
		}
		if seen != len(vars) {
			t.Fatalf("the collection declares %d of the variables %v", seen, vars)
		}
	})
}

// edit writes a copy of the collection changed by change, as a user
// changes it in Postman, and returns its path.
func (x *newmanExport) edit(t *testing.T, name string, change func(c map[string]any)) string {
	t.Helper()
	var c map[string]any
	readJSON(t, x.collection, &c)
	change(c)
	path := filepath.Join(x.dir, name+".postman_collection.json")
	writeJSON(t, path, c)
	return path
}

// token fetches an access token for the cache cases, once.
func (x *newmanExport) token(t *testing.T) string {
	t.Helper()
	if x.cachedToken != "" {
		return x.cachedToken
	}
	req, err := http.NewRequest(http.MethodPost, x.tokenURL, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(x.clientID, x.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token for the cache cases: HTTP %d, %v", resp.StatusCode, err)
	}
	x.cachedToken = tok.AccessToken
	return tok.AccessToken
}

type newmanRun struct {
	code   int
	output string // stdout and stderr, after the secret scan
	// From newman's JSON report: the collection's requests as sent, the
	// number of all requests (the script's too), and the tests.
	calls                    []execution
	requests, passed, failed int
}

type execution struct {
	url           string
	status        int
	authorization string
}

func (e execution) scheme() string { s, _, _ := strings.Cut(e.authorization, " "); return s }

// String never shows the credentials, only their scheme.
func (e execution) String() string {
	return fmt.Sprintf("%s: HTTP %d with %q", e.url, e.status, cmp.Or(e.scheme(), "no authorization"))
}

// run runs newman on collection and the environment for n iterations,
// with the simulator's request log cleared first. The JSON report stays
// in the private directory; only its facts are kept.
func (x *newmanExport) run(t *testing.T, newman, label, collection string, n int) newmanRun {
	t.Helper()
	x.w.sim.ResetRequests()
	report := filepath.Join(x.dir, "report.json")
	os.Remove(report)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, newman, "run", collection, "-e", x.environment, "-n", fmt.Sprint(n),
		"--reporters", "cli,json", "--reporter-json-export", report, "--color", "off", "--disable-unicode")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + x.home, "TMPDIR=" + filepath.Join(x.home, "tmp")}
	cmd.Dir = x.dir
	out, err := cmd.CombinedOutput()
	x.w.record("newman "+label, out)
	r := newmanRun{output: string(safeOutput(t, x.w, "newman", out))}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("newman: %v", err)
	}
	var rep struct {
		Run struct {
			Stats struct {
				Requests   struct{ Total int }
				Assertions struct{ Total, Failed int }
			}
			// One entry per request, the script's token request too; the
			// entries of one item share their content, the item's request.
			Executions []struct {
				Cursor  struct{ Ref string }
				Request struct {
					URL struct {
						Protocol, Port string
						Host, Path     []string
					}
					Header []struct{ Key, Value string }
				}
				Response struct{ Code int }
			}
		}
	}
	if _, err := os.Stat(report); err != nil {
		t.Fatalf("newman exit %d and no report (%v):\n%s", r.code, err, r.output)
	}
	readJSON(t, report, &rep)
	r.requests = rep.Run.Stats.Requests.Total
	r.passed = rep.Run.Stats.Assertions.Total - rep.Run.Stats.Assertions.Failed
	r.failed = rep.Run.Stats.Assertions.Failed
	seen := map[string]bool{}
	for _, e := range rep.Run.Executions {
		if seen[e.Cursor.Ref] {
			continue
		}
		seen[e.Cursor.Ref] = true
		u := e.Request.URL
		ex := execution{url: u.Protocol + "://" + strings.Join(u.Host, ".") + ":" + u.Port + "/" + strings.Join(u.Path, "/"), status: e.Response.Code}
		for _, h := range e.Request.Header {
			if strings.EqualFold(h.Key, "Authorization") {
				ex.authorization = h.Value
			}
		}
		r.calls = append(r.calls, ex)
	}
	return r
}

// wantRequests checks the simulator's log of the last run: tokens token
// requests and calls requests to call, and nothing else of the tenant.
func (x *newmanExport) wantRequests(t *testing.T, tokens int, call string, calls int) {
	t.Helper()
	got := x.w.sim.Requests()
	n := func(key string) int {
		c := 0
		for _, r := range got {
			if r == key {
				c++
			}
		}
		return c
	}
	if n(tokenRequest) != tokens || n(call) != calls || len(got) != tokens+calls {
		t.Errorf("want %d token requests and %d of %s; the simulator got %q", tokens, calls, call, got)
	}
}

// wantPassed checks that n requests were sent with a bearer token, were
// answered 2xx and passed their status test.
func (x *newmanExport) wantPassed(t *testing.T, r newmanRun, n int) {
	t.Helper()
	if len(r.calls) != n || r.failed != 0 || r.passed != n || r.requests != len(x.w.sim.Requests()) {
		t.Errorf("want %d requests with a passed test; got %v, %d passed, %d failed, %d requests in all:\n%s",
			n, r.calls, r.passed, r.failed, r.requests, r.output)
	}
	for i, c := range r.calls {
		if c.status < 200 || c.status > 299 || c.scheme() != "Bearer" {
			t.Errorf("request %d: HTTP %d with authorization %q, want 2xx with Bearer", i+1, c.status, c.scheme())
		}
	}
	if !strings.Contains(r.output, "HTTP status is 2xx") {
		t.Errorf("newman's output does not name the status test:\n%s", r.output)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.TrimSpace(b), 0o600); err != nil {
		t.Fatal(err)
	}
}
