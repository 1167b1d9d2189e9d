package cf

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Organizations and spaces (cloud-foundry.md §4). The API returns only what
// the user can see.

// Org is a Cloud Foundry organization.
type Org struct {
	GUID      string
	Name      string
	Suspended bool
}

// Space is a Cloud Foundry space.
type Space struct {
	GUID    string
	Name    string
	OrgGUID string
}

type wireOrg struct {
	GUID      string `json:"guid"`
	Name      string `json:"name"`
	Suspended bool   `json:"suspended"`
}

func (o wireOrg) org() Org { return Org{GUID: o.GUID, Name: o.Name, Suspended: o.Suspended} }

type wireSpace struct {
	GUID          string `json:"guid"`
	Name          string `json:"name"`
	Relationships struct {
		Organization relationship `json:"organization"`
	} `json:"relationships"`
}

func (s wireSpace) space() Space {
	return Space{GUID: s.GUID, Name: s.Name, OrgGUID: s.Relationships.Organization.guid()}
}

// ListOrgs returns all orgs the user can see, by name.
func (c *Client) ListOrgs(ctx context.Context) ([]Org, error) {
	ws, err := listAll[wireOrg](ctx, c, "/v3/organizations", url.Values{"order_by": {"name"}})
	if err != nil {
		return nil, err
	}
	out := make([]Org, len(ws))
	for i, w := range ws {
		out[i] = w.org()
	}
	return out, nil
}

// GetOrgByName finds an org by name (case-insensitive, as CC matches it).
// A missing org is an error for which IsNotFound holds.
func (c *Client) GetOrgByName(ctx context.Context, name string) (*Org, error) {
	if strings.Contains(name, ",") {
		return nil, fmt.Errorf("org name %q contains a comma, which Cloud Foundry filters cannot match", name)
	}
	ws, err := firstOf[wireOrg](ctx, c, "/v3/organizations", url.Values{"names": {name}, "per_page": {"1"}, "page": {"1"}})
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("cloud foundry org %q: %w (or you are not a member)", name, ErrNotFound)
	}
	o := ws[0].org()
	return &o, nil
}

// ListSpaces returns the spaces of an org the user can see, by name.
func (c *Client) ListSpaces(ctx context.Context, orgGUID string) ([]Space, error) {
	ws, err := listAll[wireSpace](ctx, c, "/v3/spaces", url.Values{"organization_guids": {orgGUID}, "order_by": {"name"}})
	if err != nil {
		return nil, err
	}
	out := make([]Space, len(ws))
	for i, w := range ws {
		out[i] = w.space()
	}
	return out, nil
}

// GetSpaceByName finds a space of an org by name. A missing space is an
// error for which IsNotFound holds.
func (c *Client) GetSpaceByName(ctx context.Context, orgGUID, name string) (*Space, error) {
	if strings.Contains(name, ",") {
		return nil, fmt.Errorf("space name %q contains a comma, which Cloud Foundry filters cannot match", name)
	}
	ws, err := firstOf[wireSpace](ctx, c, "/v3/spaces", url.Values{"names": {name}, "organization_guids": {orgGUID}, "per_page": {"1"}, "page": {"1"}})
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, fmt.Errorf("cloud foundry space %q: %w (or you cannot see it)", name, ErrNotFound)
	}
	s := ws[0].space()
	return &s, nil
}
