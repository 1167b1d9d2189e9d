package cliserver

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/itrt"
	"github.com/cpikey/cpikey/btp/sim"
)

// suiteEntry finds Integration Suite in a listing the way SAP's samples do:
// by commercialAppName, never by category (the content agent shares it).
func suiteEntry(list []Subscription) *Subscription {
	for i := range list {
		if list[i].CommercialAppName == itrt.SuiteService {
			return &list[i]
		}
	}
	return nil
}

func TestSubscriptions_ReadySubaccountIsSubscribed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	ready := e.sub(sim.SubReadySubdomain)
	list, err := e.c.ListSubscriptions(ctxT(t), ready.GUID)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"paramValues":{"subaccount":"` + ready.GUID + `"}}` + "\n"; e.rec.lastBody() != want {
		t.Errorf("list body %q, want %q", e.rec.lastBody(), want)
	}
	is := suiteEntry(list)
	if is == nil || is.State != itrt.SubscriptionSubscribed || is.AppName == itrt.SuiteService || is.SubscriptionURL != e.s.SuiteURL(sim.SubReadySubdomain) {
		t.Fatalf("Integration Suite entry %+v", is)
	}
	if is.CreatedDate.IsZero() {
		t.Errorf("no creation date: %+v", is)
	}
	var sameCategory int
	for _, s := range list {
		if s.Category == "Integration Suite" {
			sameCategory++
		}
	}
	if sameCategory < 2 {
		t.Errorf("the listing should hold another app of category Integration Suite: %+v", list)
	}
}

func TestSubscriptions_SubscribePollAndFail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{SubscribeTime: 40 * time.Millisecond, SubscribeFailures: 1}).admin()
	empty := e.sub(sim.SubEmptySubdomain)
	if is := suiteEntry(must(e.c.ListSubscriptions(ctxT(t), empty.GUID))); is != nil {
		t.Fatalf("listed before entitling: %+v", is)
	}
	if _, err := e.c.AssignEntitlement(ctxT(t), AssignRequest{SubaccountID: empty.GUID, Service: itrt.SuiteService, Plan: "free", Category: "APPLICATION"}); err != nil {
		t.Fatal(err)
	}
	var is *Subscription
	eventually(t, "the entitled entry", func() bool {
		is = suiteEntry(must(e.c.ListSubscriptions(ctxT(t), empty.GUID)))
		return is != nil
	})
	if is.State != itrt.SubscriptionNotSubscribed || is.AppName != sim.SuiteAppName || is.PlanName != "free" {
		t.Fatalf("entry %+v", is)
	}

	subscribe := func() string {
		t.Helper()
		job, err := e.c.Subscribe(ctxT(t), empty.GUID, is.AppName, is.PlanName)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"paramValues":{"appName":"` + sim.SuiteAppName + `","planName":"free","subaccount":"` + empty.GUID + `"}}` + "\n"
		if e.rec.lastBody() != want || !strings.HasSuffix(e.rec.lastURL(), "/command/"+ProtocolVersion+"/accounts/subaccount?subscribe") {
			t.Errorf("subscribe sent %q to %s", e.rec.lastBody(), e.rec.lastURL())
		}
		return job
	}
	wait := func() *Subscription {
		t.Helper()
		var s *Subscription
		eventually(t, "the subscription to settle", func() bool {
			var err error
			s, err = e.c.GetSubscription(ctxT(t), empty.GUID, is.AppName, is.PlanName)
			if err != nil {
				t.Fatal(err)
			}
			return s.State != itrt.SubscriptionInProcess
		})
		return s
	}
	if job := subscribe(); job == "" {
		t.Error("no job id")
	}
	failed := wait()
	if failed.State != itrt.SubscriptionFailed || failed.Error == nil || !strings.Contains(failed.Error.Message, "LOD-HCI-PI") || failed.SubscriptionURL != "" {
		t.Fatalf("failed subscription %+v", failed)
	}
	subscribe()
	done := wait()
	if done.State != itrt.SubscriptionSubscribed || done.Error != nil || done.SubscriptionURL == "" {
		t.Fatalf("second attempt %+v", done)
	}
	_, err := e.c.Subscribe(ctxT(t), empty.GUID, is.AppName, is.PlanName)
	if ce := asErr(t, err); ce.BackendStatus != http.StatusConflict || !strings.Contains(err.Error(), "already subscribed") {
		t.Errorf("subscribing twice: %v", err)
	}
}

func TestRoleCollections_ListUsersAssign(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	ready, empty := e.sub(sim.SubReadySubdomain), e.sub(sim.SubEmptySubdomain)

	list, err := e.c.ListRoleCollections(ctxT(t), ready.GUID)
	if err != nil {
		t.Fatal(err)
	}
	names := func(l []RoleCollection) []string {
		var out []string
		for _, rc := range l {
			out = append(out, rc.Name)
		}
		return out
	}
	for _, want := range append([]string{itrt.RoleProvisioner}, itrt.PIRoleCollections...) {
		if !slices.Contains(names(list), want) {
			t.Errorf("ready subaccount lacks %s: %v", want, names(list))
		}
	}
	if list[0].Roles == nil || list[0].Roles[0].Template == "" {
		t.Errorf("role references not read: %+v", list[0])
	}

	_, err = e.c.RoleCollectionUsers(ctxT(t), empty.GUID, itrt.RoleProvisioner)
	if !IsNotFound(err) {
		t.Errorf("an absent collection: %v", err)
	}
	users, err := e.c.RoleCollectionUsers(ctxT(t), empty.GUID, "Subaccount Administrator")
	if err != nil || len(users) != 1 || users[0].Email != sim.AdminUser || users[0].Origin != "sap.default" {
		t.Fatalf("admins %+v %v", users, err)
	}
	if err := e.c.AssignRoleCollection(ctxT(t), empty.GUID, "Destination Administrator", sim.AdminUser, "sap.default"); err != nil {
		t.Fatal(err)
	}
	want := `{"paramValues":{"createUserIfMissing":"true","origin":"sap.default","roleCollectionName":"Destination Administrator","subaccount":"` +
		empty.GUID + `","userName":"` + sim.AdminUser + `"}}` + "\n"
	if e.rec.lastBody() != want {
		t.Errorf("assign body %q, want %q", e.rec.lastBody(), want)
	}
	users, _ = e.c.RoleCollectionUsers(ctxT(t), empty.GUID, "Destination Administrator")
	if len(users) != 1 || users[0].Email != sim.AdminUser {
		t.Errorf("after assigning %+v", users)
	}

	// A viewer reads but may not assign: the error says so.
	v := newEnv(t, sim.Config{})
	v.login(sim.ViewerUser, sim.ViewerPass)
	err = v.c.AssignRoleCollection(ctxT(t), empty.GUID, "Destination Administrator", sim.ViewerUser, "sap.default")
	if !IsForbidden(err) {
		t.Errorf("viewer assigns: %v", err)
	}
}

func TestRoleCollections_UsersOfAllPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{}).admin()
	ready := e.sub(sim.SubReadySubdomain)
	if _, err := e.c.ListRoleCollections(ctxT(t), ready.GUID); err != nil {
		t.Fatal(err)
	}
	before := must(e.c.RoleCollectionUsers(ctxT(t), ready.GUID, itrt.RolePIReadOnly))
	for i := 0; i < 120; i++ {
		if err := e.c.AssignRoleCollection(ctxT(t), ready.GUID, itrt.RolePIReadOnly, "user"+time.Duration(i).String()+"@acme.example", "sap.default"); err != nil {
			t.Fatal(err)
		}
	}
	e.s.ResetRequests()
	users := must(e.c.RoleCollectionUsers(ctxT(t), ready.GUID, itrt.RolePIReadOnly))
	if len(users) != len(before)+120 {
		t.Errorf("%d users, want %d", len(users), len(before)+120)
	}
	if n := e.count("cli:security/role-collection?get"); n != 3 {
		t.Errorf("%d pages read, want 3", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
