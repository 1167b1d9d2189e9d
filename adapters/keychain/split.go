package keychain

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Values larger than one keychain entry (a certificate chain with its
// private key: a 4096-bit RSA key alone is about 3.2 KB of PEM) are split.
// The entry under the account holds only "cpikey-parts:N"; the value,
// base64-encoded so that no part begins or ends with a newline a shell
// would drop, sits in entries <account>#1 … #N of at most PartChars
// characters each.

// PartChars is the size of one part: Windows Credential Manager holds 2,560
// bytes, counted here as UTF-16 (2 bytes a character, see checkSize), and
// macOS's limit leaves room for the account name beside it.
const PartChars = 1200

// SplitPrefix starts the entry that says how many parts follow.
const SplitPrefix = "cpikey-parts:"

// maxParts bounds what GetSplit reads from a (possibly tampered) entry.
const maxParts = 64

// KV is the keychain surface SetSplit needs: *Store, and the flow's Keyring.
type KV interface {
	Set(ctx context.Context, service, account, secret string) error
	Get(ctx context.Context, service, account string) (string, error)
	Delete(ctx context.Context, service, account string) error
}

// PartAccount names part n (from 1) of a split value.
func PartAccount(account string, n int) string { return account + "#" + strconv.Itoa(n) }

// SetSplit stores value under account in as many entries as it needs.
// Parts are written before the entry that counts them, and parts left over
// from a longer earlier value are removed afterwards.
func SetSplit(ctx context.Context, kv KV, service, account, value string) error {
	if value == "" {
		return errors.New("keychain: refusing to store an empty secret")
	}
	enc := base64.StdEncoding.EncodeToString([]byte(value))
	var parts []string
	for len(enc) > 0 {
		n := min(PartChars, len(enc))
		parts = append(parts, enc[:n])
		enc = enc[n:]
	}
	if len(parts) > maxParts {
		return &TooLargeError{GOOS: "any", Size: len(value), Limit: maxParts * PartChars * 3 / 4}
	}
	old := partCount(ctx, kv, service, account)
	for i, p := range parts {
		if err := kv.Set(ctx, service, PartAccount(account, i+1), p); err != nil {
			return err
		}
	}
	if err := kv.Set(ctx, service, account, SplitPrefix+strconv.Itoa(len(parts))); err != nil {
		return err
	}
	for i := len(parts) + 1; i <= old; i++ {
		kv.Delete(ctx, service, PartAccount(account, i)) //nolint:errcheck // leftovers; the count entry no longer names them
	}
	return nil
}

// GetSplit reads a value SetSplit stored. An entry that is not split (a
// client secret) is returned as it is.
func GetSplit(ctx context.Context, kv KV, service, account string) (string, error) {
	head, err := kv.Get(ctx, service, account)
	if err != nil {
		return "", err
	}
	n, split, err := parseCount(head)
	if !split {
		return head, nil
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		p, err := kv.Get(ctx, service, PartAccount(account, i))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("keychain: part %d of %d of %s is missing; store the value again", i, n, account)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(p)
	}
	v, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil {
		return "", fmt.Errorf("keychain: the parts of %s do not fit together; store the value again", account)
	}
	return string(v), nil
}

// DeleteSplit removes a value and all its parts; ErrNotFound when there
// is none.
func DeleteSplit(ctx context.Context, kv KV, service, account string) error {
	n := partCount(ctx, kv, service, account)
	if err := kv.Delete(ctx, service, account); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := kv.Delete(ctx, service, PartAccount(account, i)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

func partCount(ctx context.Context, kv KV, service, account string) int {
	head, err := kv.Get(ctx, service, account)
	if err != nil {
		return 0
	}
	n, _, err := parseCount(head)
	if err != nil {
		return 0
	}
	return n
}

func parseCount(head string) (n int, split bool, err error) {
	rest, ok := strings.CutPrefix(head, SplitPrefix)
	if !ok {
		return 0, false, nil
	}
	n, err = strconv.Atoi(rest)
	if err != nil || n < 1 || n > maxParts {
		return 0, true, errors.New("keychain: the entry's part count is unreadable; store the value again")
	}
	return n, true, nil
}
