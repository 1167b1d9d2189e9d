package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cpikey/cpikey/btp/cf"
)

// Orgs lists the Cloud Foundry orgs the user can see, logging in to CF on
// first use. The subaccount's own org comes first.
func (f *Flow) Orgs(ctx context.Context, env *CFEnvironment) ([]Org, error) {
	if env == nil {
		return nil, errors.New("the subaccount has no Cloud Foundry environment: enable Cloud Foundry in the cockpit, or choose runtime \"other\"")
	}
	c, err := f.cfClient(ctx, env.APIURL)
	if err != nil {
		return nil, err
	}
	orgs, err := c.ListOrgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list Cloud Foundry orgs: %w", err)
	}
	out := make([]Org, 0, len(orgs))
	for _, o := range orgs {
		if o.GUID == env.OrgID {
			out = append([]Org{{ID: o.GUID, Name: o.Name}}, out...)
			continue
		}
		out = append(out, Org{ID: o.GUID, Name: o.Name})
	}
	return out, nil
}

// Spaces lists the spaces of an org (the org must belong to an API endpoint
// Orgs was called for). The subaccount's own org was usually listed while
// the user read the check screen; that listing is used.
func (f *Flow) Spaces(ctx context.Context, orgID string) ([]Space, error) {
	c, err := f.anyCF()
	if err != nil {
		return nil, err
	}
	spaces, err := f.orgSpaces(ctx, c.APIURL(), orgID)
	if err != nil {
		return nil, fmt.Errorf("list spaces: %w", err)
	}
	out := make([]Space, 0, len(spaces))
	for _, s := range spaces {
		out = append(out, Space{ID: s.GUID, Name: s.Name})
	}
	return out, nil
}

// anyCF returns the logged-in CF client (cpikey works in one landscape).
func (f *Flow) anyCF() (*cf.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cfs {
		return c, nil
	}
	return nil, errors.New("not logged in to Cloud Foundry yet: pick the org first")
}

// cfFor returns the CF client of the target's subaccount environment.
func (f *Flow) cfFor(ctx context.Context, t Target) (*cf.Client, error) {
	f.mu.Lock()
	env := f.envs[t.Subaccount.ID]
	f.mu.Unlock()
	if env == nil {
		return f.anyCF()
	}
	return f.cfClient(ctx, env.APIURL)
}

// resolveWhere fills t's org and space for the CF runtime from the check
// report (the org of the CF environment unless t.OrgName is set).
func (f *Flow) resolveWhere(ctx context.Context, report *CheckReport, t *Target) error {
	if report.CF == nil {
		return fmt.Errorf("subaccount %s has no Cloud Foundry environment: enable Cloud Foundry in the cockpit "+
			"(subaccount > Overview > Enable Cloud Foundry), or rerun with --runtime other", report.Subaccount.Name)
	}
	c, err := f.cfClient(ctx, report.CF.APIURL)
	if err != nil {
		return err
	}
	t.OrgID, t.OrgName = report.CF.OrgID, report.CF.OrgName
	if t.OrgName != "" && !strings.EqualFold(t.OrgName, report.CF.OrgName) {
		org, err := c.GetOrgByName(ctx, t.OrgName)
		if err != nil {
			return &UsageError{Msg: fmt.Sprintf("--org %q: no such Cloud Foundry org visible to you (the subaccount's org is %q): %v", t.OrgName, report.CF.OrgName, err)}
		}
		t.OrgID, t.OrgName = org.GUID, org.Name
	}
	if s, ok, err := f.spaceByName(ctx, report.CF.APIURL, t.OrgID, t.Space); err == nil && ok {
		t.SpaceID, t.Space = s.GUID, s.Name
		return nil
	}
	// Not in the listing (or it failed): ask for the name itself.
	space, err := c.GetSpaceByName(ctx, t.OrgID, t.Space)
	if err != nil {
		if cf.IsNotFound(err) {
			return &UsageError{Msg: fmt.Sprintf("--space %q: no such space in org %s that you can see; create it in the cockpit (Cloud Foundry > Spaces) or pass --space", t.Space, t.OrgName)}
		}
		return err
	}
	t.SpaceID, t.Space = space.GUID, space.Name
	return nil
}
