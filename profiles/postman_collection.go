package profiles

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cpikey/cpikey/btp/itrt"
)

// The Postman collection goes with the environment (writePostman): one
// request to the key's tenant, and a collection-level pre-request script
// that fetches the OAuth token itself, so the collection sends from the
// Postman app and from newman without any manual OAuth set-up. It holds no
// secret: the script reads clientSecret from the environment.

//go:embed postman/prerequest.js
var postmanPrerequest string

//go:embed postman/status_test.js
var postmanStatusTest string

// Collection variables: the iFlow address the integration-flow request
// calls (a consultant edits it), and the token cache the script keeps.
const (
	PostmanEndpoint        = "endpoint"
	PostmanAccessToken     = "accessToken"
	postmanTokenExpiresAt  = "accessTokenExpiresAt"
	postmanTokenOwner      = "accessTokenOwner"
	postmanDefaultEndpoint = "demo/echo"
)

// postmanSchema is the collection format Postman exports and newman runs.
const postmanSchema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

type postmanCollection struct {
	Info     postmanInfo      `json:"info"`
	Item     []postmanItem    `json:"item"`
	Auth     postmanAuth      `json:"auth"`
	Event    []postmanEvent   `json:"event"`
	Variable []postmanVarDecl `json:"variable"`
}

type postmanInfo struct {
	ID          string `json:"_postman_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Schema      string `json:"schema"`
}

type postmanItem struct {
	Name    string         `json:"name"`
	Event   []postmanEvent `json:"event"`
	Request postmanRequest `json:"request"`
}

type postmanRequest struct {
	Method      string          `json:"method"`
	Header      []postmanHeader `json:"header"`
	Body        *postmanBody    `json:"body,omitempty"`
	URL         postmanURL      `json:"url"`
	Description string          `json:"description"`
}

type postmanHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type postmanBody struct {
	Mode    string `json:"mode"`
	Raw     string `json:"raw"`
	Options struct {
		Raw struct {
			Language string `json:"language"`
		} `json:"raw"`
	} `json:"options"`
}

type postmanURL struct {
	Raw  string   `json:"raw"`
	Host []string `json:"host"`
	Path []string `json:"path"`
}

type postmanAuth struct {
	Type string `json:"type"`
}

type postmanEvent struct {
	Listen string        `json:"listen"`
	Script postmanScript `json:"script"`
}

type postmanScript struct {
	Type string   `json:"type"`
	Exec []string `json:"exec"`
}

type postmanVarDecl struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

func script(listen, src string) postmanEvent {
	return postmanEvent{Listen: listen, Script: postmanScript{Type: "text/javascript", Exec: strings.Split(strings.TrimRight(src, "\n"), "\n")}}
}

// postmanAPIRead is the OData entity set the api request reads: packages,
// unless the profile's roles can read only the message processing logs.
func postmanAPIRead(p Profile) string {
	const packages, logs = "IntegrationPackages", "MessageProcessingLogs"
	if !slices.Contains(p.Roles, itrt.APIReadRoles[packages]) && slices.Contains(p.Roles, itrt.APIReadRoles[logs]) {
		return logs
	}
	return packages
}

func writePostmanCollection(w io.Writer, p Profile) error {
	base := "{{" + PostmanBaseURL + "}}"
	var item postmanItem
	if p.Plan == itrt.PlanAPI {
		set := postmanAPIRead(p)
		item = postmanItem{
			Name: "GET " + set,
			Request: postmanRequest{
				Method: "GET",
				Header: []postmanHeader{{Key: "Accept", Value: "application/json"}},
				URL:    postmanURL{Raw: base + itrt.APIRoot + "/" + set, Host: []string{base}, Path: []string{"api", "v1", set}},
				Description: fmt.Sprintf("Reads %s through the Cloud Integration OData API (needs the api role %s).",
					set, itrt.APIReadRoles[set]),
			},
		}
	} else {
		endpoint := "{{" + PostmanEndpoint + "}}"
		body := &postmanBody{Mode: "raw", Raw: "{\"hello\": \"from Postman, sent with cpikey's collection\"}"}
		body.Options.Raw.Language = "json"
		item = postmanItem{
			Name: "POST to the iFlow",
			Request: postmanRequest{
				Method: "POST",
				Header: []postmanHeader{{Key: "Content-Type", Value: "application/json"}},
				Body:   body,
				URL:    postmanURL{Raw: base + "/http/" + endpoint, Host: []string{base}, Path: []string{"http", endpoint}},
				Description: "Sends the body to the iFlow at /http/{{" + PostmanEndpoint + "}}: set the collection variable " +
					PostmanEndpoint + " to your iFlow's address (Monitor > Manage Integration Content > Endpoints). " +
					"A SOAP sender is under /cxf/ instead of /http/: edit the URL.",
			},
		}
	}
	item.Event = []postmanEvent{script("test", postmanStatusTest)}

	c := postmanCollection{
		Info: postmanInfo{
			ID:          stableUUID("cpikey-collection:" + p.Name),
			Name:        "cpikey " + p.Name,
			Description: postmanDescription(p, item.Name),
			Schema:      postmanSchema,
		},
		Item:  []postmanItem{item},
		Auth:  postmanAuth{Type: "noauth"},
		Event: []postmanEvent{script("prerequest", postmanPrerequest)},
	}
	if p.Plan != itrt.PlanAPI {
		c.Variable = append(c.Variable, postmanVarDecl{Key: PostmanEndpoint, Value: postmanDefaultEndpoint, Type: "string",
			Description: "Your iFlow's address after /http/ (Monitor > Manage Integration Content > Endpoints)."})
	}
	const cache = "Set by the collection's pre-request script; leave it empty."
	c.Variable = append(c.Variable,
		postmanVarDecl{Key: PostmanAccessToken, Type: "string", Description: cache},
		postmanVarDecl{Key: postmanTokenExpiresAt, Type: "string", Description: cache},
		postmanVarDecl{Key: postmanTokenOwner, Type: "string", Description: cache},
	)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// postmanDescription is the collection's description (Markdown in Postman):
// how to use it, and the fields of Postman's own OAuth 2.0 helper for those
// who prefer it.
func postmanDescription(p Profile, request string) string {
	v := func(name string) string { return "`{{" + name + "}}`" }
	var b strings.Builder
	fmt.Fprintf(&b, "Calls SAP Cloud Integration with the key of cpikey profile %s (it-rt plan %s).\n\n", p.Name, p.Plan)
	b.WriteString("1. Import this collection and the environment that `cpikey export --format postman` wrote, " +
		"and select the environment **cpikey " + p.Name + "** (it holds clientId, clientSecret, tokenUrl and baseUrl).\n")
	fmt.Fprintf(&b, "2. Send **%s**. The collection's pre-request script gets an OAuth 2.0 access token "+
		"(client credentials: POST %s with %s and %s as HTTP Basic, body `grant_type=client_credentials`), "+
		"keeps it in the collection variable %s until a minute before it expires, and sends it as `Authorization: Bearer`. "+
		"The request's test passes on HTTP 2xx and otherwise says the likely cause.\n",
		request, v(PostmanTokenURL), v(PostmanClientID), v(PostmanClientSecret), "`"+PostmanAccessToken+"`")
	if p.Plan == itrt.PlanAPI {
		b.WriteString("3. Other reads of the OData API (/api/v1) need their own api roles on the instance.\n")
	} else {
		fmt.Fprintf(&b, "3. Set the collection variable `%s` (now `%s`) to your iFlow's address "+
			"(Monitor > Manage Integration Content > Endpoints).\n", PostmanEndpoint, postmanDefaultEndpoint)
	}
	if p.IsCertificate() {
		fmt.Fprintf(&b, "\nThis is a %s key: there is no client secret. The token request authenticates with the client "+
			"certificate, which Postman presents once it is set for the token host: Settings > Certificates > Add Certificate, "+
			"host of %s, CRT file %s, KEY file %s (the files `cpikey export --format postman -o FILE` wrote beside the environment). "+
			"From a shell: `newman run <collection file> -e <environment file> --ssl-client-cert <certFile> --ssl-client-key <keyFile>`.\n",
			p.KeyType.Label(), v(PostmanTokenURL), v(PostmanCertFile), v(PostmanKeyFile))
		return b.String()
	}
	b.WriteString("\nFrom a shell: `newman run <collection file> -e <environment file>`.\n\n")
	fmt.Fprintf(&b, "Prefer Postman's OAuth 2.0 helper? On the collection's Authorization tab choose Type **OAuth 2.0** and fill in: "+
		"Grant type **Client Credentials**, Access Token URL %s, Client ID %s, Client Secret %s, "+
		"Scope empty, Client Authentication **Send as Basic Auth header**; then Get New Access Token and Use Token. "+
		"The helper's token then replaces the script's (delete the collection's pre-request script to stop its token requests); "+
		"a request with an authorization of its own is left alone by the script. "+
		"newman cannot get tokens with the helper: keep No Auth and the script for newman.\n",
		v(PostmanTokenURL), v(PostmanClientID), v(PostmanClientSecret))
	return b.String()
}
