package sim

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUAAPasscode_ExpiresAfterFiveMinutes: UAA's codes live 5 minutes
// (cloud-foundry.md §2.4); a late one is an invalid passcode.
func TestUAAPasscode_ExpiresAfterFiveMinutes(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	s, err := Start(Config{EntitlementPadding: -1, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	grant := func(code string) int {
		req, _ := http.NewRequest(http.MethodPost, s.CFAPIURL()+"/oauth/token",
			strings.NewReader(url.Values{"grant_type": {"password"}, "passcode": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("cf", "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name  string
		after time.Duration
		want  int
	}{
		{"fresh", 4 * time.Minute, http.StatusOK},
		{"expired", 6 * time.Minute, http.StatusUnauthorized},
	} {
		code := s.IssuePasscode(AdminUser)
		mu.Lock()
		now = now.Add(tc.after)
		mu.Unlock()
		if got := grant(code); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}
