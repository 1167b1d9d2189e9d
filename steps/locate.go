package steps

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/cpikey/cpikey/btp/cf"
	"github.com/cpikey/cpikey/btp/cliserver"
)

// Account is who is logged in, or nil before a login.
func (f *Flow) Account() *Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.account == nil {
		return nil
	}
	a := *f.account
	return &a
}

// CFEnvironment is the Cloud Foundry environment a Check (or Locate) found
// for the subaccount, or nil.
func (f *Flow) CFEnvironment(subaccountID string) *CFEnvironment {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.envs[subaccountID]; e != nil {
		c := *e
		return &c
	}
	return nil
}

// Locate prepares the flow to work on an existing target without the
// wizard's check (rotating or deleting a stored key): for Cloud Foundry it
// finds the subaccount's environment (at cfAPIURL when known, else from the
// subaccount's environment instances) and fills t's org and space GUIDs
// from their names when missing. Service Manager targets need nothing.
func (f *Flow) Locate(ctx context.Context, t *Target, cfAPIURL string) error {
	if t.Runtime == RuntimeOther {
		return nil
	}
	env := &CFEnvironment{APIURL: cfAPIURL, OrgID: t.OrgID, OrgName: t.OrgName}
	if env.APIURL == "" || env.OrgID == "" {
		var envs []cliserver.EnvironmentInstance
		err := f.btp(ctx, func(c *cliserver.Client) (err error) {
			envs, err = c.ListEnvironmentInstances(ctx, t.Subaccount.ID)
			return err
		})
		if err != nil {
			return fmt.Errorf("read the environments of subaccount %s: %w", t.Subaccount.Name, err)
		}
		e := cliserver.CloudFoundry(envs)
		if e == nil {
			return fmt.Errorf("subaccount %s has no Cloud Foundry environment (any more): the key's instance cannot be reached", t.Subaccount.Name)
		}
		env.APIURL = cmp.Or(env.APIURL, e.APIEndpoint)
		if env.OrgID == "" && (env.OrgName == "" || strings.EqualFold(env.OrgName, e.OrgName)) {
			env.OrgID, env.OrgName = e.OrgID, e.OrgName
		}
	}
	c, err := f.cfClient(ctx, env.APIURL)
	if err != nil {
		return err
	}
	if env.OrgID == "" {
		org, err := c.GetOrgByName(ctx, env.OrgName)
		if err != nil {
			return fmt.Errorf("Cloud Foundry org %q: %w", env.OrgName, err)
		}
		env.OrgID, env.OrgName = org.GUID, org.Name
	}
	f.mu.Lock()
	f.envs[t.Subaccount.ID] = env
	f.mu.Unlock()
	t.OrgID, t.OrgName = env.OrgID, cmp.Or(t.OrgName, env.OrgName)
	if t.SpaceID == "" {
		s, err := c.GetSpaceByName(ctx, t.OrgID, t.Space)
		if err != nil {
			if cf.IsNotFound(err) {
				return fmt.Errorf("space %q in org %s is gone or not visible to you: %w", t.Space, t.OrgName, err)
			}
			return fmt.Errorf("space %q in org %s: %w", t.Space, t.OrgName, err)
		}
		t.SpaceID = s.GUID
	}
	return nil
}
