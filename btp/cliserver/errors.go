package cliserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/cpikey/cpikey/btp/redact"
)

// Error is a failed exchange with the BTP CLI server. HTTPStatus is the CLI
// server's own verdict; with HTTP 200, BackendStatus carries the status of
// the backend (CIS, Service Manager, a service broker) that actually failed
// (btp-cli-server.md §3.2). It never contains a password, session id or
// client secret: only texts the server sent about the failure.
type Error struct {
	// Command is "<group>/<object>?<action>", or "login" for logins.
	Command       string
	HTTPStatus    int
	BackendStatus int // 0 unless HTTPStatus is 200
	// Code and CodeStatus come from a CIS "[Error: <code>/<status>]" suffix
	// or a CIS error object (HTTP 429), e.g. 30004/400 or 11006/429.
	Code       int
	CodeStatus int
	// Message is the backend's text: CIS "error", Service Manager
	// "description" (with its "error" name), or "ErrorMessage".
	Message string
	// BrokerStatus and BrokerDescription are set when a service broker
	// refused a request (backend 502 "BrokerError").
	BrokerStatus      int
	BrokerDescription string
	ServerMessage     string // X-Cpcli-Server-Message
	BackendMessage    string // X-Cpcli-Backend-Message
	CorrelationID     string // X-Correlationid sent with the request; quote it to SAP support

	summary string // what failed, when Message alone does not say it
	hint    string // what to do next
}

// Error renders one line a consultant can act on: what failed, why, what
// to do next, then the status layers and correlation id.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.what())
	b.WriteString(": ")
	b.WriteString(e.reason())
	if e.hint != "" {
		b.WriteString(". ")
		b.WriteString(e.hint)
	}
	b.WriteString(" [HTTP ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if e.BackendStatus != 0 {
		b.WriteString(", backend ")
		b.WriteString(strconv.Itoa(e.BackendStatus))
	}
	if e.CorrelationID != "" {
		b.WriteString("; correlation ID ")
		b.WriteString(e.CorrelationID)
	}
	b.WriteString("]")
	return b.String()
}

// what names the failed action the way the btp CLI spells it.
func (e *Error) what() string {
	if e.Command == "login" || e.Command == "" {
		return "BTP login"
	}
	cmd, action, _ := strings.Cut(e.Command, "?")
	return "btp " + action + " " + cmd
}

func (e *Error) reason() string {
	var parts []string
	add := func(s string) {
		s = strings.TrimRight(strings.TrimSpace(s), ".")
		if s == "" {
			return
		}
		for _, p := range parts {
			if strings.Contains(p, s) {
				return
			}
		}
		parts = append(parts, s)
	}
	add(e.summary)
	switch {
	case e.BrokerStatus != 0 || e.BrokerDescription != "":
		// The broker's words say it all; the CLI server's generic
		// "Unexpected response code ..." would only add noise.
		add(fmt.Sprintf("the service broker refused the request (broker status %d): %s", e.BrokerStatus, e.BrokerDescription))
	default:
		add(e.Message)
		add(e.BackendMessage)
	}
	add(e.ServerMessage)
	if len(parts) == 0 {
		if e.BackendStatus != 0 {
			return fmt.Sprintf("the backend answered with status %d and no explanation", e.BackendStatus)
		}
		return fmt.Sprintf("the BTP CLI server answered with unexpected status %d", e.HTTPStatus)
	}
	return strings.Join(parts, "; ")
}

// scrub removes secrets, in any encoding, from every text the server sent.
func (e *Error) scrub(secrets []string) {
	for _, s := range []*string{&e.Message, &e.BrokerDescription, &e.ServerMessage, &e.BackendMessage} {
		*s = redact.String(*s, secrets...)
	}
}

// Hint returns the suggested next step ("" if none).
func (e *Error) Hint() string { return e.hint }

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// IsNotFound reports a missing object (backend 404) or, at login, an
// unknown global account (HTTP 404).
func IsNotFound(err error) bool {
	e := asError(err)
	return e != nil && (e.BackendStatus == http.StatusNotFound || e.HTTPStatus == http.StatusNotFound)
}

// IsForbidden reports a refusal for lack of authorisation at either layer.
func IsForbidden(err error) bool {
	e := asError(err)
	return e != nil && (e.BackendStatus == http.StatusForbidden || e.HTTPStatus == http.StatusForbidden)
}

// IsUnauthorized reports a session the server no longer accepts (or failed
// credentials at login): the user must log in again.
func IsUnauthorized(err error) bool {
	e := asError(err)
	return e != nil && e.HTTPStatus == http.StatusUnauthorized
}

// IsRateLimited reports SAP's rate limit (HTTP or backend 429, CIS 11006).
func IsRateLimited(err error) bool {
	e := asError(err)
	return e != nil && (e.HTTPStatus == http.StatusTooManyRequests || e.BackendStatus == http.StatusTooManyRequests || e.Code == 11006)
}

// IsLocked reports the CIS entitlement lock [Error: 30004/400]: another
// change of the same entitlement is still running.
func IsLocked(err error) bool {
	e := asError(err)
	return e != nil && e.Code == 30004
}

// IsBrokerError reports a service broker's refusal (backend 502 BrokerError).
func IsBrokerError(err error) bool {
	e := asError(err)
	return e != nil && (e.BrokerStatus != 0 || e.BrokerDescription != "")
}

// BackendStatus returns the backend status carried by err (0 if none).
func BackendStatus(err error) int {
	if e := asError(err); e != nil {
		return e.BackendStatus
	}
	return 0
}

var cisCodeRE = regexp.MustCompile(`\[Error: (\d+)/(\d+)\]`)

// backendError is every error body shape the CLI server relays (§3.3).
type backendError struct {
	Error        json.RawMessage `json:"error"`
	Description  string          `json:"description"`
	ErrorMessage string          `json:"ErrorMessage"`
	BrokerError  *struct {
		StatusCode   int     `json:"StatusCode"`
		ErrorMessage *string `json:"ErrorMessage"`
		Description  string  `json:"Description"`
	} `json:"broker_error"`
	Violations []struct {
		Configuration string   `json:"configuration"`
		Errors        []string `json:"errors"`
	} `json:"violations"`
	ErrorCode     string `json:"error_code"`
	ErrorMessage2 string `json:"error_message"`
}

// cisErrorObject is the HTTP 429 body (§3.3.5).
type cisErrorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
	Details []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"details"`
}

// fillFromBody reads a backend (or HTTP 429) error body into e. Unparsable
// bodies are ignored: the headers still explain the failure.
func (e *Error) fillFromBody(body []byte) {
	if len(body) == 0 {
		return
	}
	var be backendError
	if err := json.Unmarshal(body, &be); err != nil {
		return
	}
	if len(be.Error) > 0 && be.Error[0] == '{' {
		var obj cisErrorObject
		if json.Unmarshal(be.Error, &obj) == nil {
			e.Code, e.Message = obj.Code, obj.Message
			if obj.Code == 11006 {
				e.CodeStatus = http.StatusTooManyRequests
			}
			var det []string
			for _, d := range obj.Details {
				if d.Message != "" && d.Message != obj.Message {
					det = append(det, d.Message)
				}
			}
			if len(det) > 0 {
				e.Message += ": " + strings.Join(det, "; ")
			}
		}
	} else if len(be.Error) > 0 {
		var name string
		if json.Unmarshal(be.Error, &name) == nil {
			e.Message = name
		}
	}
	if be.Description != "" {
		switch {
		case e.Message == "":
			e.Message = be.Description
		case !strings.ContainsAny(e.Message, " \t"): // an SM error name such as NotFound
			e.Message = be.Description + " (" + e.Message + ")"
		default:
			e.Message += ": " + be.Description
		}
	}
	if e.Message == "" {
		e.Message = be.ErrorMessage
	}
	if e.Message == "" && be.ErrorMessage2 != "" {
		e.Message = be.ErrorMessage2
		if be.ErrorCode != "" {
			e.Message += " (" + be.ErrorCode + ")"
		}
	}
	for _, v := range be.Violations {
		e.Message += fmt.Sprintf("; %s: %s", v.Configuration, strings.Join(v.Errors, ", "))
	}
	if be.BrokerError != nil {
		e.BrokerStatus = be.BrokerError.StatusCode
		e.BrokerDescription = be.BrokerError.Description
		if e.BrokerDescription == "" && be.BrokerError.ErrorMessage != nil {
			e.BrokerDescription = *be.BrokerError.ErrorMessage
		}
		// The long description repeats the whole request context; keep it
		// short, the broker's own words are in BrokerDescription.
		e.Message = "BrokerError"
	}
	if m := cisCodeRE.FindStringSubmatch(e.Message); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
		e.CodeStatus, _ = strconv.Atoi(m[2])
	}
}

// retriableBackend reports backend answers that say "not executed, try
// again": rate limit and the entitlement lock (§4.1).
func (e *Error) retriableBackend() bool {
	return e.BackendStatus == http.StatusTooManyRequests || e.Code == 11006 || e.Code == 30004
}

// setHints fills summary and hint for the well-known failures.
func (e *Error) setHints(subdomain, customIdP string) {
	_, action, _ := strings.Cut(e.Command, "?")
	switch {
	case e.Command == "login":
		e.setLoginHints(subdomain, customIdP)
	case e.HTTPStatus == http.StatusUnauthorized:
		e.summary = "the BTP session has expired or is no longer valid"
		e.hint = "Log in again"
	case e.HTTPStatus == http.StatusBadRequest:
		e.summary = "the BTP CLI server rejected the command's parameters (a required value is empty or malformed)"
	case e.HTTPStatus == http.StatusForbidden:
		e.summary = "access denied by the BTP CLI server"
		e.hint = "Check the subaccount or directory ID and that your user can see it (a global account role, or Subaccount Viewer/Administrator)"
	case e.HTTPStatus == http.StatusPreconditionFailed:
		e.summary = "the BTP CLI server no longer accepts protocol version " + ProtocolVersion
		e.hint = "Update cpikey"
	case e.HTTPStatus == http.StatusGatewayTimeout:
		e.summary = "the BTP CLI server timed out"
		e.hint = "Try again in a minute"
	case e.HTTPStatus == http.StatusTooManyRequests || e.BackendStatus == http.StatusTooManyRequests || e.Code == 11006:
		e.summary = "SAP's request rate limit was reached"
		e.hint = "Wait a minute, then try again"
	case e.Code == 30004:
		e.summary = "another change of this entitlement is still running"
		e.hint = "Wait a minute, then try again"
	case e.HTTPStatus >= 500:
		e.summary = fmt.Sprintf("the BTP CLI server failed (HTTP %d)", e.HTTPStatus)
		e.hint = "Try again in a minute"
		if action != "get" && action != "list" {
			e.hint += "; check first whether the change was made anyway"
		}
	case e.BackendStatus == http.StatusForbidden:
		if e.BackendMessage == "" {
			e.summary = "you are not authorized to use this command"
		}
		switch {
		case strings.HasPrefix(e.Command, "accounts/entitlement?") && action != "list":
			e.hint = "Changing entitlements needs the Global Account Administrator role collection: ask a global account administrator to assign the plan, or to give you that role"
		case strings.HasPrefix(e.Command, "services/"):
			e.hint = "Creating or deleting service instances and keys needs Subaccount Administrator or Subaccount Service Administrator in that subaccount"
		default:
			e.hint = "Ask an administrator of the global account for the needed role collection"
		}
	case e.BrokerStatus != 0 || e.BrokerDescription != "":
		e.hint = "Fix what the broker names and try again; nothing was created"
	}
}

func (e *Error) setLoginHints(subdomain, customIdP string) {
	idp := "SAP ID service"
	if customIdP != "" {
		idp = fmt.Sprintf("identity provider %q", customIdP)
	}
	switch e.HTTPStatus {
	case http.StatusUnauthorized:
		e.summary = fmt.Sprintf("login failed: user name or password is wrong for the %s", idp)
		e.hint = "Check both and try again; users with two-factor authentication or SAP Universal ID passwords must use the browser (SSO) login"
		if customIdP == "" {
			e.hint += ", and users of a custom identity provider must name it"
		}
	case http.StatusForbidden:
		e.summary = fmt.Sprintf("you cannot access global account %q", subdomain)
		e.hint = "Ask a global account administrator for Global Account Viewer or Administrator (at least read access to the global account, a directory or a subaccount)"
	case http.StatusNotFound:
		e.summary = fmt.Sprintf("global account %q not found", subdomain)
		e.hint = "Enter the global account's subdomain (" + SubdomainWhere + "), not its display name or ID"
	case http.StatusPreconditionFailed:
		e.summary = "the BTP CLI server no longer accepts protocol version " + ProtocolVersion
		e.hint = "Update cpikey"
	case http.StatusGatewayTimeout:
		e.summary = "login timed out at the BTP CLI server"
		e.hint = "Try again in a minute"
	case http.StatusTooManyRequests:
		e.summary = "too many login attempts"
		e.hint = "Wait a minute, then try again"
	case http.StatusBadRequest:
		e.summary = "the BTP CLI server rejected the login request"
	default:
		e.summary = fmt.Sprintf("the BTP CLI server answered with unexpected status %d", e.HTTPStatus)
	}
}
