package itrt

import "slices"

// SAP Integration Suite, the application it-rt belongs to
// (docs/protocol/integration-suite.md §0, §2, §3). Both sides of the wire
// agree on these names; the technical application name of a subscription
// is not among them: it differs by landscape and is read at run time.

// Entitlement service names of Integration Suite (§2.1). A subscription's
// commercialAppName equals them (§2.2).
const (
	SuiteService      = "integrationsuite"
	SuiteTrialService = "integrationsuite-trial"
)

// SuiteServices are both, productive first.
var SuiteServices = []string{SuiteService, SuiteTrialService}

// SuitePlanCategory is the category of the plans one subscribes with; the
// SERVICE plans of integrationsuite are add-ons (§2.1).
const SuitePlanCategory = "APPLICATION"

// SuitePlanPreference orders the APPLICATION plans when a global account
// has several and nobody chose (§0: SAP's published list, paid editions
// with all capabilities first, the time-limited free plan late).
var SuitePlanPreference = []string{
	"enterprise_agreement", "standard_edition", "premium_edition", "enhanced_edition", "test_demo_edition",
	"basic_edition", "starter_edition", "successfactors_edition", "api_and_events_edition", "build-default",
	"free", "trial",
}

// RoleProvisioner is the role collection the subscription creates; it lets
// a user open Integration Suite and add capabilities (§3.1).
const RoleProvisioner = "Integration_Provisioner"

// Role collections the activation of Cloud Integration creates (§3.1).
const (
	RolePIAdministrator  = "PI_Administrator"
	RolePIBusinessExpert = "PI_Business_Expert"
	RolePIIntegrationDev = "PI_Integration_Developer"
	RolePIReadOnly       = "PI_Read_Only"
)

// PIRoleCollections are the Cloud Integration personas' role collections.
var PIRoleCollections = []string{RolePIAdministrator, RolePIBusinessExpert, RolePIIntegrationDev, RolePIReadOnly}

// ConsultantRoleCollections are the PI_* collections a consultant setting
// up a tenant needs in the Integration Suite UI: designing and deploying
// iFlows, and the tenant's security material and user roles (it-rt.md §7).
var ConsultantRoleCollections = []string{RolePIIntegrationDev, RolePIAdministrator}

// IsPIRoleCollection reports whether name is one of the collections the
// activation creates.
func IsPIRoleCollection(name string) bool { return slices.Contains(PIRoleCollections, name) }

// Subscription states (§1.6).
const (
	SubscriptionNotSubscribed = "NOT_SUBSCRIBED"
	SubscriptionInProcess     = "IN_PROCESS"
	SubscriptionSubscribed    = "SUBSCRIBED"
	SubscriptionFailed        = "SUBSCRIBE_FAILED"
)

// Activation is where the browser step happens (§4.1): the clicks in the
// Integration Suite UI, in order.
var Activation = []string{"Add Capabilities", "Build Integration Scenarios", "Activate"}
