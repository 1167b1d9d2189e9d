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
// the it-rt entitlements (SAP/btp), then the instance and key either in
// Cloud Foundry (cloudfoundry/cloudfoundry) or, for runtime "other", in
// Service Manager (SAP/btp). Import blocks adopt what cpikey created, so
// that the first plan after them changes nothing. It contains no secret: it
// describes resources, not credentials.
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
	ents, err := tfEntitlements(p, plan)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	q := hclString

	// Header.
	fmt.Fprintf(&b, "# Terraform configuration written by cpikey from profile\n# %s.\n", q(p.Name))
	b.WriteString(`#
# It describes the same SAP Process Integration Runtime (it-rt) setup: the
# plans entitled to the subaccount, the service instance and its service
# key. It contains no client secret. Terraform keeps the key's credentials
# in its state, so keep the state private.
#
# Log the providers in through environment variables: BTP_USERNAME and
# BTP_PASSWORD (or BTP_ENABLE_SSO=true) for SAP/btp`)
	switch {
	case cf && p.CFAPIURL != "":
		b.WriteString(`; CF_USER and CF_PASSWORD
# (or CF_ACCESS_TOKEN) for cloudfoundry/cloudfoundry. With api_url set, that
# provider does not use a cf CLI login; to use one instead, set cf_api_url
# to null (in terraform.tfvars: cf_api_url = null)`)
	case cf:
		b.WriteString(`; for
# cloudfoundry/cloudfoundry a cf CLI login (cf login), or CF_API_URL with
# CF_USER and CF_PASSWORD (or CF_ACCESS_TOKEN)`)
	}
	b.WriteString(`.
#
# The import blocks (Terraform 1.5 or later) adopt what cpikey already
# created instead of creating it again: terraform plan shows them as
# imports and nothing to add, change or destroy. To build the same setup in
# another subaccount, remove them and change the variables.
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
	variable(&b, "btp_cli_server_url", "URL of the BTP CLI server", TerraformBTPCLIServerURL)
	variable(&b, "subaccount_id", subaccountDesc(p), p.Subaccount.ID)
	if cf {
		variable(&b, "cf_api_url", "Cloud Foundry API URL; null means CF_API_URL or the cf CLI login", p.CFAPIURL)
		variable(&b, "cf_org", "Cloud Foundry org of the subaccount", p.Org)
		variable(&b, "cf_space", "Cloud Foundry space of the instance", cmp.Or(p.Space, steps.DefaultSpace))
	}

	b.WriteString("\nprovider \"btp\" {\n  globalaccount  = var.globalaccount\n  cli_server_url = var.btp_cli_server_url\n}\n")
	if cf {
		b.WriteString("\nprovider \"cloudfoundry\" {\n  api_url = var.cf_api_url\n}\n")
	}

	// Entitlements: enable or amount, as the flow assigned them.
	var entRefs []string
	for _, e := range ents {
		name := tfEntitlementName(e.Plan)
		entRefs = append(entRefs, "btp_subaccount_entitlement."+name)
		b.WriteString("\n")
		switch {
		case !e.known:
			b.WriteString("# How this plan is assigned was not recorded (a profile of an older cpikey):\n")
			b.WriteString("# the provider keeps the subaccount's amount. To create it elsewhere, add\n")
			b.WriteString("# amount = 1 if the plan has a numeric quota (category SERVICE).\n")
		case e.Amount > 0:
			fmt.Fprintf(&b, "# The plan has a numeric quota (category %s): the subaccount's amount.\n", commentSafe(cmp.Or(e.Category, "unknown")))
		default:
			fmt.Fprintf(&b, "# Enabled: the plan has no numeric quota (category %s).\n", commentSafe(e.Category))
		}
		fmt.Fprintf(&b, "resource \"btp_subaccount_entitlement\" %s {\n", q(name))
		b.WriteString("  subaccount_id = var.subaccount_id\n")
		fmt.Fprintf(&b, "  service_name  = %s\n", q(itrt.Service))
		fmt.Fprintf(&b, "  plan_name     = %s\n", q(e.Plan))
		if e.Amount > 0 {
			fmt.Fprintf(&b, "  amount        = %d\n", e.Amount)
		}
		b.WriteString("}\n")
	}
	dependsOn := "[" + strings.Join(entRefs, ", ") + "]"

	instName := cmp.Or(p.Instance.Name, steps.DefaultInstance)
	keyName := cmp.Or(p.Key.Name, steps.DefaultKeyName(instName))
	var imports []tfImport
	if p.Subaccount.ID != "" {
		for _, e := range ents {
			imports = append(imports, tfImport{"btp_subaccount_entitlement." + tfEntitlementName(e.Plan),
				p.Subaccount.ID + "," + itrt.Service + "," + e.Plan, true})
		}
	}
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
		fmt.Fprintf(&b, "  service_offering_name = %s\n", q(itrt.Service))
		fmt.Fprintf(&b, "  depends_on            = %s\n}\n", dependsOn)

		b.WriteString("\n")
		reusedNote(&b, p.Instance, "instance")
		b.WriteString("resource \"cloudfoundry_service_instance\" \"it_rt\" {\n")
		fmt.Fprintf(&b, "  name         = %s\n", q(instName))
		b.WriteString("  type         = \"managed\"\n")
		b.WriteString("  space        = data.cloudfoundry_space.this.id\n")
		b.WriteString("  service_plan = data.cloudfoundry_service_plan.it_rt.id\n")
		instanceParams(&b, p.Roles)
		b.WriteString("}\n")

		b.WriteString("\n")
		reusedNote(&b, p.Key, "key")
		b.WriteString("resource \"cloudfoundry_service_credential_binding\" \"key\" {\n")
		b.WriteString("  type             = \"key\"\n")
		fmt.Fprintf(&b, "  name             = %s\n", q(keyName))
		b.WriteString("  service_instance = cloudfoundry_service_instance.it_rt.id\n")
		keyParams(&b, p)
		b.WriteString("}\n")

		imports = append(imports,
			tfImport{"cloudfoundry_service_instance.it_rt", p.Instance.ID, p.Instance.ID != ""},
			tfImport{"cloudfoundry_service_credential_binding.key", p.Key.ID, p.Key.ID != ""})
	} else {
		b.WriteString("\n# The plan can be used only once it is entitled.\n")
		b.WriteString("data \"btp_subaccount_service_plan\" \"it_rt\" {\n")
		b.WriteString("  subaccount_id = var.subaccount_id\n")
		fmt.Fprintf(&b, "  offering_name = %s\n", q(itrt.Service))
		fmt.Fprintf(&b, "  name          = %s\n", q(plan))
		fmt.Fprintf(&b, "  depends_on    = %s\n}\n", dependsOn)

		b.WriteString("\n")
		reusedNote(&b, p.Instance, "instance")
		b.WriteString("resource \"btp_subaccount_service_instance\" \"it_rt\" {\n")
		b.WriteString("  subaccount_id  = var.subaccount_id\n")
		b.WriteString("  serviceplan_id = data.btp_subaccount_service_plan.it_rt.id\n")
		fmt.Fprintf(&b, "  name           = %s\n", q(instName))
		instanceParams(&b, p.Roles)
		b.WriteString("}\n")

		b.WriteString("\n")
		reusedNote(&b, p.Key, "key")
		b.WriteString("resource \"btp_subaccount_service_binding\" \"key\" {\n")
		b.WriteString("  subaccount_id       = var.subaccount_id\n")
		b.WriteString("  service_instance_id = btp_subaccount_service_instance.it_rt.id\n")
		fmt.Fprintf(&b, "  name                = %s\n", q(keyName))
		keyParams(&b, p)
		b.WriteString("}\n")

		sa := p.Subaccount.ID
		imports = append(imports,
			tfImport{"btp_subaccount_service_instance.it_rt", sa + "," + p.Instance.ID, sa != "" && p.Instance.ID != ""},
			tfImport{"btp_subaccount_service_binding.key", sa + "," + p.Key.ID, sa != "" && p.Key.ID != ""})
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
	_, err = w.Write(b.Bytes())
	return err
}

// TerraformBTPCLIServerURL is SAP's BTP CLI server, the btp provider's
// default; the export's btp_cli_server_url variable defaults to it.
const TerraformBTPCLIServerURL = "https://cli.btp.cloud.sap"

// tfEntitlement is one entitlement block; known is false when the profile
// did not record how the plan is assigned.
type tfEntitlement struct {
	Entitlement
	known bool
}

// tfEntitlements lists the entitlements to declare: those the profile
// recorded (in plan order), which must include the profile's own plan; a
// profile of an older cpikey recorded none, so only its own plan is
// declared, without an amount.
func tfEntitlements(p Profile, plan string) ([]tfEntitlement, error) {
	if len(p.Entitlements) == 0 {
		return []tfEntitlement{{Entitlement: Entitlement{Plan: plan}}}, nil
	}
	var out []tfEntitlement
	for _, pl := range itrt.Plans {
		for _, e := range p.Entitlements {
			if e.Plan == pl {
				out = append(out, tfEntitlement{Entitlement: e, known: true})
				break
			}
		}
	}
	for _, e := range p.Entitlements {
		if !slices.Contains(itrt.Plans, e.Plan) {
			return nil, fmt.Errorf("export terraform: the profile records an entitlement of unknown plan %q", e.Plan)
		}
		if e.Amount < 0 {
			return nil, fmt.Errorf("export terraform: the profile records amount %d for plan %s", e.Amount, e.Plan)
		}
	}
	if !slices.ContainsFunc(out, func(e tfEntitlement) bool { return e.Plan == plan }) {
		return nil, fmt.Errorf("export terraform: the profile records no entitlement of its own plan %s", plan)
	}
	return out, nil
}

func tfEntitlementName(plan string) string {
	return "it_rt_" + strings.ReplaceAll(plan, "-", "_")
}

// commentSafe keeps a value from the listing fit for a # comment line.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if hasControl(string(r)) {
			return '?'
		}
		return r
	}, s)
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

func reusedNote(b *bytes.Buffer, r Ref, what string) {
	if r.Reused {
		fmt.Fprintf(b, "# cpikey reused this %s, so it was made with parameters cpikey did not\n", what)
		b.WriteString("# send; these are what cpikey sends when it creates one.\n")
	}
}

// noReadBack is the lifecycle block of parameters that the providers cannot
// read back, with the reason (see instanceParams).
func noReadBack(b *bytes.Buffer, why ...string) {
	b.WriteString("\n  lifecycle {\n")
	for _, l := range why {
		b.WriteString("    # " + l + "\n")
	}
	b.WriteString("    ignore_changes = [parameters]\n  }\n")
}

// instanceParams writes the broker parameters exactly as cpikey sends them
// (steps.InstanceParameters): roles, grant-types and redirect-uris. The
// it-rt broker does not return them (instances_retrievable is false), so
// after an import the state has none and Terraform would update the
// instance (Service Manager) or replace it (Cloud Foundry, whose provider
// then also loses the offering name) just to set them again. Hence
// ignore_changes: Terraform sends them when it creates the instance and
// leaves them alone afterwards.
func instanceParams(b *bytes.Buffer, roles []string) {
	quoted := make([]string, len(roles))
	for i, r := range roles {
		quoted[i] = hclString(r)
	}
	b.WriteString("  parameters = jsonencode({\n")
	fmt.Fprintf(b, "    \"roles\"         = [%s]\n", strings.Join(quoted, ", "))
	b.WriteString("    \"grant-types\"   = [\"client_credentials\"]\n")
	b.WriteString("    \"redirect-uris\" = []\n")
	b.WriteString("  })\n")
	noReadBack(b,
		"The it-rt broker does not return an instance's parameters: after the",
		"import the state has none, and Terraform would update or replace the",
		"instance to set them. They are sent when Terraform creates it; change",
		"the roles of this one in the SAP BTP cockpit.")
}

// keyParams writes the key parameters cpikey sends (steps.KeyParameters,
// or a certificate key's: keyTypeParams); like the instance's they cannot be
// read back, and the providers replace a key whose parameters differ.
func keyParams(b *bytes.Buffer, p Profile) {
	keyTypeParams(b, p)
	noReadBack(b,
		"A key's parameters cannot be read back either; without this",
		"Terraform would replace the imported key (and its secret).")
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
