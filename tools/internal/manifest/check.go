package manifest

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Check validates the manifests under dir against the release files beside
// them: each parses, has the fields its format requires, and every URL names
// a file of the release whose SHA-256 (computed here, and as SHA256SUMS
// states it) is the one the manifest gives. It returns one line per problem.
func Check(dir, version, baseURL string) []string {
	c := &checker{dir: dir, version: version, base: strings.TrimSuffix(strings.ReplaceAll(baseURL, "{version}", version), "/")}
	c.readSums()
	if len(c.problems) > 0 {
		return c.problems
	}
	rel, err := NewRelease(version, "", baseURL, c.sums)
	if err != nil {
		return []string{err.Error()}
	}
	paths := rel.Paths()
	c.homebrew(paths["cpikey.rb.tmpl"])
	c.scoop(paths["cpikey.json.tmpl"])
	c.winget(paths["version.yaml.tmpl"], paths["installer.yaml.tmpl"], paths["locale.yaml.tmpl"])
	for _, p := range Platforms {
		if name := ArchiveName(version, p); !c.used[name] {
			c.fail("", "no manifest installs %s", name)
		}
	}
	return c.problems
}

type checker struct {
	dir, version, base string
	sums               map[string]string // SHA256SUMS
	problems           []string
	used               map[string]bool // archives some manifest points to
}

func (c *checker) fail(file, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if file != "" {
		msg = file + ": " + msg
	}
	c.problems = append(c.problems, msg)
}

// readSums reads SHA256SUMS and checks it against the files.
func (c *checker) readSums() {
	c.used = map[string]bool{}
	sums, err := ReadSums(filepath.Join(c.dir, "SHA256SUMS"))
	if err != nil {
		c.fail("SHA256SUMS", "%v", err)
		return
	}
	c.sums = sums
	for name, want := range sums {
		got, err := fileSHA256(filepath.Join(c.dir, name))
		if err != nil {
			c.fail("SHA256SUMS", "%v", err)
		} else if got != want {
			c.fail("SHA256SUMS", "%s has sha256 %s, SHA256SUMS says %s", name, got, want)
		}
	}
}

// archive checks that url is a download of this release whose hash is sum,
// and returns the archive's file name ("" when it is not).
func (c *checker) archive(file, url, sum string) string {
	if !strings.HasPrefix(url, "https://") {
		c.fail(file, "URL %q is not https", url)
	}
	dir, name := path.Split(url)
	if strings.TrimSuffix(dir, "/") != c.base {
		c.fail(file, "URL %q is not under %s", url, c.base)
	}
	want, listed := c.sums[name]
	if !listed {
		c.fail(file, "URL %q names %s, which SHA256SUMS does not list", url, name)
		return ""
	}
	c.used[name] = true
	if !strings.EqualFold(sum, want) {
		c.fail(file, "sha256 of %s is %q, the archive's is %s", name, sum, want)
	}
	return name
}

// archiveHas reports whether an archive of the release contains member.
func (c *checker) archiveHas(file, archive, member string) {
	if archive == "" {
		return
	}
	names, err := archiveNames(filepath.Join(c.dir, archive))
	if err != nil {
		c.fail(file, "%v", err)
		return
	}
	if !slices.Contains(names, member) {
		c.fail(file, "installs %s from %s, which holds only %s", member, archive, strings.Join(names, ", "))
	}
}

// Homebrew formulae are Ruby. Without Ruby at hand, the formula is read line
// by line: the platform blocks, their url/sha256 pairs and the install steps.
// With ruby on PATH its syntax is checked too.
var (
	rbLineRE  = regexp.MustCompile(`^\s*(desc|homepage|version|license|url|sha256) "([^"\\]*)"$`)
	rbOpenRE  = regexp.MustCompile(`^\s*(on_macos|on_linux|on_arm|on_intel|test) do$|^\s*def \w+$|^class \w+ < Formula$`)
	rbEndRE   = regexp.MustCompile(`^\s*end$`)
	rbBlockRE = regexp.MustCompile(`^\s*(on_macos|on_linux|on_arm|on_intel)`)
)

func (c *checker) homebrew(rel string) {
	b, err := os.ReadFile(filepath.Join(c.dir, rel))
	if err != nil {
		c.fail(rel, "%v", err)
		return
	}
	text := string(b)
	if !strings.Contains(text, "\nclass Cpikey < Formula\n") {
		c.fail(rel, "no `class Cpikey < Formula`")
	}
	fields := map[string]string{}
	var stack []string
	type pair struct{ url, sha string }
	platforms := map[string]*pair{} // "macos/arm" -> url, sha256
	for n, line := range strings.Split(text, "\n") {
		switch {
		case rbOpenRE.MatchString(line):
			stack = append(stack, strings.Fields(line)[0])
		case rbEndRE.MatchString(line):
			if len(stack) == 0 {
				c.fail(rel, "line %d: `end` without a block", n+1)
				continue
			}
			stack = stack[:len(stack)-1]
		case rbLineRE.MatchString(line):
			m := rbLineRE.FindStringSubmatch(line)
			if m[1] != "url" && m[1] != "sha256" {
				fields[m[1]] = m[2]
				continue
			}
			var where []string
			for _, s := range stack {
				if rbBlockRE.MatchString(s) {
					where = append(where, strings.TrimPrefix(s, "on_"))
				}
			}
			if len(where) != 2 {
				c.fail(rel, "line %d: %s outside an on_OS/on_CPU block", n+1, m[1])
				continue
			}
			key := strings.Join(where, "/")
			if platforms[key] == nil {
				platforms[key] = &pair{}
			}
			if m[1] == "url" {
				platforms[key].url = m[2]
			} else {
				platforms[key].sha = m[2]
			}
		}
	}
	if len(stack) != 0 {
		c.fail(rel, "unclosed blocks: %s", strings.Join(stack, ", "))
	}
	for _, f := range []string{"desc", "homepage", "version", "license"} {
		if fields[f] == "" {
			c.fail(rel, "no %s", f)
		}
	}
	if fields["version"] != c.version {
		c.fail(rel, "version %q, want %q", fields["version"], c.version)
	}
	if d := fields["desc"]; len(d) > 80 || strings.HasSuffix(d, ".") || strings.HasPrefix(strings.ToLower(d), "cpikey") {
		c.fail(rel, "desc %q: Homebrew wants at most 80 characters, no final period, not starting with the name", d)
	}
	want := map[string]string{"macos/arm": "darwin_arm64", "macos/intel": "darwin_amd64", "linux/arm": "linux_arm64", "linux/intel": "linux_amd64"}
	for key, platform := range want {
		p := platforms[key]
		if p == nil || p.url == "" || p.sha == "" {
			c.fail(rel, "no url and sha256 for %s", key)
			continue
		}
		name := c.archive(rel, p.url, p.sha)
		if name != "" && name != ArchiveName(c.version, platform) {
			c.fail(rel, "%s installs %s, want the %s archive", key, name, platform)
		}
		for _, member := range []string{"cpikey", "cpikey.1"} {
			c.archiveHas(rel, name, member)
		}
	}
	for key := range platforms {
		if _, ok := want[key]; !ok {
			c.fail(rel, "unexpected platform block %s", key)
		}
	}
	for _, step := range []string{`bin.install "cpikey"`, `man1.install "cpikey.1"`, `generate_completions_from_executable(bin/"cpikey", "completion")`} {
		if !strings.Contains(text, "\n    "+step+"\n") {
			c.fail(rel, "install does not %s", step)
		}
	}
	if ruby, err := exec.LookPath("ruby"); err == nil {
		if out, err := exec.Command(ruby, "-c", filepath.Join(c.dir, rel)).CombinedOutput(); err != nil {
			c.fail(rel, "ruby -c: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
}

func (c *checker) scoop(rel string) {
	var m struct {
		Version      string `json:"version"`
		Description  string `json:"description"`
		Homepage     string `json:"homepage"`
		License      string `json:"license"`
		Bin          string `json:"bin"`
		Architecture map[string]struct {
			URL  string `json:"url"`
			Hash string `json:"hash"`
		} `json:"architecture"`
		Autoupdate struct {
			Architecture map[string]struct {
				URL string `json:"url"`
			} `json:"architecture"`
			Hash struct {
				URL string `json:"url"`
			} `json:"hash"`
		} `json:"autoupdate"`
	}
	b, err := os.ReadFile(filepath.Join(c.dir, rel))
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		err = dec.Decode(&m)
	}
	if err != nil {
		c.fail(rel, "%v", err)
		return
	}
	if m.Version != c.version {
		c.fail(rel, "version %q, want %q", m.Version, c.version)
	}
	for f, v := range map[string]string{"description": m.Description, "homepage": m.Homepage, "license": m.License, "bin": m.Bin} {
		if v == "" {
			c.fail(rel, "no %s", f)
		}
	}
	a, ok := m.Architecture["64bit"]
	if !ok || a.URL == "" || a.Hash == "" {
		c.fail(rel, "no architecture.64bit url and hash")
		return
	}
	name := c.archive(rel, a.URL, a.Hash)
	if name != "" && name != ArchiveName(c.version, "windows_amd64") {
		c.fail(rel, "64bit installs %s, want the windows_amd64 archive", name)
	}
	c.archiveHas(rel, name, m.Bin)
	au := m.Autoupdate.Architecture["64bit"].URL
	if strings.ReplaceAll(au, "$version", c.version) != a.URL {
		c.fail(rel, "autoupdate url %q does not give %q for this version", au, a.URL)
	}
	if m.Autoupdate.Hash.URL != "$baseurl/SHA256SUMS" {
		c.fail(rel, "autoupdate hash url %q, want $baseurl/SHA256SUMS", m.Autoupdate.Hash.URL)
	}
}

// Patterns and limits from winget's JSON schemas (manifest.*.1.12.0.json).
var (
	wingetIDRE      = regexp.MustCompile(`^[^.\s\\/:*?"<>|\x01-\x1f]{1,32}(\.[^.\s\\/:*?"<>|\x01-\x1f]{1,32}){1,7}$`)
	wingetVersionRE = regexp.MustCompile(`^[^\\/:*?"<>|\x01-\x1f]+$`)
	wingetLocaleRE  = regexp.MustCompile(`^([a-zA-Z]{2,3}|[iI]-[a-zA-Z]+|[xX]-[a-zA-Z]{1,8})(-[a-zA-Z]{1,8})*$`)
	wingetSHA256RE  = regexp.MustCompile(`^[A-Fa-f0-9]{64}$`)
	wingetDateRE    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

func (c *checker) yamlFile(rel string) map[string]any {
	b, err := os.ReadFile(filepath.Join(c.dir, rel))
	if err != nil {
		c.fail(rel, "%v", err)
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		c.fail(rel, "YAML: %v", err)
		return nil
	}
	return m
}

// str returns a field that must be a string (YAML would read 1.10 as a number).
func (c *checker) str(rel string, m map[string]any, field string, minLen, maxLen int) string {
	v, ok := m[field]
	if !ok {
		c.fail(rel, "no %s", field)
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.fail(rel, "%s is %T %v, want a string", field, v, v)
		return ""
	}
	if n := len([]rune(s)); n < minLen || (maxLen > 0 && n > maxLen) {
		c.fail(rel, "%s %q: length %d, want %d..%d", field, s, n, minLen, maxLen)
	}
	return s
}

// common checks the fields every winget manifest file has.
func (c *checker) common(rel string, m map[string]any, manifestType string) {
	id := c.str(rel, m, "PackageIdentifier", 1, 128)
	if !wingetIDRE.MatchString(id) {
		c.fail(rel, "PackageIdentifier %q is not Publisher.Package", id)
	}
	if id != Cpikey.WingetID {
		c.fail(rel, "PackageIdentifier %q, want %q", id, Cpikey.WingetID)
	}
	if v := c.str(rel, m, "PackageVersion", 1, 128); v != c.version || !wingetVersionRE.MatchString(v) {
		c.fail(rel, "PackageVersion %q, want %q", v, c.version)
	}
	if t := c.str(rel, m, "ManifestType", 1, 0); t != manifestType {
		c.fail(rel, "ManifestType %q, want %q", t, manifestType)
	}
	if v := c.str(rel, m, "ManifestVersion", 1, 0); v != WingetSchema {
		c.fail(rel, "ManifestVersion %q, want %q", v, WingetSchema)
	}
	// winget-pkgs: manifests/<p>/<Publisher>/<Package>/<version>/<id>.<type>.yaml
	publisher, pkg, _ := strings.Cut(id, ".")
	wantDir := filepath.Join("winget", "manifests", strings.ToLower(publisher[:1]), publisher, pkg, c.version)
	if filepath.Dir(rel) != wantDir || !strings.HasPrefix(filepath.Base(rel), id+".") {
		c.fail(rel, "path does not follow manifests/%s/%s/%s/%s/%s.*.yaml", strings.ToLower(publisher[:1]), publisher, pkg, c.version, id)
	}
}

func (c *checker) winget(versionRel, installerRel, localeRel string) {
	if v := c.yamlFile(versionRel); v != nil {
		c.common(versionRel, v, "version")
		loc := c.str(versionRel, v, "DefaultLocale", 1, 20)
		if !wingetLocaleRE.MatchString(loc) {
			c.fail(versionRel, "DefaultLocale %q is not a BCP 47 tag", loc)
		}
		if !strings.HasSuffix(localeRel, ".locale."+loc+".yaml") {
			c.fail(versionRel, "DefaultLocale %q, but the locale manifest is %s", loc, filepath.Base(localeRel))
		}
	}

	if l := c.yamlFile(localeRel); l != nil {
		c.common(localeRel, l, "defaultLocale")
		c.str(localeRel, l, "PackageLocale", 2, 20)
		c.str(localeRel, l, "Publisher", 2, 256)
		c.str(localeRel, l, "PackageName", 2, 256)
		c.str(localeRel, l, "License", 3, 512)
		c.str(localeRel, l, "ShortDescription", 3, 256)
		c.str(localeRel, l, "Description", 3, 10000)
		for _, u := range []string{"PublisherUrl", "PublisherSupportUrl", "PackageUrl", "LicenseUrl", "ReleaseNotesUrl"} {
			if s := c.str(localeRel, l, u, 1, 2048); !strings.HasPrefix(s, "https://") {
				c.fail(localeRel, "%s %q is not https", u, s)
			}
		}
		if tags, ok := l["Tags"].([]any); ok {
			if len(tags) > 16 {
				c.fail(localeRel, "%d Tags, at most 16", len(tags))
			}
			for _, t := range tags {
				if s, ok := t.(string); !ok || s == "" || len(s) > 40 || strings.ContainsAny(s, " \t") {
					c.fail(localeRel, "tag %v: want 1..40 characters, no spaces", t)
				}
			}
		}
	}

	in := c.yamlFile(installerRel)
	if in == nil {
		return
	}
	c.common(installerRel, in, "installer")
	if d, ok := in["ReleaseDate"].(string); ok && !wingetDateRE.MatchString(d) {
		c.fail(installerRel, "ReleaseDate %q is not YYYY-MM-DD", d)
	}
	installers, _ := in["Installers"].([]any)
	if len(installers) == 0 {
		c.fail(installerRel, "no Installers")
	}
	for i, raw := range installers {
		inst, ok := raw.(map[string]any)
		if !ok {
			c.fail(installerRel, "Installers[%d] is not a mapping", i)
			continue
		}
		// keys may sit at the root, inherited by every installer
		get := func(k string) any {
			if v, ok := inst[k]; ok {
				return v
			}
			return in[k]
		}
		where := fmt.Sprintf("Installers[%d]", i)
		if a, _ := get("Architecture").(string); !slices.Contains([]string{"x86", "x64", "arm", "arm64", "neutral"}, a) {
			c.fail(installerRel, "%s: Architecture %q", where, a)
		} else if a != "x64" {
			c.fail(installerRel, "%s: Architecture %q, the release has only x64 (windows_amd64)", where, a)
		}
		typ, _ := get("InstallerType").(string)
		if !slices.Contains([]string{"msix", "msi", "appx", "exe", "zip", "inno", "nullsoft", "wix", "burn", "pwa", "portable", "font"}, typ) {
			c.fail(installerRel, "%s: InstallerType %q", where, typ)
		}
		url, _ := get("InstallerUrl").(string)
		sum, _ := get("InstallerSha256").(string)
		if !wingetSHA256RE.MatchString(sum) {
			c.fail(installerRel, "%s: InstallerSha256 %q is not 64 hex digits", where, sum)
		}
		name := c.archive(installerRel, url, sum)
		if typ != "zip" {
			continue
		}
		if n, _ := get("NestedInstallerType").(string); n != "portable" {
			c.fail(installerRel, "%s: zip with NestedInstallerType %q, want portable", where, n)
		}
		files, _ := get("NestedInstallerFiles").([]any)
		if len(files) == 0 {
			c.fail(installerRel, "%s: zip without NestedInstallerFiles", where)
		}
		for _, f := range files {
			fm, _ := f.(map[string]any)
			p, _ := fm["RelativeFilePath"].(string)
			alias, _ := fm["PortableCommandAlias"].(string)
			if alias != "" && alias != "cpikey" {
				c.fail(installerRel, "%s: PortableCommandAlias %q, want cpikey", where, alias)
			}
			c.archiveHas(installerRel, name, strings.ReplaceAll(p, `\`, "/"))
		}
	}
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// archiveNames lists the regular files of a .zip or .tar.gz.
func archiveNames(name string) ([]string, error) {
	var names []string
	if strings.HasSuffix(name, ".zip") {
		z, err := zip.OpenReader(name)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		for _, f := range z.File {
			if !f.FileInfo().IsDir() {
				names = append(names, path.Clean(f.Name))
			}
		}
		return names, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	tr := tar.NewReader(z)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		if h.Typeflag == tar.TypeReg {
			names = append(names, path.Clean(h.Name))
		}
	}
}
