#!/usr/bin/env bash
# Builds cpikey release archives.
#
#   scripts/release.sh VERSION [OUTDIR]      (OUTDIR defaults to dist/)
#
# For windows/amd64, darwin/arm64, darwin/amd64, linux/amd64 and linux/arm64 it
# builds a static binary (CGO_ENABLED=0, -trimpath, stamped version/commit/date),
# packs it with README.md and LICENSE (when present) into
# cpikey_VERSION_OS_ARCH.zip (windows) or .tar.gz (others), and writes
# SHA256SUMS (sha256sum format) for the archives. Set SOURCE_DATE_EPOCH for a
# reproducible build date and archive timestamps.
set -euo pipefail

usage() { echo "usage: scripts/release.sh VERSION [OUTDIR]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
VERSION=$1
OUTDIR=${2:-dist}
# The version ends up in -ldflags and file names: keep it to a safe alphabet.
[[ $VERSION =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]] || { echo "release: bad VERSION '$VERSION'" >&2; usage; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
cd "$ROOT"

TARGETS=(windows/amd64 darwin/arm64 darwin/amd64 linux/amd64 linux/arm64)

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || true)
COMMIT=${COMMIT:-unknown}
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
LDFLAGS="-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"

if command -v sha256sum >/dev/null; then
	SHA256=(sha256sum)
elif command -v shasum >/dev/null; then
	SHA256=(shasum -a 256)
else
	echo "release: need sha256sum or shasum" >&2; exit 1
fi

# make_zip ARCHIVE FILE... (run inside the staging directory)
make_zip() {
	local archive=$1; shift
	if command -v zip >/dev/null; then
		zip -q -X "$archive" "$@"
	elif command -v python3 >/dev/null; then
		python3 - "$archive" "$@" <<'PY'
import os, sys, time, zipfile
archive, files = sys.argv[1], sys.argv[2:]
epoch = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
stamp = time.gmtime(max(epoch, 315532800))[:6]  # zip dates start in 1980
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        info = zipfile.ZipInfo(f, stamp)
        info.external_attr = (0o755 if os.access(f, os.X_OK) else 0o644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(f, "rb") as fh:
            z.writestr(info, fh.read())
PY
	else
		echo "release: need zip or python3 to build the windows archive" >&2; return 1
	fi
}

make_tgz() {
	local archive=$1; shift
	if tar --version 2>/dev/null | grep -q 'GNU tar'; then
		local mtime=()
		[ -n "${SOURCE_DATE_EPOCH:-}" ] && mtime=(--mtime="@$SOURCE_DATE_EPOCH")
		tar --sort=name --owner=0 --group=0 --numeric-owner "${mtime[@]}" -cf - "$@" | gzip -n -9 >"$archive"
	else
		tar -cf - "$@" | gzip -n -9 >"$archive"
	fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cpikey-release.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# build OS ARCH: binary + docs into $WORK/cpikey_VERSION_OS_ARCH/, then the archive.
build() {
	local os=$1 arch=$2 name="cpikey_${VERSION}_$1_$2" bin=cpikey archive f
	local stage="$WORK/$name"
	mkdir -p "$stage"
	[ "$os" = windows ] && bin=cpikey.exe
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$LDFLAGS" -o "$stage/$bin" .
	local files=("$bin")
	for f in README.md LICENSE; do
		if [ -f "$f" ]; then cp "$f" "$stage/"; files+=("$f"); fi
	done
	if [ "$os" = windows ]; then
		archive="$name.zip"
		rm -f "$OUTDIR/$archive"
		(cd "$stage" && make_zip "$OUTDIR/$archive" "${files[@]}")
	else
		archive="$name.tar.gz"
		(cd "$stage" && make_tgz "$OUTDIR/$archive" "${files[@]}")
	fi
}

# The five builds run in parallel (linking dominates and is single-threaded).
start=$(date +%s)
pids=() ARCHIVES=()
for t in "${TARGETS[@]}"; do
	os=${t%/*} arch=${t#*/}
	build "$os" "$arch" >"$WORK/$os-$arch.log" 2>&1 &
	pids+=($!)
	if [ "$os" = windows ]; then ARCHIVES+=("cpikey_${VERSION}_${os}_${arch}.zip"); else ARCHIVES+=("cpikey_${VERSION}_${os}_${arch}.tar.gz"); fi
done
failed=0
for i in "${!TARGETS[@]}"; do
	t=${TARGETS[$i]}
	if wait "${pids[$i]}"; then
		echo "release: ${ARCHIVES[$i]}"
	else
		failed=1
		echo "release: FAILED $t:" >&2
		awk '{print "  " $0}' "$WORK/${t%/*}-${t#*/}.log" >&2
	fi
done
[ "$failed" = 0 ] || exit 1
echo "release: built ${#TARGETS[@]} archives in $(($(date +%s) - start))s"

(cd "$OUTDIR" && "${SHA256[@]}" "${ARCHIVES[@]}" >SHA256SUMS)
echo "release: cpikey $VERSION (commit $COMMIT, built $DATE) -> $OUTDIR"
