package ui

import (
	"errors"
	"strings"
	"testing"
)

func rev(m *model) *reviewModel { return m.cur().(*reviewModel) }

var testActions = []string{
	"Create service instance CPI_SAMPLE_INSTANCE (it-rt, plan integration-flow, roles ESBMessaging.send) in org acme-cpi-dev-k3x9q2ab_dev, space dev",
	"Wait until SAP reports the instance ready (usually 1-2 minutes)",
	"Create service key CPI_SAMPLE_INSTANCE-key",
	"Read the credentials and fetch a token to verify them",
	"Save the client secret in the OS keychain (service cpikey)",
}

func atReview(t *testing.T, m *model) {
	t.Helper()
	atForm(t, m)
	send(m, enter, enter, enter, enter)
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
	if m.screen() != screenForm || frm(m).instance.Value() != "CPI_SAMPLE_INSTANCE" {
		t.Fatalf("esc: screen %v", m.screen())
	}
}
