#!/usr/bin/env bash
# Builds a cpikey release: archives, Linux packages, package-manager manifests.
#
#   scripts/release.sh VERSION [OUTDIR]      (OUTDIR defaults to dist/)
#
# VERSION is MAJOR.MINOR.PATCH, optionally -alphaN, -betaN, -preN or -rcN
# (the pre-release forms that .deb, .rpm and .apk all order correctly).
#
# Into OUTDIR it writes:
#   cpikey_VERSION_OS_ARCH.tar.gz   darwin/arm64, darwin/amd64, linux/amd64,
#                                   linux/arm64: cpikey, cpikey.1, README.md, LICENSE
#   cpikey_VERSION_windows_amd64.zip  cpikey.exe, README.md, LICENSE
#   cpikey_V_amd64.deb, cpikey-V-1.x86_64.rpm, cpikey_V_x86_64.apk and the
#                                   arm64/aarch64 ones (nfpm, packaging/nfpm.yaml):
#                                   binary, bash/zsh/fish completions, man page,
#                                   README, licence
#   SHA256SUMS                      sha256sum format, every archive and package
#   homebrew-tap/Formula/cpikey.rb  Homebrew formula (tap cpikey/homebrew-tap)
#   scoop-bucket/bucket/cpikey.json Scoop manifest (bucket cpikey/scoop-bucket)
#   winget/manifests/c/cpikey/cpikey/VERSION/  winget version, installer and
#                                   defaultLocale manifests (cpikey.cpikey)
#
# Binaries are static (CGO_ENABLED=0, -trimpath) with version, commit and date
# stamped in. The man page is generated from the binary's own --help, the
# completions by running `cpikey completion bash|zsh|fish`; the manifests from
# SHA256SUMS, then checked against the archives (tools/cmd/manifests). The
# tools (nfpm v2.48.0 among them) come from tools/go.mod, not the product's.
#
# Environment:
#   SOURCE_DATE_EPOCH   reproducible build date and file times
#   RELEASE_BASE_URL    where the manifests download from, {version} for the
#                       version (default: the GitHub release of tag vVERSION)
#   RELEASE_WITHOUT_COMPLETIONS=1
#                       development only, never for a release: when the binary
#                       cannot generate completions, build the packages without
#                       them instead of failing (said loudly; CI never sets it)
set -euo pipefail

usage() { echo "usage: scripts/release.sh VERSION [OUTDIR]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
VERSION=$1
OUTDIR=${2:-dist}
# The version ends up in -ldflags, file names and three package formats.
if ! [[ $VERSION =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-(alpha|beta|pre|rc)[0-9]*)?$ ]]; then
	echo "release: VERSION '$VERSION' is not MAJOR.MINOR.PATCH[-alphaN|-betaN|-preN|-rcN] (e.g. 1.2.0, 1.3.0-rc1);" >&2
	echo "         other pre-release forms do not sort right in .deb, .rpm and .apk" >&2
	usage
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
cd "$ROOT"

TARGETS=(windows/amd64 darwin/arm64 darwin/amd64 linux/amd64 linux/arm64)
PKG_ARCHES=(amd64 arm64)
PACKAGERS=(deb rpm apk)

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || true)
COMMIT=${COMMIT:-unknown}
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
DAY=${DATE%%T*}
LDFLAGS="-s -w -X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"
BASE_URL=${RELEASE_BASE_URL:-https://github.com/cpikey/cpikey/releases/download/v{version}}

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
start=$(date +%s)
step_start=$start
step() { # step MESSAGE: print what the last step took
	local now
	now=$(date +%s)
	echo "release: $* ($((now - step_start))s)"
	step_start=$now
}

# Stale manifests of another version would sit beside the new ones.
rm -rf "$OUTDIR/homebrew-tap" "$OUTDIR/scoop-bucket" "$OUTDIR/winget" "$OUTDIR/SHA256SUMS"

# 1. The five builds and the release tools, in parallel (linking dominates
#    and is single-threaded).
build_bin() { # build_bin OS ARCH
	local out="$WORK/bin/$1_$2" bin=cpikey
	[ "$1" = windows ] && bin=cpikey.exe
	mkdir -p "$out"
	CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -ldflags "$LDFLAGS" -o "$out/$bin" .
}
build_tools() {
	# CGO off: go-rpmutils would otherwise compile a C zstd it does not need here.
	(cd tools && CGO_ENABLED=0 go build -o "$WORK/tools/" \
		github.com/goreleaser/nfpm/v2/cmd/nfpm ./cmd/manpage ./cmd/manifests)
}
labels=() pids=()
for t in "${TARGETS[@]}"; do
	labels+=("build $t")
	build_bin "${t%/*}" "${t#*/}" >"$WORK/log.${#pids[@]}" 2>&1 &
	pids+=($!)
done
labels+=("build tools (nfpm, manpage, manifests)")
build_tools >"$WORK/log.${#pids[@]}" 2>&1 &
pids+=($!)
failed=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		failed=1
		echo "release: FAILED ${labels[$i]}:" >&2
		awk '{print "  " $0}' "$WORK/log.$i" >&2
	fi
done
[ "$failed" = 0 ] || exit 1
step "built ${#TARGETS[@]} binaries and the tools"

# The binary that runs here generates the man page and the completions.
HOST="$(go env GOHOSTOS)_$(go env GOHOSTARCH)"
if [ -x "$WORK/bin/$HOST/cpikey" ]; then
	HOSTBIN="$WORK/bin/$HOST/cpikey"
else
	HOSTBIN="$WORK/bin/host/cpikey"
	mkdir -p "$WORK/bin/host"
	CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$HOSTBIN" .
fi

# 2. The man page, from the binary's own help.
SHARE="$WORK/share"
mkdir -p "$SHARE"
"$WORK/tools/manpage" -bin "$HOSTBIN" -version "$VERSION" -date "$DAY" -o "$SHARE/cpikey.1"
gzip -n -9 -c "$SHARE/cpikey.1" >"$SHARE/cpikey.1.gz"
step "man page cpikey.1"

# 3. Archives and their checksums, then the manifests that point to them.
ARCHIVES=()
for t in "${TARGETS[@]}"; do
	os=${t%/*} arch=${t#*/}
	name="cpikey_${VERSION}_${os}_${arch}"
	stage="$WORK/stage/$name"
	mkdir -p "$stage"
	cp "$WORK/bin/${os}_${arch}/"* README.md LICENSE "$stage/"
	if [ "$os" = windows ]; then
		rm -f "$OUTDIR/$name.zip"
		(cd "$stage" && make_zip "$OUTDIR/$name.zip" cpikey.exe README.md LICENSE)
		ARCHIVES+=("$name.zip")
	else
		cp "$SHARE/cpikey.1" "$stage/"
		(cd "$stage" && make_tgz "$OUTDIR/$name.tar.gz" cpikey cpikey.1 README.md LICENSE)
		ARCHIVES+=("$name.tar.gz")
	fi
done
(cd "$OUTDIR" && "${SHA256[@]}" "${ARCHIVES[@]}" >SHA256SUMS)
"$WORK/tools/manifests" write -version "$VERSION" -dir "$OUTDIR" -date "$DAY" -base-url "$BASE_URL" | sed 's/^/release: /'
step "${#ARCHIVES[@]} archives, SHA256SUMS, manifests"

# 4. Shell completions, generated by the binary (cobra's `completion`
#    command). Nothing stands in for them when the binary cannot.
WITHOUT_COMPLETIONS=0
completion_failed() { # completion_failed SHELL OUTPUT
	if [ "${RELEASE_WITHOUT_COMPLETIONS:-}" = 1 ]; then
		echo "release: WARNING: \`cpikey completion $1\` failed: $2" >&2
		echo "release: WARNING: RELEASE_WITHOUT_COMPLETIONS=1: the packages are built WITHOUT shell completions; not for release" >&2
		WITHOUT_COMPLETIONS=1
		return
	fi
	cat >&2 <<EOF
release: FAILED: \`cpikey completion $1\` did not produce a $1 completion script:
  $2
The packages install shell completions generated by the binary itself
(\`cpikey completion bash|zsh|fish\`, cobra's completion command), so this
binary cannot be packaged. The archives, SHA256SUMS and manifests are in
$OUTDIR; no packages were built.
EOF
	exit 1
}
for sh in bash zsh fish; do
	case $sh in
	bash) out="$SHARE/cpikey.bash" want='complete .*cpikey' ;;
	zsh) out="$SHARE/_cpikey" want='^#compdef cpikey' ;;
	fish) out="$SHARE/cpikey.fish" want='complete -c cpikey' ;;
	esac
	set +e
	HOME="$WORK/home" "$HOSTBIN" completion "$sh" >"$out" 2>"$WORK/completion.err" </dev/null
	rc=$?
	set -e
	if [ $rc -ne 0 ]; then
		completion_failed "$sh" "exit $rc: $(head -c 300 "$WORK/completion.err")"
	elif ! grep -Eq -- "$want" "$out"; then
		completion_failed "$sh" "exit 0, but the output has no line matching /$want/: $(head -c 200 "$out")"
	fi
	if [ "$WITHOUT_COMPLETIONS" = 1 ]; then break; fi
done
step "completions (bash, zsh, fish)"

# 5. Linux packages: nfpm, once per packager and architecture.
CONFIG="$ROOT/packaging/nfpm.yaml"
if [ "$WITHOUT_COMPLETIONS" = 1 ]; then
	# drop the content entries of the completion files
	CONFIG="$WORK/nfpm-without-completions.yaml"
	awk '
		function flush() { if (item != "" && item !~ /SHAREDIR}\/(cpikey\.bash|_cpikey|cpikey\.fish)/) printf "%s", item; item = "" }
		/^  - / { flush() }
		/^[^ ]/ { flush() }
		{ if (/^  - / || item != "") item = item $0 "\n"; else print }
		END { flush() }
	' "$ROOT/packaging/nfpm.yaml" >"$CONFIG"
fi
PACKAGES=()
pids=() labels=()
for arch in "${PKG_ARCHES[@]}"; do
	for p in "${PACKAGERS[@]}"; do
		mkdir -p "$WORK/pkg/$arch-$p"
		labels+=("$p $arch")
		VERSION=$VERSION GOARCH=$arch BINDIR="$WORK/bin/linux_$arch" SHAREDIR="$SHARE" ROOTDIR="$ROOT" \
			"$WORK/tools/nfpm" package -f "$CONFIG" -p "$p" -t "$WORK/pkg/$arch-$p/" \
			>"$WORK/log.nfpm.${#pids[@]}" 2>&1 &
		pids+=($!)
	done
done
failed=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		failed=1
		echo "release: FAILED nfpm ${labels[$i]}:" >&2
		awk '{print "  " $0}' "$WORK/log.nfpm.$i" >&2
	fi
done
[ "$failed" = 0 ] || exit 1
for f in "$WORK"/pkg/*/*; do
	cp "$f" "$OUTDIR/"
	PACKAGES+=("$(basename "$f")")
done
step "${#PACKAGES[@]} packages: ${PACKAGES[*]}"

# 6. SHA256SUMS over everything a user downloads, and the manifests checked
#    against it and the archives.
(cd "$OUTDIR" && "${SHA256[@]}" "${ARCHIVES[@]}" "${PACKAGES[@]}" >SHA256SUMS)
"$WORK/tools/manifests" check -version "$VERSION" -dir "$OUTDIR" -base-url "$BASE_URL" | sed 's/^/release: /'
step "SHA256SUMS ($((${#ARCHIVES[@]} + ${#PACKAGES[@]})) files) and manifest check"

echo "release: cpikey $VERSION (commit $COMMIT, built $DATE) -> $OUTDIR in $(($(date +%s) - start))s"
if [ "$WITHOUT_COMPLETIONS" = 1 ]; then
	echo "release: WARNING: packages WITHOUT shell completions (RELEASE_WITHOUT_COMPLETIONS=1): not for release" >&2
fi
