package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestConcurrentProcesses_LoseNoProfile starts real cpikey processes at
// once against one HOME: eight headless runs that each keep a profile, then
// four forgets racing four more runs. profiles.json is changed only under a
// cross-process lock, so every process's change survives (before the lock,
// parallel forgets left 17-18 of 20 profiles, all exiting 0).
func TestConcurrentProcesses_LoseNoProfile(t *testing.T) {
	w := newWorld(t, sim.Config{ProvisionTime: 1, BindTime: 1, EntitleTime: 1})
	home := w.home(t)
	env := w.env(home, "BTP_USERNAME="+sim.AdminUser, "BTP_PASSWORD="+w.password)
	create := func(k int) []string {
		return []string{"--yes", "--no-keychain", "--global-account", sim.GASubdomain, "--subaccount", sim.SubReady,
			"--instance", fmt.Sprintf("par-%02d", k)}
	}
	profileName := func(k int) string {
		return fmt.Sprintf("%s/par-%02d/par-%02d-key", sim.SubReadySubdomain, k, k)
	}
	runAll := func(label string, argv [][]string) {
		t.Helper()
		var wg sync.WaitGroup
		results := make([]run, len(argv))
		for i, a := range argv {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = w.runCPIKey(t, fmt.Sprintf("%s %d", label, i), home, env, a...)
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.code != 0 {
				t.Fatalf("%s %v: exit %d\n%s", label, argv[i], r.code, r.stderr)
			}
		}
	}
	list := func() []string {
		t.Helper()
		r := w.runCPIKey(t, "list", home, env, "list", "--json")
		var ps []struct{ Name string }
		if err := json.Unmarshal(r.stdout, &ps); err != nil {
			t.Fatalf("list --json: %v\n%s%s", err, r.stdout, r.stderr)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		slices.Sort(names)
		return names
	}

	var first [][]string
	for k := range 8 {
		first = append(first, create(k))
	}
	runAll("create", first)
	var want []string
	for k := range 8 {
		want = append(want, profileName(k))
	}
	slices.Sort(want)
	if got := list(); !slices.Equal(got, want) {
		t.Fatalf("after 8 parallel runs: %d profiles %v, want %v", len(got), got, want)
	}

	var mixed [][]string
	for k := range 4 {
		mixed = append(mixed, []string{"forget", profileName(k)}, create(8+k))
	}
	runAll("forget/create", mixed)
	want = nil
	for k := 4; k < 12; k++ {
		want = append(want, profileName(k))
	}
	if got := list(); !slices.Equal(got, want) {
		t.Fatalf("after 4 forgets racing 4 runs: %v, want %v", got, want)
	}
}
