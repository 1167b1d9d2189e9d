package cliserver

import (
	"context"
	"errors"
	"strconv"
)

// Role collections of a subaccount (integration-suite.md §3.2):
// security/role-collection?list|get|assign.

// RoleCollection is one role collection of a subaccount.
type RoleCollection struct {
	Name        string
	Description string
	ReadOnly    bool
	Roles       []RoleReference
}

// RoleReference is one role in a collection.
type RoleReference struct {
	AppID, Template, Name string
}

// RoleUser is a user assigned to a role collection; Origin is the key of
// the user's identity provider in the subaccount ("sap.default" for the
// SAP ID service).
type RoleUser struct {
	ID, Username, Email, Origin string
}

type wireRoleCollection struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	IsReadOnly     bool   `json:"isReadOnly"`
	RoleReferences []struct {
		AppID    string `json:"roleTemplateAppId"`
		Template string `json:"roleTemplateName"`
		Name     string `json:"name"`
	} `json:"roleReferences"`
}

// ListRoleCollections lists the subaccount's role collections (without
// their users). Needs Subaccount Administrator or Viewer.
func (c *Client) ListRoleCollections(ctx context.Context, subaccountID string) ([]RoleCollection, error) {
	if subaccountID == "" {
		return nil, errors.New("btp list security/role-collection: a subaccount is required")
	}
	var list []wireRoleCollection
	if _, err := c.run(ctx, "security/role-collection", "list", map[string]string{"subaccount": subaccountID}, &list); err != nil {
		return nil, err
	}
	out := make([]RoleCollection, 0, len(list))
	for _, w := range list {
		rc := RoleCollection{Name: w.Name, Description: w.Description, ReadOnly: w.IsReadOnly}
		for _, r := range w.RoleReferences {
			rc.Roles = append(rc.Roles, RoleReference{AppID: r.AppID, Template: r.Template, Name: r.Name})
		}
		out = append(out, rc)
	}
	return out, nil
}

// maxRolePages bounds the paging of user assignments (a runaway server
// must not keep the client reading).
const maxRolePages = 200

// RoleCollectionUsers lists the users assigned to a role collection, all
// pages. A collection that does not exist is a backend 404 (IsNotFound).
func (c *Client) RoleCollectionUsers(ctx context.Context, subaccountID, name string) ([]RoleUser, error) {
	if subaccountID == "" || name == "" {
		return nil, errors.New("btp get security/role-collection: subaccount and role collection are required")
	}
	var out []RoleUser
	for page := 1; page <= maxRolePages; page++ {
		var ans struct {
			TotalPages int `json:"totalPages"`
			Items      []struct {
				ID       string `json:"id"`
				Username string `json:"username"`
				Email    string `json:"email"`
				Origin   string `json:"origin"`
			} `json:"items"`
		}
		p := map[string]string{"subaccount": subaccountID, "roleCollectionName": name, "showUserAssignments": "true", "page": strconv.Itoa(page)}
		if _, err := c.run(ctx, "security/role-collection", "get", p, &ans); err != nil {
			return nil, err
		}
		for _, it := range ans.Items {
			out = append(out, RoleUser{ID: it.ID, Username: it.Username, Email: it.Email, Origin: it.Origin})
		}
		if page >= ans.TotalPages || len(ans.Items) == 0 {
			break
		}
	}
	return out, nil
}

// AssignRoleCollection assigns a role collection to a user of the given
// origin, creating the user in the subaccount if needed (as the btp CLI
// and SAP's Terraform provider do). Needs Subaccount Administrator.
func (c *Client) AssignRoleCollection(ctx context.Context, subaccountID, name, user, origin string) error {
	if subaccountID == "" || name == "" || user == "" || origin == "" {
		return errors.New("btp assign security/role-collection: subaccount, role collection, user and origin are required")
	}
	p := map[string]string{"subaccount": subaccountID, "roleCollectionName": name, "userName": user, "origin": origin, "createUserIfMissing": "true"}
	_, err := c.run(ctx, "security/role-collection", "assign", p, nil)
	return err
}
