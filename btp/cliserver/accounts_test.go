package cliserver

import (
	"strings"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

func TestGetGlobalAccount_HierarchyAndPaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	e.login(sim.ViewerUser, sim.ViewerPass)
	ga, err := e.c.GetGlobalAccount(ctxT(t), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if ga.Subdomain != sim.GASubdomain || ga.DisplayName != sim.GAName || ga.GUID == "" {
		t.Errorf("ga %+v", ga)
	}
	if want := time.Date(2023, 5, 11, 8, 59, 23, 0, time.UTC); !ga.CreatedDate.Equal(want) {
		t.Errorf("created %v, want %v (CIS date format)", ga.CreatedDate, want)
	}
	fresh, ready, nocf := e.sub(sim.SubFreshSubdomain), e.sub(sim.SubReadySubdomain), e.sub(sim.SubNoCFSubdomain)
	paths := ga.SubaccountPaths()
	want := map[string]string{fresh.GUID: "", ready.GUID: "Integration Projects / QA", nocf.GUID: "Integration Projects"}
	for id, p := range want {
		if got, ok := paths[id]; !ok || got != p {
			t.Errorf("path of %s = %q (%t), want %q", id, got, ok, p)
		}
	}
	if len(ga.AllSubaccounts()) != 4 { // and CPI New, empty
		t.Errorf("all subaccounts %d", len(ga.AllSubaccounts()))
	}
	dir := ga.ManagingDirectory(ready.GUID, "ENTITLEMENTS")
	if dir == nil || dir.DisplayName != "Integration Projects" || ga.Directory(dir.GUID) != dir {
		t.Fatalf("entitlement directory of %s: %+v", sim.SubReady, dir)
	}
	if ga.ManagingDirectory(fresh.GUID, "ENTITLEMENTS") != nil {
		t.Errorf("top-level subaccount has a managing directory")
	}
	qa := dir.Children[0]
	if qa.DisplayName != "QA" || qa.ParentGUID != dir.GUID || qa.HasFeature("ENTITLEMENTS") || !dir.HasFeature("authorizations") {
		t.Errorf("directories %+v / %+v", dir, qa)
	}

	flat, err := e.c.GetGlobalAccount(ctxT(t), sim.GASubdomain, false)
	if err != nil || len(flat.Directories) != 0 || len(flat.Subaccounts) != 0 {
		t.Errorf("without hierarchy: %+v %v", flat, err)
	}
}

func TestSubaccounts_ListAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sim.Config{})
	e.login(sim.ViewerUser, sim.ViewerPass)
	e.s.AddSubaccounts(40)
	list, err := e.c.ListSubaccounts(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 44 {
		t.Fatalf("%d subaccounts", len(list))
	}
	ready := e.sub(sim.SubReadySubdomain)
	var found *Subaccount
	for i := range list {
		if list[i].GUID == ready.GUID {
			found = &list[i]
		}
	}
	if found == nil || found.DisplayName != sim.SubReady || found.Subdomain != sim.SubReadySubdomain || found.Region != "eu10" ||
		found.ParentType != "FOLDER" || found.State != "OK" || found.CreatedDate.IsZero() {
		t.Errorf("listed %+v", found)
	}
	sa, err := e.c.GetSubaccount(ctxT(t), "", ready.GUID)
	if err != nil {
		t.Fatal(err)
	}
	ga, _ := e.c.GetGlobalAccount(ctxT(t), "", true)
	if sa.ClosestEntitlementManagedParentGUID != ga.ManagingDirectory(ready.GUID, "ENTITLEMENTS").GUID {
		t.Errorf("closest parent %s", sa.ClosestEntitlementManagedParentGUID)
	}
	_, err = e.c.GetSubaccount(ctxT(t), "", "99999999-9999-4999-8999-999999999999")
	x := asErr(t, err)
	if !IsNotFound(err) || x.HTTPStatus != 200 || x.BackendStatus != 404 || x.Code != 20004 || x.CodeStatus != 404 ||
		!strings.Contains(err.Error(), "btp get accounts/subaccount: Subaccount 99999999-9999-4999-8999-999999999999 not found") {
		t.Errorf("unknown subaccount: %+v / %v", x, err)
	}
}
