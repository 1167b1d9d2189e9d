// Package pkginspect reads .deb, .rpm and .apk packages without the
// distributions' own tools (which a Debian CI machine lacks for rpm and apk):
// it checks the integrity data each format carries (dpkg's md5sums, the RPM
// header and payload digests, the apk datahash) and lists every file with its
// mode, size and SHA-256.
package pkginspect

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Package is what a package file says about itself.
type Package struct {
	Format  string // deb, rpm or apk
	Name    string
	Version string // as the format spells it (0.1.0~rc1, 0.1.0_rc1)
	Arch    string // as the format spells it (amd64, x86_64, aarch64)
	Files   []File
}

// File is one entry of the package's file tree.
type File struct {
	Path   string      // absolute: /usr/bin/cpikey
	Mode   fs.FileMode // type bits and permissions
	Size   int64
	SHA256 string // hex, regular files only
	// ELF is the machine of an ELF executable ("amd64", "arm64"), else "".
	ELF string
}

// Open inspects the package at name; the format is taken from its extension.
func Open(name string) (*Package, error) {
	var (
		p   *Package
		err error
	)
	switch path.Ext(name) {
	case ".deb":
		p, err = readDeb(name)
	case ".rpm":
		p, err = readRPM(name)
	case ".apk":
		p, err = readAPK(name)
	default:
		return nil, fmt.Errorf("%s: not a .deb, .rpm or .apk file", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sort.Slice(p.Files, func(i, j int) bool { return p.Files[i].Path < p.Files[j].Path })
	return p, nil
}

// File returns the entry for an absolute path.
func (p *Package) File(name string) (File, bool) {
	for _, f := range p.Files {
		if f.Path == name {
			return f, true
		}
	}
	return File{}, false
}

// clean turns the archive's "./usr/bin/x", "usr/bin/x/" into "/usr/bin/x".
func clean(name string) string {
	return path.Clean("/" + strings.TrimPrefix(name, "./"))
}

// readFile hashes a regular file's content and notes its ELF machine.
func readFile(r io.Reader, f *File) error {
	h := sha256.New()
	head := &prefixWriter{max: 64}
	n, err := io.Copy(io.MultiWriter(h, head), r)
	if err != nil {
		return err
	}
	if n != f.Size {
		return fmt.Errorf("%s: %d bytes, the header says %d", f.Path, n, f.Size)
	}
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	f.ELF = elfMachine(head.b)
	return nil
}

// elfMachine reads the machine field of an ELF header.
func elfMachine(head []byte) string {
	if len(head) < 20 || string(head[:4]) != elf.ELFMAG {
		return ""
	}
	var m uint16
	if head[elf.EI_DATA] == byte(elf.ELFDATA2MSB) {
		m = uint16(head[18])<<8 | uint16(head[19])
	} else {
		m = uint16(head[19])<<8 | uint16(head[18])
	}
	switch elf.Machine(m) {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	default:
		return strings.ToLower(strings.TrimPrefix(elf.Machine(m).String(), "EM_"))
	}
}

type prefixWriter struct {
	b   []byte
	max int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func openFile(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.Size() == 0 {
		f.Close()
		if err == nil {
			err = errors.New("empty file")
		}
		return nil, err
	}
	return f, nil
}
