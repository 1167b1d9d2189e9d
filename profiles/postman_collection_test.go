package profiles

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// collectionJSON is the part of a Postman collection (v2.1) the tests read.
type collectionJSON struct {
	Info struct {
		ID, Name, Description, Schema string
		PostmanID                     string `json:"_postman_id"`
	}
	Item []struct {
		Name    string
		Event   []eventJSON
		Request struct {
			Method string
			Header []struct{ Key, Value string }
			URL    struct{ Raw string }
		}
	}
	Auth     struct{ Type string }
	Event    []eventJSON
	Variable []struct{ Key, Value string }
}

type eventJSON struct {
	Listen string
	Script struct{ Exec []string }
}

func (e eventJSON) source() string { return strings.Join(e.Script.Exec, "\n") }

func exportCollection(t *testing.T, p Profile) (collectionJSON, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Export(p, FormatPostmanCollection, canary, &buf); err != nil {
		t.Fatal(err)
	}
	mustNotContain(t, "the collection", buf.String())
	var c collectionJSON
	if err := json.Unmarshal(buf.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	return c, buf.String()
}

func TestExport_PostmanCollection(t *testing.T) {
	logsOnly := apiOther()
	logsOnly.Roles = []string{"MonitoringDataRead"}
	noRoles := apiOther() // a profile of a version that kept no roles
	noRoles.Roles = nil
	tests := []struct {
		name       string
		p          Profile
		method     string
		url        string
		collection map[string]string // declared collection variables with a value
	}{
		{"integration-flow", fixture(), "POST", "{{baseUrl}}/http/{{endpoint}}", map[string]string{"endpoint": "demo/echo"}},
		{"api", apiOther(), "GET", "{{baseUrl}}/api/v1/IntegrationPackages", nil},
		{"api without WorkspacePackagesRead", logsOnly, "GET", "{{baseUrl}}/api/v1/MessageProcessingLogs", nil},
		{"api, roles unknown", noRoles, "GET", "{{baseUrl}}/api/v1/IntegrationPackages", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, raw := exportCollection(t, tc.p)
			if c.Info.Schema != postmanSchema || c.Info.PostmanID == "" || c.Info.Name != "cpikey "+tc.p.Name {
				t.Errorf("info %+v", c.Info)
			}
			if len(c.Item) != 1 {
				t.Fatalf("%d requests, want 1", len(c.Item))
			}
			req := c.Item[0].Request
			if req.Method != tc.method || req.URL.Raw != tc.url {
				t.Errorf("request %s %s, want %s %s", req.Method, req.URL.Raw, tc.method, tc.url)
			}
			// The token comes from the collection's script, not from an
			// authorization the user must configure first.
			if c.Auth.Type != "noauth" || len(c.Event) != 1 || c.Event[0].Listen != "prerequest" {
				t.Fatalf("collection auth %q, events %+v", c.Auth.Type, c.Event)
			}
			pre := c.Event[0].source()
			for _, want := range []string{"pm.sendRequest", "'Basic '", "grant_type", "client_credentials",
				"pm.collectionVariables.set('" + PostmanAccessToken + "'", "'Bearer '"} {
				if !strings.Contains(pre, want) {
					t.Errorf("pre-request script lacks %s", want)
				}
			}
			if ev := c.Item[0].Event; len(ev) != 1 || ev[0].Listen != "test" || !strings.Contains(ev[0].source(), "to.be.within(200, 299)") {
				t.Errorf("the request has no status test: %+v", ev)
			}
			for k, v := range tc.collection {
				if !slices.ContainsFunc(c.Variable, func(d struct{ Key, Value string }) bool { return d.Key == k && d.Value == v }) {
					t.Errorf("collection variable %s = %q missing: %+v", k, v, c.Variable)
				}
			}
			// Every variable the collection uses is the environment's or
			// its own: a typo would send an empty value.
			known := []string{PostmanClientID, PostmanClientSecret, PostmanTokenURL, PostmanBaseURL,
				PostmanCertFile} // a certificate key's environment has it instead of the secret
			for _, d := range c.Variable {
				if d.Key != PostmanEndpoint && d.Value != "" {
					t.Errorf("collection variable %s has a value in the export: %q", d.Key, d.Value)
				}
				known = append(known, d.Key)
			}
			used := regexp.MustCompile(`\{\{(\w+)\}\}|pm\.(?:variables|collectionVariables)\.get\('(\w+)'\)`).FindAllStringSubmatch(raw, -1)
			if len(used) < 5 {
				t.Fatalf("found only %d variable uses", len(used))
			}
			for _, m := range used {
				name := m[1] + m[2]
				if !slices.Contains(known, name) {
					t.Errorf("the collection uses %q, which neither the environment nor the collection declares", name)
				}
			}
			// Postman's own OAuth 2.0 helper, for who prefers it.
			for _, want := range []string{"Client Credentials", "Access Token URL `{{tokenUrl}}`", "Client ID `{{clientId}}`",
				"Client Secret `{{clientSecret}}`", "Send as Basic Auth header"} {
				if !strings.Contains(c.Info.Description, want) {
					t.Errorf("description lacks %q", want)
				}
			}
		})
	}
}

func TestExport_PostmanCollection_StableIDAndPrivateFile(t *testing.T) {
	a, _ := exportCollection(t, fixture())
	b, _ := exportCollection(t, fixture())
	other, _ := exportCollection(t, apiOther())
	if a.Info.PostmanID != b.Info.PostmanID || a.Info.PostmanID == other.Info.PostmanID {
		t.Errorf("collection ids: %s, %s, other profile %s; want one id per profile (re-import replaces)", a.Info.PostmanID, b.Info.PostmanID, other.Info.PostmanID)
	}
	env, _ := exportEnvironmentID(t)
	if env == a.Info.PostmanID {
		t.Error("the collection has the environment's id")
	}
	path := filepath.Join(t.TempDir(), "cpi.postman_collection.json")
	if err := WriteFile(path, fixture(), FormatPostmanCollection, canary, false); err != nil {
		t.Fatal(err)
	}
	checkMode(t, path, 0o600)
}

func exportEnvironmentID(t *testing.T) (string, error) {
	var buf bytes.Buffer
	if err := Export(fixture(), FormatPostman, "", &buf); err != nil {
		t.Fatal(err)
	}
	var env struct{ ID string }
	err := json.Unmarshal(buf.Bytes(), &env)
	return env.ID, err
}
