package configdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Modes of cpikey's own directories and files.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// UnsafeDirError is a directory cpikey will not write to: a symlink, not a
// directory, owned by someone else, or open to others and not ours to fix.
type UnsafeDirError struct {
	Path, Why string
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("%s %s, so cpikey writes nothing there: remove or fix it (it must be a directory you own with mode 0700), or point HOME elsewhere", e.Path, e.Why)
}

// EnsurePrivate makes dir (creating it and missing parents) a directory
// that only the current user can enter: checked with Lstat, so a symlink
// planted in its place is refused, never followed; a directory of ours
// with looser permissions is tightened to 0700.
func EnsurePrivate(dir string) error {
	if dir == "" || !filepath.IsAbs(dir) {
		return &UnsafeDirError{Path: dir, Why: "is not an absolute path"}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, DirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check %s: %w", dir, err)
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return &UnsafeDirError{Path: dir, Why: "is a symbolic link"}
	case !st.IsDir():
		return &UnsafeDirError{Path: dir, Why: "is not a directory"}
	case runtime.GOOS == "windows":
		return nil // ACLs of the user profile protect it; there are no mode bits to check
	case !ownedByMe(st):
		return &UnsafeDirError{Path: dir, Why: "belongs to another user"}
	case st.Mode().Perm()&^DirMode != 0:
		if err := os.Chmod(dir, DirMode); err != nil {
			return fmt.Errorf("restrict %s to mode 0700: %w", dir, err)
		}
	}
	return nil
}

// WriteFile writes data as dir/name (see ReplaceFile) after making dir
// private.
func WriteFile(dir, name string, data []byte) error {
	if err := EnsurePrivate(dir); err != nil {
		return err
	}
	return ReplaceFile(filepath.Join(dir, name), data)
}

// ReplaceFile writes data to a new 0600 file created exclusively next to
// path and renames it over path, so readers see the old or the new file,
// never half of one, and a symlink at path is replaced, not followed. It
// does not check the directory (exports go where the user says).
func ReplaceFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // O_CREATE|O_EXCL
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if runtime.GOOS != "windows" {
		if err = f.Chmod(FileMode); err != nil {
			return err
		}
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// CreateFile creates dir/name afresh for writing (a log): whatever was
// there, a symlink included, is removed first, and the new file is created
// exclusively with mode 0600 in the private dir.
func CreateFile(dir, name string) (*os.File, error) {
	if err := EnsurePrivate(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, FileMode)
}

// syncDir makes a rename durable where the OS supports it (best effort).
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck
		d.Close()
	}
}
