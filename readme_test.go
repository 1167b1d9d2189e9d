package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/cpikey/cpikey/btp/cliserver"
)

// TestReadme_TellsTheTruth checks what the README promises against the
// code: the quick start's test command works with Go alone and is what CI
// closes on, every flag of the fixed interface and every environment
// variable is listed, shell completion is documented, and the global
// account subdomain is explained in one wording everywhere.
func TestReadme_TellsTheTruth(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)

	quick := regexp.MustCompile("(?s)## Quick start[^`]*```sh\n(.*?)```").FindStringSubmatch(readme)
	if quick == nil {
		t.Fatal("no quick start block")
	}
	var cmds []string
	for _, l := range strings.Split(strings.TrimSpace(quick[1]), "\n") {
		cmds = append(cmds, strings.TrimSpace(strings.SplitN(l, "#", 2)[0]))
	}
	if len(cmds) != 2 || cmds[0] != "go run . --demo" || cmds[1] != "go test ./..." {
		t.Errorf("the quick start is not the two commands a fresh machine with Go alone can run: %q", cmds)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(ci)), "\n")
	if last := lines[len(lines)-1]; last != cmds[1] {
		t.Errorf(".ci/run closes on %q, not on the README's test command %q", last, cmds[1])
	}
	if !strings.Contains(string(ci), "go test -race ./...") {
		t.Error(".ci/run no longer runs the race detector")
	}

	f := newFactory(strings.NewReader(""), os.Stdout, os.Stderr, envFunc(nil))
	root := newRootCmd(f)
	check := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(fl *pflag.Flag) {
			if !fl.Hidden && !strings.Contains(readme, "--"+fl.Name) {
				t.Errorf("the README does not list --%s", fl.Name)
			}
		})
	}
	check(root.Flags())
	check(root.PersistentFlags())
	for _, v := range []string{"BTP_CLI_SERVER_URL", "BTP_USERNAME", "BTP_PASSWORD", "BTP_GLOBALACCOUNT", "BTP_IDP",
		"BTP_ENABLE_SSO", "BTP_CLIENTCONFIG", "NO_COLOR", "CPIKEY_ASCII"} {
		if !strings.Contains(readme, "`"+v+"`") {
			t.Errorf("the README does not document %s", v)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if !strings.Contains(readme, "cpikey completion "+shell) {
			t.Errorf("the README does not show completion for %s", shell)
		}
	}
	if !strings.Contains(readme, cliserver.SubdomainWhere) {
		t.Errorf("the README does not say where the subdomain is in the words every hint uses: %q", cliserver.SubdomainWhere)
	}
	for _, other := range []string{"global account > Overview", "Account Explorer", "global account overview"} {
		if strings.Contains(readme, other) {
			t.Errorf("the README says %q: another wording for where the subdomain is", other)
		}
	}
}
