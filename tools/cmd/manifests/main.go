// Command manifests writes and checks the package-manager manifests of a
// cpikey release (Homebrew formula, Scoop manifest, winget manifests).
//
//	manifests write -version 1.2.0 -dir dist [-date 2026-12-06] [-base-url URL]
//	manifests check -version 1.2.0 -dir dist [-base-url URL]
//
// write reads dist/SHA256SUMS and renders the manifests into dist/
// (homebrew-tap/, scoop-bucket/, winget/: each tree as its repository holds
// it). check parses them again and compares every URL and hash with the
// archives in dist/. The base URL is where the release's files are
// downloaded from; {version} stands for the version.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cpikey/cpikey/tools/internal/manifest"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "write" && os.Args[1] != "check") {
		usage()
	}
	fs := flag.NewFlagSet("manifests "+os.Args[1], flag.ExitOnError)
	version := fs.String("version", "", "the release version (required)")
	dir := fs.String("dir", "dist", "the release directory: archives, SHA256SUMS, manifests")
	date := fs.String("date", time.Now().UTC().Format("2006-01-02"), "release date, YYYY-MM-DD (write)")
	base := fs.String("base-url", manifest.DefaultBaseURL, "download URL of the release's files, {version} for the version")
	fs.Parse(os.Args[2:])
	if *version == "" || fs.NArg() > 0 {
		usage()
	}
	switch os.Args[1] {
	case "write":
		sums, err := manifest.ReadSums(filepath.Join(*dir, "SHA256SUMS"))
		if err != nil {
			fail(err)
		}
		rel, err := manifest.NewRelease(*version, *date, *base, sums)
		if err != nil {
			fail(err)
		}
		written, err := manifest.Write(*dir, rel)
		if err != nil {
			fail(err)
		}
		for _, w := range written {
			fmt.Println(w)
		}
	case "check":
		problems := manifest.Check(*dir, *version, *base)
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "manifests: FAIL:", p)
		}
		if len(problems) > 0 {
			os.Exit(1)
		}
		fmt.Println("manifests: ok: Homebrew formula, Scoop manifest and winget manifests (schema " +
			manifest.WingetSchema + ") parse, have their required fields, and every URL and SHA-256 matches an archive in " + *dir)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: manifests write|check -version VERSION [-dir DIST] [-date YYYY-MM-DD] [-base-url URL]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "manifests:", err)
	os.Exit(1)
}
