package ui

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
	"github.com/cpikey/cpikey/steps/clipboard"
)

func rvl(m *model) *revealModel { return m.cur().(*revealModel) }

func atReveal(t *testing.T, m *model, r *steps.Result) {
	t.Helper()
	atProgress(t, m)
	send(m, provisionDoneMsg{id: prog(m).reqID, result: r})
	if m.screen() != screenReveal {
		t.Fatalf("screen %v, want reveal", m.screen())
	}
}

func TestRevealScreen(t *testing.T) {
	keychainFailed := testResult()
	keychainFailed.Keychain = nil
	keychainFailed.KeychainErr = errors.New("keychain: org.freedesktop.secrets is not provided by any .service files (no Secret Service running)")
	keychainFailed.Verified, keychainFailed.Scopes = false, nil
	cases := []struct {
		name   string
		opts   func(*Options)
		result *steps.Result
		drive  func(t *testing.T, m *model)
	}{
		{"linux", func(*Options) {}, testResult(), func(*testing.T, *model) {}},
		{"macos", func(o *Options) { o.GOOS = "darwin" }, testResult(), func(*testing.T, *model) {}},
		{"windows", func(o *Options) { o.GOOS = "windows" }, testResult(), func(*testing.T, *model) {}},
		{"keychain_failed", func(*Options) {}, keychainFailed, func(*testing.T, *model) {}},
		{"copied_secret", func(o *Options) { o.Clipboard = &fakeClipboard{} }, testResult(), func(t *testing.T, m *model) {
			send(m, send(m, runes("2"))())
		}},
		{"copy_failed", func(o *Options) { o.Clipboard = &fakeClipboard{fail: clipboard.ErrUnavailable} }, testResult(), func(t *testing.T, m *model) {
			send(m, send(m, runes("1"))())
		}},
		{"ascii", func(o *Options) { o.ASCII = true }, testResult(), func(*testing.T, *model) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				m := newTestModel(t, tc.opts)
				resize(m, w, h)
				atReveal(t, m, tc.result)
				tc.drive(t, m)
				requireGolden(t, m)
			})
		})
	}
}

func TestReveal_SecretMaskedUntilToggled(t *testing.T) {
	m := newTestModel(t)
	resize(m, 120, 40)
	atReveal(t, m, testResult())
	if strings.Contains(m.View(), testSecret) {
		t.Fatal("secret shown before toggling")
	}
	if !strings.Contains(m.View(), testResult().Credentials.ClientID) || !strings.Contains(m.View(), strings.Repeat("•", 12)) {
		t.Fatalf("clientid or mask missing:\n%s", m.View())
	}
	send(m, runes("s"))
	if !strings.Contains(m.View(), testSecret) {
		t.Fatal("s did not show the secret")
	}
	send(m, runes("s"))
	if strings.Contains(m.View(), testSecret) {
		t.Fatal("s did not hide the secret again")
	}
}

func TestReveal_CopyKeys(t *testing.T) {
	r := testResult()
	c := r.Credentials
	for _, tc := range []struct {
		key    string
		want   string
		secret bool
	}{
		{"1", c.ClientID, false}, {"2", c.ClientSecret, true}, {"3", c.TokenURL, false}, {"4", c.URL, false},
		{"j", `"clientsecret": "` + c.ClientSecret + `"`, true},
	} {
		t.Run(tc.key, func(t *testing.T) {
			cb := &fakeClipboard{}
			m := newTestModel(t, func(o *Options) { o.Clipboard = cb })
			resize(m, 80, 24)
			atReveal(t, m, r)
			cmd := send(m, runes(tc.key))
			if cmd == nil {
				t.Fatal("copy did not run in a Cmd")
			}
			if len(cb.copies) != 0 {
				t.Fatal("copied inside Update")
			}
			send(m, cmd())
			if len(cb.copies) != 1 || !strings.Contains(cb.copies[0], tc.want) || cb.secrets[0] != tc.secret {
				t.Fatalf("copied %q (secret %v)", cb.copies, cb.secrets)
			}
			if !strings.Contains(m.View(), "Copied") {
				t.Fatal("no status line after copying")
			}
		})
	}
}

func TestReveal_CopyFailureDoesNotBreakTheFlow(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Clipboard = &fakeClipboard{fail: clipboard.ErrUnavailable} })
	resize(m, 80, 24)
	atReveal(t, m, testResult())
	send(m, send(m, runes("2"))())
	if m.screen() != screenReveal || !strings.Contains(m.View(), "Could not copy") {
		t.Fatalf("copy failure not reported:\n%s", m.View())
	}
}

func TestReveal_KeychainRetry(t *testing.T) {
	r := testResult()
	r.Keychain, r.KeychainErr = nil, errors.New("keychain locked")
	m := newTestModel(t)
	resize(m, 120, 40)
	atReveal(t, m, r)
	v := rvl(m)
	if !strings.Contains(m.View(), "not saved: keychain locked") {
		t.Fatalf("failure reason not shown:\n%s", m.View())
	}
	send(m, runes("k"))
	if !v.saving {
		t.Fatal("k did not retry saving")
	}
	send(m, keychainSavedMsg{id: v.saveID, ref: &steps.KeychainRef{Service: "cpikey", Account: "a/b/c"}})
	if !strings.Contains(m.View(), "saved in the OS keychain (service cpikey, account a/b/c)") {
		t.Fatalf("saved state not shown:\n%s", m.View())
	}
	if strings.Contains(m.View(), "plain") {
		t.Fatal("mentions a plaintext fallback")
	}
}

func TestReveal_ExtraActionsAppearInHelp(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atReveal(t, m, testResult())
	v := rvl(m)
	hit := false
	b := withHelp(m.e.keys.Retry, "x", "export .env")
	b.SetKeys("x")
	v.actions = append(v.actions, revealAction{binding: b, run: func(*revealModel) tea.Cmd { hit = true; return nil }})
	send(m, runes("?"))
	if !strings.Contains(m.View(), "export .env") {
		t.Fatalf("extra action not in the full help:\n%s", m.View())
	}
	send(m, runes("x"))
	if !hit {
		t.Fatal("extra action did not run")
	}
}
