#!/usr/bin/env bash
# Tries the README's Install section as a new user would on Linux: a fresh
# HOME, `go install` from this checkout, then `cpikey --version` and a demo
# run (twice: the second must reuse what the first created).
set -euo pipefail
cd "$(dirname "$0")/.."

NEWHOME=$(mktemp -d /tmp/cpikey-newuser.XXXXXX)
trap 'rm -rf "$NEWHOME"' EXIT
# Keep the module cache (no network needed), but nothing else of ours.
export GOMODCACHE GOCACHE
GOMODCACHE=$(go env GOMODCACHE)
GOCACHE=$(go env GOCACHE)
export HOME=$NEWHOME GOPATH=$NEWHOME/go GOBIN=$NEWHOME/go/bin
unset XDG_CONFIG_HOME XDG_CACHE_HOME DBUS_SESSION_BUS_ADDRESS

go install .
cpikey=$GOBIN/cpikey
"$cpikey" --version | tee "$NEWHOME/version.txt"
grep -q '^cpikey ' "$NEWHOME/version.txt"

# No Secret Service here: the demo must still finish (exit 0) and say why
# the secret was not stored.
"$cpikey" --demo --yes --json >"$NEWHOME/first.json" 2>"$NEWHOME/first.err" </dev/null
"$cpikey" --demo --yes --json >"$NEWHOME/second.json" 2>"$NEWHOME/second.err" </dev/null
grep -q '"verified": true' "$NEWHOME/first.json"
test "$(grep -c '"reused": true' "$NEWHOME/second.json")" = 2 || {
	echo "second demo run did not reuse instance and key:"; cat "$NEWHOME/second.json"; exit 1
}
grep -qi 'keychain' "$NEWHOME/first.err"
if grep -q clientsecret "$NEWHOME/first.json"; then
	echo "the secret was printed without --show-secret"; exit 1
fi
echo "install-check: go install, --version and two demo runs (second reused instance and key) ok"
