package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The it-rt service broker: closed parameter schemas (it-rt.md §2, §3) and
// the credentials it hands out (§4). Shared by the Service Manager (CLI
// server) and Cloud Foundry halves of the simulator.

var grantTypes = map[string]bool{
	"authorization_code": true, "client_credentials": true, "password": true, "refresh_token": true,
	"urn:ietf:params:oauth:grant-type:saml2-bearer": true, "urn:ietf:params:oauth:grant-type:jwt-bearer": true,
}

// brokerValidateInstance checks provisioning parameters the way the broker's
// JSON schema does. It returns the broker's description on failure.
func brokerValidateInstance(plan string, params map[string]any) string {
	allowed := map[string]bool{"roles": true, "grant-types": true, "redirect-uris": true, "token-validity": true}
	var unknown []string
	for k := range params {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Sprintf("Invalid parameters: additional properties are not allowed: %s", strings.Join(unknown, ", "))
	}
	roles, err := stringList(params["roles"])
	if err != "" {
		return "Invalid parameter roles: " + err
	}
	if plan == "api" {
		if params["roles"] == nil || len(roles) == 0 {
			return "Invalid parameter roles: at least 1 role is required for plan api (minItems: 1)"
		}
		for _, r := range roles {
			if !contains(APIRoles, r) {
				return fmt.Sprintf("Invalid parameter roles: %q is not one of the allowed roles of plan api", r)
			}
		}
	}
	grants, err := stringList(params["grant-types"])
	if err != "" {
		return "Invalid parameter grant-types: " + err
	}
	for _, g := range grants {
		if !grantTypes[g] {
			return fmt.Sprintf("Invalid parameter grant-types: %q is not a supported grant type", g)
		}
	}
	if _, err := stringList(params["redirect-uris"]); err != "" {
		return "Invalid parameter redirect-uris: " + err
	}
	if v, ok := params["token-validity"]; ok {
		f, isNum := v.(float64)
		if !isNum || f != float64(int(f)) || f < 3600 || f > 86400 {
			return "Invalid parameter token-validity: must be an integer between 3600 and 86400"
		}
	}
	return ""
}

// brokerValidateKey checks binding parameters; returns key type and error text.
func brokerValidateKey(plan string, params map[string]any) (string, string) {
	allowed := map[string]bool{"key-type": true, "X.509": true, "validity": true, "key-length": true, "certificate-pinning": true}
	for k := range params {
		if !allowed[k] {
			return "", fmt.Sprintf("Invalid parameters: additional property %q is not allowed", k)
		}
	}
	kt := "client_id_secret"
	if v, ok := params["key-type"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return "", "Invalid parameter key-type: must be a string"
		}
		kt = s
	}
	switch kt {
	case "client_id_secret", "certificate":
	case "certificate_external":
		if s, _ := params["X.509"].(string); !strings.Contains(s, "BEGIN CERTIFICATE") {
			return "", "Invalid parameter X.509: a PEM-encoded certificate is required for key-type certificate_external"
		}
	default:
		return "", fmt.Sprintf("Invalid parameter key-type: %q is not one of client_id_secret, certificate, certificate_external", kt)
	}
	if v, ok := params["X.509"]; ok {
		if _, isStr := v.(string); !isStr {
			return "", "Invalid parameter X.509: must be a string"
		}
	}
	if v, ok := params["validity"]; ok {
		f, isNum := v.(float64)
		if !isNum || f != float64(int(f)) || f < 1 || f > 365 {
			return "", "Invalid parameter validity: must be an integer between 1 and 365"
		}
	}
	if v, ok := params["key-length"]; ok {
		f, _ := v.(float64)
		if f != 1024 && f != 2048 && f != 3072 && f != 4096 {
			return "", "Invalid parameter key-length: must be one of 1024, 2048, 3072, 4096"
		}
	}
	if v, ok := params["certificate-pinning"]; ok {
		if plan != "integration-flow" {
			return "", "Invalid parameters: certificate-pinning is only supported by plan integration-flow"
		}
		if _, isBool := v.(bool); !isBool {
			return "", "Invalid parameter certificate-pinning: must be a boolean"
		}
	}
	return kt, ""
}

func stringList(v any) ([]string, string) {
	if v == nil {
		return nil, ""
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, "must be an array of strings"
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, "must be an array of strings"
		}
		if seen[s] {
			return nil, fmt.Sprintf("items must be unique (%q repeated)", s)
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, ""
}

// brokerTenantError is what the broker says when Cloud Integration was not
// activated in the subaccount. SAP's exact words are unknown; public
// reports name the broker it-broker-rt (integration-suite.md §4.3).
func brokerTenantError(sa *Subaccount) string {
	return fmt.Sprintf("Service broker it-broker-rt failed with: Tenant of subaccount %s is not provisioned: the Cloud Integration capability has not been activated in SAP Integration Suite", sa.GUID)
}

// clientIDFor builds an it-rt client id: sb-<uuid>!b<n>|it-rt-<subdomain>!b56186.
func clientIDFor(keyGUID, plan, subdomain string) string {
	if plan == "api" {
		return fmt.Sprintf("sb-%s!b123457|it!b56186", keyGUID)
	}
	return fmt.Sprintf("sb-%s!b123456|it-rt-%s!b56186", keyGUID, subdomain)
}

// scopesFor returns the token scopes a key of this instance carries.
func scopesFor(inst *Instance, subdomain string, now time.Time) []string {
	params := inst.params(now)
	roles, _ := stringList(params["roles"])
	if params["roles"] == nil && inst.Plan == "integration-flow" {
		roles = []string{"ESBMessaging.send", "API.invoke"}
	}
	prefix := "it-rt-" + subdomain + "!b56186."
	if inst.Plan == "api" {
		prefix = "it!b56186."
	}
	out := []string{"uaa.resource"}
	for _, r := range roles {
		out = append(out, prefix+r)
	}
	return out
}

// credentials renders the key's credentials object as the broker returns it:
// {"oauth":{...}}. tokenBase is the simulator's XSUAA base URL. Certificate
// keys get their certificate part from keyCredentialsLocked (certs.go).
func (w *World) credentials(k *Key, inst *Instance, sa *Subaccount, tokenBase string) map[string]any {
	// "url" is the tenant's host of the key's plan; Server.keyCredentials
	// sets it (a loopback listener, tenant.go).
	oauth := map[string]any{
		"clientid":   k.ClientID,
		"tokenurl":   tokenBase + "/oauth/token",
		"createdate": k.Created.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if k.KeyType == "client_id_secret" {
		oauth["clientsecret"] = w.clientSecret(k.GUID)
	}
	return map[string]any{"oauth": oauth}
}

// mustStrings is stringList without its ok.
func mustStrings(v any) []string {
	l, _ := stringList(v)
	return l
}

// params are the instance's parameters as the broker applies them at now:
// an update's parameters once it succeeded.
func (inst *Instance) params(now time.Time) map[string]any {
	if inst.NextParameters != nil && inst.Op.Type == "update" && !now.Before(inst.Op.ReadyAt) && inst.Op.Fail == "" {
		return inst.NextParameters
	}
	return inst.Parameters
}

// settle makes what a finished update applied the instance's parameters,
// before a new operation replaces the update.
func (inst *Instance) settle(now time.Time) {
	inst.Parameters, inst.NextParameters = inst.params(now), nil
}

// startUpdate begins an update that merges params (top-level keys replace
// the instance's) when it succeeds after d; fail makes it fail instead.
func (inst *Instance) startUpdate(params map[string]any, now time.Time, d time.Duration, fail string) {
	inst.settle(now)
	next := map[string]any{}
	for k, v := range inst.Parameters {
		next[k] = v
	}
	for k, v := range params {
		next[k] = v
	}
	inst.NextParameters = next
	inst.Op = Operation{Type: "update", Started: now, ReadyAt: now.Add(d), Fail: fail}
}

// opState returns the Service Manager / CF last_operation state of op at now:
// "in progress", "succeeded" or "failed".
func opState(op Operation, now time.Time) string {
	if now.Before(op.ReadyAt) {
		return "in progress"
	}
	if op.Fail != "" {
		return "failed"
	}
	return "succeeded"
}

// assignmentState returns the entitlement state at now.
func assignmentState(a *Assignment, now time.Time) string {
	if now.Before(a.ReadyAt) {
		if now.Sub(a.Created) < (a.ReadyAt.Sub(a.Created))/3 {
			return "STARTED"
		}
		return "PROCESSING"
	}
	if a.Fail != "" {
		return "PROCESSING_FAILED"
	}
	return "OK"
}

// decodeObject parses a JSON object string (paramValues "parameters").
func decodeObject(s string) (map[string]any, error) {
	if strings.TrimSpace(s) == "" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("parameters must be a JSON object")
	}
	return m, nil
}
