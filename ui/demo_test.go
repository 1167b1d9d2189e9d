package ui

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

// TestDemoWalkthrough drives the whole program (teatest) against the
// simulator over loopback HTTP, from login to reveal, with default answers.
func TestDemoWalkthrough(t *testing.T) {
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keyring.MockInit()
	kc := keychain.New(keychain.Options{GOOS: "linux", Getenv: func(k string) string {
		if k == "DBUS_SESSION_BUS_ADDRESS" {
			return "unix:path=/nonexistent" // the mock keyring needs no bus
		}
		return ""
	}})
	rep := NewReporter()
	flow := steps.New(steps.Config{
		CLIServerURL: s.CLIServerURL(), Reporter: rep, Keyring: kc,
		BTPConfigPath: filepath.Join(t.TempDir(), "no-btp-config.json"),
		PollMin:       time.Millisecond, PollMax: 20 * time.Millisecond,
	})
	cb := &fakeClipboard{}
	m := New(Options{
		Flow: flow, Reporter: rep, Demo: true, Clipboard: cb, GOOS: "linux",
		Getenv:  func(string) string { return "" },
		Prefill: steps.HeadlessInput{GlobalAccount: sim.GASubdomain, User: sim.AdminUser, Password: sim.AdminPassword},
	})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))

	out := tm.Output()
	wait := func(what ...string) {
		t.Helper()
		var seen []byte
		teatest.WaitFor(t, out, func(b []byte) bool {
			seen = b
			for _, w := range what {
				if !bytes.Contains(b, []byte(w)) {
					return false
				}
			}
			return true
		}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
		if bytes.Contains(seen, []byte(sim.AdminPassword)) {
			t.Fatal("the password reached the screen")
		}
	}
	keys := 0
	key := func(k tea.KeyType) { keys++; tm.Send(tea.KeyMsg{Type: k}) }

	// Every default accepted: one key a screen.
	wait("How do you want to log in?", "DEMO", "enter log in")
	key(tea.KeyEnter) // everything is filled in: log in
	wait("Choose the subaccount", sim.SubFresh)
	key(tea.KeyEnter) // the first row
	wait("What exists, what is missing", "Press enter to assign")
	key(tea.KeyEnter) // assign the missing plans
	wait("Where the instance goes", "Press enter to accept")
	key(tea.KeyEnter) // Cloud Foundry, the subaccount's org, dev
	wait("Instance and key", "new: will be created")
	key(tea.KeyEnter)
	wait("cpikey will:", "enter run")
	key(tea.KeyEnter)
	wait("Your OAuth client", "clientid")
	if keys > 7 {
		t.Errorf("%d keys to the credentials, want at most 7", keys)
	}
	key(tea.KeyEnter) // done

	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if final.screen() != screenReveal || final.interrupted {
		t.Fatalf("ended on %v (interrupted %v)", final.screen(), final.interrupted)
	}
	r := final.c.result
	var want string
	s.Do(func(w *sim.World) {
		for _, k := range w.Keys {
			if k.Name == steps.DefaultKeyName(steps.DefaultInstance) && !k.Deleted {
				want = k.ClientID
			}
		}
	})
	if want == "" || r.Credentials.ClientID != want {
		t.Fatalf("revealed clientid %q, simulator has %q", r.Credentials.ClientID, want)
	}
	b, _ := io.ReadAll(tm.FinalOutput(t))
	view := final.View()
	if !strings.Contains(view, want) {
		t.Fatalf("clientid not on screen:\n%s", view)
	}
	if r.Credentials.ClientSecret == "" || strings.Contains(view, r.Credentials.ClientSecret) || bytes.Contains(b, []byte(r.Credentials.ClientSecret)) {
		t.Fatal("the client secret was shown unmasked")
	}
	if !strings.Contains(view, strings.Repeat("•", 12)) {
		t.Fatalf("no mask on screen:\n%s", view)
	}
}
