#!/usr/bin/env bash
# Runs the real cf CLI (v8) against cpikey's simulator: the whole it-rt key
# flow, from `cf api` to `cf delete-service`. Fails on any non-zero exit and
# on a blank offering, plan or broker column (what the cf CLI prints when
# the simulator leaves out CC's "included" block).
#
# - the cf binary: ../shared/tools/cf beside the clone (CI's copy of
#   shared/), else `cf` on PATH; with neither it says so and skips (exit 0);
# - the simulator runs as conformance/cfclient/simserve on a free loopback
#   port; the cf CLI gets a throw-away CF_HOME;
# - the only credentials involved are the simulator's demo fixtures; the
#   password reaches `cf auth` through its environment, not its arguments,
#   and secrets in `cf service-key` output are masked;
# - never reads stdin.
#
# Usage: .ci/cf-cli.sh        (from anywhere inside the repo)
set -euo pipefail

top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$top"

shared_cf="$top/../shared/tools/cf"
if [ ! -f "$shared_cf" ] && ! command -v cf >/dev/null; then
	echo "cf-cli: no cf CLI in ../shared/tools or on PATH; skipping"
	exit 0
fi

tmp=$(mktemp -d)
sim_pid=""
cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -x "$shared_cf" ]; then
	cf_bin=$shared_cf
elif [ -f "$shared_cf" ]; then
	# A copy of shared/ may have lost the executable bit.
	cp "$shared_cf" "$tmp/cf" && chmod +x "$tmp/cf"
	cf_bin=$tmp/cf
else
	cf_bin=$(command -v cf)
fi

(cd conformance/cfclient && go build -o "$tmp/simserve" ./simserve)
"$tmp/simserve" >"$tmp/sim.out" 2>"$tmp/sim.err" </dev/null &
sim_pid=$!
for _ in $(seq 100); do
	grep -qx READY "$tmp/sim.out" && break
	kill -0 "$sim_pid" 2>/dev/null || { cat "$tmp/sim.err" >&2; echo "cf-cli: the simulator did not start" >&2; exit 1; }
	sleep 0.1
done
grep -qx READY "$tmp/sim.out" || { echo "cf-cli: the simulator did not report READY" >&2; exit 1; }
api="" user="" pass="" org="" space=""
while IFS='=' read -r k v; do
	case $k in
	CF_API) api=$v ;;
	CF_USERNAME) user=$v ;;
	CF_PASSWORD) pass=$v ;;
	CF_ORG) org=$v ;;
	CF_SPACE) space=$v ;;
	esac
done <"$tmp/sim.out"

export CF_HOME="$tmp/cf-home" CF_COLOR=false
mkdir -p "$CF_HOME"
"$cf_bin" version

# cf runs one command, prints its output (secrets masked) and keeps it in
# $out; a non-zero exit ends the script.
out=""
cf() {
	printf '\n$ cf %s\n' "$*"
	local rc=0
	"$cf_bin" "$@" >"$tmp/out" 2>&1 </dev/null || rc=$?
	out=$(cat "$tmp/out")
	sed -E 's/("[^"]*(secret|password|certificate|key)[^"]*": *")[^"]*"/\1<masked>"/' "$tmp/out"
	if [ "$rc" -ne 0 ]; then
		echo "cf-cli: 'cf $1' exited $rc" >&2
		exit 1
	fi
}
# expect fails unless the last output has a line matching the regex.
expect() {
	grep -Eq -- "$1" <<<"$out" || { echo "cf-cli: 'cf' output lacks /$1/ ($2)" >&2; exit 1; }
}

name=cpi-rt-cf-cli key=cpi-rt-cf-cli-key

cf api "$api" --skip-ssl-validation
printf '\n$ cf auth   (user and password from CF_USERNAME / CF_PASSWORD)\n'
CF_USERNAME=$user CF_PASSWORD=$pass "$cf_bin" auth </dev/null || { echo "cf-cli: 'cf auth' failed" >&2; exit 1; }
cf target -o "$org" -s "$space"
cf marketplace
expect '^it-rt +integration-flow, api +[^ ].* +[^ ]+$' "offering row with plans, description and broker"
cf marketplace -e it-rt
expect '^broker: [^ ]+' "broker of it-rt"
expect '^ +integration-flow +[^ ].* +free' "plan row with description"
cf create-service it-rt integration-flow "$name" -c '{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"],"redirect-uris":[]}' --wait
cf service "$name"
for field in broker offering plan description; do
	expect "^$field: +[^ ]+" "$field of the instance"
done
expect '^ +status: +create succeeded' "last operation"
cf services
expect "^$name +it-rt +integration-flow +create succeeded +[^ ]+ +no\$" "row with offering, plan, last operation and broker"
cf create-service-key "$name" "$key" --wait
cf service-key "$name" "$key"
expect '"clientid": "[^"]+"' "credentials"
cf service-keys "$name"
expect "^$key +create succeeded" "key row"
cf delete-service-key -f "$name" "$key" --wait
cf delete-service -f "$name" --wait
cf services
expect '^No service instances found' "nothing left"
printf '\ncf-cli: ok (%s)\n' "$("$cf_bin" version)"
