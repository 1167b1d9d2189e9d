// Command pkginspect checks and lists .deb, .rpm and .apk packages without
// dpkg, rpm or apk: the integrity data each format carries (md5sums, RPM
// digests, apk datahash) must match, then every entry is printed:
//
//	package cpikey_1.2.0_amd64.deb
//	format deb
//	name cpikey
//	version 1.2.0
//	arch amd64
//	file -rwxr-xr-x 14750105 <sha256> amd64 /usr/bin/cpikey
//	dir drwxr-xr-x 0 - - /usr/share/doc/cpikey
//
// Entry lines are KIND MODE SIZE SHA256 ELF-MACHINE PATH, "-" where a field
// does not apply. It exits 1 when a package cannot be read or fails a check.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpikey/cpikey/tools/internal/pkginspect"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pkginspect PACKAGE.deb|.rpm|.apk ...")
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	failed := false
	for _, name := range os.Args[1:] {
		p, err := pkginspect.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pkginspect:", err)
			failed = true
			continue
		}
		fmt.Fprintf(w, "package %s\nformat %s\nname %s\nversion %s\narch %s\n",
			filepath.Base(name), p.Format, p.Name, p.Version, p.Arch)
		for _, f := range p.Files {
			kind := "file"
			switch {
			case f.Mode.IsDir():
				kind = "dir"
			case f.Mode&os.ModeSymlink != 0:
				kind = "symlink"
			case !f.Mode.IsRegular():
				kind = "other"
			}
			fmt.Fprintf(w, "%s %s %d %s %s %s\n", kind, f.Mode, f.Size, dash(f.SHA256), dash(f.ELF), f.Path)
		}
	}
	if failed {
		w.Flush()
		os.Exit(1)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
