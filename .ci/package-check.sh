#!/usr/bin/env bash
# Proves the Linux packages of a release:
#  - every .deb, .rpm and .apk passes its format's own integrity checks
#    (tools/cmd/pkginspect: dpkg md5sums, RPM digests, apk datahash; rpm and apk
#    are not installed on Debian) and holds exactly the expected files: the
#    release archive's binary for its architecture, bash/zsh/fish completions
#    where each distribution looks for them, the man page, README and licence;
#  - the .deb of this machine's architecture installs with dpkg -i as a user
#    would, cpikey --version and a --demo --yes --json run work with a fresh
#    HOME, bash loads the completion, man finds the page; dpkg -r removes it and
#    nothing of it is left.
#
#   .ci/package-check.sh [DIST]   DIST: a release from scripts/release.sh
#                                 (default: build one in a temp dir)
#
# Needs root (or sudo -n) for dpkg; CI runs as root. A cpikey package that is
# already installed is left alone (the check stops), unless it is the
# version this check installs (a leftover of an interrupted run).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

fail() { echo "package-check: FAIL: $*" >&2; exit 1; }
ok() { echo "package-check: ok $*"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cpikey-package-check.XXXXXX")
INSTALLED=0
SUDO=()
cleanup() {
	if [ "$INSTALLED" = 1 ]; then
		echo "package-check: removing the package this check installed"
		"${SUDO[@]}" dpkg -r cpikey >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ $# -ge 1 ]; then
	DIST=$1
else
	DIST=$WORK/dist
	scripts/release.sh 0.0.0-rc1 "$DIST" </dev/null
fi

shopt -s nullglob
zips=("$DIST"/cpikey_*_windows_amd64.zip)
shopt -u nullglob
[ ${#zips[@]} = 1 ] || fail "want the archives of exactly one release in $DIST, found ${#zips[@]}"
VERSION=$(basename "${zips[0]}")
VERSION=${VERSION#cpikey_}
VERSION=${VERSION%_windows_amd64.zip}
DEBV=${VERSION/-/\~} RPMV=${VERSION/-/\~}-1 APKV=${VERSION/-/_}

(cd tools && CGO_ENABLED=0 go build -o "$WORK/pkginspect" ./cmd/pkginspect)

COMPLETIONS_DEB=(/usr/share/bash-completion/completions/cpikey /usr/share/zsh/vendor-completions/_cpikey /usr/share/fish/vendor_completions.d/cpikey.fish)
COMPLETIONS_OTHER=(/usr/share/bash-completion/completions/cpikey /usr/share/zsh/site-functions/_cpikey /usr/share/fish/vendor_completions.d/cpikey.fish)
WITHOUT_COMPLETIONS=0

sha() { sha256sum "$1" | cut -d' ' -f1; }
README_SHA=$(sha README.md)
LICENSE_SHA=$(sha LICENSE)

# field LIST KIND PATH COLUMN: a column of pkginspect's line for PATH
# (columns: kind mode size sha256 elf path)
field() { awk -v k="$2" -v p="$3" -v c="$4" '$1 == k && $6 == p { print $c }' "$1"; }

# inspect PACKAGE FORMAT ARCH VERSION BINARY_SHA MAN_SHA ELF: integrity, metadata, files
inspect() {
	local pkg=$1 format=$2 arch=$3 version=$4 bin_sha=$5 man_sha=$6 elf=$7
	local list="$WORK/$(basename "$pkg").list" licence comps want got path
	[ -s "$pkg" ] || fail "missing or empty $(basename "$pkg")"
	"$WORK/pkginspect" "$pkg" >"$list" || fail "$(basename "$pkg") does not pass pkginspect's integrity checks"
	for kv in "format $format" "name cpikey" "version $version" "arch $arch"; do
		grep -qx "$kv" "$list" || fail "$(basename "$pkg"): want '$kv', got: $(grep -E '^(format|name|version|arch) ' "$list" | tr '\n' ' ')"
	done
	if [ "$format" = deb ]; then
		licence=/usr/share/doc/cpikey/copyright comps=("${COMPLETIONS_DEB[@]}")
	else
		licence=/usr/share/licenses/cpikey/LICENSE comps=("${COMPLETIONS_OTHER[@]}")
	fi
	want=(/usr/bin/cpikey /usr/share/man/man1/cpikey.1.gz /usr/share/doc/cpikey/README.md "$licence")
	[ "$WITHOUT_COMPLETIONS" = 1 ] || want+=("${comps[@]}")
	got=$(awk '$1 == "file" { print $6 }' "$list" | sort)
	[ "$got" = "$(printf '%s\n' "${want[@]}" | sort)" ] ||
		fail "$(basename "$pkg") holds files"$'\n'"$got"$'\n'"want"$'\n'"$(printf '%s\n' "${want[@]}" | sort)"
	[ "$(field "$list" file /usr/bin/cpikey 2)" = -rwxr-xr-x ] || fail "$(basename "$pkg"): /usr/bin/cpikey is not 0755"
	[ "$(field "$list" file /usr/bin/cpikey 4)" = "$bin_sha" ] || fail "$(basename "$pkg"): /usr/bin/cpikey is not the binary of cpikey_${VERSION}_linux_$elf.tar.gz"
	[ "$(field "$list" file /usr/bin/cpikey 5)" = "$elf" ] || fail "$(basename "$pkg"): /usr/bin/cpikey is not an $elf ELF binary"
	[ "$(field "$list" file /usr/share/man/man1/cpikey.1.gz 4)" = "$man_sha" ] || fail "$(basename "$pkg"): the man page is not the archives' cpikey.1"
	[ "$(field "$list" file /usr/share/doc/cpikey/README.md 4)" = "$README_SHA" ] || fail "$(basename "$pkg"): README.md is not the repository's"
	[ "$(field "$list" file "$licence" 4)" = "$LICENSE_SHA" ] || fail "$(basename "$pkg"): $licence is not the repository's LICENSE"
	for path in "${want[@]:1}"; do
		[ "$(field "$list" file "$path" 2)" = -rw-r--r-- ] || fail "$(basename "$pkg"): $path is not 0644"
	done
	if [ "$WITHOUT_COMPLETIONS" = 0 ]; then
		# the same three scripts in every package
		for path in "${comps[@]}"; do echo "$(basename "$path") $(field "$list" file "$path" 4)"; done >"$list.completions"
		if [ -f "$WORK/completions" ]; then
			cmp -s "$WORK/completions" "$list.completions" || fail "$(basename "$pkg"): its completions differ from the other packages'"
		else
			cp "$list.completions" "$WORK/completions"
		fi
	fi
}

deb_amd64="$DIST/cpikey_${DEBV}_amd64.deb"
if "$WORK/pkginspect" "$deb_amd64" 2>/dev/null | grep -q ' /usr/share/bash-completion/completions/cpikey$'; then
	:
elif [ "${RELEASE_WITHOUT_COMPLETIONS:-}" = 1 ]; then
	echo "package-check: WARNING: RELEASE_WITHOUT_COMPLETIONS=1 and the packages have no completions: their checks are skipped" >&2
	WITHOUT_COMPLETIONS=1
fi

for arch in amd64 arm64; do
	case $arch in amd64) rarch=x86_64 ;; arm64) rarch=aarch64 ;; esac
	x="$WORK/archive-$arch"
	mkdir -p "$x"
	tar -xzf "$DIST/cpikey_${VERSION}_linux_$arch.tar.gz" -C "$x" cpikey cpikey.1
	bin_sha=$(sha "$x/cpikey")
	man_sha=$(gzip -n -9 -c "$x/cpikey.1" | sha256sum | cut -d' ' -f1)
	inspect "$DIST/cpikey_${DEBV}_$arch.deb" deb "$arch" "$DEBV" "$bin_sha" "$man_sha" "$arch"
	inspect "$DIST/cpikey-$RPMV.$rarch.rpm" rpm "$rarch" "$RPMV" "$bin_sha" "$man_sha" "$arch"
	inspect "$DIST/cpikey_${APKV}_$rarch.apk" apk "$rarch" "$APKV" "$bin_sha" "$man_sha" "$arch"
	ok "linux/$arch: .deb, .rpm, .apk pass their integrity checks and hold the archive's binary, man page, README, licence$([ "$WITHOUT_COMPLETIONS" = 1 ] || echo ' and the same bash/zsh/fish completions')"
done

# A second reader where the distribution's tools are at hand.
if command -v dpkg-deb >/dev/null; then
	for arch in amd64 arm64; do
		deb="$DIST/cpikey_${DEBV}_$arch.deb"
		a=$(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ { sub(/^\./, "", $6); print $6 }' | sort)
		b=$(awk '$1 == "file" { print $6 }' "$WORK/$(basename "$deb").list" | sort)
		[ "$a" = "$b" ] || fail "dpkg-deb -c and pkginspect list different files in $(basename "$deb")"
	done
	ok "dpkg-deb -c lists the same files as pkginspect"
fi
if command -v rpm >/dev/null; then
	for rarch in x86_64 aarch64; do
		r="$DIST/cpikey-$RPMV.$rarch.rpm"
		rpm -K --nosignature "$r" >/dev/null || fail "rpm -K $(basename "$r")"
		a=$(rpm -qpl "$r" 2>/dev/null | sort)
		b=$(awk '$1 == "file" { print $6 }' "$WORK/$(basename "$r").list" | sort)
		[ "$a" = "$b" ] || fail "rpm -qpl and pkginspect list different files in $(basename "$r")"
	done
	ok "rpm -K and rpm -qpl agree"
fi

# Install and remove the .deb for this machine.
if ! command -v dpkg >/dev/null; then
	[ "${CI:-}" = true ] && fail "no dpkg: CI runs on Debian and must install the .deb"
	echo "package-check: SKIP install and removal: no dpkg on this machine"
	echo "package-check: passed (without install) in $(($(date +%s) - start))s"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	sudo -n true 2>/dev/null || fail "dpkg -i needs root: run as root or with passwordless sudo"
	SUDO=(sudo -n)
fi
arch=$(dpkg --print-architecture)
case $arch in amd64 | arm64) ;; *) fail "no .deb for this machine's architecture $arch" ;; esac
deb="$DIST/cpikey_${DEBV}_$arch.deb"
list="$WORK/$(basename "$deb").list"

status=$(dpkg-query -W -f='${db:Status-Status} ${Version}' cpikey 2>/dev/null || true)
case $status in
"" | not-installed*) ;;
"installed $DEBV" | *" $DEBV")
	echo "package-check: purging cpikey $DEBV left by an earlier run"
	"${SUDO[@]}" dpkg -P cpikey >/dev/null ;;
*) fail "a cpikey package is installed already ($status): this check installs and removes cpikey; remove it (dpkg -r cpikey) or run on another machine" ;;
esac
mapfile -t files < <(awk '$1 == "file" { print $6 }' "$list")
mapfile -t dirs < <(awk '$1 == "dir" { print $6 }' "$list")
for f in "${files[@]}"; do
	[ ! -e "$f" ] || fail "$f exists before the install (from another source?): dpkg would overwrite it"
done
new_dirs=()
for d in "${dirs[@]}"; do
	[ -d "$d" ] || new_dirs+=("$d")
done

INSTALLED=1
"${SUDO[@]}" dpkg -i "$deb" >"$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log" >&2; fail "dpkg -i $(basename "$deb")"; }
[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' cpikey)" = "installed $DEBV" ] || fail "dpkg-query does not show cpikey $DEBV installed"
dpkg -L cpikey >"$WORK/dpkg-L"
for f in "${files[@]}"; do
	grep -qx "$f" "$WORK/dpkg-L" || fail "dpkg -L cpikey does not list $f"
	[ -f "$f" ] || fail "$f is not there after dpkg -i"
done
ok "dpkg -i $(basename "$deb"): ${#files[@]} files in place"

# As a new user: a fresh HOME and the PATH of a login shell.
NEWHOME="$WORK/home"
mkdir -p "$NEWHOME"
as_user() { env -i HOME="$NEWHOME" PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb LANG=C.UTF-8 "$@" </dev/null; }
[ "$(as_user sh -c 'command -v cpikey')" = /usr/bin/cpikey ] || fail "cpikey is not /usr/bin/cpikey on the PATH"
got=$(as_user cpikey --version 2>&1) || fail "cpikey --version: $got"
grep -q "^cpikey $VERSION " <<<"$got" || fail "cpikey --version printed '$got', want 'cpikey $VERSION ...'"
ok "$got"
as_user cpikey --demo --yes --json >"$WORK/demo.json" 2>"$WORK/demo.err" || {
	cat "$WORK/demo.err" >&2
	fail "cpikey --demo --yes --json exited non-zero"
}
grep -q '"verified": true' "$WORK/demo.json" || fail "the demo run did not verify its key: $(cat "$WORK/demo.json")"
ok "cpikey --demo --yes --json with a fresh HOME: key created and verified"

if [ "$WITHOUT_COMPLETIONS" = 1 ]; then
	echo "package-check: SKIP completions: RELEASE_WITHOUT_COMPLETIONS=1"
else
	# bash-completion loads /usr/share/bash-completion/completions/cpikey on the first TAB
	got=$(as_user bash --norc --noprofile -c 'source /usr/share/bash-completion/completions/cpikey && complete -p cpikey' 2>&1) ||
		fail "bash cannot load the completion: $got"
	ok "bash: $got"
	head -1 /usr/share/zsh/vendor-completions/_cpikey | grep -q '^#compdef cpikey' || fail "the zsh completion does not start with #compdef cpikey"
	grep -q 'complete -c cpikey' /usr/share/fish/vendor_completions.d/cpikey.fish || fail "the fish completion completes no cpikey"
	ok "zsh (vendor-completions/_cpikey) and fish (vendor_completions.d/cpikey.fish) completions in place"
fi

if command -v man >/dev/null; then
	page=$(as_user man -w cpikey 2>&1) || fail "man -w cpikey: $page"
	[ "$page" = /usr/share/man/man1/cpikey.1.gz ] || fail "man -w cpikey found $page"
	as_user env MANWIDTH=100 man -P cat cpikey >"$WORK/man.txt" 2>"$WORK/man.err" || fail "man cpikey: $(cat "$WORK/man.err")"
	for want in NAME SYNOPSIS "cpikey list" "cpikey token"; do
		grep -q "$want" "$WORK/man.txt" || fail "man cpikey shows no '$want'"
	done
	ok "man -w cpikey: $page; man cpikey renders ($(wc -l <"$WORK/man.txt") lines)"
else
	[ -f /usr/share/man/man1/cpikey.1.gz ] || fail "no man page at /usr/share/man/man1/cpikey.1.gz"
	ok "man page at /usr/share/man/man1/cpikey.1.gz (man not installed)"
fi

"${SUDO[@]}" dpkg -r cpikey >"$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log" >&2; fail "dpkg -r cpikey"; }
INSTALLED=0
status=$(dpkg-query -W -f='${db:Status-Status}' cpikey 2>/dev/null || true)
case $status in "" | not-installed) ;; *) fail "after dpkg -r, dpkg-query says cpikey is '$status'" ;; esac
left=()
for f in "${files[@]}"; do [ ! -e "$f" ] || left+=("$f"); done
for d in "${new_dirs[@]}"; do [ ! -e "$d" ] || left+=("$d/"); done
[ ${#left[@]} = 0 ] || fail "left after dpkg -r: ${left[*]}"
if as_user sh -c 'command -v cpikey' >/dev/null; then fail "cpikey is still on the PATH after dpkg -r"; fi
if command -v man >/dev/null && as_user man -w cpikey >/dev/null 2>&1; then fail "man still finds cpikey after dpkg -r"; fi
ok "dpkg -r cpikey: none of its ${#files[@]} files and none of the ${#new_dirs[@]} directories it created is left"

echo "package-check: passed in $(($(date +%s) - start))s"
