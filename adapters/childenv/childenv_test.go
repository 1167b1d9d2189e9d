package childenv

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestSecret(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret bool
	}{
		{"BTP_PASSWORD", true}, {"BTP_USERNAME", true}, {"btp_password", true},
		{"CF_PASSWORD", true}, {"CF_USERNAME", true}, {"CF_PASSCODE", true},
		{"CPI_CLIENT_SECRET", true}, {"CPIKEY_SECRET_SERVICE", true}, {"KEYRING_PASSWORD", true},
		{"GITHUB_TOKEN", true}, {"AWS_SECRET_ACCESS_KEY", true}, {"GOOGLE_APPLICATION_CREDENTIALS", true},
		{"OPENAI_API_KEY", true}, {"SSH_PRIVATE_KEY", true}, {"PGPASSWORD", true},
		{"PATH", false}, {"HOME", false}, {"DISPLAY", false}, {"WAYLAND_DISPLAY", false}, {"XAUTHORITY", false},
		{"DBUS_SESSION_BUS_ADDRESS", false}, {"XDG_SESSION_ID", false}, {"USERNAME", false}, {"USER", false},
		{"BROWSER", false}, {"HTTPS_PROXY", false}, {"SSH_AUTH_SOCK", false}, {"BTP_GLOBALACCOUNT", false},
		{"BTP_IDP", false}, {"BTP_CLI_SERVER_URL", false}, {"SYSTEMROOT", false}, {"CPIKEY_ASCII", false},
	} {
		if got := Secret(tc.name); got != tc.secret {
			t.Errorf("Secret(%q) = %v, want %v", tc.name, got, tc.secret)
		}
	}
}

func TestClean_KeepsOrderAndValues(t *testing.T) {
	env := []string{"PATH=/bin", "BTP_PASSWORD=x=y", "A=b=c", "BTP_USERNAME=u", "=C:=C:\\", "EMPTY="}
	want := []string{"PATH=/bin", "A=b=c", "=C:=C:\\", "EMPTY="}
	if got := Clean(env); !slices.Equal(got, want) {
		t.Fatalf("Clean = %q, want %q", got, want)
	}
}

// TestCommand_ChildSeesNoSecrets starts a real child that prints its
// environment.
func TestCommand_ChildSeesNoSecrets(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the child is a POSIX shell")
	}
	t.Setenv("BTP_PASSWORD", "CANARY-btp-password")
	t.Setenv("BTP_USERNAME", "canary-user@example.com")
	t.Setenv("CF_PASSWORD", "CANARY-cf-password")
	t.Setenv("CPIKEY_CHILDENV_KEEP", "kept")
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	out, err := Command(sh, "-c", "env").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if !strings.Contains(got, "CPIKEY_CHILDENV_KEEP=kept") || !strings.Contains(got, "PATH="+os.Getenv("PATH")) {
		t.Fatalf("the child's environment lost ordinary variables:\n%s", got)
	}
	for _, s := range []string{"BTP_PASSWORD", "BTP_USERNAME", "CF_PASSWORD", "CANARY", "canary-user"} {
		if strings.Contains(got, s) {
			t.Errorf("the child sees %s", s)
		}
	}
}
