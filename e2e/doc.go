// Package e2e holds end-to-end tests of the cpikey binary: it is built once,
// run against the embedded simulator (btp/sim) with a fresh HOME, and its
// whole output, the files it writes and the arguments of every child
// process it starts are inspected. There is no non-test code here.
package e2e
