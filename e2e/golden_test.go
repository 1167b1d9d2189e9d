package e2e

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/btp/transport"
	"github.com/cpikey/cpikey/steps"
)

// Shapes of real secrets: an it-rt client secret (<uuid>$<base64>, as SAP
// and the simulator issue them) and a signed JWT. Test fixtures use short,
// obviously fake values ("8d1c-canary$Zm9v=") that do not match.
var (
	secretShape = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\$[A-Za-z0-9+/]{30,}={0,2}`)
	jwtShape    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}`)
)

// TestGoldenFiles_HoldNoSecret scans every golden file of the repository
// for the simulator's passwords, for the secrets a default simulator hands
// out in the usual flows, and for anything shaped like a real secret.
func TestGoldenFiles_HoldNoSecret(t *testing.T) {
	secrets := defaultSimSecrets(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".golden") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		n++
		scanForSecrets(t, rel, b, secrets)
		for _, re := range []*regexp.Regexp{secretShape, jwtShape} {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s holds something shaped like a real secret at byte %d", rel, loc[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no golden files found: the walk is broken")
	}
	t.Logf("%d golden files scanned for %d secrets and 2 secret shapes", n, len(secrets))
}

// TestSecretShapes_MatchWhatTheSimulatorIssues keeps the shapes honest: a
// simulator client secret and token must match them.
func TestSecretShapes_MatchWhatTheSimulatorIssues(t *testing.T) {
	var secretHit, jwtHit bool
	for _, s := range defaultSimSecrets(t) {
		secretHit = secretHit || secretShape.MatchString(s)
		jwtHit = jwtHit || jwtShape.MatchString(s)
	}
	if !secretHit || !jwtHit {
		t.Fatalf("client secret shape matched: %v, JWT shape matched: %v", secretHit, jwtHit)
	}
}

// defaultSimSecrets runs the usual flows against a simulator with default
// seed and passwords (what a golden generated from it could contain).
func defaultSimSecrets(t *testing.T) []string {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(os.Getenv("HOME"), ".config"))
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, ProvisionTime: 1, BindTime: 1, EntitleTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := steps.Config{CLIServerURL: s.CLIServerURL(), HTTPClient: transport.NewHTTPClient(transport.Options{Timeout: 10 * time.Second}),
		PollMin: time.Millisecond, PollMax: 5 * time.Millisecond, BTPConfigPath: "/nonexistent/btp-config.json"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, in := range []steps.HeadlessInput{
		{Subaccount: sim.SubFresh},
		{Subaccount: sim.SubReady, Plan: "api", Roles: []string{"MonitoringDataRead"}},
		{Subaccount: sim.SubNoCF, Runtime: steps.RuntimeOther},
	} {
		in.GlobalAccount, in.User, in.Password, in.NoKeychain = sim.GASubdomain, sim.AdminUser, sim.AdminPassword, true
		if _, err := steps.RunHeadless(ctx, steps.New(cfg), in); err != nil {
			t.Fatalf("%s: %v", in.Subaccount, err)
		}
	}
	return append(s.IssuedSecrets(), sim.AdminPassword, sim.ViewerPass, sim.NoDevPass)
}
