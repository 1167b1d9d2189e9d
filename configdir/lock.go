package configdir

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockTimeout bounds the wait for another cpikey process.
var LockTimeout = 10 * time.Second

// ErrLocked means another cpikey process held the lock for too long.
var ErrLocked = errors.New("another cpikey process is changing the same files")

// Lock takes the cross-process lock of dir/name (a file name.lock beside
// it), waiting at most LockTimeout. Every read-modify-write of a file in
// cpikey's directories runs under it, so concurrent processes never lose
// each other's changes.
func Lock(dir, name string) (unlock func(), err error) {
	if err := EnsurePrivate(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".lock")
	fl := flock.New(path)
	ctx, cancel := context.WithTimeout(context.Background(), LockTimeout)
	defer cancel()
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w (waited %s for %s): wait for it to finish and try again; if no cpikey runs, the lock is stale and the OS releases it when that process is gone", ErrLocked, LockTimeout, path)
	}
	return func() { fl.Unlock() }, nil //nolint:errcheck // closing the descriptor releases it anyway
}
