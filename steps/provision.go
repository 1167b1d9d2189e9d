package steps

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/transport"
)

var _ Keyring = (*keychain.Store)(nil)

// instanceParams are the it-rt provisioning parameters, in the order SAP's
// procedure shows them.
type instanceParams struct {
	Roles        []string `json:"roles"`
	GrantTypes   []string `json:"grant-types"`
	RedirectURIs []string `json:"redirect-uris"`
}

// InstanceParameters renders the exact JSON sent when creating the instance:
// {"roles":[...],"grant-types":["client_credentials"],"redirect-uris":[]}.
func InstanceParameters(roles []string) json.RawMessage {
	if roles == nil {
		roles = []string{}
	}
	b, _ := json.Marshal(instanceParams{Roles: roles, GrantTypes: []string{"client_credentials"}, RedirectURIs: []string{}})
	return b
}

// KeyParameters is the JSON sent when creating a ClientId/Secret key.
var KeyParameters = json.RawMessage(`{"key-type":"client_id_secret"}`)

// FailedInstanceError: an instance of that name exists but its creation
// failed; the user decides whether to recreate it.
type FailedInstanceError struct {
	Name, Reason string
}

func (e *FailedInstanceError) Error() string {
	return fmt.Sprintf("instance %q exists but its creation failed: %s. Recreate it (the wizard offers this; or delete it in the cockpit and rerun), or choose another --instance name",
		e.Name, cmp.Or(e.Reason, "no reason given"))
}

// BrokerError: the it-rt service broker refused to provision or bind.
type BrokerError struct {
	What, Text string
	Err        error
}

func (e *BrokerError) Error() string {
	return fmt.Sprintf("%s failed in the it-rt service broker: %s. If it says the tenant is not provisioned, "+
		"activate the Cloud Integration capability in SAP Integration Suite (needs the Integration_Provisioner role collection), then rerun cpikey",
		e.What, e.Text)
}

func (e *BrokerError) Unwrap() error { return e.Err }

func (f *Flow) validateTarget(t Target) error {
	if err := ValidateName("instance", t.Instance); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if err := ValidateName("key", t.Key); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if err := ValidateRoles(t.Plan, t.Roles); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if err := t.KeySpec.Validate(t.Plan, time.Now()); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if t.Runtime == RuntimeCF && t.SpaceID == "" && (t.OrgID == "" || t.Space == "") {
		return &UsageError{Msg: "no Cloud Foundry org and space chosen"}
	}
	return nil
}

// keychainAccount names the keychain entry of a key.
func keychainAccount(t Target) string {
	return keychain.AccountName(t.Subaccount.Subdomain, t.Instance, t.Key)
}

// Existing looks up the instance and key names of t.
func (f *Flow) Existing(ctx context.Context, t Target) (*Existing, error) {
	if t.Runtime == RuntimeOther {
		return f.existingSM(ctx, t)
	}
	return f.existingCF(ctx, t)
}

// Actions describes, for the review screen, exactly what Provision will do.
func (f *Flow) Actions(ctx context.Context, t Target) ([]string, error) {
	if err := f.ResolveKey(ctx, &t.KeySpec); err != nil {
		return nil, err
	}
	if err := f.validateTarget(t); err != nil {
		return nil, err
	}
	ex, err := f.Existing(ctx, t)
	if err != nil {
		return nil, err
	}
	where := "in the Service Manager of subaccount " + t.Subaccount.Name
	if t.Runtime == RuntimeCF {
		where = fmt.Sprintf("in space %s of org %s", t.Space, t.OrgName)
	}
	var out []string
	switch {
	case ex.InstanceExists && ex.InstanceState == "failed":
		out = append(out, fmt.Sprintf("Recreate failed instance %s (it-rt/%s) %s", t.Instance, t.Plan, where))
	case ex.InstanceExists:
		out = append(out, fmt.Sprintf("Reuse instance %s (it-rt/%s, %s) %s", t.Instance, ex.InstancePlan, ex.InstanceState, where))
		if d := RolesDrift(t.Instance, t.Roles, ex.InstanceRoles); ex.RolesKnown && d != nil {
			switch {
			case t.UpdateRoles:
				out = append(out, fmt.Sprintf("Update its roles from %s to %s with parameters %s (%s)",
					roleList(d.Have), roleList(d.Want), InstanceParameters(t.Roles), RoleChangeDelay))
			case t.AcceptRoles:
				out = append(out, fmt.Sprintf("Keep its roles %s (%s)", roleList(d.Have), d.Difference()))
			default:
				return nil, d
			}
		} else if !ex.RolesKnown {
			out = append(out, "Compare its roles with "+roleList(t.Roles)+" once a key can tell (it has none to read them from yet)")
		}
	default:
		out = append(out, fmt.Sprintf("Create instance %s: it-rt/%s %s with parameters %s", t.Instance, t.Plan, where, InstanceParameters(t.Roles)))
	}
	if ex.KeyExists {
		out = append(out, fmt.Sprintf("Reuse service key %s", t.Key))
	} else {
		out = append(out, fmt.Sprintf("Create service key %s (%s) with parameters %s", t.Key, t.KeySpec.Describe(t.Plan), t.KeySpec.DisplayParameters(t.Plan)))
	}
	switch t.KeySpec.Type.Or() {
	case KeyTypeCertificate:
		out = append(out, "Read clientid, certificate, private key, tokenurl and url, and fetch a token with the certificate (mTLS) to prove they work")
	case KeyTypeExternal:
		out = append(out, "Read clientid, tokenurl and url, and fetch a token with your certificate and private key (mTLS) to prove they work; the private key is never sent")
	default:
		out = append(out, "Read clientid, clientsecret, tokenurl and url, and fetch a token to prove they work")
	}
	if !t.NoKeychain && f.cfg.Keyring != nil {
		what := "the client secret"
		if t.KeySpec.Type.IsCertificate() {
			what = "the certificate and private key"
		}
		out = append(out, fmt.Sprintf("Save %s in the OS keychain (service %q, account %q)", what, f.KeychainService(), keychainAccount(t)))
	}
	return out, nil
}

// Provision creates (or reuses) instance and key, reveals and verifies the
// credentials and stores the secret in the keychain unless t.NoKeychain.
// Every step looks up what exists first, so a rerun after a failure or a
// cancellation completes the work without duplicates.
func (f *Flow) Provision(ctx context.Context, t Target) (*Result, error) {
	if err := f.ResolveKey(ctx, &t.KeySpec); err != nil {
		return nil, f.fail(StepInstance, err)
	}
	if err := f.validateTarget(t); err != nil {
		return nil, f.fail(StepInstance, err)
	}
	res := &Result{Subaccount: t.Subaccount, Runtime: t.Runtime, Org: t.OrgName, Space: t.Space, Plan: t.Plan,
		Entitlements: f.Entitlements(t.Subaccount.ID)}
	var raw json.RawMessage
	var err error
	if t.Runtime == RuntimeOther {
		res.Org, res.Space = "", ""
		raw, err = f.provisionSM(ctx, t, res)
	} else {
		raw, err = f.provisionCF(ctx, t, res)
	}
	if err != nil {
		return nil, err
	}
	f.report(Event{Step: StepReveal, Kind: EventStarted, Message: "Reading the credentials of " + t.Key})
	creds, err := ParseCredentials(t.Key, raw)
	if err == nil {
		err = checkKeyType(t, &creds)
	}
	if err != nil {
		return nil, f.fail(StepReveal, err)
	}
	res.Credentials = creds
	f.report(Event{Step: StepReveal, Kind: EventDone, Message: "Credentials of " + t.Key + " read (clientid " + creds.ClientID + ")"})
	token := f.verify(ctx, t, res)
	if res.Instance.Reused && !res.rolesChecked && res.Scopes != nil {
		// The instance had no key to read its roles from before: the new
		// key's token tells now.
		if err := f.settleRoles(ctx, t, res.Instance.ID, RolesFromScopes(res.Scopes), res); err != nil {
			return nil, f.fail(StepInstance, err)
		}
		if res.RolesUpdated {
			token = f.verify(ctx, t, res)
		}
	}
	if token != "" {
		f.checkTenant(ctx, t, res, token)
	}
	if err := ctx.Err(); err != nil {
		// Interrupted (ctrl+c): not a finished result. A rerun reuses the
		// instance and key and verifies again.
		return nil, err
	}
	if !t.NoKeychain && f.cfg.Keyring != nil {
		if err := f.SaveSecret(ctx, res); err != nil {
			res.KeychainErr = err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	} else {
		what := "secret"
		if creds.KeyType.IsCertificate() {
			what = "private key"
		}
		f.report(Event{Step: StepKeychain, Kind: EventSkipped, Message: "Not saving the " + what + " in the OS keychain (--no-keychain)"})
	}
	return res, nil
}

// verify fetches a token with the credentials (secret, or certificate
// over mTLS) and checks the scope. It returns the token for the tenant
// check ("" when there is none).
func (f *Flow) verify(ctx context.Context, t Target, res *Result) string {
	how := ""
	if res.Credentials.KeyType.IsCertificate() {
		how = " with the client certificate"
	}
	f.report(Event{Step: StepVerify, Kind: EventStarted, Message: "Fetching a token" + how + " from " + res.Credentials.TokenURL})
	// The token server rate-limits and fails like any other, and a new key
	// can take a moment to reach it: a few quick attempts before giving up.
	policy := f.cfg.Retry.Normalized()
	policy.MaxAttempts = min(policy.MaxAttempts, 3)
	retry := transport.NewRetrier(policy)
	var info *oauth.TokenInfo
	var token string
	var err error
	for {
		retry.Begin()
		info, token, err = verifyToken(ctx, f.cfg.HTTPClient, res.Credentials)
		if err == nil || ctx.Err() != nil {
			break
		}
		if again, _ := retry.Wait(ctx, 0); !again {
			break
		}
	}
	if err != nil {
		f.report(Event{Step: StepVerify, Kind: EventFailed, Message: "The credentials did not yield a token: " + err.Error(), Err: err})
		res.VerifyErr = err
		return ""
	}
	res.Scopes = info.Scopes
	wantSend := t.Plan == itrt.PlanIntegrationFlow && slices.Contains(t.Roles, DefaultRole)
	if wantSend && !info.HasScopeSuffix("."+DefaultRole) {
		err := fmt.Errorf("the token has no scope ending in .%s (scopes: %s); check the instance's roles", DefaultRole, strings.Join(info.Scopes, " "))
		res.VerifyErr = err
		f.report(Event{Step: StepVerify, Kind: EventFailed, Message: err.Error(), Err: err})
		return token // the tenant check shows what the missing scope means there
	}
	res.Verified = true
	msg := "Token fetched"
	if wantSend {
		msg += "; scope ." + DefaultRole + " present"
	}
	f.report(Event{Step: StepVerify, Kind: EventDone, Message: msg})
	return token
}

// SaveSecret (re)tries storing the secret in the keychain.
func (f *Flow) SaveSecret(ctx context.Context, r *Result) error {
	if f.cfg.Keyring == nil {
		return errors.New("no keychain configured")
	}
	account := keychain.AccountName(r.Subaccount.Subdomain, r.Instance.Name, r.Key.Name)
	what, saved, verb := "the client secret", "Client secret", "was"
	if r.Credentials.KeyType.IsCertificate() {
		what, saved, verb = "the certificate and private key", "Certificate and private key", "were"
	}
	f.report(Event{Step: StepKeychain, Kind: EventStarted, Message: "Saving " + what + " in the OS keychain"})
	var err error
	if r.Credentials.KeyType.IsCertificate() {
		err = f.saveCertificate(ctx, r, account)
	} else {
		err = f.cfg.Keyring.Set(ctx, f.KeychainService(), account, r.Credentials.ClientSecret)
	}
	if err != nil {
		err = fmt.Errorf("%s %s not saved in the OS keychain: %w", what, verb, err)
		r.KeychainErr = err
		f.report(Event{Step: StepKeychain, Kind: EventFailed, Message: err.Error(), Err: err})
		return err
	}
	r.Keychain, r.KeychainErr = &KeychainRef{Service: f.KeychainService(), Account: account}, nil
	f.report(Event{Step: StepKeychain, Kind: EventDone, Message: fmt.Sprintf("%s saved in the OS keychain (service %q, account %q)", saved, f.KeychainService(), account)})
	return nil
}

// KeychainService is the keychain service the flow stores secrets under.
func (f *Flow) KeychainService() string {
	return cmp.Or(f.cfg.KeychainService, KeychainService)
}
