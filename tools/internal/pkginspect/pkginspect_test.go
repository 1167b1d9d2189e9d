package pkginspect

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk"
	_ "github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

// fakeELF is the start of an x86-64 ELF executable: enough for the machine field.
func fakeELF() []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5] = 2, 1 // 64-bit, little endian
	b[18] = 0x3e      // EM_X86_64
	return append(b, []byte("rest of the program")...)
}

// build packages two files with nfpm, as the release does.
func build(t *testing.T, format string) (pkg string, binSum string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "tool")
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(bin, fakeELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("# tool\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name: "tool", Arch: "amd64", Platform: "linux", Version: "1.2.0", Prerelease: "rc1",
		Maintainer: "test <https://example.com>", Description: "test package",
		MTime: time.Unix(1_700_000_000, 0),
		Overridables: nfpm.Overridables{Contents: files.Contents{
			{Source: bin, Destination: "/usr/bin/tool", FileInfo: &files.ContentFileInfo{Mode: 0o755}},
			{Source: readme, Destination: "/usr/share/doc/tool/README.md", FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		}},
	})
	packager, err := nfpm.Get(format)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := packager.Package(info, &out); err != nil {
		t.Fatal(err)
	}
	pkg = filepath.Join(dir, "tool."+format)
	if err := os.WriteFile(pkg, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(fakeELF())
	return pkg, hex.EncodeToString(sum[:])
}

func TestOpen_ReadsWhatNFPMWrote(t *testing.T) {
	tests := []struct{ format, version, arch string }{
		{"deb", "1.2.0~rc1", "amd64"},
		{"rpm", "1.2.0~rc1-1", "x86_64"},
		{"apk", "1.2.0_rc1", "x86_64"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			pkg, binSum := build(t, tt.format)
			p, err := Open(pkg)
			if err != nil {
				t.Fatal(err)
			}
			if p.Format != tt.format || p.Name != "tool" || p.Version != tt.version || p.Arch != tt.arch {
				t.Errorf("got %s %s %s %s, want %s tool %s %s", p.Format, p.Name, p.Version, p.Arch, tt.format, tt.version, tt.arch)
			}
			bin, ok := p.File("/usr/bin/tool")
			if !ok {
				t.Fatalf("no /usr/bin/tool in %+v", p.Files)
			}
			if bin.Mode.Perm() != 0o755 || !bin.Mode.IsRegular() || bin.SHA256 != binSum || bin.ELF != "amd64" {
				t.Errorf("/usr/bin/tool = %+v, want a 0755 regular file, sha256 %s, ELF amd64", bin, binSum)
			}
			readme, ok := p.File("/usr/share/doc/tool/README.md")
			if !ok || readme.Size != int64(len("# tool\n")) || readme.ELF != "" || readme.Mode.Perm() != 0o644 {
				t.Errorf("README.md = %+v (found %v)", readme, ok)
			}
		})
	}
}

// A package damaged after it was built is refused: by the format's own
// integrity data (md5sums, RPM digests, apk datahash) or its compression's.
func TestOpen_RefusesADamagedPackage(t *testing.T) {
	for _, format := range []string{"deb", "rpm", "apk"} {
		t.Run(format, func(t *testing.T) {
			pkg, _ := build(t, format)
			b, err := os.ReadFile(pkg)
			if err != nil {
				t.Fatal(err)
			}
			// the README sits near the end in every format; damage a byte there
			b[len(b)-40] ^= 0xff
			if err := os.WriteFile(pkg, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if p, err := Open(pkg); err == nil {
				t.Errorf("Open accepted a damaged %s: %+v", format, p.Files)
			}
		})
	}
}

// The apk check compares .PKGINFO's datahash with the data member as stored:
// a package whose data member was swapped for another, valid one is refused.
func TestOpen_APKDatahashMismatch(t *testing.T) {
	pkg, _ := build(t, "apk")
	raw, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	starts := gzipMemberStarts(t, raw)
	if len(starts) < 2 {
		t.Fatalf("apk has %d gzip members, want control and data", len(starts))
	}
	var data bytes.Buffer
	z := gzip.NewWriter(&data)
	tw := tar.NewWriter(z)
	evil := []byte("not the data .PKGINFO hashed")
	if err := tw.WriteHeader(&tar.Header{Name: "usr/bin/tool", Mode: 0o755, Size: int64(len(evil)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(evil)
	tw.Close()
	z.Close()
	tampered := append(append([]byte{}, raw[:starts[len(starts)-1]]...), data.Bytes()...)
	path := filepath.Join(t.TempDir(), "tampered.apk")
	if err := os.WriteFile(path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "datahash") {
		t.Errorf("Open(apk with swapped data) = %v, want a datahash mismatch", err)
	}
}

// gzipMemberStarts returns the byte offsets at which the gzip members of b begin.
func gzipMemberStarts(t *testing.T, b []byte) []int64 {
	t.Helper()
	r := &countingReader{r: bufio.NewReader(bytes.NewReader(b))}
	var starts []int64
	for {
		if _, err := r.r.Peek(1); err == io.EOF {
			return starts
		}
		starts = append(starts, r.n)
		z, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		z.Multistream(false)
		if _, err := io.Copy(io.Discard, z); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpen_RefusesWhatIsNoPackage(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty.deb":   "",
		"text.rpm":    "not an rpm",
		"text.apk":    "not an apk",
		"archive.zip": "PK",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p); err == nil {
			t.Errorf("Open(%s) succeeded", name)
		}
	}
}
