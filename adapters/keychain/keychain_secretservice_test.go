package keychain

// Tests against a real Secret Service (gnome-keyring on a private D-Bus
// session). They run only with CPIKEY_SECRET_SERVICE=1, which
// .ci/secret-service.sh sets after starting and unlocking the daemon.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func requireSecretService(t *testing.T) {
	t.Helper()
	if os.Getenv("CPIKEY_SECRET_SERVICE") != "1" {
		t.Skip("needs a running, unlocked Secret Service: run .ci/secret-service.sh (sets CPIKEY_SECRET_SERVICE=1)")
	}
}

// randomSecret is made at run time so it appears in no file (test binaries
// and build caches included) unless something wrote it there.
func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "cpikey-test-secret-" + hex.EncodeToString(b)
}

// secretToolLookup reads the item the way other tools see it, which proves
// the attribute names go-keyring uses ("service", "username").
func secretToolLookup(t *testing.T, account string) (string, bool) {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", Service, "username", account).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(out) == 0 {
		return "", false // secret-tool exits 1 when nothing matches
	}
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n"), true
}

func TestSecretService_StoreReadOverwriteDelete(t *testing.T) {
	requireSecretService(t)
	if _, err := exec.LookPath("secret-tool"); err != nil {
		t.Fatal("secret-tool not installed (apt-get install libsecret-tools)")
	}
	start := time.Now()
	ctx := context.Background()
	s := New(Options{Timeout: 10 * time.Second})
	acct := AccountName("cpikey-ci-"+randomSecret(t)[19:27], "CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key")
	first, second := randomSecret(t), randomSecret(t)
	t.Cleanup(func() { _ = s.Delete(ctx, Service, acct) })

	if _, err := s.Get(ctx, Service, acct); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, Service, acct, first); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := s.Get(ctx, Service, acct); err != nil || got != first {
		t.Fatalf("Get = %q, %v; want the stored secret", got, err)
	}
	if got, ok := secretToolLookup(t, acct); !ok || got != first {
		t.Fatalf("secret-tool lookup service %s username %s = %q (found %v), want the stored secret", Service, acct, got, ok)
	}

	if err := s.Set(ctx, Service, acct, second); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if got, err := s.Get(ctx, Service, acct); err != nil || got != second {
		t.Fatalf("Get after overwrite = %q, %v", got, err)
	}
	if got, ok := secretToolLookup(t, acct); !ok || got != second {
		t.Fatalf("secret-tool after overwrite = %q (found %v)", got, ok)
	}

	// The keyring file is encrypted: no secret may appear in plaintext anywhere under $HOME.
	home, _ := os.UserHomeDir()
	assertNotInFiles(t, home, start, first, second)

	if err := s.Delete(ctx, Service, acct); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, Service, acct); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, ok := secretToolLookup(t, acct); ok {
		t.Fatal("secret-tool still finds the item after Delete")
	}
	if err := s.Delete(ctx, Service, acct); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
}

// TestSecretService_DeadBus points DBUS_SESSION_BUS_ADDRESS at a socket
// nobody serves (refused) and at one that accepts but never answers (hang).
// godbus caches the session bus per process, so each case runs in a child
// test process with its own environment and an empty $HOME.
func TestSecretService_DeadBus(t *testing.T) {
	requireSecretService(t)
	start := time.Now()
	dir := t.TempDir()

	refused := filepath.Join(dir, "refused.sock")
	l, err := net.Listen("unix", refused)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // leaves a stale socket file: connect gets ECONNREFUSED

	silent := filepath.Join(dir, "silent.sock")
	sl, err := net.Listen("unix", silent)
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	go func() {
		var held []net.Conn // accept and never answer the D-Bus handshake
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := sl.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	secret := randomSecret(t)
	for name, addr := range map[string]string{
		"refused": "unix:path=" + refused,
		"missing": "unix:path=" + filepath.Join(dir, "missing.sock"),
		"silent":  "unix:path=" + silent,
	} {
		t.Run(name, func(t *testing.T) {
			home := filepath.Join(dir, "home-"+name)
			if err := os.MkdirAll(home, 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestSecretService_DeadBusChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(),
				"CPIKEY_DEADBUS_CHILD=1",
				"CPIKEY_DEADBUS_SECRET="+secret,
				"DBUS_SESSION_BUS_ADDRESS="+addr,
				"HOME="+home,
				"XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
				"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
				"XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
			)
			out, err := cmd.CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("--- PASS: TestSecretService_DeadBusChild")) {
				t.Fatalf("child failed (%v):\n%s", err, out)
			}
			if bytes.Contains(out, []byte(secret)) {
				t.Fatal("secret appears in the child's output")
			}
			t.Logf("child output:\n%s", out)
			assertNotInFiles(t, home, time.Time{}, secret)
		})
	}
	realHome, _ := os.UserHomeDir()
	assertNotInFiles(t, realHome, start, secret)
}

// TestSecretService_DeadBusChild is the child half of TestSecretService_DeadBus.
func TestSecretService_DeadBusChild(t *testing.T) {
	if os.Getenv("CPIKEY_DEADBUS_CHILD") != "1" {
		t.Skip("run by TestSecretService_DeadBus")
	}
	secret := os.Getenv("CPIKEY_DEADBUS_SECRET")
	const timeout = 750 * time.Millisecond
	s := New(Options{Timeout: timeout})
	ctx := context.Background()
	acct := AccountName("acme-dev", "CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key")
	for op, call := range map[string]func() error{
		"set":    func() error { return s.Set(ctx, Service, acct, secret) },
		"get":    func() error { _, err := s.Get(ctx, Service, acct); return err },
		"delete": func() error { return s.Delete(ctx, Service, acct) },
	} {
		begin := time.Now()
		err := call()
		elapsed := time.Since(begin)
		t.Logf("%s after %s: %v", op, elapsed.Round(time.Millisecond), err)
		if elapsed > timeout+500*time.Millisecond {
			t.Errorf("%s took %s, timeout is %s", op, elapsed, timeout)
		}
		var ue *UnavailableError
		var te *TimeoutError
		if !errors.As(err, &ue) && !errors.As(err, &te) {
			t.Errorf("%s: err = %v, want *UnavailableError or *TimeoutError", op, err)
			continue
		}
		if !strings.Contains(err.Error(), Fix) {
			t.Errorf("%s: %q lacks the guidance %q", op, err, Fix)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: secret in error", op)
		}
	}
}

// assertNotInFiles fails if any regular file under root modified at or after
// since contains one of the needles.
func assertNotInFiles(t *testing.T, root string, since time.Time, needles ...string) {
	t.Helper()
	since = since.Add(-time.Second) // coarse file-system timestamps
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable corners (sockets, races with other writers) are not our files
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.ModTime().Before(since) || info.Size() > 64<<20 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		scanned++
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				t.Errorf("secret found in plaintext in %s", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scanned %d recently written files under %s: no plaintext secret", scanned, root)
}
