package manifest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden manifests in testdata/")

// fakeRelease writes archives of the release's shape (binary, man page,
// README) and their SHA256SUMS into a new directory.
func fakeRelease(t *testing.T, version string, zipMembers ...string) string {
	t.Helper()
	dir := t.TempDir()
	if len(zipMembers) == 0 {
		zipMembers = []string{"cpikey.exe", "README.md", "LICENSE"}
	}
	var sums []string
	for _, p := range Platforms {
		name := ArchiveName(version, p)
		var b bytes.Buffer
		if strings.HasPrefix(p, "windows") {
			zw := zip.NewWriter(&b)
			for _, m := range zipMembers {
				w, _ := zw.Create(m)
				fmt.Fprintf(w, "%s for %s", m, p)
			}
			zw.Close()
		} else {
			gz := gzip.NewWriter(&b)
			tw := tar.NewWriter(gz)
			for _, m := range []string{"cpikey", "cpikey.1", "README.md", "LICENSE"} {
				body := []byte(m + " for " + p)
				tw.WriteHeader(&tar.Header{Name: m, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
				tw.Write(body)
			}
			tw.Close()
			gz.Close()
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b.Bytes())
		sums = append(sums, hex.EncodeToString(sum[:])+"  "+name)
	}
	sort.Strings(sums)
	if err := os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(strings.Join(sums, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeManifests(t *testing.T, dir, version string) *Release {
	t.Helper()
	sums, err := ReadSums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	rel, err := NewRelease(version, "2026-12-06", DefaultBaseURL, sums)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, rel); err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestWriteThenCheck(t *testing.T) {
	// 1.10 would be the number 1.1 in YAML if the manifests did not quote it
	for _, version := range []string{"1.2.0", "1.10", "0.3.0-rc1"} {
		t.Run(version, func(t *testing.T) {
			dir := fakeRelease(t, version)
			writeManifests(t, dir, version)
			if problems := Check(dir, version, DefaultBaseURL); len(problems) > 0 {
				t.Errorf("Check found problems in what Write wrote:\n%s", strings.Join(problems, "\n"))
			}
		})
	}
}

// The generated files, for review: go test ./internal/manifest -update.
func TestWrite_Golden(t *testing.T) {
	dir := fakeRelease(t, "1.2.0")
	rel := writeManifests(t, dir, "1.2.0")
	for _, p := range rel.Paths() {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", filepath.Base(p))
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", p, golden, got)
		}
	}
}

func TestCheck_FindsProblems(t *testing.T) {
	const v = "1.2.0"
	winget := filepath.Join("winget", "manifests", "c", "cpikey", "cpikey", v)
	formula := filepath.Join("homebrew-tap", "Formula", "cpikey.rb")
	scoop := filepath.Join("scoop-bucket", "bucket", "cpikey.json")
	installer := filepath.Join(winget, "cpikey.cpikey.installer.yaml")
	locale := filepath.Join(winget, "cpikey.cpikey.locale.en-US.yaml")
	version := filepath.Join(winget, "cpikey.cpikey.yaml")

	sumOf := func(t *testing.T, dir, platform string) string {
		sums, err := ReadSums(filepath.Join(dir, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		return sums[ArchiveName(v, platform)]
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   string
	}{
		{"formula hash of another archive", func(t *testing.T, dir string) {
			edit(t, dir, formula, sumOf(t, dir, "darwin_arm64"), sumOf(t, dir, "darwin_amd64"), 1)
		}, "sha256 of cpikey_1.2.0_darwin_arm64.tar.gz is"},
		{"formula installs the arm archive on intel Linux", func(t *testing.T, dir string) {
			edit(t, dir, formula, "cpikey_1.2.0_linux_amd64.tar.gz", "cpikey_1.2.0_linux_arm64.tar.gz", 1)
		}, "linux/intel installs cpikey_1.2.0_linux_arm64.tar.gz"},
		{"formula block left open", func(t *testing.T, dir string) {
			edit(t, dir, formula, "    end\n  end\n\n  def install", "    end\n\n  def install", 1)
		}, "unclosed blocks"},
		{"formula without the man page", func(t *testing.T, dir string) {
			edit(t, dir, formula, "    man1.install \"cpikey.1\"\n", "", 1)
		}, `install does not man1.install "cpikey.1"`},
		{"formula of another version", func(t *testing.T, dir string) {
			edit(t, dir, formula, `version "1.2.0"`, `version "1.1.0"`, 1)
		}, `version "1.1.0", want "1.2.0"`},
		{"scoop hash typo", func(t *testing.T, dir string) {
			edit(t, dir, scoop, `"hash": "`, `"hash": "0`, 1)
		}, "sha256 of cpikey_1.2.0_windows_amd64.zip is"},
		{"scoop bin not in the zip", func(t *testing.T, dir string) {
			edit(t, dir, scoop, `"bin": "cpikey.exe"`, `"bin": "bin/cpikey.exe"`, 1)
		}, "installs bin/cpikey.exe from cpikey_1.2.0_windows_amd64.zip"},
		{"scoop autoupdate off the naming scheme", func(t *testing.T, dir string) {
			edit(t, dir, scoop, "cpikey_$version_windows_amd64.zip", "cpikey-$version-windows.zip", 1)
		}, "autoupdate url"},
		{"scoop URL elsewhere", func(t *testing.T, dir string) {
			edit(t, dir, scoop, "https://github.com/cpikey/cpikey/releases/download/v1.2.0/", "http://example.com/", 1)
		}, `is not https`},
		{"scoop JSON broken", func(t *testing.T, dir string) {
			edit(t, dir, scoop, `"bin": "cpikey.exe",`, `"bin": "cpikey.exe"`, 1)
		}, "invalid character"},
		{"winget installer hash of another archive", func(t *testing.T, dir string) {
			edit(t, dir, installer, strings.ToUpper(sumOf(t, dir, "windows_amd64")), strings.ToUpper(sumOf(t, dir, "linux_amd64")), 1)
		}, "sha256 of cpikey_1.2.0_windows_amd64.zip is"},
		{"winget nested file not in the zip", func(t *testing.T, dir string) {
			edit(t, dir, installer, "RelativeFilePath: cpikey.exe", `RelativeFilePath: bin\cpikey.exe`, 1)
		}, "installs bin/cpikey.exe from"},
		{"winget locale without License", func(t *testing.T, dir string) {
			edit(t, dir, locale, "License: \"Apache-2.0\"\n", "", 1)
		}, "no License"},
		{"winget version as a YAML number", func(t *testing.T, dir string) {
			edit(t, dir, version, `PackageVersion: "1.2.0"`, `PackageVersion: 1.2`, 1)
		}, "PackageVersion is float64 1.2, want a string"},
		{"winget manifests of two schema versions", func(t *testing.T, dir string) {
			edit(t, dir, locale, "ManifestVersion: 1.12.0", "ManifestVersion: 1.6.0", 1)
		}, `ManifestVersion "1.6.0", want "1.12.0"`},
		{"winget YAML broken", func(t *testing.T, dir string) {
			edit(t, dir, version, "DefaultLocale: ", "DefaultLocale: [", 1)
		}, "YAML:"},
		{"archive changed after SHA256SUMS", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, ArchiveName(v, "linux_arm64")), []byte("rebuilt"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "cpikey_1.2.0_linux_arm64.tar.gz has sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fakeRelease(t, v)
			writeManifests(t, dir, v)
			tt.mutate(t, dir)
			problems := Check(dir, v, DefaultBaseURL)
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("Check did not report %q; it reported:\n%s", tt.want, strings.Join(problems, "\n"))
		})
	}
}

func TestCheck_ZipWithoutTheProgram(t *testing.T) {
	dir := fakeRelease(t, "1.2.0", "README.md", "LICENSE")
	writeManifests(t, dir, "1.2.0")
	joined := strings.Join(Check(dir, "1.2.0", DefaultBaseURL), "\n")
	for _, want := range []string{
		filepath.Join("scoop-bucket", "bucket", "cpikey.json") + ": installs cpikey.exe from",
		"cpikey.cpikey.installer.yaml: installs cpikey.exe from",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("Check did not report %q; it reported:\n%s", want, joined)
		}
	}
}

func TestNewRelease_NeedsEveryArchive(t *testing.T) {
	dir := fakeRelease(t, "1.2.0")
	sums, err := ReadSums(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	delete(sums, "cpikey_1.2.0_darwin_amd64.tar.gz")
	if _, err := NewRelease("1.2.0", "2026-12-06", DefaultBaseURL, sums); err == nil || !strings.Contains(err.Error(), "darwin_amd64") {
		t.Errorf("NewRelease without the darwin_amd64 archive: %v", err)
	}
}

// edit replaces old with new in a file and fails unless it occurs n times.
func edit(t *testing.T, dir, rel, old, new string, n int) {
	t.Helper()
	p := filepath.Join(dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(b), old); c != n {
		t.Fatalf("%s has %q %d times, want %d:\n%s", rel, old, c, n, b)
	}
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), old, new)), 0o644); err != nil {
		t.Fatal(err)
	}
}
