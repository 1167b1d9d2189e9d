package cf

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is one element of a Cloud Controller errors[] body.
type APIError struct {
	Code   int    `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// Error is a non-2xx answer of the Cloud Controller. Errors is empty when
// the body was not CC JSON (a proxy or load balancer answered).
type Error struct {
	Status    int
	Errors    []APIError
	Method    string // request method
	Path      string // request path, no query
	RequestID string // X-Vcap-Request-Id, for SAP support
	// ContentType of a body that was not CC JSON.
	ContentType string
}

func (e *Error) Error() string {
	where := strings.TrimSpace(e.Method + " " + e.Path)
	if len(e.Errors) == 0 {
		ct := e.ContentType
		if ct == "" {
			ct = "no content type"
		}
		return fmt.Sprintf("cloud foundry %s: HTTP %d %s with a body that is not Cloud Controller JSON (%s); a proxy or load balancer may have answered instead of the API",
			where, e.Status, http.StatusText(e.Status), ct)
	}
	first := e.Errors[0]
	msg := fmt.Sprintf("cloud foundry %s: %s (%s, code %d, HTTP %d)", where, first.Detail, first.Title, first.Code, e.Status)
	if n := len(e.Errors); n > 1 {
		msg += fmt.Sprintf(" and %d more error(s)", n-1)
	}
	return msg
}

// First returns errors[0], or a zero APIError.
func (e *Error) First() APIError {
	if len(e.Errors) == 0 {
		return APIError{}
	}
	return e.Errors[0]
}

func (e *Error) hasCode(code int) bool {
	for _, x := range e.Errors {
		if x.Code == code {
			return true
		}
	}
	return false
}

func (e *Error) detailContains(s string) bool {
	for _, x := range e.Errors {
		if strings.Contains(x.Detail, s) {
			return true
		}
	}
	return false
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNameTaken reports a 422 because an instance or key of that name exists.
// CC v3 has no code for it; the detail text is all there is (§6.5, §7.4).
func IsNameTaken(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusUnprocessableEntity &&
		(e.detailContains("The service instance name is taken") || e.detailContains("Key binding names must be unique"))
}

// IsNotAuthorized reports 403 CF-NotAuthorized (10003): typically the user
// is not Space Developer in the space.
func IsNotAuthorized(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusForbidden && e.hasCode(10003)
}

// IsNotFound reports a 404 of the API or ErrNotFound from a lookup by name.
func IsNotFound(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	e, ok := asError(err)
	return ok && e.Status == http.StatusNotFound
}

// IsOperationInProgress reports that the instance or key is busy (still
// provisioning, or being deleted).
func IsOperationInProgress(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	return (e.Status == http.StatusUnprocessableEntity && e.detailContains("There is an operation in progress")) ||
		(e.Status == http.StatusConflict && e.hasCode(60016))
}

// ErrNotFound is returned (wrapped) by lookups by name that found nothing.
var ErrNotFound = errors.New("not found")

// ErrLoginRequired means there is no usable Cloud Foundry session: never
// logged in, or the refresh token expired or was revoked. Log in again.
var ErrLoginRequired = errors.New("the Cloud Foundry session expired or was revoked: log in again")

// IsLoginRequired reports ErrLoginRequired.
func IsLoginRequired(err error) bool { return errors.Is(err, ErrLoginRequired) }

// AuthError is an error answer of UAA (login or token refresh).
type AuthError struct {
	Status      int
	Code        string // "unauthorized", "invalid_token", "invalid_client", ...; "" when not JSON
	Description string // the server's text (never holds a secret we sent)
}

func (e *AuthError) Error() string {
	desc := e.Description
	if desc == "" {
		desc = http.StatusText(e.Status)
	}
	if e.Code == "" {
		return fmt.Sprintf("cloud foundry login: %s (HTTP %d)", desc, e.Status)
	}
	return fmt.Sprintf("cloud foundry login: %s (%s, HTTP %d)", desc, e.Code, e.Status)
}

func asAuthError(err error) (*AuthError, bool) {
	var e *AuthError
	ok := errors.As(err, &e)
	return e, ok
}

// IsBadCredentials reports rejected user credentials or passcode: ask the
// user again.
func IsBadCredentials(err error) bool {
	e, ok := asAuthError(err)
	return ok && e.Status == http.StatusUnauthorized && e.Code == "unauthorized" &&
		(strings.Contains(e.Description, "Bad credentials") || strings.Contains(strings.ToLower(e.Description), "passcode"))
}

// IsInvalidOrigin reports an identity provider origin UAA does not know.
func IsInvalidOrigin(err error) bool {
	e, ok := asAuthError(err)
	return ok && e.Status == http.StatusUnauthorized &&
		(strings.Contains(e.Description, "login hint") || strings.Contains(e.Description, "login_hint"))
}

// IsAccountLocked reports UAA's lock-out after too many failed logins.
func IsAccountLocked(err error) bool {
	e, ok := asAuthError(err)
	return ok && strings.Contains(e.Description, "account has been locked")
}

// JobFailedError is a job that ended FAILED; Error() is errors[0].detail,
// which carries the broker's text.
type JobFailedError struct {
	Job Job
}

func (e *JobFailedError) Error() string {
	op := e.Job.Operation
	if op == "" {
		op = "job " + e.Job.GUID
	}
	if len(e.Job.Errors) == 0 {
		return op + " failed (no reason given by Cloud Foundry)"
	}
	return op + " failed: " + e.Job.Errors[0].Detail
}

// Detail returns errors[0].detail of the failed job.
func (e *JobFailedError) Detail() string {
	if len(e.Job.Errors) == 0 {
		return ""
	}
	return e.Job.Errors[0].Detail
}
