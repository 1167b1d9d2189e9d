package steps

// CONTRACT SKELETON (temporary): the signatures below are the API the UI and
// headless mode code against. The steps implementer replaces every body;
// no "not implemented" may remain when the flow issue is closed.

import (
	"context"
	"errors"
	"net/http"
	"time"
)

var errTODO = errors.New("steps: not implemented yet")

// Config wires the flow to SAP (or to the simulator).
type Config struct {
	CLIServerURL string       // BTP CLI server, e.g. https://cli.btp.cloud.sap
	HTTPClient   *http.Client // from transport.NewHTTPClient (proxy, trace, timeouts)
	Reporter     Reporter     // progress sink; nil means discard
	Keyring      Keyring      // where the client secret goes; nil means no keychain
	// BTPConfigPath overrides where the btp CLI's config.json is looked for
	// (session reuse); "" means the btp CLI default location.
	BTPConfigPath string
	// ProvisionTimeout bounds waiting for an instance; 0 means 15 minutes.
	ProvisionTimeout time.Duration
	// PollMin / PollMax bound the polling interval (0: 1s / 10s). Tests and
	// the simulator use milliseconds.
	PollMin, PollMax time.Duration
}

// Keyring stores client secrets (implemented by steps/keychain).
type Keyring interface {
	Set(ctx context.Context, service, account, secret string) error
	Get(ctx context.Context, service, account string) (string, error)
	Delete(ctx context.Context, service, account string) error
}

// Flow is one consultant's session: logged-in clients and what was learnt.
type Flow struct {
	cfg Config
}

// New returns a flow; nothing is contacted until Login.
func New(cfg Config) *Flow { return &Flow{cfg: cfg} }

// LoginInput is user/password login (BTP CLI server and CF UAA alike).
type LoginInput struct {
	GlobalAccount string // global account subdomain
	User          string
	Password      string
	IdP           string // custom IdP origin; "" = SAP ID service
}

// Account is who is logged in where.
type Account struct {
	User                   string
	GlobalAccountID        string
	GlobalAccountName      string
	GlobalAccountSubdomain string
}

// ExistingSession describes a btp CLI session found on this machine.
type ExistingSession struct {
	GlobalAccount string
	User          string
	ServerURL     string
}

// SSOLogin is a started browser login.
type SSOLogin struct {
	URL string // to open in the browser (always also printed)
}

// SubaccountInfo is one row of the subaccount picker.
type SubaccountInfo struct {
	ID, Name, Subdomain, Region string
	Path                        string // directory path, e.g. "Integration Projects / QA"; "" at top level
}

// CheckItem is one line of the check screen.
type CheckItem struct {
	OK     bool
	Title  string // e.g. "Entitlement it-rt/integration-flow"
	Detail string // one line of explanation / what to do
}

// PlanStatus is the entitlement state of one it-rt plan.
type PlanStatus struct {
	Plan     string
	Entitled bool
	State    string // OK, PROCESSING, ... or "" when absent
	Category string // from the global account listing (decides enable vs amount)
}

// CFEnvironment is the subaccount's Cloud Foundry environment instance.
type CFEnvironment struct {
	APIURL, OrgID, OrgName string
}

// CheckReport is what exists and what is missing.
type CheckReport struct {
	Subaccount              SubaccountInfo
	GlobalAccountHasService bool
	Plans                   []PlanStatus   // integration-flow and api
	CF                      *CFEnvironment // nil when the subaccount has none
	Items                   []CheckItem
	MissingPlans            []string // plans Entitle would assign
}

// Org and Space are Cloud Foundry picks.
type Org struct{ ID, Name string }

// Space is a Cloud Foundry space.
type Space struct{ ID, Name string }

// Target is everything the form and pickers decided.
type Target struct {
	Subaccount     SubaccountInfo
	Runtime        Runtime
	OrgID, OrgName string
	SpaceID, Space string
	Plan           string
	Instance       string
	Key            string
	Roles          []string
	NoKeychain     bool
	RecreateFailed bool // replace a failed instance of the same name
}

// Existing says which names already exist (the form flags them "will be reused").
type Existing struct {
	InstanceExists bool
	InstanceState  string // succeeded, in progress, failed
	InstancePlan   string
	KeyExists      bool
}

// Result is the outcome; its JSON form is the --json contract.
type Result struct {
	Subaccount  SubaccountInfo
	Runtime     Runtime
	Org, Space  string
	Plan        string
	Instance    ResourceRef
	Key         ResourceRef
	Credentials Credentials
	Verified    bool
	Scopes      []string
	Keychain    *KeychainRef // nil when not stored
	KeychainErr error        // why saving failed, if it did
}

// ResourceRef names an instance or key and whether it was reused.
type ResourceRef struct {
	Name, ID string
	Reused   bool
}

// Credentials are the revealed it-rt credentials. ClientSecret must never be
// logged or put in an error.
type Credentials struct {
	ClientID, ClientSecret, TokenURL, URL string
}

// KeychainRef locates the stored secret.
type KeychainRef struct{ Service, Account string }

// Login logs in to the BTP CLI server with user/password.
func (f *Flow) Login(ctx context.Context, in LoginInput) (*Account, error) { return nil, errTODO }

// FindExistingSession looks for a btp CLI session on this machine.
func (f *Flow) FindExistingSession() (*ExistingSession, bool) { return nil, false }

// UseExistingSession logs in with the btp CLI session found.
func (f *Flow) UseExistingSession(ctx context.Context) (*Account, error) { return nil, errTODO }

// StartSSO starts a browser login.
func (f *Flow) StartSSO(ctx context.Context, globalAccount, idp string) (*SSOLogin, error) {
	return nil, errTODO
}

// WaitSSO waits until the browser login completes.
func (f *Flow) WaitSSO(ctx context.Context, l *SSOLogin) (*Account, error) { return nil, errTODO }

// Subaccounts lists all subaccounts with their directory path.
func (f *Flow) Subaccounts(ctx context.Context) ([]SubaccountInfo, error) { return nil, errTODO }

// ResolveSubaccount finds a subaccount by display name, GUID or subdomain.
func (f *Flow) ResolveSubaccount(ctx context.Context, ref string) (SubaccountInfo, error) {
	return SubaccountInfo{}, errTODO
}

// Check reports entitlements, CF environment and what is missing.
func (f *Flow) Check(ctx context.Context, sub SubaccountInfo, plan string, rt Runtime) (*CheckReport, error) {
	return nil, errTODO
}

// Entitle assigns report.MissingPlans and waits until they are OK.
func (f *Flow) Entitle(ctx context.Context, report *CheckReport) error { return errTODO }

// Orgs lists the CF orgs the user can see (logs in to CF on first use).
func (f *Flow) Orgs(ctx context.Context, env *CFEnvironment) ([]Org, error) { return nil, errTODO }

// Spaces lists the spaces of an org.
func (f *Flow) Spaces(ctx context.Context, orgID string) ([]Space, error) { return nil, errTODO }

// Existing looks up the instance and key names of t.
func (f *Flow) Existing(ctx context.Context, t Target) (*Existing, error) { return nil, errTODO }

// Actions describes, for the review screen, exactly what Provision will do.
func (f *Flow) Actions(ctx context.Context, t Target) ([]string, error) { return nil, errTODO }

// Provision creates (or reuses) instance and key, reveals and verifies the
// credentials and stores the secret in the keychain unless t.NoKeychain.
func (f *Flow) Provision(ctx context.Context, t Target) (*Result, error) { return nil, errTODO }

// SaveSecret (re)tries storing the secret in the keychain.
func (f *Flow) SaveSecret(ctx context.Context, r *Result) error { return errTODO }

// resolveWhere fills t's org and space for the CF runtime from the check
// report (org of the CF environment unless t.OrgName is set; space t.Space).
func (f *Flow) resolveWhere(ctx context.Context, report *CheckReport, t *Target) error { return errTODO }
