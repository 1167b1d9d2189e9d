package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// accounts/* commands of the CLI server: global account and hierarchy,
// subaccounts, entitlements (§5.1-§5.7). CIS dates use "Jan 2, 2006, 3:04:05 PM".

const cliCISDate = "Jan 2, 2006, 3:04:05 PM"

var (
	cliGACreated  = time.Date(2023, 5, 11, 8, 59, 23, 0, time.UTC)
	cliGAModified = time.Date(2026, 6, 22, 10, 36, 27, 0, time.UTC)
)

func cliDate(t time.Time) string { return t.UTC().Format(cliCISDate) }

func cliEpochMS(t time.Time) int64 { return t.UnixMilli() }

// cliStableGUID derives a fixed v4-shaped GUID from seed (catalogue ids,
// environment instance ids): the same in every run.
func cliStableGUID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return cliFormatGUID(hex.EncodeToString(b))
}

// --- hierarchy ----------------------------------------------------------------

type cliGAObject struct {
	CommercialModel  string          `json:"commercialModel"`
	ConsumptionBased bool            `json:"consumptionBased"`
	LicenseType      string          `json:"licenseType"`
	GeoAccess        string          `json:"geoAccess"`
	CostCenter       string          `json:"costCenter"`
	CostObjectType   string          `json:"costObjectType"`
	CostObjectID     string          `json:"costObjectId"`
	UseFor           string          `json:"useFor"`
	Origin           string          `json:"origin"`
	GUID             string          `json:"guid"`
	DisplayName      string          `json:"displayName"`
	Description      string          `json:"description"`
	CreatedDate      string          `json:"createdDate"`
	ModifiedDate     string          `json:"modifiedDate"`
	EntityState      string          `json:"entityState"`
	StateMessage     string          `json:"stateMessage"`
	Subdomain        string          `json:"subdomain"`
	ContractStatus   string          `json:"contractStatus"`
	Children         []*cliDirObject `json:"children,omitempty"`
	Subaccounts      []*cliSAObject  `json:"subaccounts,omitempty"`
}

// cliDirObject is a directory inside the hierarchy: as recorded, with a
// description and without the subdomain and labels a directory get has.
type cliDirObject struct {
	GUID              string          `json:"guid"`
	ParentGuid        string          `json:"parentGuid"` //nolint:revive // wire name
	ParentGUID        string          `json:"parentGUID"`
	ParentType        string          `json:"parentType"`
	GlobalAccountGUID string          `json:"globalAccountGUID"`
	DisplayName       string          `json:"displayName"`
	CreatedDate       string          `json:"createdDate"`
	CreatedBy         string          `json:"createdBy"`
	ModifiedDate      string          `json:"modifiedDate"`
	EntityState       string          `json:"entityState"`
	StateMessage      string          `json:"stateMessage"`
	Description       string          `json:"description"`
	DirectoryType     string          `json:"directoryType"`
	DirectoryFeatures []string        `json:"directoryFeatures"`
	ContractStatus    string          `json:"contractStatus"`
	Children          []*cliDirObject `json:"children,omitempty"`
	Subaccounts       []*cliSAObject  `json:"subaccounts,omitempty"`
}

type cliSAObject struct {
	GUID                                string              `json:"guid"`
	TechnicalName                       string              `json:"technicalName"`
	DisplayName                         string              `json:"displayName"`
	GlobalAccountGUID                   string              `json:"globalAccountGUID"`
	ParentGUID                          string              `json:"parentGUID"`
	ParentType                          string              `json:"parentType"`
	ParentFeatures                      []string            `json:"parentFeatures,omitempty"`
	Region                              string              `json:"region"`
	Subdomain                           string              `json:"subdomain"`
	BetaEnabled                         bool                `json:"betaEnabled"`
	UsedForProduction                   string              `json:"usedForProduction"`
	Description                         string              `json:"description"`
	State                               string              `json:"state"`
	StateMessage                        string              `json:"stateMessage"`
	CustomProperties                    []any               `json:"customProperties"`
	Labels                              map[string][]string `json:"labels"`
	CreatedDate                         string              `json:"createdDate"`
	CreatedBy                           string              `json:"createdBy"`
	ModifiedDate                        string              `json:"modifiedDate"`
	ContractStatus                      string              `json:"contractStatus"`
	LastModifiedBy                      string              `json:"lastModifiedBy"`
	ClosestEntitlementManagedParentGUID string              `json:"closestEntitlementManagedParentGUID,omitempty"`
}

func (s *Server) cliGAObjectLocked() *cliGAObject {
	w := s.world
	return &cliGAObject{
		CommercialModel: "Subscription", ConsumptionBased: true, LicenseType: "SAPDEV", GeoAccess: "STANDARD",
		CostCenter: "000000000", CostObjectType: "COST_CENTER", CostObjectID: "000000000", UseFor: "Testing",
		Origin: "OPERATOR", GUID: w.GlobalAccountGUID, DisplayName: w.GlobalAccountName,
		Description: s.say("Simulated global account"), CreatedDate: cliDate(cliGACreated), ModifiedDate: cliDate(cliGAModified),
		EntityState: "OK", StateMessage: "Global account updated.", Subdomain: w.GlobalAccountSubdomain, ContractStatus: "ACTIVE",
	}
}

func (s *Server) cliSAObjectLocked(sa *Subaccount, i int) *cliSAObject {
	w := s.world
	o := &cliSAObject{
		GUID: sa.GUID, TechnicalName: sa.GUID, DisplayName: sa.Name, GlobalAccountGUID: w.GlobalAccountGUID,
		ParentGUID: w.GlobalAccountGUID, ParentType: "ROOT", Region: sa.Region, Subdomain: sa.Subdomain,
		UsedForProduction: "NOT_USED_FOR_PRODUCTION", Description: s.say(""), State: "OK", StateMessage: "Subaccount created.",
		CustomProperties: []any{}, Labels: map[string][]string{},
		CreatedDate:  cliDate(cliGACreated.AddDate(0, 2, i)),
		ModifiedDate: cliDate(cliGACreated.AddDate(0, 2, i).Add(19 * time.Second)),
		CreatedBy:    AdminUser, LastModifiedBy: AdminUser, ContractStatus: "ACTIVE",
	}
	if d := w.directory(sa.Parent); d != nil {
		o.ParentGUID, o.ParentType, o.ParentFeatures = d.GUID, d.Type, d.Features
	}
	return o
}

func (s *Server) cliDirObjectLocked(d *Directory, i int) *cliDirObject {
	w := s.world
	o := &cliDirObject{
		GUID: d.GUID, ParentGuid: w.GlobalAccountGUID, ParentGUID: w.GlobalAccountGUID, ParentType: "ROOT",
		GlobalAccountGUID: w.GlobalAccountGUID, DisplayName: d.Name,
		CreatedDate: cliDate(cliGACreated.AddDate(0, 1, i)), CreatedBy: AdminUser,
		ModifiedDate: cliDate(cliGACreated.AddDate(0, 1, i).Add(time.Hour)), EntityState: "OK",
		StateMessage: "Directory created.", Description: s.say(""), DirectoryType: d.Type,
		DirectoryFeatures: d.Features, ContractStatus: "ACTIVE",
	}
	if p := w.directory(d.Parent); p != nil {
		o.ParentGuid, o.ParentGUID, o.ParentType = p.GUID, p.GUID, p.Type
	}
	return o
}

// cliEntitlementParentLocked returns the nearest ancestor directory of sa
// that manages entitlements (feature ENTITLEMENTS), or nil for the GA.
func (s *Server) cliEntitlementParentLocked(sa *Subaccount) *Directory {
	for d, n := s.world.directory(sa.Parent), 0; d != nil && n < 64; d, n = s.world.directory(d.Parent), n+1 {
		if contains(d.Features, "ENTITLEMENTS") {
			return d
		}
	}
	return nil
}

func (s *Server) cliCheckGA(c *cliCall) *cliResult {
	if ga := c.p["globalAccount"]; ga != "" && !strings.EqualFold(ga, s.world.GlobalAccountSubdomain) {
		r := cliHTTP(http.StatusForbidden, fmt.Sprintf("Global account '%s' does not exist and thus did not entitle you to execute the command.", ga))
		return &r
	}
	return nil
}

func (s *Server) cliGlobalAccountGet(c *cliCall) cliResult {
	if r := s.cliCheckGA(c); r != nil {
		return *r
	}
	ga := s.cliGAObjectLocked()
	if c.p["showHierarchy"] == "true" {
		dirs := map[string]*cliDirObject{}
		for i, d := range s.world.Directories {
			dirs[d.GUID] = s.cliDirObjectLocked(d, i)
		}
		for _, d := range s.world.Directories {
			o := dirs[d.GUID]
			if p := dirs[d.Parent]; p != nil {
				p.Children = append(p.Children, o)
			} else {
				ga.Children = append(ga.Children, o)
			}
		}
		for i, sa := range s.world.Subaccounts {
			o := s.cliSAObjectLocked(sa, i)
			if d := dirs[sa.Parent]; d != nil {
				d.Subaccounts = append(d.Subaccounts, o)
			} else {
				ga.Subaccounts = append(ga.Subaccounts, o)
			}
		}
	}
	return cliBody(http.StatusOK, cliMediaCIS, ga)
}

func (s *Server) cliSubaccountList(c *cliCall) cliResult {
	if r := s.cliCheckGA(c); r != nil {
		return *r
	}
	list := make([]*cliSAObject, 0, len(s.world.Subaccounts))
	for i, sa := range s.world.Subaccounts {
		list = append(list, s.cliSAObjectLocked(sa, i))
	}
	return cliBody(http.StatusOK, cliMediaCIS, map[string]any{"value": list})
}

func (s *Server) cliSubaccountGet(c *cliCall) cliResult {
	if r := s.cliCheckGA(c); r != nil {
		return *r
	}
	if !c.need("subaccount") {
		return cliBadParams()
	}
	id := c.p["subaccount"]
	for i, sa := range s.world.Subaccounts {
		if sa.GUID == id {
			o := s.cliSAObjectLocked(sa, i)
			o.ClosestEntitlementManagedParentGUID = s.world.GlobalAccountGUID
			if d := s.cliEntitlementParentLocked(sa); d != nil {
				o.ClosestEntitlementManagedParentGUID = d.GUID
			}
			return cliBody(http.StatusOK, cliMediaCIS, o)
		}
	}
	return cliCIS(http.StatusNotFound, 20004, fmt.Sprintf("Subaccount %s not found", id))
}

// --- entitlements -------------------------------------------------------------

// cliCatalogPlan is one plan the simulated global account owns.
type cliCatalogPlan struct {
	Name, Description, Category string
	Unlimited                   bool
	Amount                      float64
}

type cliCatalogService struct {
	Name, DisplayName, Description, Category string
	Plans                                    []cliCatalogPlan
}

var cliITRT = cliCatalogService{
	Name: "it-rt", DisplayName: "Process Integration Runtime", Category: "INTEGRATION",
	Description: "Process Integration Runtime of SAP Integration Suite: OAuth clients for Cloud Integration runtime and APIs.",
	Plans: []cliCatalogPlan{
		{Name: "integration-flow", Category: "ELASTIC_SERVICE", Unlimited: true, Amount: 2000000000,
			Description: "Creates an OAuth client that provides access to the Cloud Integration capability's runtime."},
		{Name: "api", Category: "SERVICE", Amount: 10,
			Description: "Creates an OAuth client that provides access to the public APIs of the Cloud Integration capability."},
	},
}

var cliCF = cliCatalogService{
	Name: "cloudfoundry", DisplayName: "Cloud Foundry Environment", Category: "FOUNDATION_CROSS_SERVICES",
	Description: "Cloud Foundry environment for applications and services.",
	Plans: []cliCatalogPlan{{Name: "standard", Category: "ELASTIC_SERVICE", Unlimited: true, Amount: 1,
		Description: "Standard Cloud Foundry environment."}},
}

// cliCatalogLocked returns the services the GA owns besides the padding.
func (s *Server) cliCatalogLocked() []cliCatalogService {
	if s.world.GAHasITRT {
		return []cliCatalogService{cliITRT, s.world.suiteCatalog(), cliCF}
	}
	return []cliCatalogService{cliCF}
}

func cliCatalogPlanOf(svcs []cliCatalogService, service, plan string) (*cliCatalogService, *cliCatalogPlan) {
	for i := range svcs {
		if svcs[i].Name != service {
			continue
		}
		for j := range svcs[i].Plans {
			if svcs[i].Plans[j].Name == plan {
				return &svcs[i], &svcs[i].Plans[j]
			}
		}
		return &svcs[i], nil
	}
	return nil, nil
}

var cliDataCenters = func() []map[string]any {
	var out []map[string]any
	for _, r := range []string{"eu10", "eu20", "us10", "ap10", "jp10"} {
		out = append(out, map[string]any{
			"name": "cf-" + r, "displayName": "cf-" + r, "region": r, "environment": "cloudfoundry", "iaasProvider": "AWS",
			"supportsTrial": true, "provisioningServiceUrl": "https://provisioning-service.cfapps." + r + ".hana.ondemand.com",
			"saasRegistryServiceUrl": "https://saas-manager.cfapps." + r + ".hana.ondemand.com", "domain": r + ".hana.ondemand.com",
			"isMainDataCenter": true, "geoAccess": "BACKWARD_COMPLIANT_EU_ACCESS",
		})
	}
	return out
}()

// cliEntitledService renders one owned service like CIS does (map keys come
// out sorted, so "name" is not first: clients must not rely on order).
func (s *Server) cliEntitledService(svc cliCatalogService, assigned map[string]float64, counts map[string]int) map[string]any {
	plans := make([]map[string]any, 0, len(svc.Plans))
	for _, p := range svc.Plans {
		remaining := p.Amount - assigned[p.Name]
		if p.Unlimited {
			remaining = p.Amount
		}
		plans = append(plans, map[string]any{
			"name": p.Name, "displayName": p.Name, "description": p.Description,
			"uniqueIdentifier": svc.Name + "-" + p.Name, "provisioningMethod": "SERVICE_BROKER",
			"amount": p.Amount, "remainingAmount": remaining, "providedBy": "VENDOR", "beta": false,
			"availableForInternal": false, "internalQuotaLimit": nil, "autoAssign": false,
			"autoDistributeAmount": nil, "maxAllowedSubaccountQuota": nil, "category": p.Category,
			"sourceEntitlements": []map[string]any{{
				"entitlementName": svc.Name + "-" + p.Name + "-SYSTEM", "productDisplayName": svc.DisplayName,
				"licensedQuantity": p.Amount, "autoAssign": false, "amount": p.Amount,
				"commercialModel": map[string]any{"name": "Subscription", "displayName": "Subscription", "consumptionBased": false, "description": "Subscription-based commercial model"},
			}},
			"dataCenters": cliDataCenters, "numberOfAssignedEntities": counts[p.Name], "unlimited": p.Unlimited,
		})
	}
	return map[string]any{
		"name": svc.Name, "displayName": svc.DisplayName, "description": svc.Description,
		"businessCategory": map[string]string{"id": svc.Category, "displayName": strings.ReplaceAll(svc.Category, "_", " ")},
		"ownerType":        "VENDOR", "termsOfUseUrl": "N/A", "iconBase64": "PHN2ZyB4bWxucz0naHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmcnLz4=",
		"applicationCoordinates": map[string]any{}, "servicePlans": plans,
	}
}

func (s *Server) cliEntitlementList(c *cliCall) cliResult {
	if r := s.cliCheckGA(c); r != nil {
		return *r
	}
	w := s.world
	filter := c.p["subaccountFilter"]
	if filter != "" && w.subaccount(filter) == nil {
		return cliCIS(http.StatusNotFound, 20004, fmt.Sprintf("Subaccount %s not found", filter))
	}
	var view *Directory
	if id := c.p["directory"]; id != "" {
		if view = w.directory(id); view == nil {
			return cliCIS(http.StatusNotFound, 20002, "Could not find "+id)
		}
		if !contains(view.Features, "ENTITLEMENTS") {
			return cliCIS(http.StatusBadRequest, 12003, fmt.Sprintf("Directory %s does not manage entitlements", id))
		}
	}
	catalog := s.cliCatalogLocked()

	// What is assigned, as the chosen view shows it.
	type row struct {
		a      *Assignment
		parent *Directory
	}
	var rows []row
	for _, sa := range w.Subaccounts {
		if filter != "" && sa.GUID != filter {
			continue
		}
		parent := s.cliEntitlementParentLocked(sa)
		if parent != view {
			continue // managed elsewhere: the GA view does not show directory-managed subaccounts
		}
		s.suiteLocked(sa) // a "ready" subaccount's Integration Suite entitlement becomes explicit
		for _, a := range w.Assignments {
			if a.Subaccount == sa.GUID {
				rows = append(rows, row{a, parent})
			}
		}
		if sa.OrgGUID != "" && w.assignment(sa.GUID, "cloudfoundry", "standard") == nil {
			rows = append(rows, row{&Assignment{Subaccount: sa.GUID, Service: "cloudfoundry", Plan: "standard", Amount: 1,
				Unlimited: true, State: "OK", Created: cliGACreated, ReadyAt: cliGACreated}, parent})
		}
	}
	assignedAmount := map[string]float64{}
	counts := map[string]int{}
	for _, a := range w.Assignments {
		assignedAmount[a.Service+"/"+a.Plan] += a.Amount
		counts[a.Service+"/"+a.Plan]++
	}

	var services []map[string]any
	index := map[string]int{}
	for _, r := range rows {
		a := r.a
		svc, plan := cliCatalogPlanOf(catalog, a.Service, a.Plan)
		display, category := a.Service, "SERVICE"
		if svc != nil {
			display = svc.DisplayName
		}
		if plan != nil {
			category = plan.Category
		}
		i, ok := index[a.Service]
		if !ok {
			i = len(services)
			index[a.Service] = i
			services = append(services, map[string]any{"name": a.Service, "displayName": display,
				"businessCategory": map[string]string{"id": "INTEGRATION", "displayName": "Integration"},
				"ownerType":        "VENDOR", "servicePlans": []map[string]any{}})
		}
		plans := services[i]["servicePlans"].([]map[string]any)
		var pm map[string]any
		for _, p := range plans {
			if p["name"] == a.Plan {
				pm = p
			}
		}
		if pm == nil {
			pm = map[string]any{"name": a.Plan, "displayName": a.Plan, "uniqueIdentifier": a.Service + "-" + a.Plan,
				"category": category, "beta": false, "maxAllowedSubaccountQuota": nil, "unlimited": plan != nil && plan.Unlimited,
				"assignmentInfo": []map[string]any{}}
			plans = append(plans, pm)
			services[i]["servicePlans"] = plans
		}
		state := assignmentState(a, c.now)
		msg := "Succeeded to update assignment of service plan."
		switch state {
		case "STARTED", "PROCESSING":
			msg = "Updating assignment of service plan."
		case "PROCESSING_FAILED":
			msg = a.Fail
		}
		modified := a.Created
		if !c.now.Before(a.ReadyAt) {
			modified = a.ReadyAt
		}
		parentType, parentID, parentAmount := "GLOBAL_ACCOUNT", w.GlobalAccountGUID, 0.0
		if r.parent != nil {
			parentType, parentID = "DIRECTORY", r.parent.GUID
		}
		if plan != nil {
			parentAmount = plan.Amount
		}
		remaining := parentAmount - assignedAmount[a.Service+"/"+a.Plan]
		if plan != nil && plan.Unlimited {
			remaining = parentAmount
		}
		pm["assignmentInfo"] = append(pm["assignmentInfo"].([]map[string]any), map[string]any{
			"entityId": a.Subaccount, "entityType": "SUBACCOUNT", "amount": a.Amount, "requestedAmount": nil,
			"entityState": state, "stateMessage": msg, "autoAssign": false, "autoDistributeAmount": nil,
			"createdDate": cliEpochMS(a.Created), "modifiedDate": cliEpochMS(modified), "resources": []any{},
			"unlimitedAmountAssigned": a.Unlimited, "parentId": parentID, "parentType": parentType,
			"parentRemainingAmount": remaining, "parentAmount": parentAmount, "autoAssigned": a.Service == "cloudfoundry",
			"billingObject": nil, "availableBillingObjects": nil, "parentAssignedBillingObject": nil,
		})
	}
	if services == nil {
		services = []map[string]any{}
	}

	// entitledServices: filler first half, it-rt, filler second half, CF.
	var owned [][]byte
	for _, svc := range catalog {
		am, cn := map[string]float64{}, map[string]int{}
		for _, p := range svc.Plans {
			am[p.Name] = assignedAmount[svc.Name+"/"+p.Name]
			cn[p.Name] = counts[svc.Name+"/"+p.Name]
		}
		owned = append(owned, cliJSON(s.cliEntitledService(svc, am, cn)))
	}
	first, second := cliSplitPadding(s.entitlementPadding())
	body := [][]byte{[]byte(`{"entitledServices":[`)}
	sep := func() {
		if len(body) > 1 {
			body = append(body, []byte(","))
		}
	}
	if len(first) > 0 {
		body = append(body, first)
	}
	for i, o := range owned {
		if i == len(owned)-1 && len(second) > 0 {
			sep()
			body = append(body, second)
		}
		sep()
		body = append(body, o)
	}
	tail := cliJSON(services)
	body = append(body, []byte(`],"assignedServices":`), tail,
		[]byte(`,"fetchErrorFromExternalProviderRegistry":null,"serviceTermsOfUseStatus":[]}`))
	return cliResult{backend: http.StatusOK, mediaType: cliMediaCIS, body: body}
}

// cliSplitPadding cuts the filler list at a service boundary near its middle.
func cliSplitPadding(p []byte) ([]byte, []byte) {
	if len(p) == 0 {
		return nil, nil
	}
	i := bytes.Index(p[len(p)/2:], []byte(`,{"name":"filler-service-`))
	if i < 0 {
		return p, nil
	}
	i += len(p) / 2
	return p[:i], p[i+1:]
}

func (s *Server) cliEntitlementAssign(c *cliCall) cliResult {
	if r := s.cliCheckGA(c); r != nil {
		return *r
	}
	if !c.need("serviceName", "servicePlanName", "subaccount") || (c.p["enable"] == "" && c.p["amount"] == "") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	if !c.user.GAAdmin {
		return cliResult{backend: http.StatusForbidden, backendMsg: cliMsgNotAuthz}
	}
	if id := c.p["directoryID"]; id != "" && s.world.directory(id) == nil {
		return cliCIS(http.StatusNotFound, 20002, "Could not find "+id)
	}
	service, planName := c.p["serviceName"], c.p["servicePlanName"]
	svc, plan := cliCatalogPlanOf(s.cliCatalogLocked(), service, planName)
	if svc == nil {
		return cliCIS(http.StatusNotFound, 11014, fmt.Sprintf("Service %s is not entitled to global account %s; it cannot be assigned to subaccounts. Purchase it or ask SAP to add it to the global account", service, s.world.GlobalAccountGUID))
	}
	if plan == nil {
		return cliCIS(http.StatusNotFound, 11015, fmt.Sprintf("Service plan %s of service %s is not entitled to global account %s", planName, service, s.world.GlobalAccountGUID))
	}
	if u := c.p["planUniqueIdentifier"]; u != "" && u != service+"-"+planName {
		return cliCIS(http.StatusNotFound, 11015, fmt.Sprintf("Service plan with unique identifier %s not found", u))
	}
	enable, amountStr := c.p["enable"], c.p["amount"]
	quota := plan.Category != "ELASTIC_SERVICE" && plan.Category != "ELASTIC_LIMITED" && plan.Category != "APPLICATION"
	var amount float64
	remove := false
	switch {
	case quota && amountStr == "":
		return cliCIS(http.StatusBadRequest, 30012, fmt.Sprintf("Service plan %s of service %s has a numeric quota (category %s): assign it with an amount, not with enable", planName, service, plan.Category))
	case !quota && amountStr != "":
		return cliCIS(http.StatusBadRequest, 30013, fmt.Sprintf("Service plan %s of service %s has no numeric quota (category %s): enable it instead of assigning an amount", planName, service, plan.Category))
	case quota:
		n, err := strconv.Atoi(amountStr)
		if err != nil || n < 0 || n > 2000000000 {
			return cliBadParams()
		}
		amount, remove = float64(n), n == 0
	default:
		if enable != "true" && enable != "false" {
			return cliBadParams()
		}
		amount, remove = 1, enable == "false"
	}
	existing := s.world.assignment(sa.GUID, service, planName)
	if remove {
		if existing != nil {
			for i, a := range s.world.Assignments {
				if a == existing {
					s.world.Assignments = append(s.world.Assignments[:i], s.world.Assignments[i+1:]...)
					break
				}
			}
		}
	} else {
		if quota {
			var used float64
			for _, a := range s.world.Assignments {
				if a.Service == service && a.Plan == planName && a != existing {
					used += a.Amount
				}
			}
			if used+amount > plan.Amount {
				return cliCIS(http.StatusBadRequest, 30001, fmt.Sprintf("The requested amount %v of service plan %s exceeds the remaining quota %v of the global account", amount, planName, plan.Amount-used))
			}
		}
		a := existing
		if a == nil {
			a = &Assignment{Subaccount: sa.GUID, Service: service, Plan: planName}
			s.world.Assignments = append(s.world.Assignments, a)
		}
		a.Amount, a.Unlimited = amount, !quota
		a.Created, a.ReadyAt, a.Fail = c.now, c.now.Add(s.cfg.EntitleTime), ""
		a.State = "STARTED"
		if f := s.takeFaultLocked(c.key, FaultEntitlementFailure); f != nil {
			a.Fail = f.Message
			if a.Fail == "" {
				a.Fail = fmt.Sprintf("Failed to assign service plan %s of service %s to subaccount %s: the service broker did not confirm the assignment.", planName, service, sa.GUID)
			}
			a.Fail = s.say(a.Fail)
		}
	}
	s.world.Seq++
	job := strconv.FormatUint(40000000+s.rnd.Uint64N(9000000), 10)
	s.saveLocked()
	return cliBody(http.StatusOK, cliMediaCIS, map[string]string{"jobId": job})
}

// --- environment instances ------------------------------------------------------

func (s *Server) cliEnvironmentObjectLocked(sa *Subaccount) map[string]any {
	w := s.world
	orgName := sa.Subdomain
	if o := w.org(sa.OrgGUID); o != nil {
		orgName = o.Name
	}
	labels := struct {
		API      string `json:"API Endpoint"`
		OrgName  string `json:"Org Name"`
		OrgID    string `json:"Org ID"`
		OrgLimit string `json:"Org Memory Limit"`
	}{s.CFAPIURL(), orgName, sa.OrgGUID, "1,024MB"}
	params := map[string]string{"instance_name": orgName, "status": "ACTIVE"}
	created := cliGACreated.AddDate(1, 0, 4)
	return map[string]any{
		"id":                strings.ToUpper(cliStableGUID("env/" + sa.GUID)),
		"name":              orgName,
		"brokerId":          strings.ToUpper(cliStableGUID("broker/cloudfoundry")),
		"globalAccountGUID": w.GlobalAccountGUID,
		"subaccountGUID":    sa.GUID,
		"tenantId":          sa.GUID,
		"serviceId":         "fa31b750-375f-4268-bee1-604811a89fd9",
		"planId":            "fc5abe63-2a7d-4848-babf-f63a5d316df1",
		"operation":         "provision",
		"parameters":        string(cliJSON(params)),
		"labels":            string(cliJSON(labels)),
		"customLabels":      map[string]any{},
		"type":              "Provision",
		"status":            "Processed",
		"environmentType":   "cloudfoundry",
		"landscapeLabel":    "cf-" + sa.Region,
		"platformId":        sa.OrgGUID,
		"createdDate":       cliDate(created),
		"modifiedDate":      cliDate(created.Add(23 * time.Second)),
		"state":             "OK",
		"stateMessage":      "Environment instance created.",
		"serviceName":       "cloudfoundry",
		"planName":          "standard",
	}
}

func (s *Server) cliEnvironmentList(c *cliCall) cliResult {
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	list := []map[string]any{}
	if sa.OrgGUID != "" {
		list = append(list, s.cliEnvironmentObjectLocked(sa))
	}
	return cliBody(http.StatusOK, cliMediaCIS, map[string]any{"environmentInstances": list})
}

func (s *Server) cliEnvironmentGet(c *cliCall) cliResult {
	if !c.need("environmentID") {
		return cliBadParams()
	}
	sa, bad := s.cliSubaccountParam(c)
	if bad != nil {
		return *bad
	}
	if sa.OrgGUID != "" {
		o := s.cliEnvironmentObjectLocked(sa)
		if strings.EqualFold(o["id"].(string), c.p["environmentID"]) {
			return cliBody(http.StatusOK, cliMediaCIS, o)
		}
	}
	return cliCIS(http.StatusNotFound, 41000, "Environment instance not found")
}

// cliJSONString decodes a JSON-string parameter (parameters, labels).
func cliJSONString(s string, v any) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
