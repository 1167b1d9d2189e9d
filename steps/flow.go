package steps

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/transport"
)

// Config wires the flow to SAP (or to the simulator).
type Config struct {
	CLIServerURL string       // BTP CLI server, e.g. https://cli.btp.cloud.sap
	HTTPClient   *http.Client // from transport.NewHTTPClient (proxy, trace, timeouts)
	Reporter     Reporter     // progress sink; nil means discard
	Keyring      Keyring      // where the client secret goes; nil means no keychain
	// KeychainService is the keychain service the secrets are stored under;
	// "" means KeychainService ("cpikey"). The demo keeps its own.
	KeychainService string
	// NoBTPSession: never look for (or reuse) the btp CLI's session on this
	// machine. The demo sets it: that session belongs to real SAP BTP.
	NoBTPSession bool
	// BTPConfigPath overrides where the btp CLI's config.json is looked for
	// (session reuse); "" means the btp CLI default location.
	BTPConfigPath string
	// ProvisionTimeout bounds waiting for an instance; 0 means 15 minutes.
	ProvisionTimeout time.Duration
	// PollMin / PollMax bound the polling interval (0: 1s / 10s). Tests and
	// the simulator use milliseconds.
	PollMin, PollMax time.Duration
	// Retry bounds HTTP retries of both clients (zero: the clients' default).
	Retry transport.RetryPolicy
	// CFPasscode asks the user for a one-time Cloud Foundry passcode from
	// passcodeURL when no password is known (SSO, btp CLI session).
	CFPasscode func(ctx context.Context, passcodeURL string) (string, error)
	// OpenURL opens the SSO login page in a browser (headless --sso); nil
	// means the URL is only printed.
	OpenURL func(url string) error
}

// Keyring stores client secrets (implemented by adapters/keychain).
type Keyring interface {
	Set(ctx context.Context, service, account, secret string) error
	Get(ctx context.Context, service, account string) (string, error)
	Delete(ctx context.Context, service, account string) error
}

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

	cli           *cliserver.Client
	bl            *cliserver.BrowserLogin
	globalAccount string
	idp           string
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
	Owned    bool   // the global account (or managing directory) owns the plan
	// Unlimited and UniqueID come from the listing (enable style, and the
	// plan's unique identifier when names are ambiguous).
	Unlimited bool
	UniqueID  string
	// AssignedAmount is the subaccount's quota of a plan with a numeric
	// quota (0 for enable-style plans and when unassigned).
	AssignedAmount float64
}

// PlanEntitlement is how an it-rt plan is entitled to the subaccount, as the
// flow decided from the plan's category: enabled (no numeric quota) or an
// amount.
type PlanEntitlement struct {
	Plan     string
	Category string // SERVICE, ELASTIC_SERVICE, ... as listed
	Amount   int    // 0: enabled; otherwise the quota assigned
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
	PlanVisible             bool     // the chosen plan is in the marketplace where the instance lives
	DirectoryID             string   // directory managing the subaccount's entitlements, if any

	// Suite is SAP Integration Suite: entitled, subscribed, activated (suite.go).
	Suite *SuiteReport
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
	// UpdateRoles / AcceptRoles decide what happens when a reused instance
	// has other roles than Roles: give it Roles, or use it as it is.
	// Neither: the flow stops with a *RolesDriftError.
	UpdateRoles, AcceptRoles bool
	// KeySpec is the key's type and parameters; the zero value is a
	// ClientId/Secret key.
	KeySpec KeySpec
}

// Existing says which names already exist (the form flags them "will be reused").
type Existing struct {
	InstanceExists bool
	InstanceState  string // succeeded, in progress, failed
	InstancePlan   string
	KeyExists      bool
	// InstanceRoles are the roles the existing instance grants, read from a
	// token of one of its keys; RolesKnown is false when it has no key that
	// can tell (the check then happens once the key exists).
	InstanceRoles []string
	RolesKnown    bool
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
	VerifyErr   error // why the token check failed, if it did
	Scopes      []string
	Keychain    *KeychainRef // nil when not stored
	KeychainErr error        // why saving failed, if it did
	// Entitlements are the it-rt plans entitled to the subaccount when the
	// key was made (nil when the flow did not check them).
	Entitlements []PlanEntitlement
	// RolesUpdated: the reused instance was given the requested roles.
	RolesUpdated bool
	// Tenant is the request to the tenant after the token check; nil when
	// none was sent.
	Tenant *TenantCheck

	rolesChecked bool // the reused instance's roles were compared before the key
}

// ResourceRef names an instance or key and whether it was reused.
type ResourceRef struct {
	Name, ID string
	Reused   bool
}

// Credentials are the revealed it-rt credentials. ClientSecret and
// PrivateKey must never be logged or put in an error.
type Credentials struct {
	ClientID, ClientSecret, TokenURL, URL string
	// KeyType is what the credentials are: a secret, or a certificate
	// (with SAP's private key, or external with the private key kept here).
	KeyType KeyType
	// Certificate keys: the certificate chain (PEM, leaf first), the
	// private key, what the certificate says, and (external keys) whether
	// SAP pins it.
	Certificate     string
	PrivateKey      PrivateKeyPEM
	CertificateInfo *CertificateInfo
	Pinning         *bool
}

// CertificateInfo is what cpikey shows of a key's certificate (SAP's
// certificatedetails, read from the certificate itself).
type CertificateInfo struct {
	SubjectDN, IssuerDN, SerialNumber string
	ValidUntil                        time.Time
}

// DaysLeft is how many whole days the certificate is still valid at now
// (negative once expired).
func (c *CertificateInfo) DaysLeft(now time.Time) int {
	d := c.ValidUntil.Sub(now)
	if d < 0 {
		return -int((-d).Hours()/24) - 1
	}
	return int(d.Hours() / 24)
}

// ExpiryWarningDays: under this many days left, cpikey warns.
const ExpiryWarningDays = 30

// Expiry is the end of validity with the days left, and a warning under
// ExpiryWarningDays: "2027-08-20 (259 days left)".
func (c *CertificateInfo) Expiry(now time.Time) string {
	d := c.DaysLeft(now)
	date := c.ValidUntil.UTC().Format("2006-01-02")
	switch {
	case d < 0:
		return date + " (EXPIRED: cpikey rotate makes a new key)"
	case d < ExpiryWarningDays:
		return fmt.Sprintf("%s (! %d days left: cpikey rotate makes a new key)", date, d)
	}
	return fmt.Sprintf("%s (%d days left)", date, d)
}

// KeychainRef locates the stored secret.
type KeychainRef struct{ Service, Account string }

// HasScope reports a granted scope ending in suffix (".ESBMessaging.send").
func (r *Result) HasScope(suffix string) bool {
	for _, s := range r.Scopes {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}
