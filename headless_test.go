package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cpikey/cpikey/btp/sim"
)

// TestHeadless_ErrorPrintedOnce: a failing step is not reported as a
// progress line and then again as the command's error.
func TestHeadless_ErrorPrintedOnce(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	s, err := sim.Start(sim.Config{EntitlementPadding: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct {
		name, password string
		args           []string
		code           int
		once           string // appears exactly once on stderr
	}{
		{"wrong password", "wrong", []string{"--subaccount", sim.SubReady}, 1, "is wrong for the SAP ID service"},
		{"unknown space", sim.AdminPassword, []string{"--subaccount", sim.SubReady, "--space", "nope"}, 2, `--space "nope"`},
		{"no cloud foundry", sim.AdminPassword, []string{"--subaccount", sim.SubNoCF}, 1, "has no Cloud Foundry environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := envFunc(map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
				"BTP_PASSWORD": tc.password, "BTP_GLOBALACCOUNT": sim.GASubdomain})
			var stdout, stderr bytes.Buffer
			args := append([]string{"--yes", "--no-keychain"}, tc.args...)
			if code := run(args, strings.NewReader(""), &stdout, &stderr, env); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr.String())
			}
			if n := strings.Count(stderr.String(), tc.once); n != 1 {
				t.Errorf("%q appears %d times on stderr:\n%s", tc.once, n, stderr.String())
			}
			if !strings.Contains(stderr.String(), "cpikey: ") {
				t.Errorf("the error is not printed as the command's error:\n%s", stderr.String())
			}
		})
	}
}

// TestHeadless_CtrlCSaysWhatSAPIsDoing interrupts `cpikey --yes` while SAP
// creates the instance: the message names that work and says a rerun
// resumes; the rerun then reuses the instance.
func TestHeadless_CtrlCSaysWhatSAPIsDoing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := testBinary(t)
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, ProvisionTime: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "BTP_CLI_SERVER_URL=" + s.CLIServerURL(),
		"BTP_USERNAME=" + sim.AdminUser, "BTP_PASSWORD=" + sim.AdminPassword, "BTP_GLOBALACCOUNT=" + sim.GASubdomain}
	args := []string{"--yes", "--json", "--no-keychain", "--subaccount", sim.SubReady}

	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until SAP accepted the instance and its job was polled twice (so
	// the first poll's answer has reached the progress report), then Ctrl+C.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if strings.Count(strings.Join(s.Requests(), "\n"), "cf:GET /v3/jobs/") >= 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill() //nolint:errcheck
			t.Fatalf("the instance was never created:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errorsAs(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d\n%s", err, exitInterrupted, stderr.String())
	}
	msg := stderr.String()
	for _, want := range []string{"cpikey: interrupted. SAP is still working on: Creating instance CPI_SAMPLE_INSTANCE",
		"Run the same command again to resume"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "context canceled") {
		t.Errorf("the message is Go's, not the user's:\n%s", msg)
	}

	again := exec.Command(bin, args...)
	again.Env = env
	out, err := again.Output()
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	var res struct{ Instance struct{ Reused bool } }
	if err := json.Unmarshal(out, &res); err != nil || !res.Instance.Reused {
		t.Errorf("the rerun did not resume with the instance SAP was creating: %v\n%s", err, out)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestHeadless_RolesDriftStopsWithTheFlags: reusing an instance with other
// roles exits 1 naming the difference and the flags that resolve it.
func TestHeadless_RolesDriftStopsWithTheFlags(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", "")
	s, err := sim.Start(sim.Config{EntitlementPadding: -1, ProvisionTime: time.Nanosecond, BindTime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := envFunc(map[string]string{"BTP_CLI_SERVER_URL": s.CLIServerURL(), "BTP_USERNAME": sim.AdminUser,
		"BTP_PASSWORD": sim.AdminPassword, "BTP_GLOBALACCOUNT": sim.GASubdomain})
	cpikey := func(want int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"--yes", "--no-keychain", "--subaccount", sim.SubReady}, args...)
		if code := run(args, strings.NewReader(""), &stdout, &stderr, env); code != want {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, want, stderr.String())
		}
		return stderr.String()
	}
	cpikey(0, "--roles", "ESBMessaging.send,Custom.role")
	msg := cpikey(1)
	for _, want := range []string{"instance CPI_SAMPLE_INSTANCE already exists with roles Custom.role, ESBMessaging.send, not the requested ESBMessaging.send",
		"extra Custom.role", "--update-roles", "--accept-roles"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if strings.Count(msg, "already exists with roles") != 1 {
		t.Errorf("the difference is printed more than once:\n%s", msg)
	}
	cpikey(2, "--update-roles", "--accept-roles")
	cpikey(0, "--accept-roles")
	if msg := cpikey(0, "--update-roles"); !strings.Contains(msg, "Roles of instance CPI_SAMPLE_INSTANCE updated to ESBMessaging.send") {
		t.Errorf("--update-roles did not say so:\n%s", msg)
	}
	cpikey(0)
}
