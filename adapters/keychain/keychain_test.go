package keychain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

const testSecret = "s3cr3t-Cl1ent-S3cret-value$" // distinctive, so leaks are easy to spot

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var withBus = env(map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"})

func newMocked(t *testing.T, goos string) *Store {
	t.Helper()
	keyring.MockInit()
	return New(Options{GOOS: goos, Getenv: withBus, Timeout: time.Second})
}

func TestStore_SetGetOverwriteDelete(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows", "freebsd"} {
		t.Run(goos, func(t *testing.T) {
			ctx := context.Background()
			s := newMocked(t, goos)
			acct := AccountName("acme-dev", "CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key")
			steps := []struct {
				name    string
				do      func() (string, error)
				want    string
				wantErr error
			}{
				{"get before set", func() (string, error) { return s.Get(ctx, Service, acct) }, "", ErrNotFound},
				{"set", func() (string, error) { return "", s.Set(ctx, Service, acct, testSecret) }, "", nil},
				{"get", func() (string, error) { return s.Get(ctx, Service, acct) }, testSecret, nil},
				{"overwrite", func() (string, error) { return "", s.Set(ctx, Service, acct, "second") }, "", nil},
				{"get overwritten", func() (string, error) { return s.Get(ctx, Service, acct) }, "second", nil},
				{"other account untouched", func() (string, error) { return s.Get(ctx, Service, acct+"x") }, "", ErrNotFound},
				{"delete", func() (string, error) { return "", s.Delete(ctx, Service, acct) }, "", nil},
				{"get after delete", func() (string, error) { return s.Get(ctx, Service, acct) }, "", ErrNotFound},
				{"delete again", func() (string, error) { return "", s.Delete(ctx, Service, acct) }, "", ErrNotFound},
			}
			for _, st := range steps {
				got, err := st.do()
				if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
					t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
				}
				if got != st.want {
					t.Fatalf("%s: got %q, want %q", st.name, got, st.want)
				}
			}
		})
	}
}

func TestStore_RejectsEmptyInputs(t *testing.T) {
	ctx := context.Background()
	s := newMocked(t, "linux")
	for name, err := range map[string]error{
		"empty secret":  s.Set(ctx, Service, "a/b/c", ""),
		"empty account": s.Set(ctx, Service, "", testSecret),
		"empty service": s.Delete(ctx, "", "a/b/c"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// hangingBackend blocks like go-keyring does when a locked collection waits
// for an unlock prompt that never appears.
type hangingBackend struct{ release chan struct{} }

func (h hangingBackend) Set(string, string, string) error   { <-h.release; return nil }
func (h hangingBackend) Get(string, string) (string, error) { <-h.release; return "", nil }
func (h hangingBackend) Delete(string, string) error        { <-h.release; return nil }
func (h hangingBackend) DeleteAll(string) error             { <-h.release; return nil }
func newHanging(t *testing.T, goos string, d time.Duration) *Store {
	t.Helper()
	h := hangingBackend{release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	s := New(Options{GOOS: goos, Getenv: withBus, Timeout: d})
	s.backend = h
	return s
}

func TestStore_TimesOut(t *testing.T) {
	ops := map[string]func(s *Store) error{
		"store":  func(s *Store) error { return s.Set(context.Background(), Service, "a/b/c", testSecret) },
		"read":   func(s *Store) error { _, err := s.Get(context.Background(), Service, "a/b/c"); return err },
		"delete": func(s *Store) error { return s.Delete(context.Background(), Service, "a/b/c") },
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for op, call := range ops {
			t.Run(goos+"/"+op, func(t *testing.T) {
				s := newHanging(t, goos, 20*time.Millisecond)
				start := time.Now()
				err := call(s)
				if el := time.Since(start); el > time.Second {
					t.Fatalf("took %s, want about 20ms", el)
				}
				var te *TimeoutError
				if !errors.As(err, &te) {
					t.Fatalf("err = %v, want *TimeoutError", err)
				}
				if te.Op != op || te.Timeout != 20*time.Millisecond {
					t.Errorf("TimeoutError = %+v", te)
				}
				if !strings.Contains(err.Error(), "--no-keychain") {
					t.Errorf("timeout message lacks the way out: %q", err)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Errorf("secret in error: %q", err)
				}
			})
		}
	}
}

func TestStore_ContextCancelStopsWaiting(t *testing.T) {
	s := newHanging(t, "linux", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Get(ctx, Service, "a/b/c")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("did not stop when ctx ended")
	}
	cancelled, stop := context.WithCancel(context.Background())
	stop()
	if err := s.Set(cancelled, Service, "a/b/c", testSecret); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with cancelled ctx: %v", err)
	}
}

func TestStore_DefaultTimeout(t *testing.T) {
	if got := New(Options{}).timeout; got != DefaultTimeout || DefaultTimeout != 5*time.Second {
		t.Fatalf("default timeout = %s", got)
	}
}

func TestStore_NoSessionBusFailsFastWithGuidance(t *testing.T) {
	tests := []struct {
		goos    string
		wantErr bool
	}{
		{"linux", true},
		{"freebsd", true},
		{"darwin", false},
		{"windows", false},
	}
	for _, tt := range tests {
		t.Run(tt.goos, func(t *testing.T) {
			keyring.MockInit()
			noBus := New(Options{GOOS: tt.goos, Getenv: env(nil)})
			start := time.Now()
			err := noBus.Set(context.Background(), Service, "a/b/c", testSecret)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Set: %v", err)
				}
				return
			}
			if time.Since(start) > 100*time.Millisecond {
				t.Fatal("did not fail immediately")
			}
			var ue *UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *UnavailableError", err)
			}
			for _, want := range []string{"no Secret Service", "DBUS_SESSION_BUS_ADDRESS", "install and unlock gnome-keyring", "KeePassXC", "--no-keychain"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
			// go-keyring was never called: the same mock store, seen with a bus, is empty.
			if _, err := New(Options{GOOS: tt.goos, Getenv: withBus}).Get(context.Background(), Service, "a/b/c"); !errors.Is(err, ErrNotFound) {
				t.Errorf("something was written without a bus: %v", err)
			}
			if _, err := noBus.Get(context.Background(), Service, "a/b/c"); !errors.As(err, &ue) {
				t.Errorf("Get: %v", err)
			}
		})
	}
}

func TestStore_MapsBackendErrors(t *testing.T) {
	tests := []struct {
		name        string
		goos        string
		backendErr  error
		unavailable bool
		wantText    []string
	}{
		{"no daemon", "linux", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), true,
			[]string{"no Secret Service is running", Fix}},
		{"locked", "linux", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), true,
			[]string{"locked", Fix}},
		{"WSL no login collection", "linux", errors.New("Object does not exist at path “/org/freedesktop/secrets/collection/login”"), true,
			[]string{"login collection", Fix}},
		{"dead bus socket", "linux", errors.New("dial unix /tmp/nobus: connect: connection refused"), true,
			[]string{"D-Bus session bus", Fix}},
		{"no cgo on freebsd", "freebsd", keyring.ErrUnsupportedPlatform, true,
			[]string{"no keychain support on freebsd", "--no-keychain"}},
		{"other linux error", "linux", errors.New("something odd"), false,
			[]string{"something odd", "Secret Service"}},
		{"darwin security failure", "darwin", errors.New("exit status 45"), false,
			[]string{"exit status 45", "macOS Keychain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keyring.MockInitWithError(tt.backendErr)
			s := New(Options{GOOS: tt.goos, Getenv: withBus})
			for op, err := range map[string]error{
				"set":    s.Set(context.Background(), Service, "a/b/c", testSecret),
				"delete": s.Delete(context.Background(), Service, "a/b/c"),
			} {
				var ue *UnavailableError
				if got := errors.As(err, &ue); got != tt.unavailable {
					t.Errorf("%s: err = %v; unavailable = %v, want %v", op, err, got, tt.unavailable)
				}
				if tt.unavailable && !errors.Is(err, tt.backendErr) {
					t.Errorf("%s: cause not kept: %v", op, err)
				}
				for _, w := range tt.wantText {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q lacks %q", op, err, w)
					}
				}
			}
		})
	}
}

func TestStore_SizeLimits(t *testing.T) {
	acct := AccountName("acme-dev", "CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key")
	tests := []struct {
		name    string
		goos    string
		secret  string
		tooBig  bool
		wantLen int
	}{
		{"windows ascii at limit", "windows", strings.Repeat("a", 1280), false, 0},
		{"windows ascii over limit (UTF-16)", "windows", strings.Repeat("a", 1281), true, 2562},
		{"windows 3-byte UTF-8 counts UTF-8", "windows", strings.Repeat("€", 900), true, 2700},
		{"windows surrogate pairs at limit", "windows", strings.Repeat("😀", 640), false, 0},
		{"windows surrogate pairs over limit", "windows", strings.Repeat("😀", 641), true, 2564},
		{"darwin typical client secret", "darwin", strings.Repeat("x", 100), false, 0},
		{"darwin over 3000 encoded", "darwin", strings.Repeat("x", 2200), true, len(Service) + len(acct) + 18 + 2936},
		{"linux has no limit here", "linux", strings.Repeat("x", 5000), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newMocked(t, tt.goos)
			err := s.Set(context.Background(), Service, acct, tt.secret)
			var tl *TooLargeError
			if got := errors.As(err, &tl); got != tt.tooBig {
				t.Fatalf("err = %v, tooBig = %v, want %v", err, got, tt.tooBig)
			}
			if !tt.tooBig {
				return
			}
			if tl.Size != tt.wantLen {
				t.Errorf("Size = %d, want %d", tl.Size, tt.wantLen)
			}
			if !strings.Contains(err.Error(), "--no-keychain") || strings.Contains(err.Error(), tt.secret) {
				t.Errorf("bad message %q", err)
			}
			if _, err := s.Get(context.Background(), Service, acct); !errors.Is(err, ErrNotFound) {
				t.Errorf("something was written: %v", err)
			}
		})
	}
}

func TestStore_BackendTooBigIsTyped(t *testing.T) {
	keyring.MockInitWithError(keyring.ErrSetDataTooBig)
	err := New(Options{GOOS: "darwin"}).Set(context.Background(), Service, "a/b/c", testSecret)
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("err = %v", err)
	}
}

func TestStore_ErrorsNeverContainSecret(t *testing.T) {
	cases := []struct {
		name string
		s    func(t *testing.T) *Store
	}{
		{"backend echoes secret", func(t *testing.T) *Store {
			keyring.MockInitWithError(fmt.Errorf("write failed for %q", testSecret))
			return New(Options{GOOS: "linux", Getenv: withBus})
		}},
		{"secret service error echoing secret", func(t *testing.T) *Store {
			keyring.MockInitWithError(fmt.Errorf("dial unix %s: connect: refused", testSecret))
			return New(Options{GOOS: "linux", Getenv: withBus})
		}},
		{"no bus", func(t *testing.T) *Store {
			keyring.MockInit()
			return New(Options{GOOS: "linux", Getenv: env(nil)})
		}},
		{"timeout", func(t *testing.T) *Store { return newHanging(t, "linux", 10*time.Millisecond) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s(t).Set(context.Background(), Service, "a/b/c", testSecret)
			if err == nil {
				t.Fatal("no error")
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), testSecret) {
					t.Fatalf("secret leaked in %q", e)
				}
			}
		})
	}
}

func TestAccountName(t *testing.T) {
	if got, want := AccountName("acme-dev", "CPI_SAMPLE_INSTANCE", "CPI_SAMPLE_INSTANCE-key"), "acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key"; got != want {
		t.Fatalf("AccountName = %q, want %q", got, want)
	}
	if Service != "cpikey" {
		t.Fatalf("Service = %q", Service)
	}
}

func TestHint(t *testing.T) {
	for goos, want := range map[string]string{
		"darwin":  "macOS Keychain",
		"windows": "Windows Credential Manager",
		"linux":   "secret-tool lookup service cpikey username",
		"freebsd": "Secret Service",
		"plan9":   "--no-keychain",
	} {
		if got := Hint(goos); !strings.Contains(got, want) {
			t.Errorf("Hint(%q) = %q, want it to mention %q", goos, got, want)
		}
	}
}
