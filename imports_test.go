package main

import (
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/cpikey/cpikey"

// importRules are the arrows of ARCHITECTURE.md: front ends (main, ui,
// headless) -> profiles -> steps -> btp clients; adapters know no flow;
// btp knows no flow and no front end; the simulator imports only the facts
// both sides share, never a client; only main imports the simulator.
var importRules = []struct {
	pkg       string   // a package, or a folder ending in "/" for all below it
	forbidden []string // imports it must not have (same form)
	onlyAllow []string // if set: the module packages it may import, nothing else
}{
	{pkg: "steps", forbidden: []string{"ui", "headless", "profiles", "btp/sim"}},
	{pkg: "profiles", forbidden: []string{"ui", "headless", "btp/sim"}},
	{pkg: "headless", forbidden: []string{"ui", "btp/sim"}},
	{pkg: "ui", forbidden: []string{"headless", "btp/sim"}},
	{pkg: "adapters/", forbidden: []string{"steps", "profiles", "ui", "headless", "btp/sim"}},
	{pkg: "btp/cf", onlyAllow: []string{"btp/transport", "btp/itrt", "btp/redact"}},
	{pkg: "btp/cliserver", onlyAllow: []string{"btp/transport", "btp/itrt", "btp/redact"}},
	{pkg: "btp/oauth", onlyAllow: []string{"btp/transport", "btp/itrt", "btp/redact"}},
	{pkg: "btp/tenant", onlyAllow: []string{"btp/transport", "btp/itrt", "btp/redact"}},
	{pkg: "btp/transport", onlyAllow: []string{"btp/redact", "safetext"}},
	{pkg: "btp/itrt", onlyAllow: []string{}},
	{pkg: "btp/sim", onlyAllow: []string{"btp/itrt"}},
	{pkg: "safetext", onlyAllow: []string{}},
	{pkg: "configdir", onlyAllow: []string{}},
}

// TestImports_FollowTheArchitecture fails when a package imports one it
// must not (go list over the module's non-test imports).
func TestImports_FollowTheArchitecture(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{} // package (module-relative, "" = main) -> module imports
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, "|")
		var own []string
		for _, d := range strings.Split(deps, ",") {
			if d == module || strings.HasPrefix(d, module+"/") {
				own = append(own, rel(d))
			}
		}
		imports[rel(pkg)] = own
	}
	if len(imports) < 10 {
		t.Fatalf("go list found only %d packages: %v", len(imports), imports)
	}
	for _, v := range violations(imports) {
		t.Error(v)
	}
}

// violations lists every import against the rules.
func violations(imports map[string][]string) []string {
	matches := func(pattern, pkg string) bool {
		if strings.HasSuffix(pattern, "/") {
			return strings.HasPrefix(pkg, pattern)
		}
		return pkg == pattern || strings.HasPrefix(pkg, pattern+"/")
	}
	var out []string
	for pkg, deps := range imports {
		for _, d := range deps {
			if d == "btp/sim" && pkg != "" {
				out = append(out, fmt.Sprintf("%s imports the simulator; only main (and tests) may", pkg))
			}
		}
		for _, r := range importRules {
			if !matches(r.pkg, pkg) || (r.pkg == "btp/sim" && pkg != "btp/sim") {
				continue
			}
			for _, d := range deps {
				for _, f := range r.forbidden {
					if matches(f, d) {
						out = append(out, fmt.Sprintf("%s imports %s, against the architecture", pkg, d))
					}
				}
				if r.onlyAllow != nil && !allowed(r.onlyAllow, d, matches) {
					out = append(out, fmt.Sprintf("%s imports %s; it may import only %v of this module", pkg, d, r.onlyAllow))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func allowed(list []string, dep string, matches func(string, string) bool) bool {
	for _, a := range list {
		if matches(a, dep) {
			return true
		}
	}
	return false
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

// TestImports_RulesCatchViolations: each kind of wrong arrow is reported.
func TestImports_RulesCatchViolations(t *testing.T) {
	cases := []struct {
		pkg, dep string
	}{
		{"steps", "ui"},
		{"steps", "profiles"},
		{"btp/cf", "steps"},
		{"btp/sim", "btp/cf"},
		{"adapters/keychain", "steps"},
		{"profiles", "btp/sim"},
		{"headless", "ui"},
	}
	for _, tc := range cases {
		if v := violations(map[string][]string{tc.pkg: {tc.dep}}); len(v) == 0 {
			t.Errorf("%s -> %s is not reported", tc.pkg, tc.dep)
		}
	}
	if v := violations(map[string][]string{"": {"btp/sim"}, "steps": {"btp/cf", "adapters/keychain"}, "ui": {"steps", "profiles"}}); len(v) != 0 {
		t.Errorf("allowed arrows reported: %v", v)
	}
}
