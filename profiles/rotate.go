package profiles

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/steps"
)

// Login is how Rotate and Forget (with deleteKey) log in to SAP BTP: with
// user and password, else with the btp CLI's session on this machine.
type Login struct {
	User, Password string
	IdP            string // custom identity provider origin; "" = SAP ID service
	GlobalAccount  string // overrides the profile's global account
}

// login logs flow in to the profile's global account.
func login(ctx context.Context, flow *steps.Flow, p Profile, l Login) error {
	ga := l.GlobalAccount
	if ga == "" {
		ga = p.GlobalAccount
	}
	if l.User != "" && l.Password != "" {
		if ga == "" {
			return &steps.UsageError{Msg: fmt.Sprintf("profile %s does not name its global account: set BTP_GLOBALACCOUNT (or --global-account)", p.Name)}
		}
		_, err := flow.Login(ctx, steps.LoginInput{GlobalAccount: ga, User: l.User, Password: l.Password, IdP: l.IdP})
		return err
	}
	if s, ok := flow.FindExistingSession(); ok && (ga == "" || strings.EqualFold(ga, s.GlobalAccount)) {
		_, err := flow.UseExistingSession(ctx)
		return err
	}
	return &steps.UsageError{Msg: "this needs SAP BTP: set BTP_USERNAME and BTP_PASSWORD (or log in with the btp CLI first)"}
}

// targetOf is the flow target of a stored key.
func targetOf(p Profile) steps.Target {
	return steps.Target{
		Subaccount: steps.SubaccountInfo{ID: p.Subaccount.ID, Name: p.Subaccount.Name, Subdomain: p.Subaccount.Subdomain, Region: p.Subaccount.Region},
		Runtime:    p.Runtime, OrgID: p.OrgID, OrgName: p.Org, SpaceID: p.SpaceID, Space: p.Space,
		Plan: p.Plan, Instance: p.Instance.Name, Key: p.Key.Name, Roles: slices.Clone(p.Roles),
		KeySpec: steps.KeySpec{Type: p.KeyType, Validity: p.Validity, KeyLength: p.KeyLength},
	}
}

// rotatedSuffix is what RotatedKeyName appends; a second rotation replaces
// it instead of appending another.
var rotatedSuffix = regexp.MustCompile(`-r[0-9a-z]{6,8}$`)

// RotatedKeyName is the name of the key that replaces old:
// <old, shortened>-r<unix time in base 36>, within SAP's 32 characters.
func RotatedKeyName(old string, now time.Time) string {
	suffix := "-r" + strconv.FormatInt(now.Unix(), 36)
	base := rotatedSuffix.ReplaceAllString(old, "")
	if len(base)+len(suffix) > itrt.MaxNameLen {
		base = base[:itrt.MaxNameLen-len(suffix)]
	}
	return base + suffix
}

// RotateResult is what Rotate changed.
type RotateResult struct {
	Profile Profile // as saved, using the new key
	OldKey  string  // name of the replaced key
}

// OldKeyError: the rotation is done (the profile and keychain use the new
// key) but the old key could not be deleted, so its secret still works.
type OldKeyError struct {
	Profile, Key string
	Err          error
}

func (e *OldKeyError) Error() string {
	return fmt.Sprintf("profile %s now uses the new key, but the old key %s could not be deleted and still works: %v; delete it in the cockpit (or rerun later)",
		e.Profile, e.Key, e.Err)
}

func (e *OldKeyError) Unwrap() error { return e.Err }

// Rotate replaces the profile's key: it creates a new key on the same
// instance, checks that it yields a token, stores its secret in the
// keychain, switches the profile to it, and only then deletes the old key
// and the old secret. Until the profile is switched, any failure removes
// what was created and leaves the old key, its keychain entry and the
// profile exactly as they were.
func (m *Manager) Rotate(ctx context.Context, flow *steps.Flow, name string, l Login) (*RotateResult, error) {
	return m.RotateWith(ctx, flow, name, l, nil)
}

// RotateWith is Rotate with the new key's certificate: an External
// Certificate key is renewed only with a new certificate from the CA
// (renew: Type KeyTypeExternal, Certificate, and PrivateKey unless cpikey
// csr keeps it); a Certificate key may get another validity or key length.
// nil renews a key as it is (not possible for External Certificate keys).
func (m *Manager) RotateWith(ctx context.Context, flow *steps.Flow, name string, l Login, renew *steps.KeySpec) (*RotateResult, error) {
	p, err := m.resolve(name)
	if err != nil {
		return nil, err
	}
	spec, err := rotationSpec(p, renew)
	if err != nil {
		return nil, err
	}
	if spec.Type == steps.KeyTypeExternal {
		if err := flow.ResolveKey(ctx, &spec); err != nil {
			return nil, err
		}
	}
	if m.Keyring == nil {
		return nil, errors.New("rotate keeps the new client secret in the OS keychain, and there is none here")
	}
	if p.Key.ID == "" {
		return nil, fmt.Errorf("profile %s does not record the id of key %s, so the old key could not be deleted afterwards: run cpikey again for this key first", p.Name, p.Key.Name)
	}
	if err := login(ctx, flow, p, l); err != nil {
		return nil, err
	}
	t := targetOf(p)
	if err := flow.Locate(ctx, &t, p.CFAPIURL); err != nil {
		return nil, fmt.Errorf("rotate %s: %w; nothing was changed", p.Name, err)
	}
	old := t
	now := m.now()
	t.Key = RotatedKeyName(p.Key.Name, now)
	if t.Key == p.Key.Name { // rotated twice within one second
		t.Key = RotatedKeyName(p.Key.Name, now.Add(time.Second))
	}
	t.NoKeychain = false
	t.KeySpec = spec
	res, err := flow.Provision(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("rotate %s: create the new key %s: %w; profile and key %s are unchanged (if SAP created %s anyway, delete it in the cockpit)",
			p.Name, t.Key, err, p.Key.Name, t.Key)
	}
	if res.Key.Reused || res.Key.ID == p.Key.ID {
		// Not ours to delete: someone else's key of that name.
		return nil, fmt.Errorf("rotate %s: a key named %s already exists; nothing was changed, try again in a second", p.Name, t.Key)
	}
	undo := func(cause error) error {
		// Clean up even when the user pressed Ctrl+C.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		msg := fmt.Sprintf("rotate %s: %v; profile and key %s are unchanged and keep working", p.Name, cause, p.Key.Name)
		if res.Keychain != nil && res.Keychain.Account != p.KeychainAccount {
			if err := keychain.DeleteSplit(cctx, m.Keyring, res.Keychain.Service, res.Keychain.Account); err != nil && !errors.Is(err, keychain.ErrNotFound) {
				msg += fmt.Sprintf("; the new secret stays in the keychain as %s (%v)", res.Keychain.Account, err)
			}
		}
		if err := flow.DeleteKey(cctx, t, res.Key.ID); err != nil {
			msg += fmt.Sprintf("; the new key %s could not be deleted (%v): delete it in the cockpit", t.Key, err)
		} else {
			msg += "; the new key " + t.Key + " was deleted again"
		}
		return errors.New(msg)
	}
	if err := m.verifyNew(ctx, t, res); err != nil {
		return nil, undo(fmt.Errorf("the new key %s does not yield a token: %w", t.Key, err))
	}
	if res.Keychain == nil {
		why := res.KeychainErr
		if why == nil {
			why = errors.New("the flow has no keychain")
		}
		return nil, undo(fmt.Errorf("the new client secret could not be stored in the OS keychain: %w", why))
	}
	np := p
	np.Key = Ref{Name: t.Key, ID: res.Key.ID}
	np.Instance.ID = cmp.Or(res.Instance.ID, p.Instance.ID)
	np.ClientID, np.TokenURL, np.URL = res.Credentials.ClientID, res.Credentials.TokenURL, res.Credentials.URL
	np.setCredentials(res.Credentials, t.KeySpec)
	np.KeychainService, np.KeychainAccount = res.Keychain.Service, res.Keychain.Account
	np.OrgID, np.SpaceID = t.OrgID, t.SpaceID
	if env := flow.CFEnvironment(p.Subaccount.ID); env != nil && p.Runtime == steps.RuntimeCF {
		np.CFAPIURL = env.APIURL
	}
	if a := flow.Account(); a != nil && np.GlobalAccount == "" {
		np.GlobalAccount = a.GlobalAccountSubdomain
	}
	np.CreatedAt = now.UTC()
	if err := m.Store.Swap(p.Name, p.Key.ID, np); err != nil {
		var changed *ChangedError
		if !errors.As(err, &changed) {
			return nil, undo(err)
		}
		return m.keepAside(p, np, changed)
	}
	// The profile uses the new key from here on: retire the old one.
	m.dropToken(ctx, p)
	out := &RotateResult{Profile: np, OldKey: p.Key.Name}
	delErr := flow.DeleteKey(ctx, old, p.Key.ID)
	if p.KeychainAccount != "" && p.KeychainAccount != np.KeychainAccount {
		if err := keychain.DeleteSplit(ctx, m.Keyring, keychainService(p), p.KeychainAccount); err != nil && !errors.Is(err, keychain.ErrNotFound) {
			m.note("! The old secret stays in the OS keychain (account %s): %v", p.KeychainAccount, err)
		}
	}
	if delErr != nil {
		return out, &OldKeyError{Profile: p.Name, Key: p.Key.Name, Err: delErr}
	}
	m.note("✓ Profile %s now uses key %s (clientid %s); key %s was deleted.", np.Name, np.Key.Name, np.ClientID, p.Key.Name)
	return out, nil
}

// keepAside handles a rotation that lost a race: another cpikey changed or
// removed the profile while this one created its key. The new key works and
// only this process knows it, so it is kept under a profile of its own;
// the old key is no longer this rotation's to delete.
func (m *Manager) keepAside(p, np Profile, changed *ChangedError) (*RotateResult, error) {
	kept := np
	kept.Name = DefaultName(np.Subaccount.Subdomain, np.Instance.Name, np.Key.Name)
	if err := m.Store.Save(kept); err != nil {
		return nil, fmt.Errorf("rotate %s: %v; the new key %s works (clientid %s, secret in the OS keychain as %s) but could not be kept as a profile (%v): delete it in the cockpit if nobody needs it",
			p.Name, changed, np.Key.Name, np.ClientID, np.KeychainAccount, err)
	}
	return &RotateResult{Profile: kept, OldKey: p.Key.Name}, fmt.Errorf("rotate %s: %v; the new key %s is kept as profile %s and key %s was left alone: run cpikey list and forget what you no longer need",
		p.Name, changed, np.Key.Name, kept.Name, p.Key.Name)
}

// verifyNew accepts the new key once it yields a token (with the send scope
// when the roles ask for it). Provision tried once; XSUAA may need a few
// seconds to know a new client, so try again until VerifyWait.
func (m *Manager) verifyNew(ctx context.Context, t steps.Target, res *steps.Result) error {
	if res.Verified {
		return nil
	}
	wait := m.VerifyWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	delay := min(time.Second, wait/4)
	last := res.VerifyErr
	wantSend := t.Plan == itrt.PlanIntegrationFlow && slices.Contains(t.Roles, steps.DefaultRole)
	for time.Now().Add(delay).Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
		info, err := steps.VerifyCredentials(ctx, m.HTTPClient, res.Credentials)
		switch {
		case err != nil:
			last = err
		case wantSend && !info.HasScopeSuffix("."+steps.DefaultRole):
			last = fmt.Errorf("the token has no scope ending in .%s", steps.DefaultRole)
		default:
			return nil
		}
	}
	if last == nil {
		last = errors.New("no token")
	}
	return last
}

// rotationSpec is the key type and parameters of the key that replaces p's.
func rotationSpec(p Profile, renew *steps.KeySpec) (steps.KeySpec, error) {
	cur := targetOf(p).KeySpec
	if renew == nil || renew.Type.Or() == steps.KeyTypeSecret && !p.IsCertificate() {
		if p.KeyType == steps.KeyTypeExternal {
			return cur, &steps.UsageError{Msg: fmt.Sprintf("profile %s is an External Certificate key: it is renewed with a new certificate from your CA: "+
				"give --cert FILE (and --cert-key FILE, unless cpikey csr made the request on this machine)", p.Name)}
		}
		return cur, nil
	}
	if renew.Type.Or() != p.KeyType.Or() {
		return cur, &steps.UsageError{Msg: fmt.Sprintf("profile %s is a %s key; rotate keeps the key type (create a %s key with cpikey --key-type %s)",
			p.Name, p.KeyType.Or().Label(), renew.Type.Or().Label(), renew.Type.Or().Flag())}
	}
	spec := *renew
	if spec.Type == steps.KeyTypeCertificate {
		spec.Validity = cmp.Or(spec.Validity, p.Validity)
		spec.KeyLength = cmp.Or(spec.KeyLength, p.KeyLength)
	}
	if spec.Type == steps.KeyTypeExternal {
		if spec.Pinning == nil {
			spec.Pinning = p.CertificatePinning
		}
		if leaf, err := steps.ExternalLeaf(spec.Certificate, time.Time{}); err == nil && p.Certificate != nil &&
			fmt.Sprintf("0x%X", leaf.SerialNumber) == p.Certificate.SerialNumber {
			return cur, &steps.UsageError{Msg: fmt.Sprintf("that is the certificate key %s has now (serial %s); SAP takes a certificate only once: give the renewed one", p.Key.Name, p.Certificate.SerialNumber)}
		}
	}
	return spec, nil
}
