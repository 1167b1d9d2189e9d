package itrt

import "strings"

// Facts of the Cloud Integration tenant that keys are used against
// (docs/protocol/it-rt.md §5.2-§5.4): where iFlows and the OData API are
// served, the headers the runtime speaks, and which api role an OData read
// needs. The simulator serves them; cpikey's client reads answers by them.

// Path prefixes of the tenant. iFlows with an HTTPS sender are served under
// /http, SOAP senders under /cxf, both on the runtime host (the url of an
// integration-flow key, "-rt"); the OData API under /api/v1 on the
// management host (the url of an api key).
const (
	PrefixHTTP = "/http/"
	PrefixCXF  = "/cxf/"
	APIRoot    = "/api/v1"
)

// Headers of the runtime.
const (
	// MPLHeader carries the id of the message processing log of a message
	// the runtime processed (also of a failed one, next to the 500).
	MPLHeader = "SAP_MessageProcessingLogID"
	// CSRFHeader is sent as "Fetch" to get a token and answered with
	// "Required" on a 403 of a CSRF-protected sender adapter.
	CSRFHeader   = "X-CSRF-Token"
	CSRFFetch    = "Fetch"
	CSRFRequired = "Required"
)

// ProbePath is the harmless runtime path of the token check: nothing is
// deployed there, so 404 means "reached, token accepted" and 401 "token
// rejected" (§5.2; inferred heuristic).
const ProbePath = PrefixHTTP + "__cpikey_probe__"

// APIReadRoles maps the OData entity sets cpikey reads to the api role the
// read needs (§5.3).
var APIReadRoles = map[string]string{
	"IntegrationPackages":   "WorkspacePackagesRead",
	"MessageProcessingLogs": "MonitoringDataRead",
}

// EntitySet returns the entity set an API path addresses, e.g.
// "MessageProcessingLogs" for /api/v1/MessageProcessingLogs('AG…')?$top=1,
// or "" when the path is not under /api/v1.
func EntitySet(path string) string {
	rest, ok := strings.CutPrefix(path, APIRoot+"/")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "(/?"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// RoleOfScope returns the role a token scope grants, the part after the
// xsappname ("it-rt-<subdomain>!b<n>." or "it!b<n>."), or "" for scopes of
// no xsappname (uaa.resource). Roles may contain dots (ESBMessaging.send).
func RoleOfScope(scope string) string {
	i := strings.Index(scope, "!b")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(scope[i:], '.')
	if j < 0 {
		return ""
	}
	return scope[i+j+1:]
}
