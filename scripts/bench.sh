#!/usr/bin/env bash
# Runs every cpikey benchmark against the embedded simulator and prints the
# machine they ran on (the README's "Performance" figures come from here):
#
#   scripts/bench.sh         # the README figures (about 1 s per benchmark, or one iteration of the long ones)
#   scripts/bench.sh 1x      # CI: each benchmark exactly once, so none can rot
#
# BenchmarkCompletionLatency (steps, ~12 s) and BenchmarkDemoRunRSS/fresh
# (main, ~8 s) take one iteration either way. Packages run one at a time
# (-p 1) so that no benchmark shares the two cores with another. Extra
# arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-1s}
shift || true
model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1 || true)
echo "machine: $(nproc) cores, ${model:-unknown CPU}, $(go version | cut -d' ' -f3-)"
go test -p 1 -run '^$' -bench . -benchmem -benchtime="$benchtime" "$@" ./...
