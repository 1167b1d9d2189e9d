// Package manifest writes the package-manager manifests of a cpikey release
// (a Homebrew formula, a Scoop manifest, winget's version, installer and
// default-locale manifests) from the release's SHA256SUMS, and checks them
// against the archives they point to.
package manifest

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// Product is what the manifests say about cpikey, whatever the release.
type Product struct {
	Name         string
	Homepage     string
	License      string // SPDX
	Summary      string // one line: Homebrew desc, Scoop description, winget ShortDescription
	Description  string
	Publisher    string
	PublisherURL string
	SupportURL   string
	Tap          string // Homebrew tap repository (owner/homebrew-NAME)
	TapShort     string // how brew names it (owner/NAME)
	Bucket       string // Scoop bucket repository
	WingetID     string // PackageIdentifier, Publisher.Package
	Locale       string
	Tags         []string
}

// Cpikey is the product the release tooling describes.
var Cpikey = Product{
	Name:         "cpikey",
	Homepage:     "https://github.com/cpikey/cpikey",
	License:      "Apache-2.0",
	Summary:      "OAuth client credentials for SAP Cloud Integration, without the BTP cockpit",
	Description:  "cpikey takes an SAP BTP subaccount to working OAuth 2.0 client credentials for SAP Cloud Integration (service it-rt) in one sitting, in the terminal: it checks and assigns the entitlements, creates the service instance and key, stores the client secret in the OS keychain (Windows Credential Manager, macOS Keychain, Secret Service), verifies the key by fetching a token, and then tests, exports and rotates it.",
	Publisher:    "cpikey",
	PublisherURL: "https://github.com/cpikey",
	SupportURL:   "https://github.com/cpikey/cpikey/issues",
	Tap:          "cpikey/homebrew-tap",
	TapShort:     "cpikey/tap",
	Bucket:       "cpikey/scoop-bucket",
	WingetID:     "cpikey.cpikey",
	Locale:       "en-US",
	Tags:         []string{"sap", "sap-btp", "cloud-integration", "oauth", "cli"},
}

// WingetSchema is the winget manifest schema the templates follow: the
// newest the winget-pkgs community repository documents and accepts.
const WingetSchema = "1.12.0"

// Platforms are the archives a release has, keyed OS_ARCH.
var Platforms = []string{"windows_amd64", "darwin_arm64", "darwin_amd64", "linux_amd64", "linux_arm64"}

// DefaultBaseURL is where a release's files are downloaded from; {version}
// stands for the version.
const DefaultBaseURL = "https://github.com/cpikey/cpikey/releases/download/v{version}"

// Archive is one release archive.
type Archive struct {
	Name   string // cpikey_1.2.0_windows_amd64.zip
	SHA256 string // lower-case hex
	URL    string
}

// Release is what a set of manifests is generated from.
type Release struct {
	Product      Product
	Version      string
	Date         string // YYYY-MM-DD
	BaseURL      string // DefaultBaseURL or another, with {version}
	WingetSchema string
	Archives     map[string]Archive // by platform
}

// ArchiveName is the file name of a platform's archive.
func ArchiveName(version, platform string) string {
	if strings.HasPrefix(platform, "windows_") {
		return fmt.Sprintf("cpikey_%s_%s.zip", version, platform)
	}
	return fmt.Sprintf("cpikey_%s_%s.tar.gz", version, platform)
}

var sumLineRE = regexp.MustCompile(`^([0-9a-f]{64}) [ *](\S+)$`)

// ReadSums reads a sha256sum-format file into file name -> hex digest.
func ReadSums(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; s.Scan(); n++ {
		m := sumLineRE.FindStringSubmatch(s.Text())
		if m == nil {
			return nil, fmt.Errorf("%s:%d: not a sha256sum line: %q", path, n, s.Text())
		}
		sums[m[2]] = m[1]
	}
	return sums, s.Err()
}

// NewRelease builds a Release from SHA256SUMS: every platform's archive must
// be listed there.
func NewRelease(version, date, baseURL string, sums map[string]string) (*Release, error) {
	base := strings.TrimSuffix(strings.ReplaceAll(baseURL, "{version}", version), "/")
	r := &Release{Product: Cpikey, Version: version, Date: date, BaseURL: baseURL, WingetSchema: WingetSchema, Archives: map[string]Archive{}}
	for _, p := range Platforms {
		name := ArchiveName(version, p)
		sum, ok := sums[name]
		if !ok {
			return nil, fmt.Errorf("SHA256SUMS lists no %s", name)
		}
		r.Archives[p] = Archive{Name: name, SHA256: sum, URL: base + "/" + name}
	}
	return r, nil
}

// Archive returns a platform's archive (templates call it).
func (r *Release) Archive(platform string) (Archive, error) {
	a, ok := r.Archives[platform]
	if !ok {
		return Archive{}, fmt.Errorf("no archive for %s", platform)
	}
	return a, nil
}

// AutoupdateURL is a platform's archive URL with Scoop's $version variable
// in place of the version, for Scoop's autoupdate.
func (r *Release) AutoupdateURL(platform string) string {
	return strings.TrimSuffix(strings.ReplaceAll(r.BaseURL, "{version}", "$version"), "/") + "/" + ArchiveName("$version", platform)
}

// LicenseURL is the licence file at the release's tag.
func (r *Release) LicenseURL() string {
	return r.Product.Homepage + "/blob/v" + r.Version + "/LICENSE"
}

// ReleaseNotesURL is the release's page.
func (r *Release) ReleaseNotesURL() string {
	return r.Product.Homepage + "/releases/tag/v" + r.Version
}

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"json":  jsonString,
	"yaml":  jsonString, // a JSON string is a YAML double-quoted scalar: no "1.10" read as a number
	"rb":    rubyString,
	"upper": strings.ToUpper,
}).ParseFS(templateFS, "templates/*.tmpl"))

func jsonString(s string) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// rubyString quotes s for Ruby, with no interpolation.
func rubyString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `#{`, `\#{`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// Paths of the manifests under the output directory; each tree mirrors the
// repository it is published to (the tap, the bucket, winget-pkgs).
func (r *Release) Paths() map[string]string {
	id := r.Product.WingetID
	publisher, pkg, _ := strings.Cut(id, ".")
	winget := filepath.Join("winget", "manifests", strings.ToLower(publisher[:1]), publisher, pkg, r.Version)
	return map[string]string{
		"cpikey.rb.tmpl":      filepath.Join("homebrew-tap", "Formula", "cpikey.rb"),
		"cpikey.json.tmpl":    filepath.Join("scoop-bucket", "bucket", "cpikey.json"),
		"version.yaml.tmpl":   filepath.Join(winget, id+".yaml"),
		"installer.yaml.tmpl": filepath.Join(winget, id+".installer.yaml"),
		"locale.yaml.tmpl":    filepath.Join(winget, id+".locale."+r.Product.Locale+".yaml"),
	}
}

// Write renders every manifest into dir and returns the paths written,
// relative to dir.
func Write(dir string, r *Release) ([]string, error) {
	var written []string
	for _, tmpl := range []string{"cpikey.rb.tmpl", "cpikey.json.tmpl", "version.yaml.tmpl", "installer.yaml.tmpl", "locale.yaml.tmpl"} {
		rel := r.Paths()[tmpl]
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, tmpl, r); err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		written = append(written, rel)
	}
	return written, nil
}
