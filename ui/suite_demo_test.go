package ui

import (
	"bytes"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// chanBrowser hands opened URLs to the test (it runs in a Cmd).
type chanBrowser chan string

func (c chanBrowser) Open(url string) error { c <- url; return nil }

// TestDemoWalkthrough_EmptySubaccount drives the whole program against the
// simulator from a subaccount without Integration Suite to a revealed key:
// the setup, the browser step (the test opens the page, as the person
// would), the role collections, then the usual screens.
func TestDemoWalkthrough_EmptySubaccount(t *testing.T) {
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyring.MockInit()
	kc := keychain.New(keychain.Options{GOOS: "linux", Getenv: func(k string) string {
		if k == "DBUS_SESSION_BUS_ADDRESS" {
			return "unix:path=/nonexistent"
		}
		return ""
	}})
	rep := NewReporter()
	flow := steps.New(steps.Config{
		CLIServerURL: s.CLIServerURL(), Reporter: rep, Keyring: kc,
		BTPConfigPath: filepath.Join(t.TempDir(), "no-btp-config.json"),
		PollMin:       time.Millisecond, PollMax: 20 * time.Millisecond,
	})
	browser := make(chanBrowser, 4)
	m := New(Options{
		Flow: flow, Reporter: rep, Demo: true, Clipboard: &fakeClipboard{}, Browser: browser, GOOS: "linux",
		Getenv:  func(string) string { return "" },
		Prefill: steps.HeadlessInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword},
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	out := tm.Output()
	wait := func(what ...string) {
		t.Helper()
		teatest.WaitFor(t, out, func(b []byte) bool {
			for _, w := range what {
				if !bytes.Contains(b, []byte(w)) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	}
	key := func(k tea.KeyType) { tm.Send(tea.KeyMsg{Type: k}) }

	wait("How do you want to log in?", "enter log in")
	key(tea.KeyEnter) // everything is filled in: log in
	wait("Choose the subaccount", sim.SubEmpty)
	key(tea.KeyDown) // CPI Dev, then CPI New
	key(tea.KeyEnter)
	wait("Integration Suite entitlement", "Press enter to set up SAP Integration Suite first")
	key(tea.KeyEnter)
	wait("cpikey can", "enterprise_agreement", "free")
	key(tea.KeyDown) // plan free
	key(tea.KeyEnter)
	var url string
	select {
	case url = <-browser:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription URL was never opened")
	}
	wait("Activate Cloud Integration in your browser", "Add Capabilities -> Build Integration Scenarios -> Activate")
	if url != s.SuiteURL(sim.SubEmptySubdomain) {
		t.Fatalf("opened %q", url)
	}
	resp, err := http.Get(url) // the person in the browser
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	key(tea.KeyEnter) // look now
	wait("Cloud Integration looks activated", "PI_Integration_Developer and PI_Administrator")
	key(tea.KeyEnter) // assign them
	wait("What exists, what is missing", "Press enter to assign")
	key(tea.KeyEnter)
	wait("Where the instance goes", "Press enter to accept")
	key(tea.KeyEnter)
	wait("Instance and key", "new: will be created")
	key(tea.KeyEnter)
	wait("cpikey will:", "enter run")
	key(tea.KeyEnter)
	wait("Your OAuth client", "clientid")
	key(tea.KeyEnter)

	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if final.screen() != screenReveal || final.c.result == nil || !final.c.result.Verified {
		t.Fatalf("ended on %v with %+v", final.screen(), final.c.result)
	}
	st, _ := s.SuiteOf(sim.SubEmptySubdomain)
	if st.EntitledPlan != "free" || st.Subscription != itrt.SubscriptionSubscribed || !st.Activated {
		t.Errorf("Integration Suite: %+v", st)
	}
	me := sim.AdminUser + " (sap.default)"
	for _, rc := range []string{itrt.RoleProvisioner, itrt.RolePIIntegrationDev, itrt.RolePIAdministrator} {
		if !slices.Contains(st.Holders[rc], me) {
			t.Errorf("%s not assigned: %v", rc, st.Holders[rc])
		}
	}
}
