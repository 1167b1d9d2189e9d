package ui

import (
	"context"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
)

// flowAPI is what the wizard needs from *steps.Flow. It is declared here so
// the screens depend on behaviour, not on the concrete flow.
type flowAPI interface {
	Login(ctx context.Context, in steps.LoginInput) (*steps.Account, error)
	FindExistingSession() (*steps.ExistingSession, bool)
	UseExistingSession(ctx context.Context) (*steps.Account, error)
	StartSSO(ctx context.Context, globalAccount, idp string) (*steps.SSOLogin, error)
	WaitSSO(ctx context.Context, l *steps.SSOLogin) (*steps.Account, error)
	Subaccounts(ctx context.Context) ([]steps.SubaccountInfo, error)
	ResolveSubaccount(ctx context.Context, ref string) (steps.SubaccountInfo, error)
	Check(ctx context.Context, sub steps.SubaccountInfo, plan string, rt steps.Runtime) (*steps.CheckReport, error)
	Entitle(ctx context.Context, report *steps.CheckReport) error
	Orgs(ctx context.Context, env *steps.CFEnvironment) ([]steps.Org, error)
	Spaces(ctx context.Context, orgID string) ([]steps.Space, error)
	Existing(ctx context.Context, t steps.Target) (*steps.Existing, error)
	Instances(ctx context.Context, t steps.Target) ([]steps.InstanceChoice, error)
	ProbeKeychain(ctx context.Context) error
	KeychainService() string
	Actions(ctx context.Context, t steps.Target) ([]string, error)
	Provision(ctx context.Context, t steps.Target) (*steps.Result, error)
	SaveSecret(ctx context.Context, r *steps.Result) error
	SetupSuite(ctx context.Context, sub steps.SubaccountInfo, s *steps.SuiteReport, plan string) (*steps.SuiteReport, error)
	CheckActivation(ctx context.Context, sub steps.SubaccountInfo) ([]string, error)
	MissingConsultantRoles(ctx context.Context, sub steps.SubaccountInfo, s *steps.SuiteReport) ([]string, error)
	AssignRoles(ctx context.Context, sub steps.SubaccountInfo, s *steps.SuiteReport, names []string) error
}

// env is what every screen shares: the flow, styles, keys, clock and the
// request-id counter. Only Update touches it, so it needs no lock.
type env struct {
	flow   flowAPI
	opts   Options
	st     *styles
	keys   keyMap
	now    func() time.Time
	ctx    context.Context
	cancel context.CancelFunc
	goos   string
	getenv func(string) string
	seq    uint64
}

// keychainService is where the flow keeps secrets ("cpikey" without one).
func (e *env) keychainService() string {
	if e.flow == nil {
		return steps.KeychainService
	}
	return e.flow.KeychainService()
}

// command is how the user runs cpikey here, for hints.
func (e *env) command() string {
	if e.opts.Command != "" {
		return e.opts.Command
	}
	return "cpikey"
}

// newID tags an async request; a result whose id is no longer the one a
// screen waits for is stale and dropped.
func (e *env) newID() uint64 {
	e.seq++
	return e.seq
}

func (e *env) newSpinner() spinner.Model {
	return spinner.New(spinner.WithSpinner(e.st.g.Spinner), spinner.WithStyle(e.st.Spinner))
}

// Reporter carries the flow's progress events to the wizard. Pass the same
// value as steps.Config.Reporter and as Options.Reporter. Report never
// blocks the flow: events queue up until the wizard's waitForEvent Cmd
// picks them up.
type Reporter struct {
	mu     sync.Mutex
	queue  []steps.Event
	signal chan struct{}
}

// maxQueued bounds the queue when nobody listens; "waiting" ticks are the
// first to go.
const maxQueued = 1024

// NewReporter returns an empty reporter.
func NewReporter() *Reporter { return &Reporter{signal: make(chan struct{}, 1)} }

// Report implements steps.Reporter.
func (r *Reporter) Report(e steps.Event) {
	r.mu.Lock()
	if len(r.queue) >= maxQueued && e.Kind == steps.EventWaiting {
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, e)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// take returns and clears what is queued; it never blocks. This is where
// events enter the wizard: their texts name what SAP calls things and
// quote what it said, so every screen gets them inert.
func (r *Reporter) take() []steps.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queue
	r.queue = nil
	for i := range q {
		q[i].Message, q[i].State = inert(q[i].Message), inert(q[i].State)
	}
	return q
}

// flowEventsMsg delivers queued progress events.
type flowEventsMsg struct{ events []steps.Event }

// waitForEvent is the Cmd that blocks (in its own goroutine, never in
// Update) until the flow reports something. The root re-arms it after each
// delivery, so exactly one waiter is outstanding.
func (r *Reporter) waitForEvent(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		for {
			if q := r.take(); len(q) > 0 {
				return flowEventsMsg{events: q}
			}
			select {
			case <-r.signal:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// tickSpinner advances a screen's spinner while it has work running; once
// the work is done the tick is dropped, which stops the animation.
func tickSpinner(s *spinner.Model, active bool, msg spinner.TickMsg) tea.Cmd {
	if !active {
		return nil
	}
	var cmd tea.Cmd
	*s, cmd = s.Update(msg)
	return cmd
}
