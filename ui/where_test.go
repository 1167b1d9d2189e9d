package ui

import (
	"strings"
	"testing"

	"github.com/cpikey/cpikey/steps"
)

func wh(m *model) *whereModel { return m.cur().(*whereModel) }

func atWhere(t *testing.T, m *model, report *steps.CheckReport) {
	t.Helper()
	atCheck(t, m, report.Subaccount, report)
	send(m, enter)
	if m.screen() != screenWhere {
		t.Fatalf("screen %v, want where", m.screen())
	}
}

func TestWhereScreen(t *testing.T) {
	noCF := reportReady()
	noCF.CF = nil
	cases := []struct {
		name   string
		report *steps.CheckReport
		drive  func(t *testing.T, m *model)
	}{
		{"runtime", reportReady(), func(*testing.T, *model) {}},
		{"loading_orgs", reportReady(), func(t *testing.T, m *model) { send(m, enter) }},
		{"org", reportReady(), func(t *testing.T, m *model) {
			send(m, enter)
			send(m, orgsLoadedMsg{id: wh(m).work.id, orgs: testOrgs})
		}},
		{"space_dev_preselected", reportReady(), func(t *testing.T, m *model) {
			send(m, enter)
			send(m, orgsLoadedMsg{id: wh(m).work.id, orgs: testOrgs})
			send(m, enter)
			send(m, spacesLoadedMsg{id: wh(m).work.id, spaces: testSpaces})
		}},
		{"no_cloud_foundry", noCF, func(t *testing.T, m *model) { send(m, enter) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				m := newTestModel(t)
				resize(m, w, h)
				atWhere(t, m, tc.report)
				tc.drive(t, m)
				requireGolden(t, m)
			})
		})
	}
}

func TestWhere_DevPreselectedAndChosen(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	send(m, enter)
	send(m, orgsLoadedMsg{id: wh(m).work.id, orgs: testOrgs})
	send(m, enter)
	send(m, spacesLoadedMsg{id: wh(m).work.id, spaces: testSpaces})
	if got := wh(m).spList[wh(m).spaces.cursor].Name; got != "dev" {
		t.Fatalf("preselected space %q, want dev", got)
	}
	send(m, enter)
	if m.screen() != screenForm {
		t.Fatalf("screen %v, want form", m.screen())
	}
	w := m.c.where
	if w.runtime != steps.RuntimeCF || w.org.ID != "org-1" || w.space.ID != "sp-dev" {
		t.Fatalf("chose %+v", w)
	}
}

func TestWhere_OtherRuntimeSkipsOrgAndSpace(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	send(m, down, enter)
	if m.screen() != screenForm || m.c.where.runtime != steps.RuntimeOther {
		t.Fatalf("screen %v runtime %q", m.screen(), m.c.where.runtime)
	}
}

func TestWhere_EscStepsBackWithinScreen(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	send(m, enter)
	send(m, orgsLoadedMsg{id: wh(m).work.id, orgs: testOrgs})
	send(m, esc)
	if m.screen() != screenWhere || wh(m).focus != focusRuntime {
		t.Fatal("esc on the org picker did not return to the runtime")
	}
	send(m, esc)
	if m.screen() != screenCheck {
		t.Fatalf("esc on the runtime: screen %v, want check", m.screen())
	}
}

func TestWhere_FlagsChooseWithoutAsking(t *testing.T) {
	m := newTestModel(t, func(o *Options) {
		o.Prefill.Runtime, o.Prefill.Org, o.Prefill.Space = steps.RuntimeCF, testOrgs[0].Name, "prod"
	})
	resize(m, 80, 24)
	atCheck(t, m, subQA, reportReady())
	send(m, enter)
	if wh(m).work.what == "" {
		t.Fatal("--runtime did not load orgs right away")
	}
	send(m, orgsLoadedMsg{id: wh(m).work.id, orgs: testOrgs})
	if !strings.HasPrefix(wh(m).work.what, "Loading spaces") {
		t.Fatal("--org did not pick the org")
	}
	send(m, spacesLoadedMsg{id: wh(m).work.id, spaces: testSpaces})
	if m.screen() != screenForm || m.c.where.space.Name != "prod" {
		t.Fatalf("--space: screen %v space %q", m.screen(), m.c.where.space.Name)
	}
}

func TestWhere_RuntimeOtherFlagSkipsScreen(t *testing.T) {
	m := newTestModel(t, func(o *Options) { o.Prefill.Runtime = steps.RuntimeOther })
	resize(m, 80, 24)
	atCheck(t, m, subQA, reportReady())
	cmd := send(m, enter)
	if cmd == nil {
		t.Fatal("no Cmd from a screen that flags answered")
	}
	send(m, cmd())
	if m.screen() != screenForm || m.c.where.runtime != steps.RuntimeOther {
		t.Fatalf("screen %v runtime %q", m.screen(), m.c.where.runtime)
	}
}
