package pkginspect

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/blakesmith/ar"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// readDeb reads an ar archive of debian-binary, control.tar.* and data.tar.*,
// and checks each data file against the md5sums of the control archive.
func readDeb(name string) (*Package, error) {
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := &Package{Format: "deb"}
	var md5sums map[string]string
	md5s := map[string]string{} // of the data files, computed
	seen := map[string]bool{}
	r := ar.NewReader(f)
	for {
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ar: %w", err)
		}
		member := strings.TrimSuffix(hdr.Name, "/")
		seen[strings.SplitN(member, ".", 2)[0]] = true
		switch {
		case member == "debian-binary":
			b, err := io.ReadAll(r)
			if err != nil {
				return nil, err
			}
			if string(b) != "2.0\n" {
				return nil, fmt.Errorf("debian-binary is %q, want \"2.0\\n\"", b)
			}
		case strings.HasPrefix(member, "control.tar"):
			err = eachTar(member, r, func(h *tar.Header, tr io.Reader) error {
				switch clean(h.Name) {
				case "/control":
					fields, err := controlFields(tr)
					p.Name, p.Version, p.Arch = fields["Package"], fields["Version"], fields["Architecture"]
					return err
				case "/md5sums":
					md5sums, err = parseMD5sums(tr)
					return err
				}
				return nil
			})
		case strings.HasPrefix(member, "data.tar"):
			err = eachTar(member, r, func(h *tar.Header, tr io.Reader) error {
				file := File{Path: clean(h.Name), Mode: h.FileInfo().Mode(), Size: h.Size}
				if h.Typeflag == tar.TypeReg {
					m := md5.New()
					if err := readFile(io.TeeReader(tr, m), &file); err != nil {
						return err
					}
					md5s[file.Path] = hex.EncodeToString(m.Sum(nil))
				}
				p.Files = append(p.Files, file)
				return nil
			})
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
	}
	for _, m := range []string{"debian-binary", "control", "data"} {
		if !seen[m] {
			return nil, fmt.Errorf("no %s member: not a Debian package", m)
		}
	}
	if p.Name == "" || p.Version == "" || p.Arch == "" {
		return nil, errors.New("control lacks Package, Version or Architecture")
	}
	if md5sums == nil {
		return nil, errors.New("control archive has no md5sums")
	}
	for path, sum := range md5s {
		if md5sums[path] != sum {
			return nil, fmt.Errorf("%s: md5 %s, md5sums says %q", path, sum, md5sums[path])
		}
		delete(md5sums, path)
	}
	for path := range md5sums {
		return nil, fmt.Errorf("md5sums lists %s, which the data archive lacks", path)
	}
	return p, nil
}

// eachTar decompresses a (possibly compressed) tar member by its name's
// extension and calls fn for every entry.
func eachTar(member string, r io.Reader, fn func(*tar.Header, io.Reader) error) error {
	var err error
	switch {
	case strings.HasSuffix(member, ".gz"):
		var z *gzip.Reader
		if z, err = gzip.NewReader(r); err == nil {
			defer z.Close()
			r = z
		}
	case strings.HasSuffix(member, ".xz"):
		r, err = xz.NewReader(r)
	case strings.HasSuffix(member, ".zst"):
		var z *zstd.Decoder
		if z, err = zstd.NewReader(r); err == nil {
			defer z.Close()
			r = z
		}
	case strings.HasSuffix(member, ".tar"):
	default:
		return fmt.Errorf("unknown compression")
	}
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return err
		}
	}
}

// controlFields reads the single-line fields of a control file.
func controlFields(r io.Reader) (map[string]string, error) {
	fields := map[string]string{}
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, s.Err()
}

// parseMD5sums reads "md5  relative/path" lines.
func parseMD5sums(r io.Reader) (map[string]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		sum, name, ok := strings.Cut(string(line), "  ")
		if !ok || len(sum) != 32 {
			return nil, fmt.Errorf("md5sums line %q", line)
		}
		sums[clean(name)] = sum
	}
	return sums, nil
}
