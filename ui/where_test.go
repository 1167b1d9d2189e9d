package ui

import (
	"testing"

	"github.com/cpikey/cpikey/configdir"
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

// loaded delivers the orgs and then the spaces the screen asked for.
func loaded(m *model) {
	send(m, orgsLoadedMsg{id: wh(m).work.id, orgs: testOrgs})
	send(m, spacesLoadedMsg{id: wh(m).work.id, spaces: testSpaces})
}

func TestWhereScreen(t *testing.T) {
	noCF := reportReady()
	noCF.CF = nil
	cases := []struct {
		name   string
		report *steps.CheckReport
		drive  func(t *testing.T, m *model)
	}{
		{"loading_orgs", reportReady(), func(*testing.T, *model) {}},
		{"all_loaded_dev_preselected", reportReady(), func(t *testing.T, m *model) { loaded(m) }},
		{"space_focused", reportReady(), func(t *testing.T, m *model) {
			loaded(m)
			send(m, tab, tab)
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

// TestWhere_OneEnterAcceptsTheDefaults: the orgs and spaces load when the
// screen opens, the subaccount's org and dev are selected, and one enter
// takes all three choices.
func TestWhere_OneEnterAcceptsTheDefaults(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	if wh(m).work.what == "" {
		t.Fatal("the orgs did not start loading when the screen opened")
	}
	loaded(m)
	send(m, enter)
	if m.screen() != screenForm {
		t.Fatalf("screen %v, want form", m.screen())
	}
	if w := m.c.where; w.runtime != steps.RuntimeCF || w.org.ID != "org-1" || w.space.ID != "sp-dev" {
		t.Fatalf("chose %+v", w)
	}
}

// TestWhere_EnterWhileLoadingGoesOnOnceLoaded: a quick enter is not lost.
func TestWhere_EnterWhileLoadingGoesOnOnceLoaded(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	send(m, enter)
	if m.screen() != screenWhere {
		t.Fatal("went on before anything was loaded")
	}
	loaded(m)
	if m.screen() != screenForm || m.c.where.space.Name != "dev" {
		t.Fatalf("screen %v, space %q", m.screen(), m.c.where.space.Name)
	}
}

// TestWhere_ChoicesStayChangeable: tab reaches every choice; another space
// or the Other runtime is one arrow away.
func TestWhere_ChoicesStayChangeable(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	loaded(m)
	send(m, tab, tab, up) // space: prod
	send(m, enter)
	if m.c.where.space.Name != "prod" {
		t.Fatalf("space %q, want prod", m.c.where.space.Name)
	}

	m = newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	send(m, down, enter) // runtime Other
	if m.screen() != screenForm || m.c.where.runtime != steps.RuntimeOther {
		t.Fatalf("screen %v runtime %q", m.screen(), m.c.where.runtime)
	}
}

func TestWhere_EscGoesBack(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	loaded(m)
	send(m, esc)
	if m.screen() != screenCheck {
		t.Fatalf("esc: screen %v, want check", m.screen())
	}
}

func TestWhere_FlagsChooseWithoutAsking(t *testing.T) {
	m := newTestModel(t, func(o *Options) {
		o.Prefill.Runtime, o.Prefill.Org, o.Prefill.Space = steps.RuntimeCF, testOrgs[0].Name, "prod"
	})
	resize(m, 80, 24)
	atCheck(t, m, subQA, reportReady())
	send(m, enter)
	loaded(m)
	if m.screen() != screenForm || m.c.where.space.Name != "prod" {
		t.Fatalf("--space: screen %v space %q", m.screen(), m.c.where.space.Name)
	}
}

// TestWhere_LastRunPreselectedNotChosen: the last run's space in this
// subaccount is selected, but the user still confirms.
func TestWhere_LastRunPreselectedNotChosen(t *testing.T) {
	m := newTestModel(t, func(o *Options) {
		o.Remembered = func(sub string) configdir.Choices {
			if sub != subQA.ID {
				t.Errorf("remembered choices asked for %q", sub)
			}
			return configdir.Choices{Runtime: "cf", Org: testOrgs[0].Name, Space: "prod"}
		}
	})
	resize(m, 80, 24)
	atWhere(t, m, reportReady())
	loaded(m)
	if m.screen() != screenWhere {
		t.Fatal("went on without the user")
	}
	send(m, enter)
	if m.c.where.space.Name != "prod" {
		t.Fatalf("space %q, want the last run's prod", m.c.where.space.Name)
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
