#!/usr/bin/env bash
# Runs adapters/keychain's Secret Service tests against a real gnome-keyring on a
# private D-Bus session bus (the zalando/go-keyring CI recipe).
#
# - installs gnome-keyring, dbus, dbus-user-session and libsecret-tools with
#   apt-get when they are missing (needs root or sudo);
# - uses a throw-away $HOME, so a developer's own keyring is never touched and
#   every run starts from a fresh login keyring;
# - never reads stdin (CI runs it with none).
#
# Usage: .ci/secret-service.sh        (from anywhere inside the repo)
set -euo pipefail

cd "$(dirname "$0")/.."
start=$(date +%s)

need_install=()
command -v gnome-keyring-daemon >/dev/null || need_install+=(gnome-keyring)
command -v dbus-daemon >/dev/null || need_install+=(dbus)
command -v dbus-run-session >/dev/null || need_install+=(dbus-user-session)
command -v dbus-send >/dev/null || need_install+=(dbus)
command -v secret-tool >/dev/null || need_install+=(libsecret-tools)

if ((${#need_install[@]})); then
	sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "secret-service: need root (or sudo) to install: ${need_install[*]}" >&2; exit 1; }
		sudo=(sudo -n)
	fi
	echo "secret-service: installing ${need_install[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq </dev/null
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		gnome-keyring dbus dbus-user-session libsecret-tools </dev/null >/dev/null
fi

# Keep Go's caches and settings where they are while $HOME moves.
export GOPATH GOCACHE GOMODCACHE GOENV
GOPATH=$(go env GOPATH)
GOCACHE=$(go env GOCACHE)
GOMODCACHE=$(go env GOMODCACHE)
GOENV=$(go env GOENV)

KEYRING_HOME=$(mktemp -d /tmp/cpikey-keyring.XXXXXX)
trap 'rm -rf "$KEYRING_HOME"' EXIT
export KEYRING_HOME

dbus-run-session -- bash -euo pipefail -c '
	export HOME=$KEYRING_HOME
	unset XDG_DATA_HOME
	export XDG_RUNTIME_DIR=$HOME/run
	mkdir -p "$HOME/.local/share/keyrings" "$XDG_RUNTIME_DIR"
	chmod 700 "$HOME/.local" "$HOME/.local/share" "$HOME/.local/share/keyrings" "$XDG_RUNTIME_DIR"

	# With no keyring yet, --unlock creates the "login" collection with this
	# password and unlocks it; it prints the variables clients need.
	eval "$(echo -n somepass | gnome-keyring-daemon --unlock --components=secrets | sed "s/^/export /")"

	owned=false
	for _ in $(seq 50); do
		if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
			org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
			owned=true
			break
		fi
		sleep 0.1
	done
	if [ "$owned" != true ]; then
		echo "secret-service: org.freedesktop.secrets did not appear on the session bus within 5s" >&2
		exit 1
	fi
	echo "secret-service: gnome-keyring is up on $DBUS_SESSION_BUS_ADDRESS"

	CPIKEY_SECRET_SERVICE=1 go test -count=1 -run "SecretService" ./adapters/keychain/ -v
' </dev/null

echo "secret-service: ok in $(($(date +%s) - start))s"
