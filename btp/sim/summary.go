package sim

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// What someone pointing their own tools at a running simulator needs:
// its URLs, the demo users and where to target the cf CLI.

// DemoUser is one simulated account.
type DemoUser struct {
	Email, Password string
	Role            string // what the account may do, in words
}

// DemoUsers lists the world's accounts. Their passwords are fixtures of
// the simulated landscape, not anybody's secrets.
func (s *Server) DemoUsers() []DemoUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DemoUser
	for _, u := range s.world.Users {
		var roles []string
		switch {
		case u.GAAdmin:
			roles = append(roles, "global account admin")
		case u.GAViewer:
			roles = append(roles, "global account viewer")
		}
		switch {
		case contains(u.SpaceDeveloper, "*"):
			roles = append(roles, "Space Developer everywhere")
		case len(u.SpaceDeveloper) > 0:
			roles = append(roles, fmt.Sprintf("Space Developer in %d spaces", len(u.SpaceDeveloper)))
		}
		if len(u.SpaceReader) > 0 {
			roles = append(roles, fmt.Sprintf("reader in %d spaces", len(u.SpaceReader)))
		}
		if u.Origin != "" && u.Origin != "sap.ids" {
			roles = append(roles, "identity provider "+u.Origin)
		}
		out = append(out, DemoUser{Email: u.Email, Password: u.Password, Role: strings.Join(roles, ", ")})
	}
	return out
}

// DemoTarget is a Cloud Foundry org and space where it-rt is entitled:
// where `cf target -o ORG -s SPACE` points to create an instance at once.
// Empty when no subaccount with Cloud Foundry has it-rt.
func (s *Server) DemoTarget() (org, space string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.world
	now := s.now()
	for _, sa := range w.Subaccounts {
		a := w.assignment(sa.GUID, "it-rt", "integration-flow")
		o := w.org(sa.OrgGUID)
		if o == nil || !w.GAHasITRT || a == nil || assignmentState(a, now) != "OK" {
			continue
		}
		var names []string
		for _, sp := range w.Spaces {
			if sp.Org == o.GUID {
				names = append(names, sp.Name)
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			return o.Name, names[0]
		}
	}
	return "", ""
}

// WriteSummary prints the simulator's URLs, its global account, the demo
// users and the cf CLI target, for a person at a terminal.
func (s *Server) WriteSummary(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	s.mu.Lock()
	ga := s.world.GlobalAccountSubdomain
	s.mu.Unlock()
	fmt.Fprintf(tw, "BTP CLI server\t%s\t(global account subdomain %s)\n", s.CLIServerURL(), ga)
	fmt.Fprintf(tw, "Cloud Foundry API\t%s\t(also its UAA: login and token endpoint)\n", s.CFAPIURL())
	fmt.Fprintf(tw, "XSUAA\t%s\t(token URL of it-rt keys)\n", s.TokenBaseURL())
	fmt.Fprintf(tw, "XSUAA (certificates)\t%s\t(token URL of certificate keys: mTLS, its CA is the simulator's)\n", s.CertTokenURL())
	fmt.Fprintf(tw, "Cloud Integration runtime\t%s\t(url of integration-flow keys; iFlows under /http/demo)\n", s.RuntimeURL())
	fmt.Fprintf(tw, "Cloud Integration API\t%s\t(url of api keys; OData under /api/v1)\n", s.TenantAPIURL())
	if org, space := s.DemoTarget(); org != "" {
		fmt.Fprintf(tw, "cf target\t-o %s -s %s\t(it-rt is entitled there)\n", org, space)
	}
	for _, u := range s.DemoUsers() {
		fmt.Fprintf(tw, "user\t%s / %s\t(%s)\n", u.Email, u.Password, u.Role)
	}
	return tw.Flush()
}
