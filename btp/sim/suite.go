package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
)

// SAP Integration Suite in the simulated landscape
// (integration-suite.md): the entitlement of an APPLICATION plan, the
// asynchronous subscription, the role collections it and the activation of
// Cloud Integration create, and the Integration Suite UI whose opening
// stands for the activation. Subaccount.TenantProvisioned is the activated
// switch the it-rt broker reads.

// Suite is a subaccount's subscription and role collections. A nil
// Subaccount.Suite means "ready, as every subaccount was before the
// simulator knew about Integration Suite": entitled, subscribed, the
// provisioner role assigned and, when TenantProvisioned, the PI_* role
// collections in place. It is made explicit on first use (suiteLocked),
// which also upgrades demo state saved by older versions.
type Suite struct {
	// Subscription to Integration Suite; nil: never subscribed.
	Subscription    *Subscription     `json:"subscription,omitempty"`
	RoleCollections []*RoleCollection `json:"roleCollections"`
}

// Subscription is the subaccount's subscription to the Integration Suite
// application. Its state follows the clock: IN_PROCESS until ReadyAt, then
// SUBSCRIBED, or SUBSCRIBE_FAILED when Fail is set.
type Subscription struct {
	AppName string    `json:"appName"`
	Plan    string    `json:"plan"`
	By      string    `json:"by"`
	Created time.Time `json:"created"`
	ReadyAt time.Time `json:"readyAt"`
	Fail    string    `json:"fail,omitempty"` // subscriptionError.errorMessage
}

// RoleCollection is a subaccount role collection and the users assigned
// to it.
type RoleCollection struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	ReadOnly    bool       `json:"readOnly"`
	Roles       []RoleRef  `json:"roles"`
	Users       []RoleUser `json:"users"`
}

// RoleRef is one role of a collection (roleReferences).
type RoleRef struct {
	AppID, Template, Name string
}

// RoleUser is a user assignment; Origin is the key the subaccount knows the
// user's identity provider by ("sap.default" for the SAP ID service).
type RoleUser struct {
	Email  string `json:"email"`
	Origin string `json:"origin"`
}

// Subaccount EMPTY: Cloud Foundry, nothing of Integration Suite.
const (
	SubEmpty          = "CPI New" // CF, Integration Suite not entitled, subscribed or activated
	SubEmptySubdomain = "acme-cpi-new-5d7f3g9h"
)

// Technical application names of the Integration Suite subscription
// (integration-suite.md §2.2: they differ from the service name and by
// landscape; the productive one is this simulator's invention).
const (
	SuiteAppName      = "it-cpi018-prov"
	SuiteTrialAppName = "it-cpitrial05-prov"
)

// Role collection names every subaccount has.
const (
	RoleSubaccountAdmin  = "Subaccount Administrator"
	RoleSubaccountViewer = "Subaccount Viewer"
)

// originDefault is the origin of SAP ID service users in a subaccount.
const originDefault = "sap.default"

// subaccountOrigin is how a subaccount knows u's identity provider.
func subaccountOrigin(u *User) string {
	if u.Origin == "" || u.Origin == "sap.ids" {
		return originDefault
	}
	return u.Origin
}

// assignOrigin normalises the origin of an assignment request: "ldap" (the
// provider's default) lands on the SAP ID service user, as recorded
// (integration-suite.md §3.2).
func assignOrigin(o string) string {
	if o == "" || o == "ldap" || o == "sap.ids" {
		return originDefault
	}
	return o
}

// suiteService is the Integration Suite service the global account owns.
func (w *World) suiteService() string {
	if w.SuiteTrial {
		return itrt.SuiteTrialService
	}
	return itrt.SuiteService
}

func (w *World) suiteAppName() string {
	if w.SuiteTrial {
		return SuiteTrialAppName
	}
	return SuiteAppName
}

var cliSuite = cliCatalogService{
	Name: itrt.SuiteService, DisplayName: "SAP Integration Suite", Category: "INTEGRATION",
	Description: "Integrate applications, services and systems across landscapes.",
	Plans: []cliCatalogPlan{
		{Name: "enterprise_agreement", Category: "APPLICATION", Amount: 1, Unlimited: true,
			Description: "All capabilities, plus the entitlement for Edge Integration Cell."},
		{Name: "free", Category: "APPLICATION", Amount: 1, Unlimited: true,
			Description: "Free of charge, limited in duration and messages."},
		{Name: "edge_integration_cell", Category: "SERVICE", Amount: 1,
			Description: "Edge Integration Cell add-on (not a subscription plan)."},
		{Name: "messages", Category: "SERVICE", Amount: 10,
			Description: "Additional message blocks (not a subscription plan)."},
	},
}

var cliSuiteTrial = cliCatalogService{
	Name: itrt.SuiteTrialService, DisplayName: "Integration Suite", Category: "INTEGRATION",
	Description: "SAP Integration Suite for trial accounts.",
	Plans: []cliCatalogPlan{{Name: "trial", Category: "APPLICATION", Amount: 1, Unlimited: true,
		Description: "Trial plan of SAP Integration Suite."}},
}

// suiteCatalog is the Integration Suite service of the catalogue.
func (w *World) suiteCatalog() cliCatalogService {
	if w.SuiteTrial {
		return cliSuiteTrial
	}
	return cliSuite
}

// baseRoleCollections are the collections every subaccount starts with:
// GA administrators administer it, viewers view it.
func (w *World) baseRoleCollections(admins, viewers []*User) []*RoleCollection {
	users := func(list []*User) []RoleUser {
		out := []RoleUser{}
		for _, u := range list {
			out = append(out, RoleUser{Email: u.Email, Origin: subaccountOrigin(u)})
		}
		return out
	}
	return []*RoleCollection{
		{Name: RoleSubaccountAdmin, Description: "Administrative access to the subaccount", ReadOnly: true,
			Roles: []RoleRef{{"cis-local!b2", "Subaccount_Admin", "Subaccount Admin"}, {"service-manager!b3", "Subaccount_Service_Admin", "Subaccount Service Administrator"},
				{"xsuaa!t1", "xsuaa_admin", "User and Role Administrator"}}, Users: users(admins)},
		{Name: RoleSubaccountViewer, Description: "Read-only access to the subaccount", ReadOnly: true,
			Roles: []RoleRef{{"cis-local!b2", "Subaccount_Viewer", "Subaccount Viewer"}, {"xsuaa!t1", "xsuaa_auditor", "User and Role Auditor"}}, Users: users(viewers)},
		{Name: "Subaccount Service Administrator", Description: "Manage service instances and bindings", ReadOnly: true,
			Roles: []RoleRef{{"service-manager!b3", "Subaccount_Service_Admin", "Subaccount Service Administrator"}}, Users: []RoleUser{}},
		{Name: "Destination Administrator", Description: "Manage destinations", ReadOnly: true,
			Roles: []RoleRef{{"destination-xsappname!b9", "Destination_Administrator", "Destination Administrator"}}, Users: []RoleUser{}},
	}
}

func provisionerCollection() *RoleCollection {
	return &RoleCollection{Name: itrt.RoleProvisioner, Description: "Gives initial access to SAP Integration Suite and lets you add and manage capabilities",
		ReadOnly: true, Roles: []RoleRef{{"it!b56186", "Integration_Provisioner", "Integration_Provisioner"}}, Users: []RoleUser{}}
}

var piDescriptions = map[string]string{
	itrt.RolePIAdministrator:  "Cloud Integration tenant administrator",
	itrt.RolePIBusinessExpert: "Cloud Integration business expert",
	itrt.RolePIIntegrationDev: "Cloud Integration integration developer",
	itrt.RolePIReadOnly:       "Cloud Integration read-only access",
}

func piCollections() []*RoleCollection {
	var out []*RoleCollection
	for _, n := range itrt.PIRoleCollections {
		out = append(out, &RoleCollection{Name: n, Description: piDescriptions[n], ReadOnly: true,
			Roles: []RoleRef{{"it!b56186", strings.TrimPrefix(n, "PI_"), strings.ReplaceAll(n, "_", " ")}}, Users: []RoleUser{}})
	}
	return out
}

// gaUsers splits the users into GA administrators and viewers.
func (w *World) gaUsers() (admins, viewers []*User) {
	for _, u := range w.Users {
		switch {
		case u.GAAdmin:
			admins = append(admins, u)
		case u.GAViewer:
			viewers = append(viewers, u)
		}
	}
	return admins, viewers
}

// suiteLocked returns sa's Integration Suite state, made explicit first if
// it is the implicit "ready" one, with time-driven changes applied (a
// finished subscription creates Integration_Provisioner).
func (s *Server) suiteLocked(sa *Subaccount) *Suite {
	w := s.world
	if sa.Suite == nil {
		admins, viewers := w.gaUsers()
		st := &Suite{RoleCollections: w.baseRoleCollections(admins, viewers)}
		prov := provisionerCollection()
		for _, u := range admins {
			prov.Users = append(prov.Users, RoleUser{Email: u.Email, Origin: subaccountOrigin(u)})
		}
		st.RoleCollections = append(st.RoleCollections, prov)
		if sa.TenantProvisioned {
			pis := piCollections()
			for _, rc := range pis {
				if rc.Name == itrt.RolePIAdministrator || rc.Name == itrt.RolePIIntegrationDev {
					rc.Users = append(rc.Users, prov.Users...)
				}
			}
			st.RoleCollections = append(st.RoleCollections, pis...)
		}
		plan := w.suiteCatalog().Plans[0].Name
		st.Subscription = &Subscription{AppName: w.suiteAppName(), Plan: plan, By: AdminUser, Created: cliGACreated, ReadyAt: cliGACreated}
		if w.assignment(sa.GUID, w.suiteService(), plan) == nil {
			w.Assignments = append(w.Assignments, &Assignment{Subaccount: sa.GUID, Service: w.suiteService(), Plan: plan,
				Amount: 1, Unlimited: true, State: "OK", Created: cliGACreated, ReadyAt: cliGACreated})
		}
		sa.Suite = st
	}
	st := sa.Suite
	if sub := st.Subscription; sub != nil && subscriptionState(sub, s.now()) == itrt.SubscriptionSubscribed && st.collection(itrt.RoleProvisioner) == nil {
		st.RoleCollections = append(st.RoleCollections, provisionerCollection())
	}
	return st
}

// collection returns the named role collection, nil if absent.
func (st *Suite) collection(name string) *RoleCollection {
	for _, rc := range st.RoleCollections {
		if rc.Name == name {
			return rc
		}
	}
	return nil
}

// holds reports whether the user (email, origin) is assigned to rc.
func (rc *RoleCollection) holds(email, origin string) bool {
	for _, u := range rc.Users {
		if strings.EqualFold(u.Email, email) && u.Origin == origin {
			return true
		}
	}
	return false
}

// subaccountRole is what u may do in sa: "admin", "viewer" or "".
func (s *Server) subaccountRole(u *User, sa *Subaccount) string {
	st := s.suiteLocked(sa)
	if rc := st.collection(RoleSubaccountAdmin); rc != nil && rc.holds(u.Email, subaccountOrigin(u)) {
		return "admin"
	}
	if rc := st.collection(RoleSubaccountViewer); rc != nil && rc.holds(u.Email, subaccountOrigin(u)) {
		return "viewer"
	}
	return ""
}

// subscriptionState is the state of sub at now.
func subscriptionState(sub *Subscription, now time.Time) string {
	switch {
	case now.Before(sub.ReadyAt):
		return itrt.SubscriptionInProcess
	case sub.Fail != "":
		return itrt.SubscriptionFailed
	}
	return itrt.SubscriptionSubscribed
}

// suiteURL is the simulated Integration Suite home page of sa: opening it
// stands for activating Cloud Integration there.
func (s *Server) suiteURL(sa *Subaccount) string {
	return s.cli.url + suiteUIPath + sa.Subdomain + "/"
}

// addEmptySubaccount adds SubEmpty with its Cloud Foundry org and spaces,
// and only the base role collections. Its GUIDs derive from the global
// account's, so adding it leaves the random sequence of the rest of the
// world unchanged.
func (w *World) addEmptySubaccount(now time.Time) {
	for _, sa := range w.Subaccounts {
		if sa.Subdomain == SubEmptySubdomain {
			return
		}
	}
	seed := w.GlobalAccountGUID + "/" + SubEmptySubdomain
	rnd := rand.New(rand.NewPCG(uint64(len(seed)), stableSeed(seed)))
	sa := &Subaccount{GUID: guid(rnd), Name: SubEmpty, Subdomain: SubEmptySubdomain, Region: "eu10"}
	org := &Org{GUID: guid(rnd), Name: sa.Subdomain + "_new", Subaccount: sa.GUID}
	sa.OrgGUID = org.GUID
	w.Orgs = append(w.Orgs, org)
	for _, name := range []string{"dev", "prod"} {
		w.Spaces = append(w.Spaces, &Space{GUID: guid(rnd), Name: name, Org: org.GUID, Created: now})
	}
	// Only the admin administers the new subaccount: other global account
	// administrators lack the subaccount's roles, as in real landscapes.
	var admins, viewers []*User
	for _, u := range w.Users {
		switch {
		case u.Email == AdminUser:
			admins = append(admins, u)
		case u.GAViewer:
			viewers = append(viewers, u)
		}
	}
	sa.Suite = &Suite{RoleCollections: w.baseRoleCollections(admins, viewers)}
	w.Subaccounts = append(w.Subaccounts, sa)
}

func stableSeed(s string) uint64 {
	var h uint64 = 14695981039346656037 // FNV-1a
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// SuiteState is a summary of a subaccount's Integration Suite for tests.
type SuiteState struct {
	EntitledPlan string   // the integrationsuite plan assigned, "" if none
	Subscription string   // state, "" when never subscribed
	Activated    bool     // TenantProvisioned
	Collections  []string // role collection names
	// Holders maps a role collection to its users ("email (origin)").
	Holders map[string][]string
}

// SuiteOf returns the Integration Suite state of the subaccount with that
// subdomain.
func (s *Server) SuiteOf(subdomain string) (SuiteState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sa := range s.world.Subaccounts {
		if sa.Subdomain != subdomain {
			continue
		}
		st := s.suiteLocked(sa)
		out := SuiteState{Activated: sa.TenantProvisioned, Holders: map[string][]string{}}
		for _, p := range s.world.suiteCatalog().Plans {
			if a := s.world.assignment(sa.GUID, s.world.suiteService(), p.Name); a != nil {
				out.EntitledPlan = p.Name
			}
		}
		if st.Subscription != nil {
			out.Subscription = subscriptionState(st.Subscription, s.now())
		}
		for _, rc := range st.RoleCollections {
			out.Collections = append(out.Collections, rc.Name)
			for _, u := range rc.Users {
				out.Holders[rc.Name] = append(out.Holders[rc.Name], fmt.Sprintf("%s (%s)", u.Email, u.Origin))
			}
		}
		slices.Sort(out.Collections)
		return out, true
	}
	return SuiteState{}, false
}

// SuiteURL is the simulated Integration Suite home page of the subaccount
// with that subdomain (what a subscription's subscriptionUrl points to).
func (s *Server) SuiteURL(subdomain string) string {
	return s.cli.url + suiteUIPath + subdomain + "/"
}
