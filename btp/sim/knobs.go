package sim

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Do runs f with the world locked; tests use it to inspect or reshape the
// landscape (more subaccounts, a missing tenant, ...). Changes are persisted.
func (s *Server) Do(f func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.world)
	s.saveLocked()
}

// SubaccountBySubdomain returns a copy of the subaccount with that subdomain.
func (s *Server) SubaccountBySubdomain(sub string) (Subaccount, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sa := range s.world.Subaccounts {
		if sa.Subdomain == sub {
			return *sa, true
		}
	}
	return Subaccount{}, false
}

// AddSubaccounts adds n more subaccounts (for long lists); half of them sit
// in the first directory so directory paths show up.
func (s *Server) AddSubaccounts(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	regions := []string{"eu10", "eu20", "us10", "ap10", "jp10"}
	for i := 0; i < n; i++ {
		sa := &Subaccount{GUID: s.nextID(), Name: fmt.Sprintf("Project %04d", i+1),
			Subdomain: fmt.Sprintf("acme-project-%04d", i+1), Region: regions[i%len(regions)], TenantProvisioned: true}
		if i%2 == 1 && len(s.world.Directories) > 0 {
			sa.Parent = s.world.Directories[0].GUID
		}
		s.world.Subaccounts = append(s.world.Subaccounts, sa)
	}
	s.saveLocked()
}

// AddSpaces adds n spaces named space-NNN to the org of the subaccount with
// the given subdomain.
func (s *Server) AddSpaces(subdomain string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sa := range s.world.Subaccounts {
		if sa.Subdomain != subdomain || sa.OrgGUID == "" {
			continue
		}
		for i := 0; i < n; i++ {
			s.world.Spaces = append(s.world.Spaces, &Space{GUID: s.nextID(), Name: fmt.Sprintf("space-%03d", i+1), Org: sa.OrgGUID, Created: s.now()})
		}
	}
	s.saveLocked()
}

// entitlementPadding builds filler services shaped like the real listing's
// bulk (base64 icons and data-centre lists), about size bytes of JSON.
func entitlementPadding(size int) []byte {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = 3 << 20
	}
	icon := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0h24v24H0z'/></svg>", 40)))
	var dcs []string
	for _, r := range []string{"eu10", "eu11", "eu20", "us10", "us20", "ap10", "ap11", "jp10", "br10", "ca10"} {
		dcs = append(dcs, fmt.Sprintf(`{"name":"cf-%s","displayName":"cf-%s","region":"%s","environment":"cloudfoundry","iaasProvider":"AWS","supportsTrial":true,"provisioningServiceUrl":"https://provisioning-service.cfapps.%s.hana.ondemand.com","saasRegistryServiceUrl":"https://saas-manager.cfapps.%s.hana.ondemand.com","domain":"%s.hana.ondemand.com","isMainDataCenter":true,"geoAccess":"BACKWARD_COMPLIANT_EU_ACCESS"}`, r, r, r, r, r, r))
	}
	dc := "[" + strings.Join(dcs, ",") + "]"
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"filler-service-%04d","displayName":"Filler Service %d","description":"A service the global account owns that cpikey does not need.","businessCategory":{"id":"FOUNDATION_CROSS_SERVICES","displayName":"Foundation / Cross Services"},"ownerType":"VENDOR","termsOfUseUrl":"N/A","iconBase64":"%s","applicationCoordinates":{},"servicePlans":[{"name":"standard","displayName":"standard","description":"filler","uniqueIdentifier":"filler-service-%04d-standard","provisioningMethod":"SERVICE_BROKER","amount":1.0,"remainingAmount":1.0,"providedBy":"VENDOR","beta":false,"availableForInternal":false,"internalQuotaLimit":null,"autoAssign":false,"autoDistributeAmount":null,"maxAllowedSubaccountQuota":null,"category":"SERVICE","sourceEntitlements":[],"dataCenters":%s,"numberOfAssignedEntities":0,"unlimited":false}]}`, i, i, icon, i, dc)
	}
	return []byte(b.String())
}
