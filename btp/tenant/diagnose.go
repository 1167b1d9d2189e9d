package tenant

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/transport"
)

// Facts are what the diagnosis knows besides the answer.
type Facts struct {
	Plan string // the key's plan: integration-flow or api
	// Roles the call carried: the token's scopes as roles, or (Basic) the
	// instance's roles.
	Roles        []string
	Method, Path string // the path as sent, e.g. /http/demo/echo
	Basic        bool
	Certificate  bool // the key authenticates with a client certificate
	// FreshToken: the token was fetched for this call, not reused.
	FreshToken bool
	Instance   string // the service instance's name, for the role advice
}

// Diagnose explains an answer that is not 2xx/3xx in one line: which of
// token, role, CSRF, path prefix, deployment or the iFlow itself it most
// likely is (the status table of docs/protocol/it-rt.md §5.4), and what to do next. It
// returns "" for a success. Only cpikey's words, the status and a checked
// MPL id appear: nothing else of the server's text.
func Diagnose(r *Response, f Facts) string {
	if r.OK() {
		return ""
	}
	head := fmt.Sprintf("%d %s", r.Status, r.StatusText)
	mpl := r.MPLID()
	switch r.Status {
	case http.StatusUnauthorized:
		return head + ": " + unauthorized(f)
	case http.StatusForbidden:
		return head + ": " + forbidden(r, f)
	case http.StatusNotFound:
		if mpl != "" {
			return fmt.Sprintf("%s from the iFlow itself (MPL %s): it ran and answered 404; see its log in Monitor > Message Processing", head, mpl)
		}
		return head + " (no message processing log): " + notFound(f)
	case http.StatusMethodNotAllowed:
		msg := fmt.Sprintf("%s: the endpoint does not accept %s", head, f.Method)
		if f.Method == http.MethodGet || f.Method == http.MethodHead {
			msg += "; send a message with -d (POST), e.g. -d @message.xml"
		}
		if strings.HasPrefix(f.Path, itrt.PrefixCXF) {
			msg += "; a SOAP endpoint takes POST, and GET only with ?wsdl"
		}
		return msg
	case http.StatusRequestEntityTooLarge:
		return head + ": the message is larger than the tenant accepts; send a smaller one"
	case http.StatusTooManyRequests:
		wait := "a minute"
		if d := transport.RetryAfter(r.Header); d > 0 {
			wait = d.String()
		}
		return fmt.Sprintf("%s: the tenant is throttling this client; wait %s and try again", head, wait)
	case http.StatusInternalServerError:
		if mpl != "" {
			msg := fmt.Sprintf("%s: the iFlow ran and failed; its message processing log is MPL %s (Monitor > Message Processing", head, mpl)
			return msg + fmt.Sprintf(`, or with an api key: cpikey call API-PROFILE "/api/v1/MessageProcessingLogs('%s')")`, mpl)
		}
		if strings.HasPrefix(f.Path, itrt.PrefixCXF) {
			return head + " without a message processing log: the SOAP adapter refused the request before any iFlow ran; send a SOAP envelope the endpoint's WSDL describes (the body says more)"
		}
		return head + " without a message processing log: the runtime failed before an iFlow ran; the body says more, and SAP support needs the time of the call"
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return head + ": the tenant is not answering (maintenance, overload, or Cloud Integration is not activated in this subaccount); try again in a few minutes"
	}
	if r.Status >= 500 {
		return head + ": the tenant failed; try again later, and see the body (-i shows the headers)"
	}
	msg := head + ": the endpoint refused the request"
	if mpl != "" {
		msg += fmt.Sprintf(" after the iFlow ran (MPL %s)", mpl)
	}
	return msg + "; the body says why (-i shows the headers)"
}

func unauthorized(f Facts) string {
	switch {
	case f.Basic && f.Plan == itrt.PlanAPI:
		return "the API does not take clientid/secret as Basic: drop --basic (api keys use a token)"
	case f.Basic:
		return "the runtime rejected clientid/secret as Basic: the key may have been deleted or rotated (cpikey rotate makes a new one), or Basic is off for this tenant: drop --basic to use a token"
	case f.FreshToken:
		return "the tenant rejected a token fresh from the token server: the key's url and tokenurl may belong to different subaccounts, or the key was deleted a moment ago; compare them with cpikey show, or make a new key with cpikey rotate"
	}
	return "the tenant rejected the token (expired or revoked); run again with --fresh-token, and if that fails too, the key was deleted or rotated: cpikey rotate"
}

func forbidden(r *Response, f Facts) string {
	has := rolesText(f.Roles)
	switch {
	case r.CSRF == CSRFFetchFailed:
		return "the sender adapter is CSRF protected (X-CSRF-Token: Required) and the token fetch gave no token; switch CSRF protection off in the sender adapter for machine-to-machine calls"
	case strings.EqualFold(r.Header.Get(itrt.CSRFHeader), itrt.CSRFRequired):
		return "the sender adapter is CSRF protected and refused the fetched token with its session cookie; switch CSRF protection off in the sender adapter for machine-to-machine calls"
	case f.Certificate:
		return "the tenant did not accept the client certificate (its subject or issuer is not mapped; SAP KBA 3538749); check the certificate-to-user mapping, or use a key whose certificate SAP generated"
	case strings.HasPrefix(f.Path, itrt.APIRoot+"/"):
		set := itrt.EntitySet(f.Path)
		if role, ok := itrt.APIReadRoles[set]; ok {
			inst := f.Instance
			if inst == "" {
				inst = "INSTANCE"
			}
			return fmt.Sprintf("reading %s needs the api role %s, and the instance has %s: add %s to the roles of %s (cockpit, or cf update-service %s -c '{\"roles\":[...]}'); a role change can take up to an hour to reach the tenant",
				set, role, has, role, inst, inst)
		}
		return fmt.Sprintf("the instance's roles (%s) do not allow this API call; SAP's API reference names the role it needs; a role change can take up to an hour to reach the tenant", has)
	case f.Plan == itrt.PlanAPI:
		return fmt.Sprintf("this is an api key (roles %s): iFlows need a role such as ESBMessaging.send, which only integration-flow keys carry; use an integration-flow key", has)
	}
	return fmt.Sprintf("the endpoint's user role (sender adapter, Connection tab) is not among the instance's roles (%s): add that role to the instance or set the adapter to ESBMessaging.send; a role changed less than an hour ago may not be active yet", has)
}

func notFound(f Facts) string {
	p := f.Path
	rest, isHTTP := strings.CutPrefix(p, itrt.PrefixHTTP)
	restCXF, isCXF := strings.CutPrefix(p, itrt.PrefixCXF)
	isAPI := p == itrt.APIRoot || strings.HasPrefix(p, itrt.APIRoot+"/")
	switch {
	case f.Plan == itrt.PlanAPI && (isHTTP || isCXF):
		return "this key (plan api) points at the management host, where no iFlow runs: call iFlows with an integration-flow key (its url has -rt)"
	case f.Plan == itrt.PlanAPI && isAPI:
		return fmt.Sprintf("the API has nothing at %s: check the entity set's name (case matters), e.g. /api/v1/MessageProcessingLogs", p)
	case f.Plan == itrt.PlanAPI:
		return "the API lives under /api/v1/, e.g. /api/v1/MessageProcessingLogs?$top=1"
	case isAPI:
		return "/api/v1 is served on the management host, not on this key's runtime host: use a key of plan api for the API"
	case isHTTP:
		return fmt.Sprintf("nothing is deployed at %s: check the address in Monitor > Manage Integration Content > Endpoints and that the iFlow is deployed and started; if its sender is SOAP, try /cxf/%s", p, rest)
	case isCXF:
		return fmt.Sprintf("no SOAP endpoint is deployed at %s: check the address in Monitor > Manage Integration Content > Endpoints and that the iFlow is deployed and started; if its sender is HTTPS, try /http/%s", p, restCXF)
	}
	return fmt.Sprintf("iFlow addresses start with /http/ (HTTPS sender) or /cxf/ (SOAP sender), e.g. /http%s", p)
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "no role"
	}
	return strings.Join(roles, ", ")
}

// DiagnoseError explains a request that got no answer.
func DiagnoseError(err error, f Facts) string {
	var ne *NetError
	if errors.As(err, &ne) {
		return ne.Error() + "; check the network and proxy (HTTPS_PROXY), and that the key's url is the tenant's (cpikey show)"
	}
	return err.Error()
}

// CSRFNote says what the handshake did when a retry succeeded.
func CSRFNote(path string) string {
	return fmt.Sprintf("the sender adapter of %s is CSRF protected: cpikey fetched a token (X-CSRF-Token: Fetch) and resent with it and the session cookie; other clients must do the same, or switch CSRF protection off for machine-to-machine calls", path)
}
