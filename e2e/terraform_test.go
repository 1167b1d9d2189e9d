package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

// The Terraform export, planned by the real Terraform with SAP's btp
// provider and Cloud Foundry's provider against the simulator: after the
// import blocks, nothing may be added, changed or destroyed, or the first
// terraform apply would replace the key whose secret cpikey just stored.
//
// It needs Terraform and both providers, so it runs only when
// CPIKEY_TERRAFORM names the terraform binary and CPIKEY_TF_CLI_CONFIG a CLI
// configuration that provides SAP/btp and cloudfoundry/cloudfoundry without
// the registry; .ci/terraform-check.sh builds and wires both.

// planSummary is Terraform's closing line of a plan with import blocks.
var planSummary = regexp.MustCompile(`Plan: (\d+) to import, (\d+) to add, (\d+) to change, (\d+) to destroy\.`)

func TestTerraformExport_AdoptsWithoutChanges(t *testing.T) {
	tf, cliConfig := os.Getenv("CPIKEY_TERRAFORM"), os.Getenv("CPIKEY_TF_CLI_CONFIG")
	if tf == "" || cliConfig == "" {
		t.Skip("needs CPIKEY_TERRAFORM and CPIKEY_TF_CLI_CONFIG (.ci/terraform-check.sh sets them)")
	}
	cases := []struct {
		runtime, plan string
		extra         []string
	}{
		{"cf", "integration-flow", nil},
		{"cf", "api", []string{"--roles", "MonitoringDataRead"}},
		{"other", "integration-flow", nil},
	}
	for _, tc := range cases {
		t.Run(tc.runtime+"/"+tc.plan, func(t *testing.T) {
			t.Parallel()
			// A fresh landscape each: cpikey entitles both plans (one
			// enabled, one with an amount), creates instance and key, and
			// keeps the profile that is exported.
			w := newWorld(t, sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1})
			home := w.home(t)
			login := []string{"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password}
			args := append([]string{"--yes", "--json", "--no-keychain", "--global-account", sim.GASubdomain,
				"--subaccount", sim.SubFresh, "--runtime", tc.runtime, "--plan", tc.plan}, tc.extra...)
			if r := w.runCPIKey(t, "run", home, w.env(home, login...), args...); r.code != 0 {
				t.Fatalf("cpikey exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			dir := t.TempDir()
			mainTF := filepath.Join(dir, "main.tf")
			if r := w.runCPIKey(t, "export", home, w.env(home), "export", "--format", "terraform", "-o", mainTF); r.code != 0 {
				t.Fatalf("cpikey export exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			src, err := os.ReadFile(mainTF)
			if err != nil {
				t.Fatal(err)
			}
			w.record("main.tf", src)

			env := []string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + filepath.Join(home, "tmp"),
				"TF_CLI_CONFIG_FILE=" + cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
				"TF_VAR_btp_cli_server_url=" + w.sim.CLIServerURL(),
				"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + w.password,
				"CF_USER=" + sim.AdminUser, "CF_PASSWORD=" + w.password,
			}
			terraform(t, w, tf, dir, env, "fmt", "-check", "-diff", "-no-color") // already in terraform fmt's layout
			terraform(t, w, tf, dir, env, "init", "-input=false", "-no-color")
			if out := terraform(t, w, tf, dir, env, "validate", "-no-color"); !bytes.Contains(out, []byte("Success! The configuration is valid")) {
				t.Fatalf("terraform validate:\n%s", safe(t, w, out))
			}
			out := terraform(t, w, tf, dir, env, "plan", "-input=false", "-lock=false", "-no-color")
			m := planSummary.FindSubmatch(out)
			if m == nil {
				t.Fatalf("terraform plan has no summary line:\n%s", safe(t, w, out))
			}
			t.Logf("terraform plan %s/%s: %s", tc.runtime, tc.plan, m[0])
			n := func(i int) int { v, _ := strconv.Atoi(string(m[i])); return v }
			// Both entitlements, the instance and the key are adopted.
			if n(1) != 4 || n(2) != 0 || n(3) != 0 || n(4) != 0 {
				t.Errorf("want 4 to import and nothing to add, change or destroy; plan:\n%s", safe(t, w, out))
			}
			w.scanAll(t)
		})
	}
}

// terraform runs one terraform command in dir and fails the test on a
// non-zero exit. Its output is recorded for the secret scan.
func terraform(t *testing.T, w *world, tf, dir string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	w.record("terraform "+args[0], out)
	if err != nil {
		t.Fatalf("terraform %s: %v\n%s", args[0], err, safe(t, w, out))
	}
	return out
}

// safe returns out for a failure message unless it holds a secret, which
// the scan then reports instead.
func safe(t *testing.T, w *world, out []byte) []byte { return safeOutput(t, w, "terraform", out) }

// safeOutput is safe for the output of any tool.
func safeOutput(t *testing.T, w *world, tool string, out []byte) []byte {
	rec := &recordingTB{TB: t}
	scanForSecrets(rec, tool+" output", out, w.secrets())
	if len(rec.errs) > 0 {
		t.Errorf("%s printed a secret: %v", tool, rec.errs)
		return []byte("(not shown: it holds a secret)")
	}
	return out
}
