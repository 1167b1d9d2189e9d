#!/usr/bin/env bash
# The Postman export, run by newman (the Postman runtime as a CLI): installs
# newman 6.2.2 from npm into the user's cache (once; later runs reuse it),
# then runs the e2e test that creates a fresh profile per plan against the
# simulator, exports the Postman environment and collection, and runs
# `newman run collection -e environment`. It fails unless the collection's
# script fetched a token and the request passed its status test.
#
# newman prints request lines, test names and failures (never the
# environment's values or headers; no --verbose); the test scans all of it
# for the client secret and the tokens, and its JSON report stays in a
# private temporary directory.
#
# Outside CI, without node and npm, it says so and exits 0.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	if [ -n "${CI:-}" ]; then
		echo "newman-check: node and npm are needed to run newman" >&2
		exit 1
	fi
	echo "newman-check: skipped: node and npm are not installed"
	exit 0
fi

version=6.2.2
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cpikey-ci/newman-$version"
newman="$cache/node_modules/.bin/newman"
if [ "$("$newman" --version 2>/dev/null)" != "$version" ]; then
	echo "installing newman $version (npm; cached in $cache)"
	mkdir -p "$cache"
	if ! npm install --prefix "$cache" --no-audit --no-fund --omit=dev --loglevel=error "newman@$version" </dev/null; then
		if [ -n "${CI:-}" ]; then
			echo "newman-check: npm could not install newman $version" >&2
			exit 1
		fi
		echo "newman-check: skipped: npm could not install newman $version"
		exit 0
	fi
fi
echo "node $(node --version), newman $("$newman" --version)"

# The test logs one line per plan ("newman integration-flow, 2 iterations:
# 1 token request, then …: HTTP 200 with "Bearer", …") and fails otherwise.
CPIKEY_NEWMAN="$newman" go test -count=1 -v -run '^TestPostmanCollection_' ./e2e/
