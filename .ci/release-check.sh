#!/usr/bin/env bash
# Checks scripts/release.sh end to end: five archives (each with a binary for
# its platform, the docs and, for macOS and Linux, the man page), six Linux
# packages, SHA256SUMS verifies, the manifests check against the archives,
# the man page is clean roff, and the linux/amd64 binary reports the stamped
# version.
#
#   .ci/release-check.sh [DIST]    DIST: keep the release there (for
#                                  .ci/package-check.sh); default a temp dir
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

VERSION=0.0.0-rc1
OUT=$(mktemp -d "${TMPDIR:-/tmp}/cpikey-release-check.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
DIST=${1:-$OUT/dist}

scripts/release.sh "$VERSION" "$DIST" </dev/null

fail() { echo "release-check: FAIL: $*" >&2; exit 1; }

# magic FILE: the first four bytes in hex
magic() { od -An -tx1 -N4 "$1" | tr -d ' \n'; }

declare -A want_magic=(
	[windows_amd64]=4d5a      # "MZ" (PE)
	[darwin_arm64]=cffaedfe   # Mach-O 64-bit, little endian
	[darwin_amd64]=cffaedfe
	[linux_amd64]=7f454c46    # ELF
	[linux_arm64]=7f454c46
)
for t in windows_amd64 darwin_arm64 darwin_amd64 linux_amd64 linux_arm64; do
	x="$OUT/x/$t"
	mkdir -p "$x"
	if [ "$t" = windows_amd64 ]; then
		a="$DIST/cpikey_${VERSION}_$t.zip" bin=cpikey.exe docs=(README.md LICENSE)
		[ -f "$a" ] || fail "missing $(basename "$a")"
		if command -v unzip >/dev/null; then
			unzip -q "$a" -d "$x"
		else
			python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$a" "$x"
		fi
	else
		a="$DIST/cpikey_${VERSION}_$t.tar.gz" bin=cpikey docs=(README.md LICENSE cpikey.1)
		[ -f "$a" ] || fail "missing $(basename "$a")"
		tar -xzf "$a" -C "$x"
	fi
	[ -f "$x/$bin" ] || fail "$(basename "$a") has no $bin"
	m=$(magic "$x/$bin")
	[[ $m == "${want_magic[$t]}"* ]] || fail "$bin in $(basename "$a") is not a ${t%_*} binary (magic $m)"
	for doc in "${docs[@]}"; do
		[ -s "$x/$doc" ] || fail "$(basename "$a") lacks $doc"
	done
	cmp -s LICENSE "$x/LICENSE" || fail "LICENSE in $(basename "$a") differs from the repository's"
	echo "release-check: ok $(basename "$a") ($bin, ${docs[*]})"
done

for p in "cpikey_${VERSION/-/\~}_amd64.deb" "cpikey_${VERSION/-/\~}_arm64.deb" \
	"cpikey-${VERSION/-/\~}-1.x86_64.rpm" "cpikey-${VERSION/-/\~}-1.aarch64.rpm" \
	"cpikey_${VERSION/-/_}_x86_64.apk" "cpikey_${VERSION/-/_}_aarch64.apk"; do
	[ -s "$DIST/$p" ] || fail "missing package $p (.ci/package-check.sh looks inside them)"
done
echo "release-check: ok 6 packages present (deb, rpm, apk for amd64 and arm64)"

n=$(wc -l <"$DIST/SHA256SUMS")
[ "$n" = 11 ] || fail "SHA256SUMS lists $n files, want 11 (5 archives, 6 packages)"
(cd "$DIST" && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
echo "release-check: ok SHA256SUMS (11 files)"

# The manifests once more, independently of the release run that wrote them.
(cd tools && CGO_ENABLED=0 go run ./cmd/manifests check -version "$VERSION" -dir "$DIST") ||
	fail "manifests do not match the archives"

page="$OUT/x/linux_amd64/cpikey.1"
th=$(grep -m1 '^\.TH' "$page" || true)
roff_version=$(printf '%s' "$VERSION" | sed 's/-/\\-/g')
grep -qF "\"cpikey $roff_version\"" <<<"$th" || fail "cpikey.1: .TH line '$th' does not name cpikey $VERSION"
grep -q '^\.SS "cpikey list"$' "$page" || fail "cpikey.1 documents no command (no .SS \"cpikey list\")"
if command -v groff >/dev/null; then
	warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || true
	[ -z "$warnings" ] || fail "groff -man -ww cpikey.1: $warnings"
	echo "release-check: ok cpikey.1 (groff -man -ww: no warnings)"
else
	echo "release-check: ok cpikey.1 (groff not installed: not linted)"
fi

if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/amd64 ]; then
	bin="$OUT/x/linux_amd64/cpikey"
	set +e
	got=$("$bin" --version 2>&1 </dev/null)
	rc=$?
	set -e
	[ $rc -eq 0 ] || fail "cpikey --version exited $rc: $got"
	grep -q "^cpikey $VERSION " <<<"$got" || fail "cpikey --version printed '$got', want 'cpikey $VERSION ...'"
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	grep -q "(commit $commit," <<<"$got" || fail "cpikey --version printed '$got', want commit $commit"
	echo "release-check: ok $got"
else
	echo "release-check: SKIP version check: host is not linux/amd64"
fi
echo "release-check: passed in $(($(date +%s) - start))s"
