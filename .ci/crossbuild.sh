#!/usr/bin/env bash
# Cross-compiles cpikey for every release target and vets the Windows and
# macOS builds (catches build-tagged code that Linux never compiles).
# The steps run in parallel; one line per step is printed in a fixed order.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/cpikey-crossbuild.XXXXXX")
trap 'rm -rf "$LOGS"' EXIT

labels=() pids=()
run() { # run LABEL CMD...: in the background, output and duration to $LOGS
	local label=$1 i=${#labels[@]}
	shift
	labels+=("$label")
	(
		t0=$(date +%s)
		"$@" >"$LOGS/$i.out" 2>&1
		rc=$?
		echo "$(($(date +%s) - t0))" >"$LOGS/$i.secs"
		exit $rc
	) </dev/null &
	pids+=($!)
}

for t in windows/amd64 darwin/arm64 darwin/amd64 linux/amd64 linux/arm64; do
	run "build $t" env CGO_ENABLED=0 GOOS="${t%/*}" GOARCH="${t#*/}" go build -o /dev/null .
done
for os in windows darwin; do
	run "vet GOOS=$os" env CGO_ENABLED=0 GOOS=$os go vet ./...
done

failed=0
for i in "${!labels[@]}"; do
	if wait "${pids[$i]}"; then status=ok; else status=FAIL; failed=1; fi
	printf 'crossbuild: %-4s %-22s %ss\n' "$status" "${labels[$i]}" "$(cat "$LOGS/$i.secs" 2>/dev/null || echo '?')"
	[ "$status" = ok ] || awk '{print "    " $0}' "$LOGS/$i.out"
done

if [ $failed -ne 0 ]; then
	echo "crossbuild: failed after $(($(date +%s) - start))s" >&2
	exit 1
fi
echo "crossbuild: passed in $(($(date +%s) - start))s"
