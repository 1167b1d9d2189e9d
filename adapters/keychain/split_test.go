package keychain

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

// bundle4096 is shaped like a 4096-bit RSA private key (PKCS#1 DER is
// about 2,350 bytes) plus a certificate chain, in PEM: the size, not the
// mathematics, is what the keychain sees.
func bundle4096(t *testing.T) string {
	t.Helper()
	block := func(typ string, n int) string {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}))
	}
	return block("CERTIFICATE", 1400) + block("CERTIFICATE", 560) + block("RSA PRIVATE KEY", 2350)
}

func TestSplit_LargeValuesFitEveryPlatform(t *testing.T) {
	ctx := context.Background()
	value := bundle4096(t)
	if len(value) <= WindowsMaxSecretBytes {
		t.Fatalf("the fixture (%d bytes) is not larger than one Windows entry", len(value))
	}
	for _, goos := range []string{"windows", "darwin", "linux"} {
		t.Run(goos, func(t *testing.T) {
			s := newMocked(t, goos)
			acct := AccountName("acme-dev-k3x9q2ab", "CPI_SAMPLE_INSTANCE_WITH_A_LONG_N", "CPI_SAMPLE_INSTANCE-certificate-k")
			if goos != "linux" {
				var tooLarge *TooLargeError
				if err := s.Set(ctx, Service, acct, value); !errors.As(err, &tooLarge) {
					t.Fatalf("one entry took %d bytes: %v", len(value), err)
				}
			}
			if err := SetSplit(ctx, s, Service, acct, value); err != nil {
				t.Fatal(err)
			}
			got, err := GetSplit(ctx, s, Service, acct)
			if err != nil || got != value {
				t.Fatalf("read back %d bytes (%v), stored %d", len(got), err, len(value))
			}
			head, _ := s.Get(ctx, Service, acct)
			if !strings.HasPrefix(head, SplitPrefix) || strings.Contains(head, "PRIVATE") {
				t.Errorf("the account's own entry holds %q", head)
			}
		})
	}
}

func TestSplit_OverwriteShorterAndDelete(t *testing.T) {
	ctx := context.Background()
	s := newMocked(t, "windows")
	acct := "a/b/c"
	if err := SetSplit(ctx, s, Service, acct, bundle4096(t)); err != nil {
		t.Fatal(err)
	}
	n, _, _ := parseCount(mustGet(t, s, acct))
	if err := SetSplit(ctx, s, Service, acct, "short"); err != nil {
		t.Fatal(err)
	}
	if got, _ := GetSplit(ctx, s, Service, acct); got != "short" {
		t.Fatalf("got %q", got)
	}
	if _, err := s.Get(ctx, Service, PartAccount(acct, n)); !errors.Is(err, ErrNotFound) {
		t.Errorf("part %d of the longer value survived the overwrite: %v", n, err)
	}
	if err := DeleteSplit(ctx, s, Service, acct); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{acct, PartAccount(acct, 1)} {
		if _, err := s.Get(ctx, Service, a); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s left after delete: %v", a, err)
		}
	}
	if err := DeleteSplit(ctx, s, Service, acct); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}
}

func TestSplit_PlainEntriesAndDamage(t *testing.T) {
	ctx := context.Background()
	s := newMocked(t, "linux")
	s.Set(ctx, Service, "plain", testSecret) //nolint:errcheck
	if got, err := GetSplit(ctx, s, Service, "plain"); err != nil || got != testSecret {
		t.Fatalf("a client secret read through GetSplit: %q %v", got, err)
	}
	SetSplit(ctx, s, Service, "x", strings.Repeat("k", 3*PartChars)) //nolint:errcheck
	keyring.Delete(Service, PartAccount("x", 2))                     //nolint:errcheck
	if _, err := GetSplit(ctx, s, Service, "x"); err == nil || !strings.Contains(err.Error(), "part 2 of") {
		t.Errorf("a missing part: %v", err)
	}
	s.Set(ctx, Service, "y", SplitPrefix+"999999") //nolint:errcheck
	if _, err := GetSplit(ctx, s, Service, "y"); err == nil {
		t.Error("an absurd part count was followed")
	}
}

func mustGet(t *testing.T, s *Store, acct string) string {
	t.Helper()
	v, err := s.Get(context.Background(), Service, acct)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
