// Package itrt holds the facts of the SAP Process Integration Runtime service
// (it-rt) that both sides of the wire agree on: plan names, the closed role
// list of plan api, and SAP's naming rule for instances and keys
// (docs/protocol/it-rt.md §1-§3).
package itrt

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Service is the technical offering name; never match on display names.
const Service = "it-rt"

// Plans of it-rt.
const (
	PlanIntegrationFlow = "integration-flow"
	PlanAPI             = "api"
)

// RoleSend is the role an integration-flow key needs to call iFlows over
// HTTPS (the procedure's default).
const RoleSend = "ESBMessaging.send"

// Plans lists both plans in the order the wizard shows them.
var Plans = []string{PlanIntegrationFlow, PlanAPI}

// MaxNameLen is SAP's limit for CLI-friendly instance and key names.
const MaxNameLen = 32

// NameRule is the rule shown to users next to a refused name.
const NameRule = "at most 32 characters: letters, digits, '.', '_' and '-'"

// APIRoles is the closed role enum of plan api (2026 catalogue, 45 roles).
var APIRoles = []string{
	"AccessAllAccessPoliciesArtifacts", "AccessPoliciesEdit", "AccessPoliciesRead",
	"AuthGroup_Administrator", "AuthGroup_BusinessExpert", "AuthGroup_ContentPublisher",
	"AuthGroup_IntegrationDeveloper", "AuthGroup_ReadOnly", "AuthGroup_TenantPartnerDirectoryConfigurator",
	"B2bInterchangeRead", "B2bInterchangePayloadRead", "B2bInterchangeOperate",
	"CatalogPackageArtifactsRead", "CatalogPackagesCopy", "CatalogPackagesRead",
	"CredentialsEdit", "CredentialsRead", "DataArchivingActivate", "DataArchivingRead",
	"DataStorePayloadsRead", "DataStoresAndQueuesConfig", "DataStoresAndQueuesDelete",
	"DataStoresAndQueuesRead", "ExternalLoggingActivate", "ExternalLoggingActivationRead",
	"HealthCheckMonitoringDataRead", "MessagePayloadsRead", "MessageProcessingLocksDelete",
	"MessageProcessingLocksRead", "MonitoringArtifactsDeploy", "MonitoringDataRead",
	"QueuesActivate", "QueuesRetry", "SecurityMaterialDownload", "SecurityMaterialEdit",
	"TraceConfigurationEdit", "TraceConfigurationRead", "WorkspaceArtifactLocksDelete",
	"WorkspaceArtifactLocksRead", "WorkspaceArtifactsDeploy", "WorkspacePackagesConfigure",
	"WorkspacePackagesEdit", "WorkspacePackagesRead", "WorkspacePackagesTransport",
	"SecurityArtifactTransport",
}

// IsAPIRole reports whether r is a valid role of plan api.
func IsAPIRole(r string) bool { return slices.Contains(APIRoles, r) }

// ValidateName checks an instance or key name against SAP's rule.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("must not be empty (%s)", NameRule)
	}
	if len(name) > MaxNameLen {
		// Count characters for the message: a name of umlauts is refused
		// either way, but its length must read as the user typed it.
		return fmt.Errorf("%q is %d characters long; %s", name, utf8.RuneCountInString(name), NameRule)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("%q contains %q; %s", name, r, NameRule)
		}
	}
	return nil
}

// ValidateRoles checks roles for a plan before anything is sent: plan api
// needs at least one role from APIRoles; integration-flow accepts
// ESBMessaging.send and custom roles (no spaces or commas).
func ValidateRoles(plan string, roles []string) error {
	switch plan {
	case PlanAPI:
		if len(roles) == 0 {
			return fmt.Errorf("plan api needs at least one role, e.g. MonitoringDataRead")
		}
		for _, r := range roles {
			if !IsAPIRole(r) {
				return fmt.Errorf("%q is not a role of plan api (valid roles include MonitoringDataRead, WorkspacePackagesRead, AuthGroup_IntegrationDeveloper)", r)
			}
		}
	case PlanIntegrationFlow:
		for _, r := range roles {
			if r == "" || strings.ContainsAny(r, " \t,\"'") {
				return fmt.Errorf("role %q must not be empty or contain spaces, commas or quotes", r)
			}
		}
	default:
		return fmt.Errorf("unknown plan %q: use integration-flow or api", plan)
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if seen[r] {
			return fmt.Errorf("role %q is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}
