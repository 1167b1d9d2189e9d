// Package cfclient holds conformance tests: Cloud Foundry's own Go client,
// go-cfclient v3, run against cpikey's simulator (btp/sim) over loopback.
// It is a module of its own so that cpikey does not depend on go-cfclient.
package cfclient
