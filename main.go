// Command cpikey takes an SAP consultant from "I have a BTP subaccount" to
// working OAuth client credentials for SAP Cloud Integration (it-rt).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
)

// Stamped by scripts/release.sh through -ldflags.
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	v := flag.Bool("version", false, "print version information")
	flag.Parse()
	if *v {
		fmt.Printf("cpikey %s (commit %s, built %s, %s, BTP CLI protocol v2.106.1)\n", version, commit, date, runtime.Version())
		return
	}
	fmt.Fprintln(os.Stderr, "cpikey: the wizard is being wired up; see README.md")
	os.Exit(1)
}
