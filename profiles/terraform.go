package profiles

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/steps"
)

// Terraform provider sources (registry.terraform.io).
const (
	TerraformBTPSource = "SAP/btp"
	TerraformCFSource  = "cloudfoundry/cloudfoundry"
)

// writeTerraform renders the profile's setup as Terraform configuration:
// both it-rt entitlements (SAP/btp), then the instance and key either in
// Cloud Foundry (cloudfoundry/cloudfoundry) or, for runtime "other", in
// Service Manager (SAP/btp). Import blocks adopt what cpikey created. It
// contains no secret: it describes resources, not credentials.
func writeTerraform(w io.Writer, p Profile) error {
	cf := true
	switch p.Runtime {
	case steps.RuntimeCF, "":
	case steps.RuntimeOther:
		cf = false
	default:
		return fmt.Errorf("export terraform: unsupported runtime %q (want %s or %s)", p.Runtime, steps.RuntimeCF, steps.RuntimeOther)
	}
	plan := p.Plan
	if plan == "" {
		plan = steps.DefaultPlan
	}
	if !slices.Contains(itrt.Plans, plan) {
		return fmt.Errorf("export terraform: unsupported plan %q (want integration-flow or api)", plan)
	}
	var b bytes.Buffer
	q := hclString

	// Header.
	fmt.Fprintf(&b, "# Terraform configuration written by cpikey from profile\n# %s.\n", q(p.Name))
	b.WriteString(`#
# It describes the same SAP Process Integration Runtime (it-rt) setup: the
# entitlements of both plans, the service instance and its service key.
# It contains no client secret. Terraform keeps the key's credentials in its
# state, so keep the state private.
#
# Log the providers in through environment variables: BTP_USERNAME and
# BTP_PASSWORD (or BTP_ENABLE_SSO=true) for SAP/btp`)
	if cf {
		b.WriteString(`; CF_USER and CF_PASSWORD
# (or a cf CLI login) for cloudfoundry/cloudfoundry`)
	}
	b.WriteString(`.
#
# The import blocks (Terraform 1.5 or later) adopt what cpikey already
# created instead of creating it again. To build the same setup in another
# subaccount, remove them and change the variables.
`)

	// terraform + providers.
	b.WriteString("\nterraform {\n  required_version = \">= 1.5.0\"\n  required_providers {\n")
	fmt.Fprintf(&b, "    btp = {\n      source  = %s\n      version = \"~> 1.0\"\n    }\n", q(TerraformBTPSource))
	if cf {
		fmt.Fprintf(&b, "    cloudfoundry = {\n      source  = %s\n      version = \"~> 1.0\"\n    }\n", q(TerraformCFSource))
	}
	b.WriteString("  }\n}\n")

	// Variables carry everything that differs between setups.
	variable(&b, "globalaccount", "Subdomain of the global account", p.GlobalAccount)
	variable(&b, "subaccount_id", subaccountDesc(p), p.Subaccount.ID)
	if cf {
		variable(&b, "cf_api_url", "Cloud Foundry API URL; null means CF_API_URL or the cf CLI login", p.CFAPIURL)
		variable(&b, "cf_org", "Cloud Foundry org of the subaccount", p.Org)
		variable(&b, "cf_space", "Cloud Foundry space of the instance", cmp.Or(p.Space, steps.DefaultSpace))
	}

	b.WriteString("\nprovider \"btp\" {\n  globalaccount = var.globalaccount\n}\n")
	if cf {
		b.WriteString("\nprovider \"cloudfoundry\" {\n  api_url = var.cf_api_url\n}\n")
	}

	// Entitlements: both plans, like the wizard. it-rt plans are elastic
	// (no numeric quota), so there is no amount.
	entitlements := []string{}
	for _, pl := range itrt.Plans {
		name := "it_rt_" + strings.ReplaceAll(pl, "-", "_")
		entitlements = append(entitlements, "btp_subaccount_entitlement."+name)
		fmt.Fprintf(&b, "\nresource \"btp_subaccount_entitlement\" %s {\n", q(name))
		b.WriteString("  subaccount_id = var.subaccount_id\n")
		fmt.Fprintf(&b, "  service_name  = %s\n", q(steps.ServiceName))
		fmt.Fprintf(&b, "  plan_name     = %s\n", q(pl))
		b.WriteString("}\n")
	}
	dependsOn := "[" + strings.Join(entitlements, ", ") + "]"

	instName := cmp.Or(p.Instance.Name, steps.DefaultInstance)
	keyName := cmp.Or(p.Key.Name, steps.DefaultKeyName(instName))
	var imports []tfImport
	if cf {
		b.WriteString(`
data "cloudfoundry_org" "this" {
  name = var.cf_org
}

data "cloudfoundry_space" "this" {
  name = var.cf_space
  org  = data.cloudfoundry_org.this.id
}

# The plan shows up in the space's marketplace only once it is entitled.
data "cloudfoundry_service_plan" "it_rt" {
`)
		fmt.Fprintf(&b, "  name                  = %s\n", q(plan))
		fmt.Fprintf(&b, "  service_offering_name = %s\n", q(steps.ServiceName))
		fmt.Fprintf(&b, "  depends_on            = %s\n}\n", dependsOn)

		b.WriteString("\n")
		reusedNote(&b, p.Instance)
		b.WriteString("resource \"cloudfoundry_service_instance\" \"it_rt\" {\n")
		fmt.Fprintf(&b, "  name         = %s\n", q(instName))
		b.WriteString("  type         = \"managed\"\n")
		b.WriteString("  space        = data.cloudfoundry_space.this.id\n")
		b.WriteString("  service_plan = data.cloudfoundry_service_plan.it_rt.id\n")
		instanceParams(&b, plan, p.Roles)
		b.WriteString("}\n")

		b.WriteString("\nresource \"cloudfoundry_service_credential_binding\" \"key\" {\n")
		b.WriteString("  type             = \"key\"\n")
		fmt.Fprintf(&b, "  name             = %s\n", q(keyName))
		b.WriteString("  service_instance = cloudfoundry_service_instance.it_rt.id\n")
		keyParams(&b)
		b.WriteString("}\n")

		imports = append(imports,
			tfImport{"cloudfoundry_service_instance.it_rt", p.Instance.ID, p.Instance.ID != ""},
			tfImport{"cloudfoundry_service_credential_binding.key", p.Key.ID, p.Key.ID != ""})
	} else {
		b.WriteString("\n# The plan can be used only once it is entitled.\n")
		b.WriteString("data \"btp_subaccount_service_plan\" \"it_rt\" {\n")
		b.WriteString("  subaccount_id = var.subaccount_id\n")
		fmt.Fprintf(&b, "  offering_name = %s\n", q(steps.ServiceName))
		fmt.Fprintf(&b, "  name          = %s\n", q(plan))
		fmt.Fprintf(&b, "  depends_on    = %s\n}\n", dependsOn)

		b.WriteString("\n")
		reusedNote(&b, p.Instance)
		b.WriteString("resource \"btp_subaccount_service_instance\" \"it_rt\" {\n")
		b.WriteString("  subaccount_id  = var.subaccount_id\n")
		b.WriteString("  serviceplan_id = data.btp_subaccount_service_plan.it_rt.id\n")
		fmt.Fprintf(&b, "  name           = %s\n", q(instName))
		instanceParams(&b, plan, p.Roles)
		b.WriteString("}\n")

		b.WriteString("\nresource \"btp_subaccount_service_binding\" \"key\" {\n")
		b.WriteString("  subaccount_id       = var.subaccount_id\n")
		b.WriteString("  service_instance_id = btp_subaccount_service_instance.it_rt.id\n")
		fmt.Fprintf(&b, "  name                = %s\n", q(keyName))
		keyParams(&b)
		b.WriteString("}\n")

		sa := p.Subaccount.ID
		imports = append(imports,
			tfImport{"btp_subaccount_service_instance.it_rt", sa + "," + p.Instance.ID, sa != "" && p.Instance.ID != ""},
			tfImport{"btp_subaccount_service_binding.key", sa + "," + p.Key.ID, sa != "" && p.Key.ID != ""})
	}

	// The profile's own plan was entitled when the key was made; the other
	// one may or may not be, so Terraform assigns it (assigning an elastic
	// plan again is harmless).
	if p.Subaccount.ID != "" {
		imports = append([]tfImport{{
			to: "btp_subaccount_entitlement.it_rt_" + strings.ReplaceAll(plan, "-", "_"),
			id: p.Subaccount.ID + "," + steps.ServiceName + "," + plan, ok: true,
		}}, imports...)
	}
	for _, im := range imports {
		if !im.ok {
			continue
		}
		fmt.Fprintf(&b, "\nimport {\n  to = %s\n  id = %s\n}\n", im.to, q(im.id))
	}

	if cf {
		b.WriteString("\noutput \"service_instance_id\" {\n  value = cloudfoundry_service_instance.it_rt.id\n}\n")
		b.WriteString("\noutput \"service_key_id\" {\n  value = cloudfoundry_service_credential_binding.key.id\n}\n")
	} else {
		b.WriteString("\noutput \"service_instance_id\" {\n  value = btp_subaccount_service_instance.it_rt.id\n}\n")
		b.WriteString("\noutput \"service_key_id\" {\n  value = btp_subaccount_service_binding.key.id\n}\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

type tfImport struct {
	to, id string
	ok     bool
}

func subaccountDesc(p Profile) string {
	d := "ID of the subaccount"
	switch {
	case p.Subaccount.Name != "" && p.Subaccount.Subdomain != "":
		d += " " + p.Subaccount.Name + " (" + p.Subaccount.Subdomain + ")"
	case p.Subaccount.Subdomain != "":
		d += " " + p.Subaccount.Subdomain
	}
	return d
}

// variable writes a string variable; an unknown value gets default = null
// for cf_api_url (the provider then uses its environment) and no default
// otherwise (Terraform asks).
func variable(b *bytes.Buffer, name, desc, val string) {
	fmt.Fprintf(b, "\nvariable %s {\n", hclString(name))
	fmt.Fprintf(b, "  description = %s\n", hclString(desc))
	b.WriteString("  type        = string\n")
	switch {
	case val != "":
		fmt.Fprintf(b, "  default     = %s\n", hclString(val))
	case name == "cf_api_url":
		b.WriteString("  default     = null\n")
	}
	b.WriteString("}\n")
}

func reusedNote(b *bytes.Buffer, r Ref) {
	if r.Reused {
		b.WriteString("# cpikey reused this instance, so its parameters may differ from these;\n")
		b.WriteString("# check terraform plan before applying.\n")
	}
}

// instanceParams writes the broker parameters cpikey sends (docs/protocol/it-rt.md §2.2).
func instanceParams(b *bytes.Buffer, plan string, roles []string) {
	if len(roles) == 0 && plan == itrt.PlanIntegrationFlow {
		roles = []string{steps.DefaultRole}
	}
	validity := 3600
	if plan == itrt.PlanAPI {
		validity = 43200
	}
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = hclString(r)
	}
	if len(roles) == 0 {
		b.WriteString("  # The api plan needs at least one role, e.g. \"MonitoringDataRead\".\n")
	}
	b.WriteString("  parameters = jsonencode({\n")
	fmt.Fprintf(b, "    \"roles\"          = [%s]\n", strings.Join(quoted, ", "))
	b.WriteString("    \"grant-types\"    = [\"client_credentials\"]\n")
	b.WriteString("    \"redirect-uris\"  = []\n")
	fmt.Fprintf(b, "    \"token-validity\" = %d\n", validity)
	b.WriteString("  })\n")
}

func keyParams(b *bytes.Buffer) {
	b.WriteString("  parameters = jsonencode({\n    \"key-type\" = \"client_id_secret\"\n  })\n")
}

// hclString quotes s as an HCL string literal: JSON-like escapes, plus
// doubling the template introducers so ${ and %{ stay literal.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '"':
			b.WriteString(`\"`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
			b.WriteByte('{')
			i += 2
			continue
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
		i++
	}
	b.WriteByte('"')
	return b.String()
}
