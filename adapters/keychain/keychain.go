// Package keychain stores cpikey's client secrets in the operating system's
// credential store (macOS Keychain, Windows Credential Manager, the Linux
// Secret Service) through github.com/zalando/go-keyring.
//
// Every call runs under a timeout because go-keyring can block forever (a
// locked Secret Service collection waits for an unlock prompt that never
// appears on a headless machine). There is deliberately no plaintext
// fallback: when the store is unavailable the caller is told why and how to
// fix it, and the user can rerun with --no-keychain.
package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/zalando/go-keyring"
)

// Service is the service name every cpikey secret is stored under.
const Service = "cpikey"

// DefaultTimeout bounds each keychain call when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Size limits enforced before anything is written.
const (
	// WindowsMaxSecretBytes is Credential Manager's CRED_MAX_CREDENTIAL_BLOB_SIZE
	// (5*512 bytes), counted as UTF-16.
	WindowsMaxSecretBytes = 2560
	// DarwinMaxBytes bounds service+account+encoded secret on macOS, well below
	// the 4096-byte line go-keyring feeds to `security -i` (longer lines used to
	// be truncated silently; exactly 4096 is still mishandled).
	DarwinMaxBytes = 3000
)

// Fix is the guidance shown whenever the Linux Secret Service is missing.
const Fix = "install and unlock gnome-keyring (or KeePassXC's Secret Service), e.g. run inside a desktop session; or rerun with --no-keychain"

// ErrNotFound is returned by Get and Delete when no secret is stored.
var ErrNotFound = errors.New("keychain: no secret stored for this account")

// TimeoutError is returned when the credential store did not answer in time.
type TimeoutError struct {
	Op      string // "store", "read" or "delete"
	GOOS    string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("keychain: timed out after %s trying to %s the secret in %s", e.Timeout, e.Op, storeName(e.GOOS))
	if secretService(e.GOOS) {
		msg += " (is the keyring locked and waiting for an unlock prompt?); " + Fix
	} else {
		msg += "; unlock it and retry, or rerun with --no-keychain"
	}
	return msg
}

// UnavailableError says the credential store cannot be used at all.
type UnavailableError struct {
	Op     string
	GOOS   string
	Reason string // what is wrong, e.g. "no Secret Service (DBUS_SESSION_BUS_ADDRESS is not set)"
	Fix    string // what to do about it
	Err    error  // the underlying go-keyring/D-Bus error, if any (never contains the secret)
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("keychain: cannot %s the secret: %s; %s", e.Op, e.Reason, e.Fix)
}

// Unwrap returns the underlying error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// TooLargeError is returned by Set when the platform store cannot hold the secret.
type TooLargeError struct {
	GOOS  string
	Size  int // bytes as the platform counts them
	Limit int // 0 when only the backend knows
}

func (e *TooLargeError) Error() string {
	limit := ""
	if e.Limit > 0 {
		limit = fmt.Sprintf(", limit %d", e.Limit)
	}
	return fmt.Sprintf("keychain: secret too large for %s (%d bytes%s); rerun with --no-keychain", storeName(e.GOOS), e.Size, limit)
}

// Options configures a Store. The zero value is ready to use.
type Options struct {
	Timeout time.Duration       // per call; 0 means DefaultTimeout
	GOOS    string              // "" means runtime.GOOS (tests inject others)
	Getenv  func(string) string // nil means os.Getenv
}

// backend is the go-keyring surface; only tests replace it (to simulate a hang).
type backend interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (goKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (goKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// Store implements steps.Keyring on top of go-keyring.
type Store struct {
	timeout time.Duration
	goos    string
	getenv  func(string) string
	backend backend
}

// New returns a Store.
func New(opts Options) *Store {
	s := &Store{timeout: opts.Timeout, goos: opts.GOOS, getenv: opts.Getenv, backend: goKeyring{}}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.goos == "" {
		s.goos = runtime.GOOS
	}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	return s
}

// AccountName is the keychain account for one service key, e.g.
// "acme-dev/CPI_SAMPLE_INSTANCE/CPI_SAMPLE_INSTANCE-key".
func AccountName(subaccountSubdomain, instance, key string) string {
	return subaccountSubdomain + "/" + instance + "/" + key
}

// Hint says where the secret lives on goos, for the README and the UI.
func Hint(goos string) string {
	switch goos {
	case "darwin":
		return `macOS Keychain (login keychain): open Keychain Access and search for "cpikey", or run: security find-generic-password -s cpikey -a <account> -w | sed 's/^go-keyring-base64://' | base64 -D (go-keyring stores the value base64-encoded)`
	case "windows":
		return `Windows Credential Manager (Control Panel > Credential Manager > Windows Credentials > Generic Credentials), entry "cpikey:<account>"`
	default:
		if secretService(goos) {
			return `Linux Secret Service (GNOME Keyring, KWallet or KeePassXC; "Passwords and Keys" / Seahorse shows it), or run: secret-tool lookup service cpikey username <account>`
		}
		return "no supported keychain on " + goos + "; use --no-keychain"
	}
}

// Set stores secret for account under service, replacing any previous value.
func (s *Store) Set(ctx context.Context, service, account, secret string) error {
	if err := checkNames(service, account); err != nil {
		return err
	}
	if secret == "" {
		return errors.New("keychain: refusing to store an empty secret")
	}
	if err := s.checkSize(service, account, secret); err != nil {
		return err
	}
	_, err := s.call(ctx, "store", secret, func(b backend) (string, error) {
		return "", b.Set(service, account, secret)
	})
	return err
}

// Get reads the secret for account; ErrNotFound when there is none.
func (s *Store) Get(ctx context.Context, service, account string) (string, error) {
	if err := checkNames(service, account); err != nil {
		return "", err
	}
	return s.call(ctx, "read", "", func(b backend) (string, error) {
		return b.Get(service, account)
	})
}

// Delete removes the secret for account; ErrNotFound when there is none.
func (s *Store) Delete(ctx context.Context, service, account string) error {
	if err := checkNames(service, account); err != nil {
		return err
	}
	_, err := s.call(ctx, "delete", "", func(b backend) (string, error) {
		return "", b.Delete(service, account)
	})
	return err
}

func checkNames(service, account string) error {
	if service == "" || account == "" {
		return errors.New("keychain: service and account must not be empty")
	}
	return nil
}

func (s *Store) checkSize(service, account, secret string) error {
	switch s.goos {
	case "windows":
		// Credential Manager counts the blob in UTF-16; go-keyring writes the
		// UTF-8 bytes and checks those, so refuse whichever is larger.
		n := 2 * len(utf16.Encode([]rune(secret)))
		if len(secret) > n {
			n = len(secret)
		}
		if n > WindowsMaxSecretBytes {
			return &TooLargeError{GOOS: s.goos, Size: n, Limit: WindowsMaxSecretBytes}
		}
	case "darwin":
		// go-keyring stores "go-keyring-base64:" + base64(secret).
		n := len(service) + len(account) + len("go-keyring-base64:") + (len(secret)+2)/3*4
		if n > DarwinMaxBytes {
			return &TooLargeError{GOOS: s.goos, Size: n, Limit: DarwinMaxBytes}
		}
	}
	return nil
}

type result struct {
	val string
	err error
}

// call runs op in its own goroutine and gives up after the timeout or when
// ctx ends. A timed-out goroutine is leaked: go-keyring offers no way to
// cancel, and cpikey is short-lived.
func (s *Store) call(ctx context.Context, op, secret string, fn func(backend) (string, error)) (string, error) {
	if secretService(s.goos) && s.getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return "", &UnavailableError{Op: op, GOOS: s.goos,
			Reason: "no Secret Service (DBUS_SESSION_BUS_ADDRESS is not set, so there is no desktop session bus)",
			Fix:    Fix}
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("keychain: %s: %w", op, err)
	}
	ch := make(chan result, 1)
	b := s.backend
	go func() {
		v, err := fn(b)
		ch <- result{v, err}
	}()
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", s.mapErr(op, secret, r.err)
		}
		return r.val, nil
	case <-timer.C:
		return "", &TimeoutError{Op: op, GOOS: s.goos, Timeout: s.timeout}
	case <-ctx.Done():
		return "", fmt.Errorf("keychain: %s: %w", op, ctx.Err())
	}
}

// secretServicePatterns are go-keyring/godbus error texts meaning "there is
// no usable Secret Service", with the reason shown to the user.
var secretServicePatterns = []struct{ substr, reason string }{
	{"org.freedesktop.secrets was not provided", "no Secret Service is running (nothing provides org.freedesktop.secrets on the session bus)"},
	{"ServiceUnknown", "no Secret Service is running (nothing provides org.freedesktop.secrets on the session bus)"},
	{"Failed to activate service 'org.freedesktop.secrets'", "the Secret Service could not be started"},
	{"failed to unlock correct collection", "the keyring is locked and could not be unlocked (or there is no login keyring)"},
	{"Object does not exist at path", "the keyring has no login collection"},
	{"No such interface", "the Secret Service does not offer a usable collection"},
	{"dial unix", "cannot connect to the D-Bus session bus"},
	{"connection refused", "cannot connect to the D-Bus session bus"},
	{"autolaunch", "cannot connect to the D-Bus session bus"},
	{"AT_SECURE", "cannot connect to the D-Bus session bus"},
	{"dbus: authentication failed", "cannot connect to the D-Bus session bus"},
}

func (s *Store) mapErr(op, secret string, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return &TooLargeError{GOOS: s.goos, Size: len(secret)}
	}
	err = scrub(err, secret)
	if errors.Is(err, keyring.ErrUnsupportedPlatform) {
		return &UnavailableError{Op: op, GOOS: s.goos, Err: err,
			Reason: "this build of cpikey has no keychain support on " + s.goos,
			Fix:    "rerun with --no-keychain"}
	}
	if secretService(s.goos) {
		text := err.Error()
		for _, p := range secretServicePatterns {
			if strings.Contains(text, p.substr) {
				return &UnavailableError{Op: op, GOOS: s.goos, Reason: p.reason, Fix: Fix, Err: err}
			}
		}
	}
	return fmt.Errorf("keychain: %s the secret in %s: %w", op, storeName(s.goos), err)
}

// scrub makes sure no error text carries the secret, whatever a backend
// chose to put there.
func scrub(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}

func secretService(goos string) bool {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return true
	}
	return false
}

func storeName(goos string) string {
	switch goos {
	case "darwin":
		return "the macOS Keychain"
	case "windows":
		return "Windows Credential Manager"
	default:
		if secretService(goos) {
			return "the Secret Service"
		}
		return "the keychain"
	}
}
