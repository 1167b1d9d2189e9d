package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/adapters/clipboard"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/steps"
)

func rvl(m *model) *revealModel { return m.cur().(*revealModel) }

func atReveal(t *testing.T, m *model, r *steps.Result) {
	t.Helper()
	atProgress(t, m)
	send(m, provisionDoneMsg{id: prog(m).work.id, result: r})
	if m.screen() != screenReveal {
		t.Fatalf("screen %v, want reveal", m.screen())
	}
}

func TestRevealScreen(t *testing.T) {
	keychainFailed := testResult()
	keychainFailed.Keychain = nil
	keychainFailed.KeychainErr = errors.New("keychain: org.freedesktop.secrets is not provided by any .service files (no Secret Service running)")
	keychainFailed.Verified, keychainFailed.Scopes, keychainFailed.Tenant = false, nil, nil
	rejected := testResult()
	rejected.Tenant = &steps.TenantCheck{Method: "GET", URL: rejected.Credentials.URL + "/http/__cpikey_probe__", Status: 401, Outcome: steps.TenantRejected,
		Message: "401 Unauthorized: the tenant rejected a token fresh from the token server: the key's url and tokenurl may belong to different subaccounts, or the key was deleted a moment ago; compare them with cpikey show, or make a new key with cpikey rotate"}
	api := testResult()
	api.Plan = "api"
	api.Credentials.URL = "https://acme-cpi-dev-k3x9q2ab.it-cpi018.cfapps.eu10-003.hana.ondemand.com"
	api.Tenant = &steps.TenantCheck{Method: "GET", URL: api.Credentials.URL + "/api/v1/MessageProcessingLogs?$top=1&$format=json", Status: 200, Outcome: steps.TenantAccepted,
		Message: "the API accepted the token and read MessageProcessingLogs (role MonitoringDataRead); other API calls may need other roles"}
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
		{"profile_kept", func(o *Options) { o.SaveProfile = keepProfile(nil) }, testResult(), func(t *testing.T, m *model) {
			runProfileSave(t, m)
		}},
		{"profile_failed", func(o *Options) {
			o.SaveProfile = keepProfile(errors.New("profile: mkdir /home/x/.config/cpikey: permission denied"))
		},
			testResult(), func(t *testing.T, m *model) { runProfileSave(t, m) }},
		{"export_chooser", func(o *Options) { o.SaveProfile = keepProfile(nil) }, testResult(), func(t *testing.T, m *model) {
			runProfileSave(t, m)
			send(m, runes("e"))
		}},
		{"tenant_rejected", func(*Options) {}, rejected, func(*testing.T, *model) {}},
		{"api_key_with_call", func(o *Options) { o.SaveProfile = keepProfile(nil); o.TryCall = fakeTry(nil) }, api, func(t *testing.T, m *model) {
			runProfileSave(t, m)
		}},
		{"try_call_field", func(o *Options) {
			o.TryCall = fakeTry(nil)
			o.TryPaths = []string{"/http/demo/echo", "/http/demo/fail"}
		}, testResult(), func(t *testing.T, m *model) {
			send(m, runes("c"))
		}},
		{"try_call_ok", func(o *Options) { o.TryCall = fakeTry(tryOK()) }, testResult(), func(t *testing.T, m *model) {
			tryRun(t, m, "/http/demo/echo")
		}},
		{"try_call_failed", func(o *Options) { o.TryCall = fakeTry(tryFailed()) }, testResult(), func(t *testing.T, m *model) {
			tryRun(t, m, "POST /http/demo/fail")
		}},
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

// keepProfile is a SaveProfile hook that builds the profile as main's does
// (without a store) or fails with err.
func keepProfile(err error) func(*steps.Result, steps.Target) (profiles.Profile, error) {
	return func(r *steps.Result, t steps.Target) (profiles.Profile, error) {
		if err != nil {
			return profiles.Profile{}, err
		}
		return profiles.FromResult(r, t, fixedNow), nil
	}
}

// runProfileSave runs the reveal screen's profile Cmd (the last one sent)
// and feeds its message back.
func runProfileSave(t *testing.T, m *model) {
	t.Helper()
	v := rvl(m)
	if !v.profSaving {
		t.Fatal("the reveal screen did not start keeping the profile")
	}
	r, tg := v.current(), v.target
	p, err := m.e.opts.SaveProfile(&r, tg)
	send(m, profileSavedMsg{id: v.profID, profile: p, err: err})
}

func TestReveal_KeepsTheProfileOnce(t *testing.T) {
	var got []steps.Target
	var results []steps.Result
	m := newTestModel(t, func(o *Options) {
		o.SaveProfile = func(r *steps.Result, tg steps.Target) (profiles.Profile, error) {
			got, results = append(got, tg), append(results, *r)
			return profiles.FromResult(r, tg, fixedNow), nil
		}
	})
	resize(m, 120, 40)
	m.c.target = testTarget()
	atProgress(t, m)
	cmd := send(m, provisionDoneMsg{id: prog(m).work.id, result: testResult()})
	if cmd == nil || len(got) != 0 {
		t.Fatal("the profile must be kept in a Cmd, not in Update")
	}
	runProfileSave(t, m)
	if len(got) != 1 || got[0].Instance != testTarget().Instance {
		t.Fatalf("SaveProfile called %d times with %+v", len(got), got)
	}
	if !strings.Contains(m.View(), "kept as acme-cpi-dev-k3x9q2ab/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key") {
		t.Fatalf("profile name not shown:\n%s", m.View())
	}
}

func TestReveal_KeychainRetryKeepsTheProfileAgain(t *testing.T) {
	r := testResult()
	r.Keychain, r.KeychainErr = nil, errors.New("keychain locked")
	var saved []steps.Result
	m := newTestModel(t, func(o *Options) {
		o.SaveProfile = func(r *steps.Result, tg steps.Target) (profiles.Profile, error) {
			saved = append(saved, *r)
			return profiles.FromResult(r, tg, fixedNow), nil
		}
	})
	resize(m, 120, 40)
	atReveal(t, m, r)
	runProfileSave(t, m)
	v := rvl(m)
	send(m, runes("k"))
	cmd := send(m, keychainSavedMsg{id: v.saveID, ref: &steps.KeychainRef{Service: "cpikey", Account: "a/b/c"}})
	if cmd == nil || !v.profSaving {
		t.Fatal("a keychain retry did not keep the profile again")
	}
	runProfileSave(t, m)
	if len(saved) != 2 || saved[0].Keychain != nil || saved[1].Keychain == nil || saved[1].Keychain.Account != "a/b/c" {
		t.Fatalf("profiles kept: %+v", saved)
	}
}

func TestReveal_ExportWritesFilesAndNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		key, file  string
		withSecret bool
		status     string // what the status line says
		also       string // a second file, without the secret
	}{
		{"p", "CPI_SAMPLE_INSTANCE-key.postman_environment.json", true,
			"Import both into Postman (the environment: it holds the client secret", "CPI_SAMPLE_INSTANCE-key.postman_collection.json"},
		{"e", "CPI_SAMPLE_INSTANCE-key.env", true, "Wrote the client secret into", ""},
		{"c", "CPI_SAMPLE_INSTANCE-key-token.sh", false, "Wrote CPI_SAMPLE_INSTANCE-key-token.sh (no secret", ""},
		{"t", "CPI_SAMPLE_INSTANCE-key.tf", false, "Wrote CPI_SAMPLE_INSTANCE-key.tf (no secret", ""},
	} {
		t.Run(tc.key, func(t *testing.T) {
			m := newTestModel(t, func(o *Options) { o.ExportDir = dir })
			resize(m, 80, 24)
			m.c.target = testTarget()
			atReveal(t, m, testResult())
			if send(m, runes("e")) != nil || !rvl(m).export.open {
				t.Fatal("e did not open the chooser")
			}
			if !strings.Contains(m.View(), tc.file) {
				t.Fatalf("chooser does not name %s:\n%s", tc.file, m.View())
			}
			cmd := send(m, runes(tc.key))
			if cmd == nil {
				t.Fatal("export did not run in a Cmd")
			}
			path := filepath.Join(dir, tc.file)
			if _, err := os.Stat(path); err == nil {
				t.Fatal("written inside Update")
			}
			send(m, cmd())
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", st.Mode().Perm())
			}
			if strings.Contains(string(b), testSecret) != tc.withSecret {
				t.Errorf("file contains the secret: %v, want %v", !tc.withSecret, tc.withSecret)
			}
			if !strings.Contains(rvl(m).status, tc.status) || strings.Contains(m.View(), testSecret) {
				t.Fatalf("status after export, want %q:\n%s", tc.status, m.View())
			}
			if tc.also != "" {
				b, err := os.ReadFile(filepath.Join(dir, tc.also))
				if err != nil || strings.Contains(string(b), testSecret) || !strings.Contains(string(b), "pm.sendRequest") {
					t.Fatalf("%s: %v, or it holds the secret, or it fetches no token", tc.also, err)
				}
				if st, _ := os.Stat(filepath.Join(dir, tc.also)); st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v", tc.also, st.Mode().Perm())
				}
			}
			// Again: refused, the file stays as it is.
			os.WriteFile(path, []byte("mine"), 0o600) //nolint:errcheck
			send(m, runes("e"))
			send(m, send(m, runes(tc.key))())
			if b, _ := os.ReadFile(path); string(b) != "mine" || !strings.Contains(m.View(), "Not overwritten, it exists") {
				t.Fatalf("overwrote %s or did not say so:\n%s", path, m.View())
			}
			if tc.also == "" {
				return
			}
			// Only the second file exists: the first is written, the
			// second kept, and the status line says both.
			os.Remove(path)
			os.WriteFile(filepath.Join(dir, tc.also), []byte("mine"), 0o600) //nolint:errcheck
			send(m, runes("e"))
			send(m, send(m, runes(tc.key))())
			if b, _ := os.ReadFile(filepath.Join(dir, tc.also)); string(b) != "mine" {
				t.Fatalf("overwrote %s", tc.also)
			}
			if _, err := os.Stat(path); err != nil || !strings.Contains(rvl(m).status, "Wrote the environment (it holds the client secret); not overwritten, it exists: "+tc.also) {
				t.Fatalf("with only %s there: %v\n%s", tc.also, err, rvl(m).status)
			}
		})
	}
}

func TestReveal_ExportChooserEscCancels(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.ExportDir = t.TempDir() })
	resize(m, 80, 24)
	atReveal(t, m, testResult())
	send(m, runes("e"))
	send(m, esc)
	if rvl(m).export.open || m.screen() != screenReveal {
		t.Fatal("esc did not close the chooser")
	}
	send(m, runes("q")) // done, not swallowed by a closed chooser
	if !m.done {
		t.Fatal("q did not finish after the chooser closed")
	}
}
