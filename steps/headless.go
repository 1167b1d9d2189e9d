package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
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
		if ValidateName("instance", in.Instance) == nil {
			if err := ValidateName("key", in.Key); err != nil {
				return usagef("--key is needed: the default key name (the instance name plus \"-key\") is too long: %v", err)
			}
		}
	}
	if len(in.Roles) == 0 {
		if in.Plan == "api" {
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
	if len(report.MissingPlans) > 0 {
		if err := f.Entitle(ctx, report); err != nil {
			return nil, err
		}
	}
	t := Target{Subaccount: sub, Runtime: in.Runtime, Plan: in.Plan, Instance: in.Instance,
		Key: in.Key, Roles: in.Roles, NoKeychain: in.NoKeychain, Space: in.Space, OrgName: in.Org}
	if in.Runtime == RuntimeCF {
		if err := f.resolveWhere(ctx, report, &t); err != nil {
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
		_, err = f.WaitSSO(ctx, l)
		return err
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

// resultJSON is the --json contract; field names and nesting are fixed.
type resultJSON struct {
	Subaccount struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Subdomain string `json:"subdomain"`
	} `json:"subaccount"`
	Runtime     Runtime         `json:"runtime"`
	Org         string          `json:"org"`
	Space       string          `json:"space"`
	Plan        string          `json:"plan"`
	Instance    refJSON         `json:"instance"`
	Key         refJSON         `json:"key"`
	Credentials credentialsJSON `json:"credentials"`
	Verified    bool            `json:"verified"`
	Keychain    *keychainJSON   `json:"keychain"`
}

type refJSON struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Reused bool   `json:"reused"`
}

type credentialsJSON struct {
	ClientID     string `json:"clientid"`
	TokenURL     string `json:"tokenurl"`
	URL          string `json:"url"`
	ClientSecret string `json:"clientsecret,omitempty"`
}

type keychainJSON struct {
	Service string `json:"service"`
	Account string `json:"account"`
}

// WriteJSON prints the result in the --json shape; the secret only when the
// user asked for it with --show-secret.
func WriteJSON(w io.Writer, r *Result, showSecret bool) error {
	var out resultJSON
	out.Subaccount.ID, out.Subaccount.Name, out.Subaccount.Subdomain = r.Subaccount.ID, r.Subaccount.Name, r.Subaccount.Subdomain
	out.Runtime, out.Org, out.Space, out.Plan = r.Runtime, r.Org, r.Space, r.Plan
	out.Instance = refJSON{Name: r.Instance.Name, ID: r.Instance.ID, Reused: r.Instance.Reused}
	out.Key = refJSON{Name: r.Key.Name, ID: r.Key.ID, Reused: r.Key.Reused}
	out.Credentials = credentialsJSON{ClientID: r.Credentials.ClientID, TokenURL: r.Credentials.TokenURL, URL: r.Credentials.URL}
	if showSecret {
		out.Credentials.ClientSecret = r.Credentials.ClientSecret
	}
	out.Verified = r.Verified
	if r.Keychain != nil {
		out.Keychain = &keychainJSON{Service: r.Keychain.Service, Account: r.Keychain.Account}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteText prints the result for people; the secret stays masked.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "clientid:     %s\n", r.Credentials.ClientID)
	fmt.Fprintf(&b, "clientsecret: %s\n", Mask(r.Credentials.ClientSecret))
	fmt.Fprintf(&b, "tokenurl:     %s\n", r.Credentials.TokenURL)
	fmt.Fprintf(&b, "url:          %s\n", r.Credentials.URL)
	if r.Keychain != nil {
		fmt.Fprintf(&b, "secret saved in the OS keychain (service %q, account %q)\n", r.Keychain.Service, r.Keychain.Account)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Mask hides a secret, keeping only its length class visible.
func Mask(secret string) string {
	if secret == "" {
		return "(none)"
	}
	return strings.Repeat("•", 12)
}

// TextReporter prints progress lines (gh style) for headless mode.
type TextReporter struct {
	mu sync.Mutex
	w  io.Writer
	// lastWait throttles "waiting" lines to one per few seconds per step.
	lastWait map[Step]time.Time
}

// NewTextReporter reports to w (stderr in headless mode).
func NewTextReporter(w io.Writer) *TextReporter {
	return &TextReporter{w: w, lastWait: map[Step]time.Time{}}
}

// Report implements Reporter.
func (t *TextReporter) Report(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var glyph string
	switch e.Kind {
	case EventStarted:
		glyph = "…"
	case EventWaiting:
		if time.Since(t.lastWait[e.Step]) < 3*time.Second {
			return
		}
		t.lastWait[e.Step] = time.Now()
		glyph = "…"
	case EventDone:
		glyph = "✓"
	case EventReused:
		glyph = "✓"
	case EventSkipped:
		glyph = "-"
	case EventFailed:
		glyph = "✗"
	}
	line := fmt.Sprintf("%s %s", glyph, e.Message)
	if e.State != "" && e.Kind == EventWaiting {
		line += fmt.Sprintf(" (%s, %s)", e.State, e.Elapsed.Round(time.Second))
	}
	if e.Kind == EventReused {
		line += " (reused)"
	}
	fmt.Fprintln(t.w, line)
}

func (f *Flow) report(e Event) {
	if f.cfg.Reporter != nil {
		f.cfg.Reporter.Report(e)
	}
}
