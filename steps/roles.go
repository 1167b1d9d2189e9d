package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/cliserver"
	"github.com/cpikey/cpikey/btp/oauth"
)

// Roles drift: an existing instance is reused with the roles it has, which
// may not be the ones asked for. SAP does not let anyone read an it-rt
// instance's parameters back (the offering is not instances_retrievable),
// so the roles are read where they take effect: the scopes of a token of
// one of the instance's keys (it-rt.md §5.1).

// RoleChangeDelay is how SAP's own documentation bounds the time until
// changed roles take effect in Cloud Integration (it-rt.md §2).
const RoleChangeDelay = "SAP applies role changes within up to an hour"

// RolesDriftError: the instance to reuse has other roles than requested.
type RolesDriftError struct {
	Instance       string
	Want, Have     []string // sorted
	Missing, Extra []string // requested but absent; present but not requested
}

func (e *RolesDriftError) Error() string {
	return fmt.Sprintf("instance %s already exists with roles %s, not the requested %s (%s): rerun with --update-roles "+
		"to give it the requested roles (%s), with --accept-roles to use it as it is, or choose another --instance name",
		e.Instance, roleList(e.Have), roleList(e.Want), e.Difference(), RoleChangeDelay)
}

// Difference says what differs, e.g. "missing ESBMessaging.send; extra API.invoke".
func (e *RolesDriftError) Difference() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+strings.Join(e.Missing, ", "))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, "extra "+strings.Join(e.Extra, ", "))
	}
	return strings.Join(parts, "; ")
}

func roleList(roles []string) string {
	if len(roles) == 0 {
		return "(none)"
	}
	return strings.Join(roles, ", ")
}

// RolesFromScopes reads an it-rt instance's roles from token scopes:
// "<xsappname>!b<digits>.<role>", e.g. "it-rt-acme!b56186.ESBMessaging.send"
// or "it!b56186.MonitoringDataRead". Other scopes (uaa.resource) are not
// roles. The result is sorted and without duplicates.
func RolesFromScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		i := strings.Index(s, "!b")
		if i < 0 {
			continue
		}
		rest := s[i+2:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || j >= len(rest)-1 || rest[j] != '.' {
			continue
		}
		out = append(out, rest[j+1:])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// RolesDrift compares requested and present roles; nil when they agree.
func RolesDrift(instance string, want, have []string) *RolesDriftError {
	w, h := slices.Clone(want), slices.Clone(have)
	slices.Sort(w)
	slices.Sort(h)
	w, h = slices.Compact(w), slices.Compact(h)
	if slices.Equal(w, h) {
		return nil
	}
	e := &RolesDriftError{Instance: instance, Want: w, Have: h}
	for _, r := range w {
		if !slices.Contains(h, r) {
			e.Missing = append(e.Missing, r)
		}
	}
	for _, r := range h {
		if !slices.Contains(w, r) {
			e.Extra = append(e.Extra, r)
		}
	}
	return e
}

// rolesOfCredentials fetches a token with a key's credentials and reads the
// roles from it; ok is false when that is not possible (a certificate key,
// a token server that refuses).
func (f *Flow) rolesOfCredentials(ctx context.Context, name string, raw json.RawMessage) (roles []string, ok bool) {
	creds, err := ParseCredentials(name, raw)
	if err != nil {
		return nil, false
	}
	info, err := oauth.Verify(ctx, f.cfg.HTTPClient, oauth.Credentials{ClientID: creds.ClientID,
		ClientSecret: creds.ClientSecret, TokenURL: creds.TokenURL})
	if err != nil {
		return nil, false
	}
	return RolesFromScopes(info.Scopes), true
}

// cfInstanceRoles reads the roles of a CF instance through one of its keys,
// preferring the one named prefer; ok is false when no key can tell.
func (f *Flow) cfInstanceRoles(ctx context.Context, c *cf.Client, instGUID, prefer string) (roles []string, ok bool, err error) {
	keys, err := c.ListKeys(ctx, instGUID)
	if err != nil {
		return nil, false, err
	}
	slices.SortStableFunc(keys, func(a, b cf.Key) int { return boolOrder(a.Name == prefer, b.Name == prefer) })
	for _, k := range keys {
		if k.LastOperation.State != cf.StateSucceeded || k.LastOperation.Type == "delete" {
			continue
		}
		raw, err := c.KeyDetails(ctx, k.GUID)
		if err != nil {
			continue
		}
		if roles, ok := f.rolesOfCredentials(ctx, k.Name, raw); ok {
			return roles, true, nil
		}
	}
	return nil, false, nil
}

// smInstanceRoles is cfInstanceRoles for a Service Manager instance.
// With skipPrefer, a key named prefer ends the search unknown: Provision
// reads the roles from that key's own token instead.
func (f *Flow) smInstanceRoles(ctx context.Context, t Target, instID, prefer string, skipPrefer bool) (roles []string, ok bool, err error) {
	var bindings []cliserver.Binding
	err = f.btp(ctx, func(c *cliserver.Client) (err error) {
		bindings, err = c.ListBindings(ctx, t.Subaccount.ID)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortStableFunc(bindings, func(a, b cliserver.Binding) int { return boolOrder(a.Name == prefer, b.Name == prefer) })
	for _, b := range bindings {
		if b.InstanceID == instID && b.Name == prefer && skipPrefer {
			return nil, false, nil // the key to reuse will tell
		}
		if b.InstanceID != instID || len(b.Credentials) == 0 {
			continue
		}
		if roles, ok := f.rolesOfCredentials(ctx, b.Name, b.Credentials); ok {
			return roles, true, nil
		}
	}
	return nil, false, nil
}

// boolOrder sorts true before false.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// checkRoles decides what a reused instance's roles mean for the run: nil
// when they match (or cannot be known yet), t's policy otherwise.
func (f *Flow) checkRoles(t Target, have []string) (update bool, err error) {
	d := RolesDrift(t.Instance, t.Roles, have)
	switch {
	case d == nil:
		return false, nil
	case t.UpdateRoles:
		return true, nil
	case t.AcceptRoles:
		f.report(Event{Step: StepInstance, Kind: EventDone, Message: fmt.Sprintf("Instance %s keeps its roles %s (%s)",
			t.Instance, roleList(have), d.Difference())})
		return false, nil
	}
	return false, d
}

// updateRoles gives a reused instance the requested roles and waits until
// SAP reports the update done.
func (f *Flow) updateRoles(ctx context.Context, t Target, instID string) error {
	what := fmt.Sprintf("Updating the roles of instance %s to %s", t.Instance, roleList(t.Roles))
	f.report(Event{Step: StepInstance, Kind: EventStarted, Message: what})
	params := InstanceParameters(t.Roles)
	if t.Runtime == RuntimeOther {
		err := f.btp(ctx, func(c *cliserver.Client) error {
			return c.UpdateInstanceParameters(ctx, t.Subaccount.ID, instID, params)
		})
		if err != nil {
			if cliserver.IsBrokerError(err) {
				return &BrokerError{What: what, Text: brokerText(err), Err: err}
			}
			return fmt.Errorf("update the roles of instance %s: %w", t.Instance, err)
		}
		if _, err := f.smWait(ctx, t, instID, what); err != nil {
			return err
		}
	} else {
		c, err := f.cfFor(ctx, t)
		if err != nil {
			return err
		}
		jobURL, err := c.UpdateInstanceParameters(ctx, instID, params)
		if err != nil {
			if cf.IsNotAuthorized(err) {
				return notSpaceDeveloper(t, err)
			}
			return fmt.Errorf("update the roles of instance %s: %w%s", t.Instance, err, rerunHint(err))
		}
		if err := f.cfWaitJob(ctx, c, StepInstance, what, jobURL); err != nil {
			return err
		}
	}
	f.report(Event{Step: StepInstance, Kind: EventDone, Message: fmt.Sprintf("Roles of instance %s updated to %s; %s",
		t.Instance, roleList(t.Roles), RoleChangeDelay)})
	return nil
}

// settleRoles applies t's policy to a reused instance whose roles are
// known: nothing when they match, an update, or a *RolesDriftError.
func (f *Flow) settleRoles(ctx context.Context, t Target, instID string, have []string, res *Result) error {
	res.rolesChecked = true
	update, err := f.checkRoles(t, have)
	if err != nil || !update {
		return err
	}
	if err := f.updateRoles(ctx, t, instID); err != nil {
		return err
	}
	res.RolesUpdated = true
	return nil
}
