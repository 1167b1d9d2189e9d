package steps

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// HeadlessInput is everything `cpikey --yes` takes from flags and the
// environment. The wizard uses the same struct to pre-fill its screens.
type HeadlessInput struct {
	GlobalAccount string
	Subaccount    string // display name, GUID or subdomain
	// DefaultSubaccount is used when Subaccount is empty (demo mode).
	DefaultSubaccount string
	Runtime           Runtime
	Org, Space        string
	Plan              string
	Instance, Key     string
	Roles             []string
	SSO               bool
	IdP               string
	User, Password    string
	NoKeychain        bool
	// UpdateRoles / AcceptRoles: what to do with a reused instance whose
	// roles differ (--update-roles, --accept-roles).
	UpdateRoles, AcceptRoles bool
	// SetupSuite lets the run set up SAP Integration Suite when it is
	// missing (--setup-integration-suite); never implicit.
	SetupSuite bool
	// KeySpec is the key's type and parameters (ApplyKeyFlags).
	KeySpec KeySpec
}

// UsageError is missing or contradictory input; headless mode exits 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// Normalize fills defaults and validates names before any request.
func (in *HeadlessInput) Normalize() error {
	if in.Runtime == "" {
		in.Runtime = RuntimeCF
	}
	if in.Space == "" {
		in.Space = DefaultSpace
	}
	if in.Plan == "" {
		in.Plan = DefaultPlan
	}
	if in.Instance == "" {
		in.Instance = DefaultInstance
	}
	if in.Key == "" {
		in.Key = DefaultKeyName(in.Instance)
	}
	if len(in.Roles) == 0 {
		if in.Plan == itrt.PlanAPI {
			return usagef("--roles is required with --plan api: name at least one role of the api plan, e.g. --roles MonitoringDataRead")
		}
		in.Roles = []string{DefaultRole}
	}
	if err := ValidateName("instance", in.Instance); err != nil {
		return &UsageError{Msg: "--instance: " + err.Error()}
	}
	if err := ValidateName("key", in.Key); err != nil {
		return &UsageError{Msg: "--key: " + err.Error()}
	}
	if err := ValidateRoles(in.Plan, in.Roles); err != nil {
		return &UsageError{Msg: "--roles: " + err.Error()}
	}
	if in.UpdateRoles && in.AcceptRoles {
		return usagef("--update-roles and --accept-roles contradict each other: choose one")
	}
	if err := in.KeySpec.validate(in.Plan, time.Now(), false); err != nil {
		return &UsageError{Msg: "key type " + in.KeySpec.Type.Or().Flag() + ": " + err.Error()}
	}
	return nil
}

// RunHeadless runs the whole flow without prompts.
func RunHeadless(ctx context.Context, f *Flow, in HeadlessInput) (*Result, error) {
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	if in.Subaccount == "" {
		in.Subaccount = in.DefaultSubaccount
	}
	if err := f.ResolveKey(ctx, &in.KeySpec); err != nil {
		return nil, err
	}
	if err := in.KeySpec.Validate(in.Plan, time.Now()); err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	if err := f.headlessLogin(ctx, in); err != nil {
		return nil, err
	}
	if in.Subaccount == "" {
		return nil, usagef("--subaccount is required with --yes (display name, GUID or subdomain; run cpikey without --yes to pick from a list)")
	}
	sub, err := f.ResolveSubaccount(ctx, in.Subaccount)
	if err != nil {
		return nil, err
	}
	report, err := f.Check(ctx, sub, in.Plan, in.Runtime)
	if err != nil {
		return nil, err
	}
	if in.Runtime == RuntimeCF && report.CF == nil {
		// Fail before entitling anything: nothing is half-done.
		return nil, fmt.Errorf("subaccount %s has no Cloud Foundry environment: enable Cloud Foundry in the cockpit "+
			"(subaccount > Overview > Enable Cloud Foundry), or rerun with --runtime other (Service Manager)", sub.Name)
	}
	suiteSetup := report.Suite.NeedsSetup()
	if suiteSetup {
		// Refused before any write unless --setup-integration-suite asked.
		if err := f.suiteConsent(in, report); err != nil {
			return nil, err
		}
	}
	t := Target{Subaccount: sub, Runtime: in.Runtime, Plan: in.Plan, Instance: in.Instance,
		Key: in.Key, Roles: in.Roles, NoKeychain: in.NoKeychain, Space: in.Space, OrgName: in.Org,
		UpdateRoles: in.UpdateRoles, AcceptRoles: in.AcceptRoles, KeySpec: in.KeySpec}
	if in.Runtime == RuntimeCF {
		// The Cloud Foundry login (a passcode after SSO), org and space are
		// settled before the first write at SAP, so a problem there leaves
		// nothing half-done.
		if err := f.resolveWhere(ctx, report, &t); err != nil {
			return nil, err
		}
	}
	switch {
	case suiteSetup:
		if err := f.setupSuiteHeadless(ctx, report); err != nil {
			return nil, err
		}
		// Activation can change what the global account offers (it-rt
		// plans on trial accounts): check again, then go on as usual.
		if report, err = f.Check(ctx, sub, in.Plan, in.Runtime); err != nil {
			return nil, err
		}
	case in.SetupSuite && report.Suite.Known():
		// Asked to set up and already active: finish what an interrupted
		// setup may have left, the consultant's role collections.
		f.consultantRoles(ctx, report.Subaccount, report.Suite)
	}
	if len(report.MissingPlans) > 0 {
		if err := f.Entitle(ctx, report); err != nil {
			return nil, err
		}
	}
	return f.Provision(ctx, t)
}

func (f *Flow) headlessLogin(ctx context.Context, in HeadlessInput) error {
	if in.SSO {
		if in.GlobalAccount == "" {
			return usagef("--global-account (or BTP_GLOBALACCOUNT) is required with --yes")
		}
		l, err := f.StartSSO(ctx, in.GlobalAccount, in.IdP)
		if err != nil {
			return err
		}
		// Always print the URL; opening the browser is a convenience that
		// may fail (SSH, no desktop) without stopping the login.
		f.report(Event{Step: StepLogin, Kind: EventWaiting, Message: "Open this URL in your browser to log in: " + l.URL})
		if f.cfg.OpenURL != nil {
			if err := f.cfg.OpenURL(l.URL); err != nil {
				f.report(Event{Step: StepLogin, Kind: EventWaiting, Message: "Could not open a browser (" + err.Error() + "); open the URL above yourself"})
			}
		}
		if _, err = f.WaitSSO(ctx, l); err != nil {
			return err
		}
		if in.Password != "" {
			// SSO for BTP, and the password the user gave for Cloud
			// Foundry's UAA, which SSO does not reach.
			f.mu.Lock()
			f.login.User, f.login.Password = cmp.Or(in.User, f.login.User), in.Password
			f.mu.Unlock()
		}
		return nil
	}
	if in.User == "" || in.Password == "" {
		if s, ok := f.FindExistingSession(); ok && (in.GlobalAccount == "" || strings.EqualFold(in.GlobalAccount, s.GlobalAccount)) {
			_, err := f.UseExistingSession(ctx)
			return err
		}
		return usagef("BTP_USERNAME and BTP_PASSWORD must be set with --yes (or use --sso, or log in with the btp CLI first)")
	}
	if in.GlobalAccount == "" {
		return usagef("--global-account (or BTP_GLOBALACCOUNT) is required with --yes")
	}
	_, err := f.Login(ctx, LoginInput{GlobalAccount: in.GlobalAccount, User: in.User, Password: in.Password, IdP: in.IdP})
	return err
}

func (f *Flow) report(e Event) {
	if f.cfg.Reporter != nil {
		f.cfg.Reporter.Report(e)
	}
}
