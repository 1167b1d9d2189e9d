package pkginspect

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readAPK reads an Alpine package: gzip members, each a tar stream — an
// optional signature, the control segment (.PKGINFO) and the data. The
// .PKGINFO's datahash is the SHA-256 of the data member as stored
// (compressed), which is checked here as apk does.
func readAPK(name string) (*Package, error) {
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw := &countingReader{r: bufio.NewReader(f)}
	p := &Package{Format: "apk"}
	var pkginfo map[string]string
	dataHash := sha256.New()
	for member := 0; ; member++ {
		start := raw.n
		if _, err := raw.r.Peek(1); err == io.EOF {
			break
		}
		// The member that follows .PKGINFO is the data: hash its bytes as read.
		isData := pkginfo != nil
		var src io.Reader = raw
		if isData {
			src = &teeByteReader{raw, dataHash}
		}
		z, err := gzip.NewReader(src.(gzipSource))
		if err != nil {
			return nil, fmt.Errorf("member %d at byte %d: %w", member, start, err)
		}
		z.Multistream(false)
		tr := tar.NewReader(z)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("member %d: %w", member, err)
			}
			switch {
			case isData:
				file := File{Path: clean(h.Name), Mode: h.FileInfo().Mode(), Size: h.Size}
				if h.Typeflag == tar.TypeReg {
					if err := readFile(tr, &file); err != nil {
						return nil, err
					}
				}
				p.Files = append(p.Files, file)
			case h.Name == ".PKGINFO":
				if pkginfo, err = parsePKGINFO(tr); err != nil {
					return nil, err
				}
			}
		}
		// read to the end of the member (tar stops at its end marker)
		if _, err := io.Copy(io.Discard, z); err != nil {
			return nil, err
		}
		z.Close()
		if isData {
			break
		}
	}
	if pkginfo == nil {
		return nil, errors.New("no .PKGINFO: not an Alpine package")
	}
	p.Name, p.Version, p.Arch = pkginfo["pkgname"], pkginfo["pkgver"], pkginfo["arch"]
	if p.Name == "" || p.Version == "" || p.Arch == "" {
		return nil, errors.New(".PKGINFO lacks pkgname, pkgver or arch")
	}
	if p.Files == nil {
		return nil, errors.New("no data member after .PKGINFO")
	}
	if got := hex.EncodeToString(dataHash.Sum(nil)); pkginfo["datahash"] != got {
		return nil, fmt.Errorf("data member sha256 %s, .PKGINFO datahash %q", got, pkginfo["datahash"])
	}
	return p, nil
}

func parsePKGINFO(r io.Reader) (map[string]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	info := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok && !strings.HasPrefix(line, "#") {
			info[k] = v
		}
	}
	return info, nil
}

// gzipSource is what gzip.NewReader reads from without buffering ahead
// (it wraps anything else in a bufio.Reader and would swallow the start of
// the next member).
type gzipSource interface {
	io.Reader
	io.ByteReader
}

// countingReader counts the bytes read from a buffered file.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// teeByteReader copies every byte read to w.
type teeByteReader struct {
	r gzipSource
	w io.Writer
}

func (t *teeByteReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.w.Write(p[:n])
	return n, err
}

func (t *teeByteReader) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err == nil {
		t.w.Write([]byte{b})
	}
	return b, err
}
