package ui

import (
	"errors"
	"strings"
	"testing"
)

func rev(m *model) *reviewModel { return m.cur().(*reviewModel) }

// testActions are what steps.Flow.Actions says for the test target.
var testActions = []string{
	`Create instance CPI_SAMPLE_INSTANCE: it-rt/integration-flow in space dev of org acme-cpi-dev-k3x9q2ab_dev with parameters {"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[]}`,
	`Create service key CPI_SAMPLE_INSTANCE-key with parameters {"key-type":"client_id_secret"}`,
	"Read clientid, clientsecret, tokenurl and url, and fetch a token to prove they work",
	`Save the client secret in the OS keychain (service "cpikey", account "acme-cpi-dev-k3x9q2ab/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key")`,
}

func atReview(t *testing.T, m *model) {
	t.Helper()
	atForm(t, m)
	send(m, enter)
	if m.screen() != screenReview {
		t.Fatalf("screen %v, want review", m.screen())
	}
}

func TestReviewScreen(t *testing.T) {
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model)
	}{
		{"loading", func(*testing.T, *model) {}},
		{"actions", func(t *testing.T, m *model) { send(m, actionsMsg{id: rev(m).work.id, actions: testActions}) }},
		{"no_keychain", func(t *testing.T, m *model) {
			send(m, actionsMsg{id: rev(m).work.id, actions: testActions[:3],
				keychainErr: errors.New("keychain: cannot read the secret: no Secret Service (DBUS_SESSION_BUS_ADDRESS is not set)")})
		}},
		{"failed", func(t *testing.T, m *model) {
			send(m, actionsMsg{id: rev(m).work.id, err: errors.New("look up instance CPI_SAMPLE_INSTANCE: 401 Unauthorized")})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				m := newTestModel(t)
				resize(m, w, h)
				atReview(t, m)
				tc.drive(t, m)
				requireGolden(t, m)
			})
		})
	}
}

func TestReview_EnterRunsOnlyWhenActionsAreKnown(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atReview(t, m)
	send(m, enter)
	if m.screen() != screenReview {
		t.Fatal("enter ran before the actions were shown")
	}
	send(m, actionsMsg{id: rev(m).work.id, actions: testActions})
	if !strings.Contains(m.View(), "Create service key CPI_SAMPLE_INSTANCE-key") {
		t.Fatal("actions not shown")
	}
	send(m, enter)
	if m.screen() != screenProgress {
		t.Fatalf("screen %v, want progress", m.screen())
	}
}

func TestReview_EscBackToFormKeepsValues(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atReview(t, m)
	send(m, esc)
	if m.screen() != screenForm || frm(m).instance.value() != "CPI_SAMPLE_INSTANCE" {
		t.Fatalf("esc: screen %v", m.screen())
	}
}

// TestReview_TellsTheTruthAboutTheKeychain: probed before the run, a
// missing keychain is said on the review, with how to get the secret.
func TestReview_TellsTheTruthAboutTheKeychain(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 30)
	atReview(t, m)
	send(m, actionsMsg{id: rev(m).work.id, actions: testActions[:3], keychainErr: errors.New("no Secret Service")})
	v := strings.Join(strings.Fields(m.View()), " ")
	for _, want := range []string{"will not be saved (no Secret Service)", "s shows it", "--json --show-secret"} {
		if !strings.Contains(v, want) {
			t.Errorf("the review does not say %q:\n%s", want, m.View())
		}
	}
	if strings.Contains(v, "is saved in the OS keychain") {
		t.Errorf("the review promises the keychain:\n%s", m.View())
	}
}

// TestReview_NeverBreaksMidToken: names, JSON elements and the keychain
// account's parts stay whole at every golden size.
func TestReview_NeverBreaksMidToken(t *testing.T) {
	whole := []string{"acme-cpi-dev-k3x9q2ab_dev", "CPI_SAMPLE_INSTANCE-key", `{"roles":["ESBMessaging.send"],`,
		`"grant-types":["client_credentials"],`, `"redirect-uris":[]}`, `{"key-type":"client_id_secret"}`,
		"acme-cpi-dev-k3x9q2ab/", "CPI_SAMPLE_INSTANCE/", "(acme-cpi-qa-7h2m4n1p,"}
	for _, s := range sizes {
		t.Run(sizeName(s.w, s.h), func(t *testing.T) {
			m := newTestModel(t)
			resize(m, s.w, 60) // tall enough to see every action
			atReview(t, m)
			send(m, actionsMsg{id: rev(m).work.id, actions: testActions})
			v := m.View()
			for _, w := range whole {
				if !strings.Contains(v, w) {
					t.Errorf("%q is broken across lines at width %d:\n%s", w, s.w, v)
				}
			}
		})
	}
}
