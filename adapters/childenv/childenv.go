// Package childenv gives the programs cpikey starts (the browser for the SSO
// login, clipboard tools) an environment without credentials. cpikey reads
// BTP_PASSWORD and BTP_USERNAME from its environment; a child would inherit
// them, and a browser or an xclip that keeps running as the selection owner
// has no use for them.
package childenv

import (
	"os"
	"os/exec"
	"strings"
)

// Command is exec.Command with Environ() as the environment.
func Command(name string, arg ...string) *exec.Cmd {
	cmd := exec.Command(name, arg...)
	cmd.Env = Environ()
	return cmd
}

// Environ returns os.Environ() without the variables Secret names.
func Environ() []string { return Clean(os.Environ()) }

// Clean returns the "NAME=value" entries of env whose name is no Secret.
func Clean(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !Secret(name) {
			out = append(out, kv)
		}
	}
	return out
}

// Secret reports whether a variable of this name may hold a credential.
// The rule is by name, case-insensitive (Windows names are): anything
// naming a password, passcode, secret, token, credential or private/API
// key, and user names that belong to a login (BTP_USERNAME, CF_USERNAME,
// any *_USERNAME). What children need is kept: PATH, HOME, DISPLAY,
// XAUTHORITY, DBUS_SESSION_BUS_ADDRESS, USERNAME, proxies and the like.
func Secret(name string) bool {
	n := strings.ToUpper(name)
	for _, s := range []string{"PASSWORD", "PASSWD", "PASSCODE", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY", "API_KEY", "APIKEY"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return strings.HasSuffix(n, "_USERNAME") || strings.HasSuffix(n, "_USER_NAME")
}
