package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/steps"
)

var subNew = steps.SubaccountInfo{ID: "11111111-aaaa-4bbb-8ccc-000000000004", Name: "CPI New", Subdomain: "acme-cpi-new-5d7f3g9h", Region: "eu10"}

const testSuiteURL = "http://127.0.0.1:40467/integration-suite/acme-cpi-new-5d7f3g9h/"

// reportEmpty is the check of a subaccount without Integration Suite in a
// global account that owns two plans of it.
func reportEmpty() *steps.CheckReport {
	r := reportMissing()
	r.Subaccount = subNew
	r.Suite = &steps.SuiteReport{
		Service: "integrationsuite",
		Plans:   []steps.SuitePlan{{Name: "enterprise_agreement", Category: "APPLICATION"}, {Name: "free", Category: "APPLICATION"}},
		User:    "admin@acme.example", Origin: "sap.default",
	}
	r.Items = append([]steps.CheckItem{
		{Title: "Integration Suite entitlement", Detail: "missing: cpikey can assign integrationsuite/enterprise_agreement (needs Global Account Administrator)"},
		{Title: "Integration Suite subscription", Detail: "not subscribed: possible once the entitlement is assigned (needs Subaccount Administrator)"},
		{Title: "Role collection Integration_Provisioner for admin@acme.example", Detail: "does not exist yet: the subscription creates it"},
		{Title: "Cloud Integration activated (inferred)", Detail: "looks not activated: no PI_* role collection exists"},
	}, r.Items...)
	return r
}

// subscribed is the suite after SetupSuite: subscribed, role assigned, not
// activated yet.
func subscribed(s *steps.SuiteReport) *steps.SuiteReport {
	c := *s
	c.Entitled, c.EntitleState, c.AppName = "enterprise_agreement", "OK", "it-cpi018-prov"
	c.State, c.SubscribedPlan, c.URL = "SUBSCRIBED", "enterprise_agreement", testSuiteURL
	c.ProvisionerExists, c.ProvisionerRead, c.UserHasProvisioner = true, true, true
	return &c
}

func sui(m *model) *suiteModel { return m.cur().(*suiteModel) }

// quietFlow answers the one read a test lets run: nothing activated yet.
type quietFlow struct{ flowAPI }

func (quietFlow) CheckActivation(context.Context, steps.SubaccountInfo) ([]string, error) {
	return nil, nil
}

// leafMsgs runs cmd and the Cmds of its batches, returning their messages.
func leafMsgs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, leafMsgs(c)...)
		}
		return out
	}
	return []tea.Msg{msg}
}

func atSuite(t *testing.T, m *model, r *steps.CheckReport) {
	t.Helper()
	atCheck(t, m, r.Subaccount, r)
	send(m, enter)
	if m.screen() != screenSuite {
		t.Fatalf("screen %v, want the Integration Suite screen", m.screen())
	}
}

// atBrowser walks to the browser step with the setup done.
func atBrowser(t *testing.T, m *model, browserErr error) {
	t.Helper()
	atSuite(t, m, reportEmpty())
	send(m, enter)
	send(m, suiteSetupMsg{id: sui(m).work.id, suite: subscribed(sui(m).suite)})
	send(m, suiteBrowserMsg{err: browserErr})
	if sui(m).stage != suiteBrowser {
		t.Fatalf("stage %v, want the browser step", sui(m).stage)
	}
}

func TestSuiteScreen(t *testing.T) {
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model, c *clock)
	}{
		{"confirm_with_plans", func(t *testing.T, m *model, c *clock) { atSuite(t, m, reportEmpty()) }},
		{"subscribing", func(t *testing.T, m *model, c *clock) {
			atSuite(t, m, reportEmpty())
			send(m, enter)
			c.t = c.t.Add(12 * time.Second)
			send(m, flowEventsMsg{events: []steps.Event{{Step: steps.StepSuite, Kind: steps.EventWaiting, Message: "Subscription to SAP Integration Suite", State: "IN_PROCESS"}}})
		}},
		{"failed", func(t *testing.T, m *model, c *clock) {
			atSuite(t, m, reportEmpty())
			send(m, enter)
			send(m, suiteSetupMsg{id: sui(m).work.id, err: errors.New("subscribing CPI New to SAP Integration Suite failed (SUBSCRIBE_FAILED): Subscription failed. " +
				"Please open support case using the component: LOD-HCI-PI. Rerun cpikey to subscribe again")})
		}},
		{"browser", func(t *testing.T, m *model, c *clock) {
			atBrowser(t, m, nil)
			send(m, suiteActivationMsg{id: sui(m).work.id})
		}},
		{"browser_not_opened", func(t *testing.T, m *model, c *clock) {
			atBrowser(t, m, errors.New("no browser found"))
			send(m, suiteActivationMsg{id: sui(m).work.id})
		}},
		{"roles_offer", func(t *testing.T, m *model, c *clock) {
			atBrowser(t, m, nil)
			send(m, suiteActivationMsg{id: sui(m).work.id, pi: []string{"PI_Administrator", "PI_Business_Expert", "PI_Integration_Developer", "PI_Read_Only"}})
			send(m, suiteRolesMsg{id: sui(m).work.id, missing: []string{"PI_Integration_Developer", "PI_Administrator"}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				c := &clock{t: fixedNow}
				m := newTestModel(t, func(o *Options) { o.Now = c.now; o.Browser = &fakeBrowser{} })
				resize(m, w, h)
				tc.drive(t, m, c)
				requireGolden(t, m)
			})
		})
	}
}

func TestCheck_IntegrationSuiteComesFirst(t *testing.T) {
	m := newTestModel(t)
	resize(m, 120, 40)
	atCheck(t, m, subNew, reportEmpty())
	if v := m.View(); !strings.Contains(v, "Press enter to set up SAP Integration Suite first") {
		t.Errorf("the check does not say what comes next:\n%s", v)
	}
	send(m, enter)
	if m.screen() != screenSuite {
		t.Fatalf("screen %v, want the Integration Suite screen", m.screen())
	}
	// Counted as the check step: the header keeps "step 3 of 9".
	if head := strings.SplitN(m.View(), "\n", 2)[0]; !strings.Contains(head, "SAP Integration Suite") || !strings.Contains(head, "step 3 of 9") {
		t.Errorf("header %q", head)
	}
	send(m, esc)
	if m.screen() != screenCheck {
		t.Errorf("esc went to %v", m.screen())
	}

	// A global account without Integration Suite: nothing to set up, and
	// the check says who can fix it.
	none := reportEmpty()
	none.Suite.Plans = nil
	m = newTestModel(t)
	resize(m, 120, 40)
	atCheck(t, m, subNew, none)
	send(m, enter)
	if m.screen() != screenCheck || !strings.Contains(ansi.Strip(m.View()), "must be purchased first") {
		t.Errorf("blocked check: screen %v\n%s", m.screen(), m.View())
	}
}

func TestSuite_PlanChoiceAndActions(t *testing.T) {
	m := newTestModel(t)
	resize(m, 120, 40)
	atSuite(t, m, reportEmpty())
	s := sui(m)
	if s.chosenPlan() != "enterprise_agreement" {
		t.Fatalf("default plan %q", s.chosenPlan())
	}
	send(m, down)
	v := ansi.Strip(m.View())
	for _, want := range []string{"integrationsuite/free", "plan free", "Integration_Provisioner to admin@acme.example (origin sap.default)",
		"needs Global Account Administrator", "needs Subaccount Administrator"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	send(m, enter)
	if !s.work.running() || !s.busy() {
		t.Fatal("enter did not start the setup")
	}
	send(m, esc)
	if m.screen() != screenSuite {
		t.Error("esc left while SAP was subscribing")
	}
	if p := s.pending(); !strings.Contains(p, "SAP Integration Suite") {
		t.Errorf("pending %q", p)
	}
}

func TestSuite_WaitsForActivationThenRolesThenChecksAgain(t *testing.T) {
	b := &fakeBrowser{}
	m := newTestModel(t, func(o *Options) { o.Browser = b })
	m.e.flow = quietFlow{}
	resize(m, 120, 40)
	atSuite(t, m, reportEmpty())
	send(m, enter)
	cmd := send(m, suiteSetupMsg{id: sui(m).work.id, suite: subscribed(sui(m).suite)})
	// The browser is opened by a Cmd: run the batch, keep its message.
	for _, msg := range leafMsgs(cmd) {
		if bm, ok := msg.(suiteBrowserMsg); ok {
			send(m, bm)
		}
	}
	if len(b.urls) != 1 || b.urls[0] != testSuiteURL {
		t.Fatalf("browser opened %v", b.urls)
	}
	s := sui(m)
	// Not yet: a timer looks again; a stale timer is ignored.
	send(m, suiteActivationMsg{id: s.work.id})
	if s.work.running() {
		t.Fatal("still looking after the answer")
	}
	if send(m, suitePollMsg{seq: s.pollSeq - 1}) != nil || s.work.running() {
		t.Error("a stale timer started a check")
	}
	send(m, suitePollMsg{seq: s.pollSeq})
	if !s.work.running() {
		t.Fatal("the timer did not look again")
	}
	send(m, suiteActivationMsg{id: s.work.id})
	send(m, enter) // look now
	if !s.work.running() {
		t.Fatal("enter did not look again")
	}
	send(m, suiteActivationMsg{id: s.work.id, pi: []string{"PI_Administrator", "PI_Integration_Developer"}})
	if s.stage != suiteRoles || !s.work.running() {
		t.Fatalf("stage %v: want the roles read", s.stage)
	}
	send(m, suiteRolesMsg{id: s.work.id, missing: []string{"PI_Integration_Developer"}})
	send(m, enter)
	if s.stage != suiteAssigning || !s.busy() {
		t.Fatalf("stage %v: want assigning", s.stage)
	}
	send(m, suiteAssignedMsg{id: s.work.id})
	if m.screen() != screenCheck || !chk(m).work.running() {
		t.Fatalf("screen %v: want the check, checking again", m.screen())
	}
	if len(m.stack) != 3 {
		t.Errorf("stack depth %d: the Integration Suite screen should be gone", len(m.stack))
	}
}

func TestSuite_OnlyTheBrowserStepLeftStartsThere(t *testing.T) {
	r := reportEmpty()
	r.Suite = subscribed(r.Suite)
	b := &fakeBrowser{}
	m := newTestModel(t, func(o *Options) { o.Browser = b })
	resize(m, 120, 40)
	atCheck(t, m, subNew, r)
	send(m, enter)
	if m.screen() != screenSuite || sui(m).stage != suiteBrowser || !sui(m).work.running() {
		t.Fatalf("screen %v stage %v: want the browser step, looking", m.screen(), sui(m).stage)
	}
	// Skipping the role collections goes on as well.
	send(m, suiteActivationMsg{id: sui(m).work.id, pi: []string{"PI_Administrator"}})
	send(m, suiteRolesMsg{id: sui(m).work.id, missing: []string{"PI_Administrator"}})
	send(m, runes("s"))
	if m.screen() != screenCheck {
		t.Errorf("s went to %v", m.screen())
	}
}

func TestSuite_ResizeKeepsTheFrame(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Browser = &fakeBrowser{} })
	resize(m, 120, 40)
	atBrowser(t, m, errors.New("no browser"))
	for _, size := range []struct{ w, h int }{{60, 16}, {200, 60}, {80, 24}, {61, 17}} {
		resize(m, size.w, size.h)
		lines := strings.Split(m.View(), "\n")
		if len(lines) != size.h {
			t.Errorf("%dx%d: %d lines", size.w, size.h, len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > size.w {
				t.Errorf("%dx%d: line %d has %d cells", size.w, size.h, i+1, w)
			}
		}
	}
}

// Server text reaches the screen inert: a hostile subscription error or URL
// cannot drive the terminal.
func TestSuite_ServerTextIsInert(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Browser = &fakeBrowser{} })
	resize(m, 120, 40)
	atSuite(t, m, reportEmpty())
	send(m, enter)
	send(m, suiteSetupMsg{id: sui(m).work.id, err: errors.New("subscription failed: \x1b]52;c;aGk=\x07 \x1b[2J")})
	v := m.View()
	if strings.Contains(v, "\x1b]52") || strings.Contains(v, "\x1b[2J") || !strings.Contains(v, `\x1b]52`) {
		t.Errorf("escape sequences not made inert:\n%q", v)
	}
	r := reportEmpty()
	r.Suite = subscribed(r.Suite)
	r.Suite.URL = "http://x/\x1b[31mred"
	m = newTestModel(t, func(o *Options) { o.Browser = &fakeBrowser{} })
	resize(m, 120, 40)
	atCheck(t, m, subNew, r)
	send(m, enter)
	if v := m.View(); strings.Contains(v, "\x1b[31m") {
		t.Errorf("URL not made inert:\n%q", v)
	}
}
