package profiles

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/cpikey/cpikey/steps"
)

// schema lists the real argument names of what the export uses, from the
// providers' documentation (SAP/terraform-provider-btp docs/resources and
// docs/data-sources; cloudfoundry/terraform-provider-cloudfoundry docs and
// internal/provider/datasource_*.go). Required arguments are marked "!".
var schema = map[string][]string{
	"provider btp":          {"!globalaccount", "cli_server_url", "idp", "username", "password", "assertion", "tls_client_certificate", "tls_client_key", "tls_idp_url"},
	"provider cloudfoundry": {"api_url", "user", "password", "origin", "cf_client_id", "cf_client_secret", "access_token", "refresh_token", "assertion_token", "skip_ssl_validation"},

	"resource btp_subaccount_entitlement":      {"!subaccount_id", "!service_name", "!plan_name", "amount", "plan_unique_identifier"},
	"resource btp_subaccount_service_instance": {"!subaccount_id", "!serviceplan_id", "!name", "parameters", "labels", "timeouts"},
	"resource btp_subaccount_service_binding":  {"!subaccount_id", "!service_instance_id", "!name", "parameters", "labels"},
	"data btp_subaccount_service_plan":         {"!subaccount_id", "id", "name", "offering_name"},

	"data cloudfoundry_org":          {"!name"},
	"data cloudfoundry_space":        {"!name", "!org"},
	"data cloudfoundry_service_plan": {"!name", "!service_offering_name", "service_broker_name"},
	"resource cloudfoundry_service_instance": {"!name", "!space", "!type", "parameters", "service_plan", "service_plan_name",
		"service_offering_name", "tags", "labels", "annotations", "credentials", "route_service_url", "syslog_drain_url", "timeouts"},
	"resource cloudfoundry_service_credential_binding": {"!service_instance", "!type", "name", "app", "parameters", "labels", "annotations"},
}

// metaArgs are Terraform's own arguments, valid in every resource/data block.
var metaArgs = []string{"depends_on", "count", "for_each", "provider"}

var jsonencode = map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}

type tfConfig struct {
	body      *hclsyntax.Body
	blocks    []string // "type label label" in order
	variables map[string]cty.Value
	declared  map[string]bool // "var.x", "data.t.n", "t.n"
	resources map[string]*hclsyntax.Body
}

func parseTF(t *testing.T, src []byte) *tfConfig {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
	if diags.HasErrors() {
		t.Fatalf("not valid HCL: %s\n%s", diags.Error(), src)
	}
	c := &tfConfig{body: f.Body.(*hclsyntax.Body), variables: map[string]cty.Value{},
		declared: map[string]bool{}, resources: map[string]*hclsyntax.Body{}}
	if len(c.body.Attributes) != 0 {
		t.Errorf("top-level attributes: %v", keys(c.body.Attributes))
	}
	for _, b := range c.body.Blocks {
		c.blocks = append(c.blocks, strings.Join(append([]string{b.Type}, b.Labels...), " "))
		switch b.Type {
		case "variable":
			c.declared["var."+b.Labels[0]] = true
			if a, ok := b.Body.Attributes["default"]; ok {
				v, d := a.Expr.Value(nil)
				if d.HasErrors() {
					t.Errorf("variable %s default: %s", b.Labels[0], d.Error())
				}
				c.variables[b.Labels[0]] = v
			}
		case "resource":
			c.declared[b.Labels[0]+"."+b.Labels[1]] = true
			c.resources[b.Labels[0]+"."+b.Labels[1]] = b.Body
		case "data":
			c.declared["data."+b.Labels[0]+"."+b.Labels[1]] = true
			c.resources["data."+b.Labels[0]+"."+b.Labels[1]] = b.Body
		}
	}
	return c
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// literal evaluates an attribute that must not reference anything but
// jsonencode.
func literal(t *testing.T, body *hclsyntax.Body, name string) cty.Value {
	t.Helper()
	a, ok := body.Attributes[name]
	if !ok {
		t.Fatalf("attribute %s missing", name)
	}
	v, d := a.Expr.Value(&hcl.EvalContext{Functions: jsonencode})
	if d.HasErrors() {
		t.Fatalf("attribute %s: %s", name, d.Error())
	}
	return v
}

func refs(expr hclsyntax.Expression) []string {
	var out []string
	for _, tr := range expr.Variables() {
		parts := []string{tr.RootName()}
		for _, step := range tr[1:] {
			if a, ok := step.(hcl.TraverseAttr); ok {
				parts = append(parts, a.Name)
			}
		}
		out = append(out, strings.Join(parts, "."))
	}
	return out
}

func TestTerraform_ParsesWithRealProviderArguments(t *testing.T) {
	tests := []struct {
		name       string
		p          Profile
		wantBlocks []string
		wantParams map[string]any
		wantImport map[string]string
	}{
		{
			name: "cf integration-flow",
			p:    fixture(),
			wantBlocks: []string{
				"terraform", "variable globalaccount", "variable btp_cli_server_url", "variable subaccount_id", "variable cf_api_url", "variable cf_org", "variable cf_space",
				"provider btp", "provider cloudfoundry",
				"resource btp_subaccount_entitlement it_rt_integration_flow", "resource btp_subaccount_entitlement it_rt_api",
				"data cloudfoundry_org this", "data cloudfoundry_space this", "data cloudfoundry_service_plan it_rt",
				"resource cloudfoundry_service_instance it_rt", "resource cloudfoundry_service_credential_binding key",
				"import", "import", "import", "import", "output service_instance_id", "output service_key_id",
			},
			wantParams: map[string]any{"roles": []any{"ESBMessaging.send"}, "grant-types": []any{"client_credentials"},
				"redirect-uris": []any{}},
			wantImport: map[string]string{
				"btp_subaccount_entitlement.it_rt_integration_flow": fixture().Subaccount.ID + ",it-rt,integration-flow",
				"btp_subaccount_entitlement.it_rt_api":              fixture().Subaccount.ID + ",it-rt,api",
				"cloudfoundry_service_instance.it_rt":               fixture().Instance.ID,
				"cloudfoundry_service_credential_binding.key":       fixture().Key.ID,
			},
		},
		{
			name: "other api",
			p:    apiOther(),
			wantBlocks: []string{
				"terraform", "variable globalaccount", "variable btp_cli_server_url", "variable subaccount_id", "provider btp",
				"resource btp_subaccount_entitlement it_rt_integration_flow", "resource btp_subaccount_entitlement it_rt_api",
				"data btp_subaccount_service_plan it_rt", "resource btp_subaccount_service_instance it_rt",
				"resource btp_subaccount_service_binding key", "import", "import", "import", "import",
				"output service_instance_id", "output service_key_id",
			},
			wantParams: map[string]any{"roles": []any{"MonitoringDataRead", "WorkspacePackagesRead"}, "grant-types": []any{"client_credentials"},
				"redirect-uris": []any{}},
			wantImport: map[string]string{
				"btp_subaccount_entitlement.it_rt_integration_flow": apiOther().Subaccount.ID + ",it-rt,integration-flow",
				"btp_subaccount_entitlement.it_rt_api":              apiOther().Subaccount.ID + ",it-rt,api",
				"btp_subaccount_service_instance.it_rt":             apiOther().Subaccount.ID + "," + apiOther().Instance.ID,
				"btp_subaccount_service_binding.key":                apiOther().Subaccount.ID + "," + apiOther().Key.ID,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Export(tc.p, FormatTerraform, canary, &buf); err != nil {
				t.Fatal(err)
			}
			mustNotContain(t, "terraform", buf.String())
			c := parseTF(t, buf.Bytes())
			if !reflect.DeepEqual(c.blocks, tc.wantBlocks) {
				t.Errorf("blocks\n got %q\nwant %q", c.blocks, tc.wantBlocks)
			}
			cf := tc.p.Runtime == steps.RuntimeCF

			// Provider sources.
			for _, b := range c.body.Blocks {
				if b.Type != "terraform" {
					continue
				}
				rp := b.Body.Blocks[0]
				if rp.Type != "required_providers" {
					t.Fatalf("terraform block: %s", rp.Type)
				}
				srcs := map[string]string{}
				for name := range rp.Body.Attributes {
					srcs[name] = literal(t, rp.Body, name).GetAttr("source").AsString()
				}
				want := map[string]string{"btp": "SAP/btp"}
				if cf {
					want["cloudfoundry"] = "cloudfoundry/cloudfoundry"
				}
				if !reflect.DeepEqual(srcs, want) {
					t.Errorf("required_providers %v, want %v", srcs, want)
				}
			}

			// Every argument is a real one, every required one is there,
			// every reference points at something declared.
			entitled := []string{}
			for _, b := range c.body.Blocks {
				kind := b.Type
				if kind == "provider" || kind == "resource" || kind == "data" {
					kind += " " + b.Labels[0]
				}
				if args, ok := schema[kind]; ok {
					for name := range b.Body.Attributes {
						if !slices.Contains(args, name) && !slices.Contains(args, "!"+name) && (b.Type == "provider" || !slices.Contains(metaArgs, name)) {
							t.Errorf("%s: %s is not an argument of %s", strings.Join(b.Labels, "."), name, kind)
						}
					}
					for _, a := range args {
						if strings.HasPrefix(a, "!") && b.Body.Attributes[a[1:]] == nil {
							t.Errorf("%s: required argument %s missing", kind, a[1:])
						}
					}
				} else if b.Type == "resource" || b.Type == "data" || b.Type == "provider" {
					t.Errorf("unexpected %s", kind)
				}
				for _, a := range b.Body.Attributes {
					if b.Type == "variable" && a.Name == "type" {
						continue // a type constraint, not a reference
					}
					for _, r := range refs(a.Expr) {
						if !c.refOK(r) {
							t.Errorf("%s %v: %s refers to undeclared %s", b.Type, b.Labels, a.Name, r)
						}
					}
				}
				if kind == "resource btp_subaccount_entitlement" {
					if literal(t, b.Body, "service_name").AsString() != "it-rt" {
						t.Error("entitlement of another service")
					}
					entitled = append(entitled, literal(t, b.Body, "plan_name").AsString())
				}
			}
			if !reflect.DeepEqual(entitled, []string{"integration-flow", "api"}) {
				t.Errorf("entitled plans %v", entitled)
			}

			// Variables carry the profile's values.
			wantVars := map[string]string{"globalaccount": tc.p.GlobalAccount, "subaccount_id": tc.p.Subaccount.ID,
				"btp_cli_server_url": "https://cli.btp.cloud.sap"}
			if cf {
				wantVars["cf_api_url"], wantVars["cf_org"], wantVars["cf_space"] = tc.p.CFAPIURL, tc.p.Org, tc.p.Space
			}
			for name, want := range wantVars {
				if v := c.variables[name]; v.IsNull() || v.AsString() != want {
					t.Errorf("variable %s default = %#v, want %q", name, v, want)
				}
			}

			// Instance and key: names, plan, broker parameters.
			inst, key, plan := c.resources["btp_subaccount_service_instance.it_rt"], c.resources["btp_subaccount_service_binding.key"], c.resources["data.btp_subaccount_service_plan.it_rt"]
			planArg, offeringArg := "name", "offering_name"
			if cf {
				inst, key, plan = c.resources["cloudfoundry_service_instance.it_rt"], c.resources["cloudfoundry_service_credential_binding.key"], c.resources["data.cloudfoundry_service_plan.it_rt"]
				offeringArg = "service_offering_name"
				if literal(t, inst, "type").AsString() != "managed" || literal(t, key, "type").AsString() != "key" {
					t.Error("instance must be managed, binding of type key")
				}
			}
			if literal(t, plan, planArg).AsString() != tc.p.Plan || literal(t, plan, offeringArg).AsString() != "it-rt" {
				t.Error("wrong service plan lookup")
			}
			if d := plan.Attributes["depends_on"]; d == nil || len(refs(d.Expr)) != 2 {
				t.Error("the plan lookup must depend on both entitlements")
			}
			if literal(t, inst, "name").AsString() != tc.p.Instance.Name || literal(t, key, "name").AsString() != tc.p.Key.Name {
				t.Error("instance or key name differs from the profile")
			}
			var params map[string]any
			if err := json.Unmarshal([]byte(literal(t, inst, "parameters").AsString()), &params); err != nil || !reflect.DeepEqual(params, tc.wantParams) {
				t.Errorf("instance parameters %v (%v), want %v", params, err, tc.wantParams)
			}
			if got := literal(t, key, "parameters").AsString(); got != `{"key-type":"client_id_secret"}` {
				t.Errorf("key parameters %s", got)
			}

			// Imports adopt exactly what cpikey created.
			imports := map[string]string{}
			for _, b := range c.body.Blocks {
				if b.Type != "import" {
					continue
				}
				to, d := hcl.AbsTraversalForExpr(b.Body.Attributes["to"].Expr)
				if d.HasErrors() {
					t.Fatal(d.Error())
				}
				target := to.RootName() + "." + to[1].(hcl.TraverseAttr).Name
				if !c.declared[target] {
					t.Errorf("import into undeclared %s", target)
				}
				imports[target] = literal(t, b.Body, "id").AsString()
			}
			if !reflect.DeepEqual(imports, tc.wantImport) {
				t.Errorf("imports\n got %v\nwant %v", imports, tc.wantImport)
			}
		})
	}
}

func (c *tfConfig) refOK(r string) bool {
	parts := strings.Split(r, ".")
	switch {
	case parts[0] == "var":
		return c.declared[r]
	case parts[0] == "data" && len(parts) >= 3:
		return c.declared[strings.Join(parts[:3], ".")]
	case len(parts) >= 2:
		return c.declared[parts[0]+"."+parts[1]]
	}
	return false
}

// Values from the profile are data, never HCL syntax: quotes, backslashes
// and template introducers survive unchanged.
func TestTerraform_EscapesValues(t *testing.T) {
	nasty := []string{`a"b`, `back\slash`, "${file(\"/etc/passwd\")}", "%{ if true }x%{ endif }", "$${x}", "tab\there", "ünï ✓", "$", "%"}
	for _, v := range nasty {
		p := fixture()
		p.Org, p.Instance.Name, p.Roles = v, v, []string{v}
		if hasControl(v) {
			// Validate refuses control characters; hclString still escapes them.
			if got := hclString(v); strings.ContainsAny(got, "\t\n") {
				t.Errorf("hclString(%q) = %s", v, got)
			}
			continue
		}
		var buf bytes.Buffer
		if err := Export(p, FormatTerraform, "", &buf); err != nil {
			t.Fatal(err)
		}
		c := parseTF(t, buf.Bytes())
		if got := c.variables["cf_org"]; got.AsString() != v {
			t.Errorf("cf_org %q came back as %q", v, got.AsString())
		}
		inst := c.resources["cloudfoundry_service_instance.it_rt"]
		if got := literal(t, inst, "name").AsString(); got != v {
			t.Errorf("instance name %q came back as %q", v, got)
		}
		var params struct{ Roles []string }
		json.Unmarshal([]byte(literal(t, inst, "parameters").AsString()), &params)
		if len(params.Roles) != 1 || params.Roles[0] != v {
			t.Errorf("role %q came back as %q", v, params.Roles)
		}
	}
}

func TestTerraform_UnknownValuesBecomeQuestionsOrNull(t *testing.T) {
	p := fixture()
	p.GlobalAccount, p.CFAPIURL, p.Org = "", "", ""
	p.Instance.ID, p.Key.ID, p.Subaccount.ID = "", "", ""
	var buf bytes.Buffer
	if err := Export(p, FormatTerraform, "", &buf); err != nil {
		t.Fatal(err)
	}
	c := parseTF(t, buf.Bytes())
	if _, ok := c.variables["globalaccount"]; ok {
		t.Error("unknown global account must have no default (Terraform asks)")
	}
	if v, ok := c.variables["cf_api_url"]; !ok || !v.IsNull() {
		t.Errorf("unknown CF API URL: default %#v, want null (provider environment)", v)
	}
	if slices.Contains(c.blocks, "import") {
		t.Error("import blocks without ids")
	}
}

// The output is already in terraform fmt's canonical layout (checked with
// the real binary when it is installed; it needs no providers for this).
func TestTerraform_IsFmtClean(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not installed")
	}
	for _, p := range []Profile{fixture(), apiOther()} {
		var buf bytes.Buffer
		if err := Export(p, FormatTerraform, "", &buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "main.tf")
		os.WriteFile(path, buf.Bytes(), 0o600)
		out, err := exec.Command(tf, "fmt", "-check", "-diff", path).CombinedOutput()
		if err != nil {
			t.Errorf("terraform fmt -check (%s): %v\n%s", p.Runtime, err, out)
		}
	}
}

// The instance parameters are exactly what cpikey sends when it creates the
// instance (steps.InstanceParameters): no token-validity or other key it
// did not send, which an update would otherwise apply.
func TestTerraform_ParametersAreWhatCpikeySends(t *testing.T) {
	for _, tc := range []struct {
		runtime steps.Runtime
		plan    string
		roles   []string
	}{
		{steps.RuntimeCF, "integration-flow", []string{"ESBMessaging.send"}},
		{steps.RuntimeCF, "integration-flow", nil}, // the wizard allows clearing the roles
		{steps.RuntimeCF, "integration-flow", []string{"ESBMessaging.send", "Custom.Sender"}},
		{steps.RuntimeOther, "api", []string{"MonitoringDataRead", "WorkspacePackagesRead"}},
	} {
		p := fixture()
		p.Runtime, p.Plan, p.Roles = tc.runtime, tc.plan, tc.roles
		var buf bytes.Buffer
		if err := Export(p, FormatTerraform, "", &buf); err != nil {
			t.Fatal(err)
		}
		c := parseTF(t, buf.Bytes())
		inst, key := "cloudfoundry_service_instance.it_rt", "cloudfoundry_service_credential_binding.key"
		if tc.runtime == steps.RuntimeOther {
			inst, key = "btp_subaccount_service_instance.it_rt", "btp_subaccount_service_binding.key"
		}
		for _, r := range []struct {
			name string
			sent []byte
		}{{inst, steps.InstanceParameters(tc.roles)}, {key, steps.KeyParameters}} {
			var got, want any
			if err := json.Unmarshal([]byte(literal(t, c.resources[r.name], "parameters").AsString()), &got); err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(r.sent, &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %v: %s parameters %v, cpikey sends %s", tc.runtime, tc.roles, r.name, got, r.sent)
			}
		}
	}
}

// The providers cannot read an it-rt instance's or key's parameters back
// (the broker is not instances_retrievable): exactly those are ignored
// after creation, nothing else.
func TestTerraform_IgnoresOnlyParametersThatCannotBeReadBack(t *testing.T) {
	for _, p := range []Profile{fixture(), apiOther()} {
		var buf bytes.Buffer
		if err := Export(p, FormatTerraform, "", &buf); err != nil {
			t.Fatal(err)
		}
		c := parseTF(t, buf.Bytes())
		for _, b := range c.body.Blocks {
			if b.Type != "resource" {
				continue
			}
			addr := b.Labels[0] + "." + b.Labels[1]
			var ignored []string
			for _, nb := range b.Body.Blocks {
				if nb.Type != "lifecycle" {
					t.Errorf("%s: unexpected block %s", addr, nb.Type)
					continue
				}
				if len(nb.Body.Attributes) != 1 || nb.Body.Attributes["ignore_changes"] == nil {
					t.Errorf("%s: lifecycle holds %v", addr, keys(nb.Body.Attributes))
					continue
				}
				list, d := hcl.ExprList(nb.Body.Attributes["ignore_changes"].Expr)
				if d.HasErrors() {
					t.Fatalf("%s: ignore_changes: %s", addr, d.Error())
				}
				for _, e := range list {
					ignored = append(ignored, hcl.ExprAsKeyword(e))
				}
			}
			want := []string{"parameters"}
			if b.Labels[0] == "btp_subaccount_entitlement" {
				want = nil
			}
			if !slices.Equal(ignored, want) {
				t.Errorf("%s (%s): ignore_changes %v, want %v", addr, p.Runtime, ignored, want)
			}
		}
	}
}

// Entitlements are declared (and imported) as the profile recorded them:
// enabled plans without amount, plans with a numeric quota with the
// subaccount's amount. A profile of an older cpikey recorded none: only its
// own plan is declared, without amount, and the file says why.
func TestTerraform_EntitlementsAsRecorded(t *testing.T) {
	tests := []struct {
		name        string
		ents        []Entitlement
		want        map[string]int64 // plan -> amount (0: no amount attribute)
		wantImports []string
		wantText    string
		wantErr     string
	}{
		{name: "fresh subaccount", ents: fixture().Entitlements,
			want: map[string]int64{"integration-flow": 0, "api": 1}, wantImports: []string{"integration-flow", "api"},
			wantText: "# Enabled: the plan has no numeric quota (category ELASTIC_SERVICE)."},
		{name: "amount the subaccount had", ents: []Entitlement{{Plan: "api", Category: "SERVICE", Amount: 3}, {Plan: "integration-flow", Category: "ELASTIC_SERVICE"}},
			want: map[string]int64{"integration-flow": 0, "api": 3}, wantImports: []string{"integration-flow", "api"},
			wantText: "# The plan has a numeric quota (category SERVICE): the subaccount's amount."},
		{name: "only the own plan entitled", ents: []Entitlement{{Plan: "integration-flow", Category: "SERVICE", Amount: 1}},
			want: map[string]int64{"integration-flow": 1}, wantImports: []string{"integration-flow"}},
		{name: "older profile", ents: nil,
			want: map[string]int64{"integration-flow": 0}, wantImports: []string{"integration-flow"},
			wantText: "# How this plan is assigned was not recorded"},
		{name: "own plan missing", ents: []Entitlement{{Plan: "api", Category: "SERVICE", Amount: 1}}, wantErr: "no entitlement of its own plan integration-flow"},
		{name: "unknown plan", ents: []Entitlement{{Plan: "integration-flow"}, {Plan: "standard"}}, wantErr: `unknown plan "standard"`},
		{name: "negative amount", ents: []Entitlement{{Plan: "integration-flow", Amount: -1}}, wantErr: "amount -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fixture()
			p.Entitlements = tc.ents
			var buf bytes.Buffer
			err := Export(p, FormatTerraform, "", &buf)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := parseTF(t, buf.Bytes())
			got := map[string]int64{}
			var deps []string
			for addr, body := range c.resources {
				if !strings.HasPrefix(addr, "btp_subaccount_entitlement.") {
					continue
				}
				var amount int64
				if body.Attributes["amount"] != nil {
					amount, _ = literal(t, body, "amount").AsBigFloat().Int64()
					if amount == 0 {
						t.Errorf("%s: amount = 0", addr)
					}
				}
				got[literal(t, body, "plan_name").AsString()] = amount
				deps = append(deps, addr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entitlements (plan: amount) %v, want %v", got, tc.want)
			}
			if d := c.resources["data.cloudfoundry_service_plan.it_rt"].Attributes["depends_on"]; len(refs(d.Expr)) != len(deps) {
				t.Errorf("the plan lookup depends on %v, want all of %v", refs(d.Expr), deps)
			}
			var imported []string
			for _, b := range c.body.Blocks {
				if b.Type == "import" {
					if id := literal(t, b.Body, "id").AsString(); strings.Contains(id, ",it-rt,") {
						imported = append(imported, strings.SplitN(id, ",", 3)[2])
					}
				}
			}
			if !slices.Equal(imported, tc.wantImports) {
				t.Errorf("imported entitlements %v, want %v", imported, tc.wantImports)
			}
			if !strings.Contains(buf.String(), tc.wantText) {
				t.Errorf("the file lacks %q", tc.wantText)
			}
		})
	}
}

// What the header says about logging in is what the providers do: with
// api_url set, cloudfoundry/cloudfoundry needs user/password or a token
// and ignores a cf CLI login; with api_url null it reads the cf CLI login.
// The btp provider's CLI server is a variable (SAP's by default), so tests
// can point it at a simulator.
func TestTerraform_LoginCommentsAndServerURL(t *testing.T) {
	known := fixture()
	unknown := fixture()
	unknown.CFAPIURL = ""
	for _, tc := range []struct {
		p             Profile
		want, notWant string
	}{
		{known, "CF_USER and CF_PASSWORD\n# (or CF_ACCESS_TOKEN) for cloudfoundry/cloudfoundry. With api_url set, that\n# provider does not use a cf CLI login", "or a cf CLI login"},
		{unknown, "cloudfoundry/cloudfoundry a cf CLI login (cf login), or CF_API_URL with\n# CF_USER and CF_PASSWORD", "does not use"},
		{apiOther(), "BTP_PASSWORD (or BTP_ENABLE_SSO=true) for SAP/btp.\n", "CF_USER"},
	} {
		var buf bytes.Buffer
		if err := Export(tc.p, FormatTerraform, "", &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tc.want) || strings.Contains(buf.String(), tc.notWant) {
			t.Errorf("header for runtime %s, API URL %q: want %q and not %q:\n%s", tc.p.Runtime, tc.p.CFAPIURL, tc.want, tc.notWant, buf.String()[:1200])
		}
		c := parseTF(t, buf.Bytes())
		for _, b := range c.body.Blocks {
			if b.Type == "provider" && b.Labels[0] == "btp" {
				if r := refs(b.Body.Attributes["cli_server_url"].Expr); !slices.Equal(r, []string{"var.btp_cli_server_url"}) {
					t.Errorf("cli_server_url refers to %v", r)
				}
			}
		}
		if v := c.variables["btp_cli_server_url"]; v.IsNull() || v.AsString() != TerraformBTPCLIServerURL {
			t.Errorf("btp_cli_server_url default %#v", v)
		}
	}
}
