package sim

import (
	"slices"
	"testing"
)

func TestIssuedSecrets_ListsSessionsTokensAndPasswords(t *testing.T) {
	c := newCLIT(t, Config{EntitlementPadding: -1})
	r := c.login(AdminUser, AdminPassword)
	sid := r.h.Get("X-Cpcli-Sessionid")
	if sid == "" {
		t.Fatalf("login: %d", r.status)
	}
	access, refresh := login(t, c.s, AdminUser, AdminPassword)
	// A session expiry clears the live sessions; what was issued stays listed.
	c.s.mu.Lock()
	c.s.sessions = map[string]*session{}
	c.s.tokens = map[string]*cfToken{}
	c.s.mu.Unlock()
	got := c.s.IssuedSecrets()
	for name, want := range map[string]string{"session id": sid, "access token": access, "refresh token": refresh, "password": AdminPassword} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not listed", name)
		}
	}
}

func TestPendingFaults_ShowsWhatWasNotHit(t *testing.T) {
	c := newCLIT(t, Config{EntitlementPadding: -1})
	c.s.Inject(Fault{Kind: FaultHTTPStatus, Match: "cli:login", Status: 504, Times: 2})
	c.s.Inject(Fault{Kind: FaultConnReset, Match: "cf:GET /v3/jobs/"})
	c.login(AdminUser, AdminPassword)
	p := c.s.PendingFaults()
	if len(p) != 2 || p[0].Times != 1 || p[1].Kind != FaultConnReset {
		t.Fatalf("pending after one login: %+v", p)
	}
	c.login(AdminUser, AdminPassword)
	if p := c.s.PendingFaults(); len(p) != 1 || p[0].Kind != FaultConnReset {
		t.Fatalf("pending after two logins: %+v", p)
	}
}
