package configdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestEnsurePrivate_RefusesWhatItDoesNotOwn: cpikey writes only into a
// directory it owns with mode 0700; a symlink, a file or another user's
// directory in its place is refused (and never followed), a loose mode of
// its own is tightened.
func TestEnsurePrivate_RefusesWhatItDoesNotOwn(t *testing.T) {
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	if err := os.Mkdir(victim, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		prepare func(dir string) error
		refused bool
	}{
		{"fresh", func(string) error { return nil }, false},
		{"loose mode of ours", func(dir string) error { return os.Mkdir(dir, 0o777) }, false},
		{"symlink to another directory", func(dir string) error { return os.Symlink(victim, dir) }, true},
		{"a file", func(dir string) error { return os.WriteFile(dir, nil, 0o600) }, true},
		{"another user's directory", func(dir string) error {
			if os.Getuid() != 0 {
				t.Skip("needs root to give a directory away")
			}
			if err := os.Mkdir(dir, 0o700); err != nil {
				return err
			}
			return os.Chown(dir, 65534, 65534)
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, tc.name, "cpikey")
			os.MkdirAll(filepath.Dir(dir), 0o755)
			if err := tc.prepare(dir); err != nil {
				t.Fatal(err)
			}
			err := EnsurePrivate(dir)
			var unsafe *UnsafeDirError
			if tc.refused != errors.As(err, &unsafe) {
				t.Fatalf("EnsurePrivate: %v (want refused %v)", err, tc.refused)
			}
			if tc.refused {
				if err := WriteFile(dir, "prefs.json", []byte("{}")); err == nil {
					t.Fatal("WriteFile wrote into a refused directory")
				}
				if _, err := os.Stat(filepath.Join(victim, "prefs.json")); err == nil {
					t.Fatal("a file was written through the symlink")
				}
				return
			}
			st, err := os.Lstat(dir)
			if err != nil || st.Mode().Perm() != DirMode {
				t.Fatalf("mode %v, %v", st.Mode(), err)
			}
		})
	}
}

// TestWriteFile_ReplacesALinkInsteadOfFollowingIt: a symlink where a file
// goes is replaced by the new file; its target is untouched.
func TestWriteFile_ReplacesALinkInsteadOfFollowingIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cpikey")
	if err := EnsurePrivate(dir); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "bashrc")
	os.WriteFile(target, []byte("original"), 0o644)
	for _, name := range []string{"prefs.json", "debug.log"} {
		os.Symlink(target, filepath.Join(dir, name))
	}
	if err := WriteFile(dir, "prefs.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	f, err := CreateFile(dir, "debug.log")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("trace")
	f.Close()
	if b, _ := os.ReadFile(target); string(b) != "original" {
		t.Fatalf("the link's target was written: %q", b)
	}
	for _, name := range []string{"prefs.json", "debug.log"} {
		st, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != FileMode {
			t.Errorf("%s: %v %v", name, st.Mode(), err)
		}
	}
}

// TestDefault_NoHomeWritesNothing: with no HOME (and no XDG variables)
// cpikey says so instead of falling back to a shared temporary directory.
func TestDefault_NoHomeWritesNothing(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	if _, err := Default(); err == nil {
		t.Fatal("Default found directories without HOME")
	}
}

// TestUpdatePrefs_UnderTheLock: the lock is taken and released; a second
// holder waits until the first lets go and then sees its change.
func TestUpdatePrefs_UnderTheLock(t *testing.T) {
	d := Dirs{Config: filepath.Join(t.TempDir(), "cpikey")}
	unlock, err := Lock(d.Config, PrefsFile)
	if err != nil {
		t.Fatal(err)
	}
	old := LockTimeout
	LockTimeout = 50 * 1e6 // 50ms
	defer func() { LockTimeout = old }()
	if err := d.RememberGlobalAccount("ga-1"); !errors.Is(err, ErrLocked) {
		t.Fatalf("a held lock was not waited for: %v", err)
	}
	unlock()
	if err := d.RememberGlobalAccount("ga-1"); err != nil {
		t.Fatal(err)
	}
	if got := d.LoadPrefs().LastGlobalAccount; got != "ga-1" {
		t.Fatalf("prefs %q", got)
	}
}

// TestRememberChoices_PerSubaccount keeps the last choices per subaccount
// and the last subaccount per global account, next to the other prefs.
func TestRememberChoices_PerSubaccount(t *testing.T) {
	d := Dirs{Config: filepath.Join(t.TempDir(), "cpikey")}
	if err := d.RememberGlobalAccount("ga-1"); err != nil {
		t.Fatal(err)
	}
	a := Choices{Runtime: "cf", Org: "o", Space: "dev", Plan: "integration-flow", Instance: "I", Key: "I-key", Roles: []string{"ESBMessaging.send"}}
	b := Choices{Runtime: "other", Plan: "api", Instance: "J", Key: "J-key", Roles: []string{"MonitoringDataRead"}}
	if err := d.RememberChoices("ga-1", "sub-a", a); err != nil {
		t.Fatal(err)
	}
	if err := d.RememberChoices("ga-1", "sub-b", b); err != nil {
		t.Fatal(err)
	}
	p := d.LoadPrefs()
	if p.LastGlobalAccount != "ga-1" || p.LastSubaccount["ga-1"] != "sub-b" ||
		p.Subaccounts["sub-a"].Instance != "I" || p.Subaccounts["sub-b"].Plan != "api" || p.Subaccounts["sub-a"].Roles[0] != "ESBMessaging.send" {
		t.Fatalf("prefs %+v", p)
	}
	for i := range maxRemembered + 5 {
		if err := d.RememberChoices("", "sub-"+string(rune('A'+i)), a); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(d.LoadPrefs().Subaccounts); n > maxRemembered {
		t.Errorf("%d subaccounts remembered, at most %d", n, maxRemembered)
	}
}
