package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cpikey/cpikey/configdir"
)

// FileName is the profile file inside the store directory.
const FileName = "profiles.json"

// Modes of the store (configdir's). Windows ignores them (ACLs of the user
// profile apply).
const (
	DirMode  = configdir.DirMode
	FileMode = configdir.FileMode
)

// fileVersion is the on-disk format; a newer file is refused rather than
// rewritten without the fields this build does not know.
const fileVersion = 1

// maxFileSize bounds what Load reads; a profile is well under 2 KB.
const maxFileSize = 8 << 20

// ErrNotFound is matched (errors.Is) by every "no such profile" error.
var ErrNotFound = errors.New("profile not found")

// ErrNoProfiles means the store holds no profile at all.
var ErrNoProfiles = errors.New("no profile yet: run cpikey (or cpikey --yes) first")

// NotFoundError is returned for a name that is not stored.
type NotFoundError struct {
	Name  string
	Known []string // names that exist, sorted
}

func (e *NotFoundError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no profile %q: %v", e.Name, ErrNoProfiles)
	}
	return fmt.Sprintf("no profile %q; known profiles: %s", e.Name, strings.Join(e.Known, ", "))
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// AmbiguousError is returned by Resolve("") when several profiles are
// equally recent, so none can be picked.
type AmbiguousError struct {
	Names []string // the candidates, sorted
}

func (e *AmbiguousError) Error() string {
	return "several profiles are equally recent; name one of: " + strings.Join(e.Names, ", ")
}

// Store is the profile file in one directory. It is safe for concurrent use
// within a process; two processes saving at the same moment can lose one
// update (never corrupt the file: writes are atomic renames).
type Store struct {
	dir string
	mu  sync.Mutex
}

type fileData struct {
	Version  int       `json:"version"`
	Profiles []Profile `json:"profiles"`
}

// Open returns the store in dir; "" means os.UserConfigDir()/cpikey.
// Nothing is created until Save. An existing directory or file with looser
// permissions than 0700/0600 is tightened on the way (best effort here,
// enforced by Save).
func Open(dir string) (*Store, error) {
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("profile: find the user config directory: %w", err)
		}
		dir = filepath.Join(base, "cpikey")
	}
	return &Store{dir: dir}, nil
}

// lock takes the store's cross-process lock: every read-modify-write of
// profiles.json runs under it, so concurrent cpikey processes never lose
// each other's changes.
func (s *Store) lock() (func(), error) {
	s.mu.Lock()
	unlock, err := configdir.Lock(s.dir, FileName)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("profile: %w", err)
	}
	return func() { unlock(); s.mu.Unlock() }, nil
}

// Swap replaces the profile called name with p only if it still names the
// key oldKeyID (a rotation's compare-and-swap); otherwise it changes nothing
// and returns a *ChangedError naming what the profile holds now.
func (s *Store) Swap(name, oldKeyID string, p Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.Roles = slices.Clone(p.Roles)
	return s.update(func(all []Profile) ([]Profile, error) {
		i := index(all, name)
		if i < 0 {
			return nil, &ChangedError{Name: name}
		}
		if all[i].Key.ID != oldKeyID {
			return nil, &ChangedError{Name: name, Now: all[i].Key.Name}
		}
		all[i] = p
		return all, nil
	})
}

// update reads the profiles, changes them and writes them back, all under
// the cross-process lock; an error from change leaves the file as it was.
func (s *Store) update(change func([]Profile) ([]Profile, error)) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	all, err := s.read()
	if err != nil {
		return err
	}
	if all, err = change(all); err != nil {
		return err
	}
	return s.write(all)
}

// ChangedError: the profile was changed (or removed) by another cpikey
// process since this one read it.
type ChangedError struct {
	Name string
	Now  string // the key it names now; "" when it was removed
}

func (e *ChangedError) Error() string {
	if e.Now == "" {
		return fmt.Sprintf("profile %s was removed by another cpikey meanwhile", e.Name)
	}
	return fmt.Sprintf("profile %s was changed by another cpikey meanwhile (it now uses key %s)", e.Name, e.Now)
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path is the profile file.
func (s *Store) Path() string { return filepath.Join(s.dir, FileName) }

// Save adds p, or replaces the stored profile of the same name.
func (s *Store) Save(p Profile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.Roles = slices.Clone(p.Roles)
	return s.update(func(all []Profile) ([]Profile, error) {
		if i := index(all, p.Name); i >= 0 {
			all[i] = p
			return all, nil
		}
		return append(all, p), nil
	})
}

// Load returns the profile called name.
func (s *Store) Load(name string) (Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.read()
	if err != nil {
		return Profile{}, err
	}
	if i := index(all, name); i >= 0 {
		return all[i], nil
	}
	return Profile{}, &NotFoundError{Name: name, Known: names(all)}
}

// List returns every profile, sorted by name.
func (s *Store) List() ([]Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

// Delete removes the profile called name (not its keychain entry: the
// caller deletes that with p.KeychainService/p.KeychainAccount).
func (s *Store) Delete(name string) error {
	return s.update(func(all []Profile) ([]Profile, error) {
		i := index(all, name)
		if i < 0 {
			return nil, &NotFoundError{Name: name, Known: names(all)}
		}
		return slices.Delete(all, i, i+1), nil
	})
}

// Resolve finds the profile a command means: the one called name, or for
// name "" the only profile, or else the most recently created one. It fails
// with ErrNoProfiles when there is none and with *AmbiguousError when the
// most recent is not unique.
func (s *Store) Resolve(name string) (Profile, error) {
	if name != "" {
		return s.Load(name)
	}
	all, err := s.List()
	if err != nil {
		return Profile{}, err
	}
	if len(all) == 0 {
		return Profile{}, ErrNoProfiles
	}
	best := []Profile{all[0]}
	for _, p := range all[1:] {
		switch c := p.CreatedAt.Compare(best[0].CreatedAt); {
		case c > 0:
			best = []Profile{p}
		case c == 0:
			best = append(best, p)
		}
	}
	if len(best) > 1 {
		return Profile{}, &AmbiguousError{Names: names(best)}
	}
	return best[0], nil
}

func index(all []Profile, name string) int {
	return slices.IndexFunc(all, func(p Profile) bool { return p.Name == name })
}

func names(all []Profile) []string {
	out := make([]string, len(all))
	for i, p := range all {
		out[i] = p.Name
	}
	slices.Sort(out)
	return out
}

// read returns the stored profiles sorted by name; a missing file is an
// empty store.
func (s *Store) read() ([]Profile, error) {
	f, err := os.Open(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("profile: read %s: %w", s.Path(), err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("profile: %s is larger than %d bytes; move it away and run cpikey again", s.Path(), maxFileSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var d fileData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("profile: %s is not valid JSON (%v); fix or move it away", s.Path(), err)
	}
	if d.Version > fileVersion {
		return nil, fmt.Errorf("profile: %s was written by a newer cpikey (format %d, this one knows %d); update cpikey", s.Path(), d.Version, fileVersion)
	}
	slices.SortFunc(d.Profiles, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	return d.Profiles, nil
}

func (s *Store) write(all []Profile) error {
	slices.SortFunc(all, func(a, b Profile) int { return strings.Compare(a.Name, b.Name) })
	if all == nil {
		all = []Profile{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fileData{Version: fileVersion, Profiles: all}); err != nil {
		return fmt.Errorf("profile: encode: %w", err)
	}
	if err := configdir.WriteFile(s.dir, FileName, buf.Bytes()); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}
