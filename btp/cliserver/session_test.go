package cliserver

import (
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestUseSession_ReusesALiveSession: a btp CLI session id is used without a
// new login; a session of another server is never sent there; an expired one
// reads as IsUnauthorized on first use.
func TestUseSession_ReusesALiveSession(t *testing.T) {
	e := newEnv(t, sim.Config{})
	sid := e.login(sim.AdminUser, sim.AdminPassword).id // a live session, as the btp CLI would have it
	e.c.SetSession(nil)
	found := CLISession{ServerURL: e.s.CLIServerURL(), Subdomain: sim.GASubdomain, Source: "file"}
	s, err := e.c.UseSession(found, sid, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Subdomain != sim.GASubdomain {
		t.Errorf("session %v", s)
	}
	if _, err := e.c.GetGlobalAccount(ctxT(t), "", true); err != nil {
		t.Fatalf("command with the reused session: %v", err)
	}
	if n := e.count("cli:login"); n != 1 {
		t.Fatalf("session reuse logged in again (%d logins)", n)
	}
	other, _ := New("https://cli.btp.cloud.sap", nil)
	if _, err := other.UseSession(found, sid, ""); err == nil || !strings.Contains(err.Error(), "belongs to") {
		t.Errorf("foreign server: %v", err)
	}
	if _, err := e.c.UseSession(found, "", ""); err != ErrNoCLISession {
		t.Errorf("no id: %v", err)
	}
	e.s.Inject(sim.Fault{Kind: sim.FaultSessionExpiry, Match: "cli:"})
	if _, err := e.c.ListSubaccounts(ctxT(t), ""); !IsUnauthorized(err) {
		t.Errorf("expired reused session: %v", err)
	}
}

func TestUseSession_NeedsAGlobalAccount(t *testing.T) {
	c, _ := New("https://cli.btp.cloud.sap", nil)
	found := CLISession{ServerURL: "https://cli.btp.cloud.sap", CustomIdP: "mytenant.accounts.ondemand.com"}
	if _, err := c.UseSession(found, "win-session", ""); err == nil || !strings.Contains(err.Error(), "global account") {
		t.Errorf("no target global account: %v", err)
	}
	if s, err := c.UseSession(found, "win-session", "my-ga"); err != nil || s.Subdomain != "my-ga" || s.CustomIdP != "mytenant.accounts.ondemand.com" {
		t.Errorf("with subdomain: %v %v", s, err)
	}
}
