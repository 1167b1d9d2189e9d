package pkginspect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

// readRPM verifies the RPM's header and payload digests (there is no
// signature to check: the packages are not signed), then reads its payload.
func readRPM(name string) (*Package, error) {
	f, err := openFile(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, _, err := rpmutils.Verify(f, nil); err != nil {
		return nil, fmt.Errorf("digest check: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	rpm, err := rpmutils.ReadRpm(f)
	if err != nil {
		return nil, err
	}
	nevra, err := rpm.Header.GetNEVRA()
	if err != nil {
		return nil, err
	}
	p := &Package{Format: "rpm", Name: nevra.Name, Version: nevra.Version + "-" + nevra.Release, Arch: nevra.Arch}
	headerFiles, err := rpm.Header.GetFiles()
	if err != nil {
		return nil, err
	}
	payload, err := rpm.PayloadReaderExtended()
	if err != nil {
		return nil, err
	}
	inPayload := map[string]bool{}
	for {
		fi, err := payload.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
		file := File{Path: clean(fi.Name()), Mode: rpmMode(fi.Mode()), Size: fi.Size()}
		if file.Mode.IsRegular() && !payload.IsLink() {
			if err := readFile(payload, &file); err != nil {
				return nil, err
			}
			if d := fi.Digest(); d != "" && d != file.SHA256 {
				return nil, fmt.Errorf("%s: sha256 %s, the header says %s", file.Path, file.SHA256, d)
			}
		}
		inPayload[file.Path] = true
		p.Files = append(p.Files, file)
	}
	for _, fi := range headerFiles {
		// directories may be listed in the header only
		if mode := rpmMode(fi.Mode()); !inPayload[clean(fi.Name())] && !mode.IsDir() {
			return nil, fmt.Errorf("the header lists %s, which the payload lacks", fi.Name())
		}
	}
	return p, nil
}

// rpmMode converts a st_mode value to fs.FileMode.
func rpmMode(m int) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		mode |= fs.ModeDir
	case syscall.S_IFLNK:
		mode |= fs.ModeSymlink
	case syscall.S_IFREG:
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}
