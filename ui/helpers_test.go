package ui

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/cpikey/cpikey/adapters/clipboard"
	"github.com/cpikey/cpikey/steps"
)

// Goldens are regenerated with: go test ./ui/ -update (the flag belongs to
// charmbracelet/x/exp/golden, which teatest shares).

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

var fixedNow = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// Fixture secrets: no golden may ever contain them.
const (
	testPassword = "Tr0ub4dor&3-pw"
	testSecret   = "FAKE-CLIENT-SECRET-1f2e3d4c5b6a"
)

// sizes are the golden sizes: the smallest the wizard supports in width
// (60 columns, 20 lines), a classic terminal and a roomy one.
var sizes = []struct{ w, h int }{{60, 20}, {80, 24}, {120, 40}}

func sizeName(w, h int) string { return fmt.Sprintf("%dx%d", w, h) }

// clock is an injectable, movable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestModel(t *testing.T, mutate ...func(*Options)) *model {
	t.Helper()
	c := &clock{t: fixedNow}
	opts := Options{Now: c.now, Getenv: func(string) string { return "" }, GOOS: "linux"}
	for _, f := range mutate {
		f(&opts)
	}
	return New(opts).(*model)
}

// send feeds msgs through Update and returns the last Cmd.
func send(m *model, msgs ...tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	for _, msg := range msgs {
		_, cmd = m.Update(msg)
	}
	return cmd
}

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func typeText(m *model, s string) {
	for _, r := range s {
		send(m, runes(string(r)))
	}
}

var (
	enter    = tea.KeyMsg{Type: tea.KeyEnter}
	esc      = tea.KeyMsg{Type: tea.KeyEsc}
	up       = tea.KeyMsg{Type: tea.KeyUp}
	down     = tea.KeyMsg{Type: tea.KeyDown}
	tab      = tea.KeyMsg{Type: tea.KeyTab}
	space    = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	ctrlC    = tea.KeyMsg{Type: tea.KeyCtrlC}
	backspan = tea.KeyMsg{Type: tea.KeyBackspace}
)

func resize(m *model, w, h int) { send(m, tea.WindowSizeMsg{Width: w, Height: h}) }

// requireGolden compares the frame with testdata/<test name>.golden and
// checks the frame's size and that it carries no secret.
func requireGolden(t *testing.T, m *model) {
	t.Helper()
	v := m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != m.h {
		t.Errorf("frame has %d lines, want the window height %d", len(lines), m.h)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > m.w {
			t.Errorf("line %d is %d cells wide, window is %d: %q", i+1, w, m.w, l)
		}
	}
	for _, s := range []string{testPassword, testSecret} {
		if strings.Contains(v, s) {
			t.Fatalf("frame shows a secret %q", s)
		}
	}
	golden.RequireEqual(t, []byte(v))
}

// eachSize runs f in a subtest per golden size.
func eachSize(t *testing.T, f func(t *testing.T, w, h int)) {
	for _, s := range sizes {
		t.Run(sizeName(s.w, s.h), func(t *testing.T) { f(t, s.w, s.h) })
	}
}

// Fixtures shaped like the simulator's landscape.
var (
	testAccount = &steps.Account{User: "admin@acme.example", GlobalAccountID: "ga-1", GlobalAccountName: "ACME Global Account", GlobalAccountSubdomain: "acme-global"}
	subDev      = steps.SubaccountInfo{ID: "11111111-aaaa-4bbb-8ccc-000000000001", Name: "CPI Dev", Subdomain: "acme-cpi-dev-k3x9q2ab", Region: "eu10"}
	subQA       = steps.SubaccountInfo{ID: "11111111-aaaa-4bbb-8ccc-000000000002", Name: "CPI QA", Subdomain: "acme-cpi-qa-7h2m4n1p", Region: "eu10", Path: "Integration Projects / QA"}
	subSandbox  = steps.SubaccountInfo{ID: "11111111-aaaa-4bbb-8ccc-000000000003", Name: "Sandbox (no CF)", Subdomain: "acme-sandbox-2w8e5r6t", Region: "us10", Path: "Integration Projects"}
	testSubs    = []steps.SubaccountInfo{subSandbox, subQA, subDev}
	testCF      = &steps.CFEnvironment{APIURL: "https://api.cf.eu10.hana.ondemand.com", OrgID: "org-1", OrgName: "acme-cpi-dev-k3x9q2ab_dev"}
)

func reportMissing() *steps.CheckReport {
	return &steps.CheckReport{
		Subaccount: subDev, GlobalAccountHasService: true, CF: testCF,
		Plans: []steps.PlanStatus{{Plan: "integration-flow"}, {Plan: "api"}},
		Items: []steps.CheckItem{
			{OK: true, Title: "Global account has it-rt (Process Integration Runtime)", Detail: "Both plans can be assigned to subaccounts."},
			{OK: false, Title: "Entitlement it-rt/integration-flow", Detail: "Not assigned to CPI Dev; cpikey can assign it."},
			{OK: false, Title: "Entitlement it-rt/api", Detail: "Not assigned to CPI Dev; cpikey can assign it."},
			{OK: true, Title: "Cloud Foundry environment", Detail: "Org acme-cpi-dev-k3x9q2ab_dev at https://api.cf.eu10.hana.ondemand.com"},
			{OK: false, Title: "Plan visibility", Detail: "it-rt shows up in the marketplace once it is entitled."},
		},
		MissingPlans: []string{"integration-flow", "api"},
	}
}

func reportReady() *steps.CheckReport {
	return &steps.CheckReport{
		Subaccount: subQA, GlobalAccountHasService: true, CF: testCF,
		Plans: []steps.PlanStatus{{Plan: "integration-flow", Entitled: true, State: "OK"}, {Plan: "api", Entitled: true, State: "OK"}},
		Items: []steps.CheckItem{
			{OK: true, Title: "Entitlement it-rt/integration-flow", Detail: "Assigned (OK)."},
			{OK: true, Title: "Entitlement it-rt/api", Detail: "Assigned (OK)."},
			{OK: true, Title: "Cloud Foundry environment", Detail: "Org acme-cpi-qa_qa."},
		},
	}
}

var (
	testOrgs   = []steps.Org{{ID: "org-1", Name: "acme-cpi-dev-k3x9q2ab_dev"}}
	testSpaces = []steps.Space{{ID: "sp-prod", Name: "prod"}, {ID: "sp-dev", Name: "dev"}}
)

func testTarget() steps.Target {
	return steps.Target{Subaccount: subDev, Runtime: steps.RuntimeCF, OrgID: "org-1", OrgName: testOrgs[0].Name,
		SpaceID: "sp-dev", Space: "dev", Plan: "integration-flow", Instance: "CPI_SAMPLE_INSTANCE",
		Key: "CPI_SAMPLE_INSTANCE-key", Roles: []string{"ESBMessaging.send"}}
}

func testResult() *steps.Result {
	return &steps.Result{
		Subaccount: subDev, Runtime: steps.RuntimeCF, Org: testOrgs[0].Name, Space: "dev", Plan: "integration-flow",
		Instance: steps.ResourceRef{Name: "CPI_SAMPLE_INSTANCE", ID: "inst-1"},
		Key:      steps.ResourceRef{Name: "CPI_SAMPLE_INSTANCE-key", ID: "key-1"},
		Credentials: steps.Credentials{
			ClientID:     "sb-2f6c1e0a-it-rt-acme-cpi-dev!b1234|it-rt-acme!b196",
			ClientSecret: testSecret,
			TokenURL:     "https://acme-cpi-dev-k3x9q2ab.authentication.eu10.hana.ondemand.com/oauth/token",
			URL:          "https://acme-cpi-dev-k3x9q2ab.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com",
		},
		Verified: true, Scopes: []string{"it-rt-acme!b196.ESBMessaging.send"},
		Tenant: &steps.TenantCheck{Method: "GET", URL: "https://acme-cpi-dev-k3x9q2ab.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com/http/__cpikey_probe__",
			Status: 404, Outcome: steps.TenantAccepted,
			Message: "the runtime accepted the token (404 at /http/__cpikey_probe__, where nothing is deployed); each iFlow's sender adapter still checks its own role"},
		Keychain: &steps.KeychainRef{Service: "cpikey", Account: "acme-cpi-dev-k3x9q2ab/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"},
	}
}

// fakeClipboard records copies (the OS boundary; adapters/clipboard has its
// own tests).
type fakeClipboard struct {
	copies  []string
	secrets []bool
	cleared int
	fail    error
}

func (f *fakeClipboard) Copy(text string, secret bool) clipboard.Result {
	if f.fail != nil {
		return clipboard.Result{Err: f.fail}
	}
	f.copies = append(f.copies, text)
	f.secrets = append(f.secrets, secret)
	r := clipboard.Result{Native: true}
	if secret {
		r.ClearAt = fixedNow.Add(30 * time.Second)
	}
	return r
}

func (f *fakeClipboard) ClearNow() error { f.cleared++; return nil }

// fakeBrowser records opened URLs.
type fakeBrowser struct {
	urls []string
	err  error
}

func (f *fakeBrowser) Open(url string) error { f.urls = append(f.urls, url); return f.err }
