package sim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Role collections of a subaccount (integration-suite.md §3.2):
// security/role-collection?list|get|assign. Reading needs the
// subaccount's administrator or viewer role collection, assigning its
// administrator one; GA roles do not reach into a subaccount's security.

// roleUsersPage is the page size of role-collection?get user assignments.
const roleUsersPage = 50

const cliMediaAuthz = "application/json"

func (s *Server) cliRoleReader(c *cliCall) (*Subaccount, *Suite, *cliResult) {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return nil, nil, bad
	}
	if s.subaccountRole(c.user, sa) == "" {
		r := cliResult{backend: http.StatusForbidden, backendMsg: cliMsgNotAuthz}
		return nil, nil, &r
	}
	return sa, s.suiteLocked(sa), nil
}

func roleCollectionObject(rc *RoleCollection) map[string]any {
	refs := []map[string]string{}
	for _, r := range rc.Roles {
		refs = append(refs, map[string]string{"roleTemplateAppId": r.AppID, "roleTemplateName": r.Template, "name": r.Name, "description": r.Name})
	}
	return map[string]any{"name": rc.Name, "description": rc.Description, "roleReferences": refs, "isReadOnly": rc.ReadOnly}
}

// roleNotFound is the recorded answer for an unknown role collection
// (there at global-account level; the same shape is assumed here).
func roleNotFound(sa *Subaccount, name string) cliResult {
	return cliBody(http.StatusNotFound, cliMediaAuthz, map[string]string{"error": fmt.Sprintf("No entity found with values = [[%s, %s, %s]]", sa.GUID, name, sa.GUID)})
}

func (s *Server) cliRoleCollectionList(c *cliCall) cliResult {
	_, st, bad := s.cliRoleReader(c)
	if bad != nil {
		return *bad
	}
	list := []map[string]any{}
	for _, rc := range st.RoleCollections {
		list = append(list, roleCollectionObject(rc))
	}
	return cliBody(http.StatusOK, cliMediaAuthz, list)
}

func (s *Server) cliRoleCollectionGet(c *cliCall) cliResult {
	if !c.need("roleCollectionName") {
		return cliBadParams()
	}
	sa, st, bad := s.cliRoleReader(c)
	if bad != nil {
		return *bad
	}
	rc := st.collection(c.p["roleCollectionName"])
	if rc == nil {
		return roleNotFound(sa, c.p["roleCollectionName"])
	}
	if c.p["showUserAssignments"] != "true" {
		return cliBody(http.StatusOK, cliMediaAuthz, roleCollectionObject(rc))
	}
	page := 1
	if p := c.p["page"]; p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return cliBadParams()
		}
		page = n
	}
	pages := max(1, (len(rc.Users)+roleUsersPage-1)/roleUsersPage)
	items := []map[string]string{}
	for i := (page - 1) * roleUsersPage; i < len(rc.Users) && i < page*roleUsersPage; i++ {
		u := rc.Users[i]
		name := u.Email
		if j := strings.IndexByte(name, '@'); j > 0 {
			name = name[:j]
		}
		items = append(items, map[string]string{"id": cliStableGUID("user/" + u.Email + "/" + u.Origin), "username": name,
			"zoneId": sa.GUID, "email": u.Email, "origin": u.Origin})
	}
	return cliBody(http.StatusOK, cliMediaAuthz, map[string]any{"count": len(rc.Users), "totalPages": pages, "items": items})
}

func (s *Server) cliRoleCollectionAssign(c *cliCall) cliResult {
	if !c.need("roleCollectionName", "userName") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	if s.subaccountRole(c.user, sa) != "admin" {
		return cliResult{backend: http.StatusForbidden, backendMsg: cliMsgNotAuthz}
	}
	st := s.suiteLocked(sa)
	rc := st.collection(c.p["roleCollectionName"])
	if rc == nil {
		return roleNotFound(sa, c.p["roleCollectionName"])
	}
	email, origin := c.p["userName"], assignOrigin(c.p["origin"])
	if !rc.holds(email, origin) {
		rc.Users = append(rc.Users, RoleUser{Email: email, Origin: origin})
	}
	var held []string
	for _, x := range st.RoleCollections {
		if x.holds(email, origin) {
			held = append(held, x.Name)
		}
	}
	s.world.Seq++
	s.saveLocked()
	name := email
	if j := strings.IndexByte(name, '@'); j > 0 {
		name = name[:j]
	}
	return cliBody(http.StatusOK, cliMediaAuthz, map[string]any{
		"id": cliStableGUID("user/" + email + "/" + origin), "username": name, "email": email,
		"created": cliGACreated.Format("2006-01-02T15:04:05.000-07:00"), "modified": c.now.UTC().Format("2006-01-02T15:04:05.000-07:00"),
		"origin": origin, "zoneId": sa.GUID, "verified": false, "legacyVerificationBehavior": false,
		"passwordChangeRequired": false, "version": 1, "active": true, "roleCollections": held,
	})
}
