// Package steps is cpikey's setup flow as plain Go: log in, check, entitle,
// create instance, create key, reveal. The wizard (ui) and the headless mode
// (main --yes) drive exactly this code. No UI imports.
package steps

import (
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// Step names one stage of the flow; the UI shows them as a checklist.
type Step string

// The stages, in order.
const (
	StepLogin    Step = "login"
	StepCheck    Step = "check"
	StepEntitle  Step = "entitle"
	StepInstance Step = "instance"
	StepKey      Step = "key"
	StepReveal   Step = "reveal"
	StepVerify   Step = "verify"
	StepKeychain Step = "keychain"
	StepTenant   Step = "tenant" // one harmless request to the tenant with the token
)

// EventKind says what happened to a step.
type EventKind string

// Event kinds.
const (
	EventStarted EventKind = "started"
	EventWaiting EventKind = "waiting" // still running; State/Elapsed say how far
	EventDone    EventKind = "done"
	EventReused  EventKind = "reused"  // found existing, nothing created
	EventSkipped EventKind = "skipped" // not needed
	EventFailed  EventKind = "failed"
)

// Event is one progress report. Message never contains a secret.
type Event struct {
	Step    Step
	Kind    EventKind
	Message string        // human text, e.g. "Creating instance CPI_SAMPLE_INSTANCE"
	State   string        // the server's state text, e.g. "in progress", "POLLING"
	Elapsed time.Duration // since the step started
	Err     error         // set for EventFailed
	// Fatal: the failure ends the call that reported it and its error is
	// returned to the caller, who shows it (headless prints it once, as the
	// command's error). A failure that is not fatal (the token check, the
	// keychain) ends in the result instead.
	Fatal bool
}

// Reporter receives progress events; the UI and the headless printer both
// implement it. Report must not block for long.
type Reporter interface {
	Report(Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report implements Reporter.
func (f ReporterFunc) Report(e Event) { f(e) }

// Runtime is where the instance lives.
type Runtime string

// Runtimes.
const (
	RuntimeCF    Runtime = "cf"
	RuntimeOther Runtime = "other"
)

// Defaults from the procedure consultants are given today.
const (
	DefaultSpace    = "dev"
	DefaultPlan     = itrt.PlanIntegrationFlow
	DefaultInstance = "CPI_SAMPLE_INSTANCE"
	DefaultRole     = itrt.RoleSend
	ServiceName     = itrt.Service
	KeychainService = "cpikey"
)

// keySuffix ends the default key name.
const keySuffix = "-key"

// DefaultKeyName is the key name used when none is given: the instance
// name plus "-key", the instance part shortened so that the name stays
// within SAP's limit for every valid instance name.
func DefaultKeyName(instance string) string {
	if len(instance)+len(keySuffix) > itrt.MaxNameLen && itrt.ValidateName(instance) == nil {
		instance = instance[:itrt.MaxNameLen-len(keySuffix)] // valid names are ASCII
	}
	return instance + keySuffix
}
