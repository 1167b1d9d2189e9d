package main

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/configdir"
	"github.com/cpikey/cpikey/steps"
)

// demoStateFile keeps the simulated landscape between demo runs.
const demoStateFile = "state.json"

// startDemo starts the embedded simulator with its state in the demo
// namespace's cache directory, so a second run finds what the first created.
func startDemo(dirs configdir.Dirs, reset bool) (*sim.Server, error) {
	// The simulator writes its state there: a directory only we can enter,
	// so nobody can plant a link for it to write through.
	if err := configdir.EnsurePrivate(dirs.Cache); err != nil {
		return nil, err
	}
	state := filepath.Join(dirs.Cache, demoStateFile)
	if reset {
		if err := os.Remove(state); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	return sim.Start(demoSimConfig(state))
}

// demoSimConfig is the demo landscape's simulator: durations long enough to
// watch the spinners, short enough to wait for.
func demoSimConfig(state string) sim.Config {
	return sim.Config{
		StateFile:     state,
		ProvisionTime: 4 * time.Second,
		BindTime:      1500 * time.Millisecond,
		EntitleTime:   1500 * time.Millisecond,
		Seed:          uint64(time.Now().UnixNano()),
	}
}

// demoDefaults fills what a newcomer would otherwise have to know.
func demoDefaults(in *steps.HeadlessInput, _ *sim.Server) {
	if in.GlobalAccount == "" {
		in.GlobalAccount = sim.GASubdomain
	}
	if in.User == "" {
		in.User, in.Password = sim.AdminUser, sim.AdminPassword
	}
	if in.Subaccount == "" {
		in.DefaultSubaccount = sim.SubFreshSubdomain
	}
}
