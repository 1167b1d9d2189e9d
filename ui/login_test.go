package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/steps"
)

func envWith(vars map[string]string) func(*Options) {
	return func(o *Options) { o.Getenv = func(k string) string { return vars[k] } }
}

func prefilledLogin(o *Options) {
	o.LastGlobalAccount = "acme-global"
	envWith(map[string]string{"BTP_USERNAME": "admin@acme.example", "BTP_PASSWORD": testPassword})(o)
}

func login(m *model) *loginModel { return m.cur().(*loginModel) }

func TestLoginScreen(t *testing.T) {
	cases := []struct {
		name  string
		opts  func(*Options)
		drive func(t *testing.T, m *model)
	}{
		{"fresh", func(*Options) {}, func(*testing.T, *model) {}},
		{"prefilled_from_env_and_last_run", prefilledLogin, func(*testing.T, *model) {}},
		{"existing_session_offered", func(*Options) {}, func(t *testing.T, m *model) {
			send(m, sessionFoundMsg{session: &steps.ExistingSession{GlobalAccount: "acme-global", User: "admin@acme.example"}})
			send(m, down, down)
			if login(m).current() != methodSession {
				t.Fatalf("third method = %v, want the existing session", login(m).current())
			}
		}},
		{"login_failed_shows_reason", prefilledLogin, func(t *testing.T, m *model) {
			send(m, enter)
			l := login(m)
			if l.work.what == "" {
				t.Fatal("enter on a complete login screen did not start the login")
			}
			send(m, loginDoneMsg{id: l.work.id, err: errors.New("log in to acme-global: user or password is wrong (401)")})
		}},
		{"sso_waiting_browser_failed", func(o *Options) { o.LastGlobalAccount = "acme-global" }, func(t *testing.T, m *model) {
			send(m, down, enter, enter)
			l := login(m)
			send(m, ssoStartedMsg{id: l.work.id, login: &steps.SSOLogin{URL: "http://127.0.0.1:40111/login/v2.106.1/browser/6c1d5a0e-1f7a-4b5e-9c2d-0a1b2c3d4e5f"}})
			send(m, browserOpenedMsg{id: l.work.id, err: errors.New("xdg-open: no method available")})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				m := newTestModel(t, tc.opts)
				m.Init()
				resize(m, w, h)
				tc.drive(t, m)
				requireGolden(t, m)
			})
		})
	}
}

func TestLogin_PasswordLoginGoesToSubaccounts(t *testing.T) {
	m := newTestModel(t, prefilledLogin)
	resize(m, 80, 24)
	// Everything is pre-filled: one Enter logs in, wherever the focus is.
	if cmd := send(m, enter); cmd == nil || login(m).work.what == "" {
		t.Fatal("enter on a complete login screen did not start the login in a Cmd")
	}
	l := login(m)
	send(m, loginDoneMsg{id: l.work.id + 7, acct: testAccount}) // stale
	if m.screen() != screenLogin {
		t.Fatal("a stale login result was acted on")
	}
	send(m, loginDoneMsg{id: l.work.id, acct: testAccount})
	if m.screen() != screenSubaccount {
		t.Fatalf("after login the screen is %v, want subaccount", m.screen())
	}
	if m.c.account != testAccount {
		t.Error("the account was not kept")
	}
}

func TestLogin_ErrorThenRetryWithoutRestart(t *testing.T) {
	m := newTestModel(t, prefilledLogin)
	resize(m, 80, 24)
	send(m, enter)
	first := login(m).work.id
	send(m, loginDoneMsg{id: first, err: errors.New("user or password is wrong")})
	if !strings.Contains(m.View(), "User or password is wrong") {
		t.Fatalf("error not shown:\n%s", m.View())
	}
	send(m, enter)
	if l := login(m); l.work.what == "" || l.work.id == first {
		t.Fatalf("enter after an error did not retry (running %q, id %d)", l.work.what, l.work.id)
	}
}

func TestLogin_RequiresGlobalAccount(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	send(m, enter) // to the global account field
	typeText(m, "")
	send(m, enter, enter, enter) // empty fields, submit at password
	l := login(m)
	if l.work.what != "" {
		t.Fatal("login started without a global account")
	}
	if l.focus != fieldGA || l.err == nil || !strings.Contains(l.err.Error(), "global account subdomain") {
		t.Fatalf("focus %d, err %v; want the global account field with a hint", l.focus, l.err)
	}
}

func TestLogin_FlagsLogInWithoutAsking(t *testing.T) {
	full := func(o *Options) {
		o.Prefill = steps.HeadlessInput{GlobalAccount: "acme-global", User: "admin@acme.example", Password: testPassword}
	}
	m := newTestModel(t, full)
	m.Init()
	if login(m).work.what == "" {
		t.Fatal("complete login flags did not log in right away")
	}
	demo := newTestModel(t, full, func(o *Options) { o.Demo = true })
	demo.Init()
	if login(demo).work.what != "" {
		t.Fatal("the demo must show the login screen")
	}
	if got := login(demo).pass.Value(); got != testPassword {
		t.Fatal("the demo did not pre-fill the password")
	}
}

func TestLogin_SSOOpensBrowserPrintsURLAndEscCancels(t *testing.T) {
	b := &fakeBrowser{}
	m := newTestModel(t, func(o *Options) { o.LastGlobalAccount = "acme-global"; o.Browser = b })
	resize(m, 100, 30)
	send(m, down, enter, enter)
	l := login(m)
	url := "http://127.0.0.1:40111/login/v2.106.1/browser/abc"
	send(m, ssoStartedMsg{id: l.work.id, login: &steps.SSOLogin{URL: url}})
	msg := l.openBrowser(l.work.id, url)()
	send(m, msg)
	if len(b.urls) != 1 || b.urls[0] != url {
		t.Fatalf("browser opened %v, want %s", b.urls, url)
	}
	if !strings.Contains(m.View(), url) {
		t.Fatal("the SSO URL is not printed")
	}
	send(m, esc)
	if l.work.what != "" || m.screen() != screenLogin {
		t.Fatal("esc did not stop waiting for the browser login")
	}
}
