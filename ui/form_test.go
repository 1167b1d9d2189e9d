package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/steps"
)

func frm(m *model) *formModel { return m.cur().(*formModel) }

func atForm(t *testing.T, m *model) {
	t.Helper()
	atCheck(t, m, subQA, reportReady())
	send(m, enter)
	m.apply(whereChosen{runtime: steps.RuntimeCF, org: testOrgs[0], space: testSpaces[1]})
	if m.screen() != screenForm {
		t.Fatalf("screen %v, want form", m.screen())
	}
}

func clearInput(m *model, n int) {
	for range n {
		send(m, backspan)
	}
}

func TestFormScreen(t *testing.T) {
	cases := []struct {
		name  string
		drive func(t *testing.T, m *model)
	}{
		{"defaults", func(*testing.T, *model) {}},
		{"invalid_name", func(t *testing.T, m *model) {
			send(m, tab)
			typeText(m, " X")
		}},
		{"too_long", func(t *testing.T, m *model) {
			send(m, tab)
			typeText(m, "_AND_SOME_MORE") // 33 characters
		}},
		{"existing_reused", func(t *testing.T, m *model) {
			f := frm(m)
			send(m, existingMsg{id: f.checkID, instance: "CPI_SAMPLE_INSTANCE", key: "CPI_SAMPLE_INSTANCE-key",
				ex: &steps.Existing{InstanceExists: true, InstanceState: "succeeded", InstancePlan: "integration-flow", KeyExists: true}})
		}},
		{"api_roles", func(t *testing.T, m *model) {
			send(m, down, tab, tab) // plan api, to roles
			send(m, down, space)
		}},
		{"certificate", func(t *testing.T, m *model) {
			send(m, tab, tab, tab, tab, down) // key type Certificate
		}},
		{"external_certificate", func(t *testing.T, m *model) {
			send(m, tab, tab, tab, tab, down, down, tab) // External Certificate, to the certificate file
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachSize(t, func(t *testing.T, w, h int) {
				m := newTestModel(t)
				resize(m, w, h)
				atForm(t, m)
				tc.drive(t, m)
				requireGolden(t, m)
			})
		})
	}
}

func TestForm_KeyNameFollowsInstanceUntilEdited(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	f := frm(m)
	send(m, tab)
	clearInput(m, len(steps.DefaultInstance))
	typeText(m, "MY_IFLOW")
	if got := f.key.value(); got != "MY_IFLOW-key" {
		t.Fatalf("key %q, want MY_IFLOW-key", got)
	}
	send(m, tab, tab) // roles, key
	typeText(m, "2")
	send(m, tea.KeyMsg{Type: tea.KeyShiftTab}, tea.KeyMsg{Type: tea.KeyShiftTab})
	typeText(m, "X")
	if got := f.key.value(); got != "MY_IFLOW-key2" {
		t.Fatalf("an edited key name changed to %q", got)
	}
}

func TestForm_ValidatesAsYouTypeAndBlocksSubmit(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	send(m, tab)
	typeText(m, " x")
	if !strings.Contains(m.View(), `contains ' '`) {
		t.Fatalf("no reason shown for a space:\n%s", m.View())
	}
	send(m, tab, tab, enter) // submit at key
	if m.screen() != screenForm || frm(m).focus != formInstance {
		t.Fatalf("submitted an invalid name (screen %v)", m.screen())
	}
}

func TestForm_ExistingLookupIsDebouncedAndTagged(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	f := frm(m)
	send(m, tab)
	cmd := send(m, runes("A"))
	if cmd == nil {
		t.Fatal("typing scheduled no lookup")
	}
	first := f.checkID
	send(m, runes("B"))
	if f.checkID == first {
		t.Fatal("a new keystroke did not supersede the pending lookup")
	}
	send(m, existingDebounceMsg{id: first}) // stale timer
	if f.checking {
		t.Fatal("a superseded timer started a lookup")
	}
	send(m, existingMsg{id: first, instance: f.instance.value(), key: f.key.value(), ex: &steps.Existing{InstanceExists: true}})
	if f.ex != nil {
		t.Fatal("a stale lookup result was kept")
	}
	lookup := send(m, existingDebounceMsg{id: f.checkID})
	if lookup == nil || !f.checking {
		t.Fatal("the current timer did not start a lookup")
	}
	send(m, existingMsg{id: f.checkID, instance: f.instance.value(), key: f.key.value(), ex: &steps.Existing{InstanceExists: true, InstanceState: "succeeded", InstancePlan: "integration-flow"}})
	if !strings.Contains(m.View(), "will be reused") {
		t.Fatalf("existing instance not flagged:\n%s", m.View())
	}
}

func TestForm_ExistingWithOtherPlanBlocks(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	f := frm(m)
	send(m, existingMsg{id: f.checkID, instance: steps.DefaultInstance, key: steps.DefaultKeyName(steps.DefaultInstance),
		ex: &steps.Existing{InstanceExists: true, InstanceState: "succeeded", InstancePlan: "api"}})
	send(m, tab, tab, tab, enter)
	if m.screen() != screenForm {
		t.Fatal("went on with an instance of another plan")
	}
}

func TestForm_SubmitBuildsTarget(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	send(m, down)        // plan api
	send(m, tab, tab)    // to the roles
	send(m, down, space) // tick the role after MonitoringDataRead
	send(m, enter)       // every field is valid: on to the review
	if m.screen() != screenReview {
		t.Fatalf("screen %v, want review", m.screen())
	}
	tg := m.c.target
	if tg.Plan != "api" || tg.Instance != steps.DefaultInstance || tg.Key != steps.DefaultKeyName(steps.DefaultInstance) ||
		tg.Space != "dev" || tg.OrgID != "org-1" || tg.Subaccount.ID != subQA.ID {
		t.Fatalf("target %+v", tg)
	}
	if len(tg.Roles) != 2 || tg.Roles[0] != "MonitoringDataRead" {
		t.Fatalf("roles %v, want MonitoringDataRead and the next one", tg.Roles)
	}
}

func TestForm_FlagsSkipTheForm(t *testing.T) {
	m := newTestModel(t, func(o *Options) {
		o.Prefill.Plan, o.Prefill.Instance, o.Prefill.Key, o.Prefill.Roles = "api", "MY_API", "MY_API-k", []string{"WorkspacePackagesRead"}
	})
	resize(m, 80, 24)
	atCheck(t, m, subQA, reportReady())
	send(m, enter)
	cmd := m.apply(whereChosen{runtime: steps.RuntimeOther})
	send(m, cmd())
	if m.screen() != screenReview {
		t.Fatalf("screen %v, want review", m.screen())
	}
	if tg := m.c.target; tg.Instance != "MY_API" || tg.Key != "MY_API-k" || tg.Roles[0] != "WorkspacePackagesRead" {
		t.Fatalf("target %+v", tg)
	}
}

func TestForm_UnentitledPlanIsCheckedAgain(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	r := reportReady()
	r.Plans[1].Entitled = false // api missing, but the first check was for integration-flow
	atCheck(t, m, subQA, r)
	send(m, enter)
	m.apply(whereChosen{runtime: steps.RuntimeCF, org: testOrgs[0], space: testSpaces[1]})
	send(m, down, enter) // plan api; the rest is valid
	if m.screen() != screenCheck || chk(m).plan != "api" {
		t.Fatalf("screen %v; want a check for plan api", m.screen())
	}
	again := reportReady()
	again.MissingPlans = []string{"api"}
	send(m, checkDoneMsg{id: chk(m).work.id, report: again})
	send(m, enter) // assign
	send(m, entitleDoneMsg{id: ent(m).work.id})
	if m.screen() != screenReview || m.c.target.Plan != "api" {
		t.Fatalf("after entitling: screen %v plan %q", m.screen(), m.c.target.Plan)
	}
}

// TestForm_EnterAcceptsAValidScreen: the defaults are valid, so one enter
// goes to the review from wherever the focus is.
func TestForm_EnterAcceptsAValidScreen(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	send(m, enter)
	if m.screen() != screenReview {
		t.Fatalf("screen %v, want review", m.screen())
	}
	tg := m.c.target
	if tg.Instance != steps.DefaultInstance || tg.Key != steps.DefaultKeyName(steps.DefaultInstance) || tg.Plan != steps.DefaultPlan ||
		len(tg.Roles) != 1 || tg.Roles[0] != steps.DefaultRole || tg.UpdateRoles || tg.AcceptRoles {
		t.Fatalf("target %+v", tg)
	}
}

var existingHere = []steps.InstanceChoice{
	{Name: "ORDERS", ID: "i-1", Plan: "integration-flow", State: "succeeded", Keys: []string{"orders-key", "postman"}},
	{Name: "MONITOR", ID: "i-2", Plan: "api", State: "succeeded"},
}

// TestForm_OffersWhatExists: the instances of the space are listed beside
// a new name; picking one takes its plan and offers its keys.
func TestForm_OffersWhatExists(t *testing.T) {
	m := newTestModel(t)
	resize(m, 80, 24)
	atForm(t, m)
	f := frm(m)
	send(m, instancesMsg{id: f.list.id, instances: existingHere})
	v := m.View()
	for _, want := range []string{"ORDERS", "integration-flow · 2 keys", "MONITOR", "api · no keys"} {
		if !strings.Contains(v, want) {
			t.Errorf("the form does not offer %q:\n%s", want, v)
		}
	}
	send(m, tab, down) // instance field: the first existing instance (sorted as listed)
	if got := f.instance.value(); got != "ORDERS" {
		t.Fatalf("picked %q", got)
	}
	send(m, down) // MONITOR: plan api
	if f.instance.value() != "MONITOR" || f.planName() != "api" {
		t.Fatalf("picked %q, plan %q", f.instance.value(), f.planName())
	}
	send(m, up) // back to ORDERS: its keys are offered, the default key name is new
	if f.planName() != "integration-flow" || len(f.key.options) != 2 || f.key.value() != "ORDERS-key" {
		t.Fatalf("plan %q, key options %v, key %q", f.planName(), f.key.options, f.key.value())
	}
	send(m, tab, tab, down) // key field: the first existing key
	if f.key.value() != "orders-key" {
		t.Fatalf("key %q", f.key.value())
	}
	send(m, enter)
	if m.screen() != screenReview || m.c.target.Instance != "ORDERS" || m.c.target.Key != "orders-key" {
		t.Fatalf("screen %v, target %+v", m.screen(), m.c.target)
	}
}

// TestForm_TypedNameOfAnExistingInstanceSelectsIt: a remembered or typed
// name that exists is shown as the existing choice.
func TestForm_TypedNameOfAnExistingInstanceSelectsIt(t *testing.T) {
	m := newTestModel(t, func(o *Options) {
		o.Remembered = func(string) configdir.Choices {
			return configdir.Choices{Plan: "integration-flow", Instance: "ORDERS", Key: "postman", Roles: []string{"ESBMessaging.send"}}
		}
	})
	resize(m, 80, 24)
	atForm(t, m)
	f := frm(m)
	send(m, instancesMsg{id: f.list.id, instances: existingHere})
	if !f.instance.picked() || f.instance.value() != "ORDERS" || !f.key.picked() || f.key.value() != "postman" {
		t.Fatalf("instance %q (picked %v), key %q (picked %v)", f.instance.value(), f.instance.picked(), f.key.value(), f.key.picked())
	}
}

// TestForm_RolesDriftIsAChoice: an existing instance with other roles is
// flagged with the difference; enter stops at the choice, which becomes
// the target's policy.
func TestForm_RolesDriftIsAChoice(t *testing.T) {
	for _, tc := range []struct {
		name           string
		keys           []tea.KeyMsg
		update, accept bool
	}{
		{"update", nil, true, false},
		{"keep", []tea.KeyMsg{down}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(t)
			resize(m, 80, 30)
			atForm(t, m)
			f := frm(m)
			send(m, existingMsg{id: f.checkID, instance: steps.DefaultInstance, key: steps.DefaultKeyName(steps.DefaultInstance),
				ex: &steps.Existing{InstanceExists: true, InstanceState: "succeeded", InstancePlan: "integration-flow",
					InstanceRoles: []string{"Custom.role", "ESBMessaging.send"}, RolesKnown: true}})
			v := strings.Join(strings.Fields(m.View()), " ") // as read, across wrapped lines
			for _, want := range []string{"Roles differ", "has roles Custom.role, ESBMessaging.send", "extra Custom.role", "up to an hour"} {
				if !strings.Contains(v, want) {
					t.Errorf("the form does not say %q:\n%s", want, v)
				}
			}
			send(m, enter)
			if m.screen() != screenForm || f.focus != formDrift {
				t.Fatalf("enter passed an unanswered roles difference (screen %v, focus %d)", m.screen(), f.focus)
			}
			for _, k := range tc.keys {
				send(m, k)
			}
			send(m, enter)
			if m.screen() != screenReview {
				t.Fatalf("screen %v, want review", m.screen())
			}
			if tg := m.c.target; tg.UpdateRoles != tc.update || tg.AcceptRoles != tc.accept {
				t.Fatalf("target update %v accept %v", tg.UpdateRoles, tg.AcceptRoles)
			}
		})
	}
}

// TestForm_DerivedKeyNameNeverStale: at the narrowest width, the key field
// shows the whole derived name after every change of the instance.
func TestForm_DerivedKeyNameNeverStale(t *testing.T) {
	m := newTestModel(t)
	resize(m, 60, 20)
	atForm(t, m)
	f := frm(m)
	send(m, tab)
	clearInput(m, len(steps.DefaultInstance))
	for _, s := range []string{"A_VERY_LONG_INSTANCE_NAME_OF_32C", "SHORT"} {
		clearInput(m, 40)
		typeText(m, s)
		want := steps.DefaultKeyName(s)
		if f.key.value() != want || !strings.Contains(m.View(), want) {
			t.Fatalf("instance %q: key %q, want %q on screen:\n%s", s, f.key.value(), want, m.View())
		}
	}
}
