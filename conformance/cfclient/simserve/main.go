// Command simserve serves cpikey's simulator on loopback until interrupted,
// for clients that run as their own processes (the cf CLI in
// .ci/cf-cli.sh). It prints KEY=VALUE lines on stdout, then READY:
// CF_API, CF_USERNAME, CF_PASSWORD, CF_ORG and CF_SPACE. The password is
// the simulator's demo fixture, not anybody's secret.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cpikey/cpikey/btp/sim"
)

func main() {
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "simserve:", err)
		os.Exit(1)
	}
	defer s.Close()
	org, space := s.DemoTarget()
	// The global account admin, Space Developer in every space.
	fmt.Printf("CF_API=%s\nCF_USERNAME=%s\nCF_PASSWORD=%s\nCF_ORG=%s\nCF_SPACE=%s\nREADY\n",
		s.CFAPIURL(), sim.AdminUser, sim.AdminPassword, org, space)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
}
