#!/usr/bin/env bash
# Fuzzes every fuzz target of cpikey, one after the other.
#
#   scripts/fuzz.sh [SECONDS] [REGEXP]
#
# SECONDS (default 30) is the time per target; REGEXP (default: all) picks
# targets by name, e.g. scripts/fuzz.sh 60 'Labels'. Targets are found in the
# source (func FuzzXxx in *_test.go), so new ones are fuzzed without editing
# this script. Plain `go test ./...` (CI) already runs every seed: the f.Add
# values and the files under <package>/testdata/fuzz/<FuzzXxx>/.
#
# A failure stops the script: go test writes the failing input to
# <package>/testdata/fuzz/<FuzzXxx>/<hash>; fix the bug and commit that file as
# a regression seed. New interesting inputs found along the way stay in the Go
# build cache ($(go env GOCACHE)/fuzz) and are reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
filter=${2:-.}
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [REGEXP]" >&2; exit 2; }

targets=()
while IFS=: read -r file line; do
	name=${line#func }
	name=${name%%(*}
	[[ $name =~ $filter ]] || continue
	targets+=("./$(dirname "$file") $name")
done < <(grep -rH --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' btp steps ui safetext profiles adapters configdir headless main*.go 2>/dev/null | sort)

if ((${#targets[@]} == 0)); then
	echo "fuzz: no target matches '$filter'" >&2
	exit 2
fi
echo "fuzz: ${#targets[@]} targets, ${secs}s each"
start=$(date +%s)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== $name ($pkg)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "${secs}s" "$pkg"
done
echo "fuzz: ${#targets[@]} targets passed in $(($(date +%s) - start))s"
