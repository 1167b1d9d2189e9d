package ui

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// The wizard against a hostile SAP (sim.Config.Hostile): every name and
// message carries OSC 52, OSC 0, CSI 2J, a bare CR with a forged line, a
// bidi override, C1 controls and DEL. The root model is driven with tea
// messages, the flow's commands run against the simulator over loopback,
// and every frame rendered on the way (at 120x40, and at each checkpoint
// also at 80x24 and 60x16) must hold no control character but newlines:
// without colour (the tests' profile) our own styling adds none, so any
// would be the server's. Each checkpoint must show the server's text
// escaped. CI prints the summary line (go test -run '^TestHostile_' -v).

// hostileUI drives one wizard against one hostile simulator.
type hostileUI struct {
	t        *testing.T
	s        *sim.Server
	m        *model
	msgs     chan tea.Msg
	done     chan struct{}
	frames   int // frames checked
	controls int // control runes found in them
	quit     bool
}

// hostileTally is what the summary line counts.
type hostileTally struct {
	strings     map[string]bool
	checkpoints int
	frames      int
	controls    int
}

func newHostileUI(t *testing.T, cfg sim.Config, prefill steps.HeadlessInput, faults ...sim.Fault) *hostileUI {
	t.Helper()
	cfg.Hostile, cfg.EntitlementPadding = true, -1
	s, err := sim.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for _, f := range faults {
		s.Inject(f)
	}
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
	prefill.GlobalAccount = sim.GASubdomain
	if prefill.User == "" {
		prefill.User, prefill.Password = sim.AdminUser, sim.AdminPassword
	}
	d := &hostileUI{t: t, s: s, msgs: make(chan tea.Msg), done: make(chan struct{})}
	d.m = New(Options{Flow: flow, Reporter: rep, Clipboard: &fakeClipboard{}, GOOS: "linux",
		Getenv: func(string) string { return "" }, Prefill: prefill,
	}).(*model)
	t.Cleanup(func() { close(d.done); d.m.e.cancel() })
	d.deliver(tea.WindowSizeMsg{Width: 120, Height: 40})
	d.exec(d.m.Init())
	return d
}

// exec runs cmd the way Bubble Tea does: in its own goroutine.
func (d *hostileUI) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		select {
		case d.msgs <- msg:
		case <-d.done:
		}
	}()
}

// deliver feeds msg to the root model and checks the frame it renders.
func (d *hostileUI) deliver(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.exec(c)
		}
		return
	case spinner.TickMsg:
		return // no animation: no timer keeps the loop busy
	case tea.QuitMsg:
		d.quit = true
		return
	}
	_, cmd := d.m.Update(msg)
	d.check(d.m.View())
	d.exec(cmd)
}

// check fails the test for any control character in a frame.
func (d *hostileUI) check(frame string) {
	d.t.Helper()
	d.frames++
	bad := safetext.Controls(frame)
	if strings.Contains(frame, "\t") {
		bad = append(bad, '\t')
	}
	if len(bad) > 0 {
		d.controls += len(bad)
		d.t.Fatalf("%v frame holds control runes %q:\n%s", d.m.screen(), bad, frame)
	}
}

func (d *hostileUI) key(k tea.KeyMsg) { d.deliver(k) }

// until delivers messages until cond holds.
func (d *hostileUI) until(what string, cond func() bool) {
	d.t.Helper()
	timeout := time.After(15 * time.Second)
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.deliver(msg)
		case <-timeout:
			d.t.Fatalf("timed out waiting for %s on the %v screen:\n%s", what, d.m.screen(), d.m.View())
		}
	}
}

// shows reports whether frame holds want, however it was wrapped.
func shows(frame, want string) bool { return strings.Contains(squash(frame), squash(want)) }

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// enterUntil presses Enter whenever the wizard is idle (no message for a
// moment) until the frame shows want: the default answer to every question.
func (d *hostileUI) enterUntil(want string) {
	d.t.Helper()
	timeout := time.After(15 * time.Second)
	for !shows(d.m.View(), want) {
		select {
		case msg := <-d.msgs:
			d.deliver(msg)
		case <-time.After(40 * time.Millisecond):
			d.key(enter)
		case <-timeout:
			d.t.Fatalf("timed out waiting for %q on the %v screen:\n%s", want, d.m.screen(), d.m.View())
		}
	}
}

// on waits for screen s to show want.
func (d *hostileUI) on(s screen, want string) {
	d.t.Helper()
	d.until(fmt.Sprintf("%q on %v", want, s), func() bool { return d.m.screen() == s && shows(d.m.View(), want) })
}

// escaped is how the attacks look once inert: the simulator's body texts
// start with OSC 52, its header texts with an 8-bit OSC.
const escapedBody, escapedHeader = `\x1b]52`, `\u009d52`

// checkpoint is an output: the frame shows the server's text escaped (and
// want), at every size.
func (d *hostileUI) checkpoint(tally *hostileTally, name string, want ...string) {
	d.t.Helper()
	frame := d.m.View()
	if !shows(frame, escapedBody) && !shows(frame, escapedHeader) {
		d.t.Errorf("%s: the %v screen does not show the server's text escaped:\n%s", name, d.m.screen(), frame)
	}
	for _, w := range want {
		if !shows(frame, w) {
			d.t.Errorf("%s: the %v screen lacks %s:\n%s", name, d.m.screen(), w, frame)
		}
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {60, 16}, {120, 40}} {
		d.deliver(tea.WindowSizeMsg{Width: size.w, Height: size.h})
	}
	tally.checkpoints++
}

// inspectFrames is checkpoint for a model driven by hand: the frame (or
// for "summary" the text left in the terminal) shows the server's text
// escaped and want, and holds no control rune at any size.
func inspectFrames(t *testing.T, tally *hostileTally, m *model, name string, want ...string) {
	t.Helper()
	var frames []string
	if name == "summary" {
		frames = []string{m.Summary()}
	} else {
		for _, size := range []struct{ w, h int }{{120, 40}, {80, 24}, {60, 16}, {120, 40}} {
			resize(m, size.w, size.h)
			frames = append(frames, m.View())
		}
	}
	for _, f := range frames {
		tally.frames++
		bad := safetext.Controls(f)
		if strings.Contains(f, "\t") {
			bad = append(bad, '\t')
		}
		if len(bad) > 0 {
			tally.controls += len(bad)
			t.Fatalf("%s: frame holds control runes %q:\n%s", name, bad, f)
		}
	}
	if !shows(frames[0], escapedBody) {
		t.Errorf("%s: the server's text is not shown escaped:\n%s", name, frames[0])
	}
	for _, w := range want {
		if !shows(frames[0], w) {
			t.Errorf("%s lacks %s:\n%s", name, w, frames[0])
		}
	}
	tally.checkpoints++
}

func (d *hostileUI) finish(tally *hostileTally) {
	tally.frames += d.frames
	tally.controls += d.controls
	for _, h := range d.s.HostileStrings() {
		tally.strings[h] = true
	}
}

func TestHostile_WizardShowsServerTextInert(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	tally := &hostileTally{strings: map[string]bool{}}
	slow := sim.Config{EntitleTime: 300 * time.Millisecond, ProvisionTime: 300 * time.Millisecond, BindTime: 100 * time.Millisecond}

	t.Run("every screen", func(t *testing.T) {
		d := newHostileUI(t, slow, steps.HeadlessInput{})
		d.on(screenLogin, "How do you want to log in?")
		d.enterUntil("Choose the subaccount")
		d.on(screenSubaccount, "4 subaccounts")
		d.checkpoint(tally, "subaccount list", `CPI Dev \x1b]52;c;`, `Integration Projects \x1b]52;c;`)
		for _, r := range "dev" {
			d.key(runes(string(r)))
		}
		d.on(screenSubaccount, "1 of 4 subaccounts")
		d.checkpoint(tally, "subaccount filtered", `CPI Dev \x1b]52;c;`)
		d.key(enter)
		d.on(screenCheck, "Press enter to assign")
		d.checkpoint(tally, "check", `Subaccount CPI Dev \x1b]52;c;`, `to CPI Dev \x1b]52;c;`)
		d.key(enter) // assigns at once
		d.until("an entitlement event", func() bool { e, ok := d.m.cur().(*entitleModel); return ok && e.last != nil })
		d.checkpoint(tally, "entitle", `subaccount CPI Dev \x1b]52;c;`, `to CPI Dev \x1b]52;c;`)
		d.until("the org and its spaces", func() bool { w, ok := d.m.cur().(*whereModel); return ok && w.chosen() != nil })
		d.checkpoint(tally, "where", `Cloud Foundry org acme-cpi-dev-k3x9q2ab_dev \x1b]52;c;`)
		d.key(tab)
		d.checkpoint(tally, "org list", `(•) acme-cpi-dev-k3x9q2ab_dev \x1b]52;c;`)
		d.key(tab)
		for w := d.m.cur().(*whereModel); !strings.HasPrefix(w.spList[w.spaces.cursor].Name, "staging"); {
			d.key(down)
		}
		d.checkpoint(tally, "space list", `staging \x1b]52;c;`)
		d.key(enter)
		d.until("the instances of the space", func() bool { f, ok := d.m.cur().(*formModel); return ok && len(f.instances) > 0 && !f.checking })
		d.checkpoint(tally, "form", `CPI_OTHER \x1b]52;c;`)
		f := d.m.cur().(*formModel)
		for f.focus != formInstance {
			d.key(tab)
		}
		d.key(down) // the instance someone else named
		d.until("its keys", func() bool { return len(f.key.options) > 0 })
		d.checkpoint(tally, "form with that instance picked", `CPI_OTHER-key \x1b]52;c;`)
		d.key(up) // back to a new instance
		d.until("a new name again", func() bool { return !f.instance.picked() && !f.checking })
		d.enterUntil("cpikey will:")
		d.on(screenReview, "Press enter to run")
		d.checkpoint(tally, "review", `in space staging \x1b]52;c;`, `Where Cloud Foundry org acme-cpi-dev-k3x9q2ab_dev \x1b]52;c;`)
		d.key(enter)
		d.until("a progress event naming the space", func() bool {
			return d.m.screen() == screenProgress && shows(d.m.View(), `in space staging \x1b]52;c;`)
		})
		d.checkpoint(tally, "progress")
		d.on(screenReveal, "clientid")
		d.key(enter) // done
		d.until("the end", func() bool { return d.quit })
		summary := d.m.Summary()
		d.check(summary)
		if !strings.Contains(summary, `for CPI Dev \x1b]52;c;`) {
			t.Errorf("the summary does not show the subaccount name escaped:\n%s", summary)
		}
		tally.checkpoints++
		d.finish(tally)
	})

	// Failure paths: each error the wizard shows quotes SAP.
	ready := steps.HeadlessInput{Subaccount: sim.SubReadySubdomain}
	fresh := steps.HeadlessInput{Subaccount: sim.SubFreshSubdomain}
	for _, fc := range []struct {
		name   string
		in     steps.HeadlessInput
		faults []sim.Fault
		screen screen
		want   string
	}{
		{"login refused (X-Cpcli-Server-Message)", steps.HeadlessInput{},
			[]sim.Fault{{Kind: sim.FaultHTTPStatus, Match: "cli:login", Status: 403, Message: "Access denied", Times: 9}},
			screenLogin, `Access denied \u009d52;c;`},
		{"Cloud Foundry login (UAA error description)", ready,
			[]sim.Fault{{Kind: sim.FaultHTTPStatus, Match: "uaa:POST /oauth/token", Status: 401, Times: 9}},
			screenCheck, `Bad credentials \x1b]52;c;`},
		{"entitlement failure text", fresh,
			[]sim.Fault{{Kind: sim.FaultEntitlementFailure, Match: "cli:accounts/entitlement?assign"}},
			screenEntitle, `did not confirm the assignment. \x1b]52;c;`},
		{"X-Cpcli-Backend-Message", steps.HeadlessInput{Subaccount: sim.SubFreshSubdomain, User: sim.ViewerUser, Password: sim.ViewerPass},
			nil, screenEntitle, `not authorized to use this command. \u009d52;c;`},
		{"org list (CF error detail)", ready,
			[]sim.Fault{{Kind: sim.FaultHTTPStatus, Match: "cf:GET /v3/organizations", Status: 422, Times: 9}},
			screenWhere, `An unknown error occurred. \x1b]52;c;`},
		{"instance lookup in the form (CF error detail)", ready,
			[]sim.Fault{{Kind: sim.FaultHTTPStatus, Match: "cf:GET /v3/service_instances", Status: 422, Times: 99}},
			screenForm, `could not check whether it exists: cloud foundry GET /v3/service_instances: An unknown error occurred. \x1b]52`},
		{"actions on review (CF error detail)", ready,
			[]sim.Fault{{Kind: sim.FaultHTTPStatus, Match: "cf:GET /v3/service_instances", Status: 422, Times: 99}},
			screenReview, `Work out the actions: cloud foundry GET /v3/service_instances: An unknown error occurred. \x1b]52;c;`},
		{"CF broker failure text", ready,
			[]sim.Fault{{Kind: sim.FaultBrokerFailure, Match: "cf:POST /v3/service_instances"}},
			screenProgress, `in SAP Integration Suite \x1b]52;c;`},
		{"CF job failure text", ready,
			[]sim.Fault{{Kind: sim.FaultJobFailure, Match: "cf:POST /v3/service_credential_bindings"}},
			screenProgress, `(simulated failure) \x1b]52;c;`},
		{"Service Manager broker text", steps.HeadlessInput{Subaccount: sim.SubNoCFSubdomain, Runtime: steps.RuntimeOther},
			[]sim.Fault{{Kind: sim.FaultBrokerFailure, Match: "cli:services/instance?create"}},
			screenProgress, `in SAP Integration Suite \x1b]52;c;`},
	} {
		t.Run(fc.name, func(t *testing.T) {
			d := newHostileUI(t, sim.Config{}, fc.in, fc.faults...)
			if fc.screen == screenForm {
				// Enter would leave the form before its lookup answers.
				d.enterUntil("Instance name")
				d.on(screenForm, fc.want)
			}
			d.enterUntil(fc.want)
			if d.m.screen() != fc.screen {
				t.Errorf("the error shows on the %v screen, want %v", d.m.screen(), fc.screen)
			}
			d.checkpoint(tally, fc.name)
			d.finish(tally)
		})
	}

	// The Integration Suite screen, from an empty subaccount: its heading,
	// a failed subscription's text, the browser step and the roles offer.
	t.Run("Integration Suite from an empty subaccount", func(t *testing.T) {
		d := newHostileUI(t, sim.Config{SubscribeFailures: 1}, steps.HeadlessInput{Subaccount: sim.SubEmptySubdomain})
		d.enterUntil("set up SAP Integration Suite first")
		d.on(screenCheck, "Integration Suite entitlement")
		d.checkpoint(tally, "check, Integration Suite missing", `Subaccount CPI New \x1b]52;c;`)
		d.key(enter)
		d.on(screenSuite, "cpikey can")
		d.checkpoint(tally, "Integration Suite actions", `Subaccount CPI New \x1b]52;c;`)
		d.key(enter)
		d.on(screenSuite, "SUBSCRIBE_FAILED")
		d.checkpoint(tally, "failed subscription", `500 INTERNAL_SERVER_ERROR \x1b]52;c;`)
		d.key(runes("r"))
		d.on(screenSuite, "Activate Cloud Integration in your browser")
		d.checkpoint(tally, "browser step", `Subaccount CPI New \x1b]52;c;`)
		resp, err := http.Get(d.s.SuiteURL(sim.SubEmptySubdomain)) // the person in the browser
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		d.until("the activation seen", func() bool {
			if s, ok := d.m.cur().(*suiteModel); ok && s.stage == suiteBrowser && !s.work.running() {
				d.key(enter) // look now
			}
			return shows(d.m.View(), "Cloud Integration looks activated") && !d.m.cur().(*suiteModel).work.running()
		})
		d.checkpoint(tally, "role collections offer", `Subaccount CPI New \x1b]52;c;`)
		d.key(runes("s"))
		d.on(screenCheck, "Press enter to assign")
		d.finish(tally)
	})

	// What the simulator does not make hostile (the key's values, the SSO
	// and passcode URLs) is fed to the screens as the flow's messages.
	h := func(s string) string { tally.strings[sim.Hostile(s)] = true; return sim.Hostile(s) }
	t.Run("reveal with hostile credentials", func(t *testing.T) {
		r := testResult()
		r.Credentials.ClientID, r.Credentials.TokenURL, r.Credentials.URL = h("sb-1"), h("https://a.example/oauth/token"), h("https://b.example")
		r.Scopes, r.Keychain.Account = []string{h("it-rt.ESBMessaging.send")}, h("acme/CPI_SAMPLE_INSTANCE/key")
		m := newTestModel(t, func(o *Options) {
			o.SaveProfile = func(*steps.Result, steps.Target) (profiles.Profile, error) {
				return profiles.Profile{Name: h("acme/CPI_SAMPLE_INSTANCE/key")}, nil
			}
		})
		resize(m, 120, 40)
		atReveal(t, m, r)
		v := rvl(m)
		send(m, profileSavedMsg{id: v.profID, profile: profiles.Profile{Name: h("acme/CPI_SAMPLE_INSTANCE/key")}})
		inspectFrames(t, tally, m, "reveal", `[1] clientid sb-1 \x1b]52`, `kept as acme/CPI_SAMPLE_INSTANCE/key \x1b]52`, `curl -s -u 'sb-1 \x1b]52`)
		inspectFrames(t, tally, m, "summary", `clientid: sb-1 \x1b]52`)
		r.Verified, r.VerifyErr = false, errors.New(h("invalid_client: Bad credentials"))
		atReveal(t, m, r)
		inspectFrames(t, tally, m, "reveal not verified", `not verified: invalid_client: Bad credentials \x1b]52`)
	})
	t.Run("tenant check and inline call", func(t *testing.T) {
		r := testResult()
		r.Tenant = &steps.TenantCheck{Method: "GET", URL: "https://t.example/http/x", Status: 403,
			Outcome: steps.TenantRoleMissing, Message: h("the runtime refused the token")}
		res := tryFailed()
		res.Response.Body = []byte(h("An internal server error occured") + "\n" + h("second line"))
		res.Diagnosis, res.Notes = h("500 Internal Server Error: the iFlow failed"), []string{h("a note")}
		m := newTestModel(t, func(o *Options) { o.TryCall = fakeTry(res) })
		resize(m, 120, 40)
		atReveal(t, m, r)
		inspectFrames(t, tally, m, "tenant check", `the runtime refused the token \x1b]52`)
		tryRun(t, m, "/http/x")
		inspectFrames(t, tally, m, "inline call", `An internal server error occured \x1b]52`, `a note \x1b]52`, `the iFlow failed \x1b]52`)
	})
	t.Run("SSO login URL", func(t *testing.T) {
		m := newTestModel(t, func(o *Options) { o.LastGlobalAccount = "acme-global"; o.Browser = &fakeBrowser{} })
		resize(m, 120, 40)
		send(m, down, enter, enter)
		send(m, ssoStartedMsg{id: login(m).work.id, login: &steps.SSOLogin{URL: h("https://cli.btp.cloud.sap/login/browser/x")}})
		inspectFrames(t, tally, m, "SSO URL", `https://cli.btp.cloud.sap/login/browser/x \x1b]52`)
	})
	t.Run("Cloud Foundry passcode URL", func(t *testing.T) {
		p := NewPasscode()
		m := newTestModel(t, func(o *Options) { o.Passcode = p })
		resize(m, 120, 40)
		go p.Ask(m.e.ctx, h("https://login.cf.eu10.hana.ondemand.com/passcode")) //nolint:errcheck // answered by the cancel at the end
		send(m, p.wait(m.e.ctx)())
		inspectFrames(t, tally, m, "passcode URL", `/passcode \x1b]52`)
		m.e.cancel()
	})

	if !t.Failed() {
		t.Logf("%d frames checked", tally.frames)
		// stdout, so `go test -v` shows it at the start of a line (CI greps ^hostile:)
		fmt.Printf("hostile: %d strings x %d outputs, %d control bytes (wizard: every screen, %d frames)\n",
			len(tally.strings), tally.checkpoints, tally.controls, tally.frames)
	}
}
