package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestExport_Golden(t *testing.T) {
	noKeychain := fixture()
	noKeychain.KeychainService, noKeychain.KeychainAccount = "", ""
	bare := fixture() // what FromResult gives before the caller fills the rest
	bare.GlobalAccount, bare.CFAPIURL = "", ""
	bare.Instance.Reused = true
	older := fixture() // saved before profiles recorded entitlements
	older.Entitlements = nil
	tests := []struct {
		golden string
		p      Profile
		format string
		goos   string
		secret string
	}{
		{"postman_secret", fixture(), FormatPostman, "linux", canary},
		{"postman_nosecret", fixture(), FormatPostman, "linux", ""},
		{"postman_collection_flow", fixture(), FormatPostmanCollection, "linux", canary},
		{"postman_collection_api", apiOther(), FormatPostmanCollection, "linux", canary},
		{"env_secret", fixture(), FormatEnv, "linux", canary},
		{"env_nosecret", fixture(), FormatEnv, "linux", ""},
		{"docker_env_secret", fixture(), FormatDockerEnv, "linux", canary},
		{"docker_env_nosecret", fixture(), FormatDockerEnv, "linux", ""},
		{"curl_linux", fixture(), FormatCurl, "linux", canary},
		{"curl_darwin", fixture(), FormatCurl, "darwin", canary},
		{"curl_windows", fixture(), FormatCurl, "windows", canary},
		{"curl_nokeychain", noKeychain, FormatCurl, "linux", canary},
		{"curl_api", apiOther(), FormatCurl, "linux", canary},
		{"terraform_cf", fixture(), FormatTerraform, "linux", canary},
		{"terraform_cf_bare", bare, FormatTerraform, "linux", canary},
		{"terraform_other_api", apiOther(), FormatTerraform, "linux", canary},
		{"terraform_cf_older_profile", older, FormatTerraform, "linux", canary},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := (Exporter{GOOS: tc.goos}).Export(tc.p, tc.format, tc.secret, &buf); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, buf.Bytes())
			has := strings.Contains(buf.String(), canary)
			if want := EmbedsSecret(tc.format) && tc.secret != ""; has != want {
				t.Errorf("output contains the secret: %v, want %v", has, want)
			}
		})
	}
}

// Only the explicit exports of the secret may hold it, whatever -update wrote.
func TestGoldens_OnlyExplicitSecretExportsHoldTheSecret(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(f)
		allowed := base == "postman_secret.golden" || base == "env_secret.golden" || base == "docker_env_secret.golden"
		if strings.Contains(string(b), canary) != allowed {
			t.Errorf("%s: contains secret = %v, want %v", base, !allowed, allowed)
		}
	}
}

func TestExport_Postman(t *testing.T) {
	for _, secret := range []string{canary, ""} {
		var buf bytes.Buffer
		if err := Export(fixture(), "Postman", secret, &buf); err != nil {
			t.Fatal(err)
		}
		var env struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Scope  string `json:"_postman_variable_scope"`
			Values []struct {
				Key, Value, Type string
				Enabled          bool
			} `json:"values"`
		}
		if err := json.Unmarshal(buf.Bytes(), &env); err != nil {
			t.Fatal(err)
		}
		if env.Scope != "environment" || env.ID == "" || !strings.Contains(env.Name, fixture().Name) {
			t.Errorf("envelope %+v", env)
		}
		got := map[string][2]string{}
		for _, v := range env.Values {
			got[v.Key] = [2]string{v.Value, v.Type}
		}
		p := fixture()
		want := map[string][2]string{
			PostmanClientID:     {p.ClientID, "default"},
			PostmanClientSecret: {secret, "secret"},
			PostmanTokenURL:     {p.TokenURL, "default"},
			PostmanBaseURL:      {p.URL, "default"},
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("with secret %v: variable %s = %v, want %v", secret != "", k, got[k], w)
			}
		}
	}
	// Same profile, same environment id (re-import replaces it).
	var a, b bytes.Buffer
	Export(fixture(), FormatPostman, "", &a)
	Export(apiOther(), FormatPostman, "", &b)
	if stableUUID("x") != stableUUID("x") || bytes.Equal(a.Bytes()[:60], b.Bytes()[:60]) {
		t.Error("environment ids are not stable per profile")
	}
}

func TestExport_Rejects(t *testing.T) {
	badName := fixture()
	badName.Name = "evil\nCPI_CLIENT_SECRET=x"
	badField := fixture()
	badField.Org = "org\r"
	badRuntime := fixture()
	badRuntime.Runtime = "kyma"
	bidi := fixture() // would reorder the line a shell script shows
	bidi.Instance.Name = "CPI\u202eSAMPLE"
	tests := []struct {
		name, format, secret string
		p                    Profile
		want                 string
	}{
		{"unknown format", "yaml", "", fixture(), `unknown export format "yaml"`},
		{"empty name", FormatEnv, "", Profile{}, "name is empty"},
		{"newline in name", FormatEnv, "", badName, "field name contains a control character"},
		{"control char in field", FormatCurl, "", badField, "field org contains a control character"},
		{"newline in secret", FormatEnv, canary + "\nX=1", fixture(), "secret contains a control character"},
		{"kyma runtime", FormatTerraform, "", badRuntime, `unsupported runtime "kyma"`},
		{"bidi control in a name", FormatCurl, "", bidi, "field instance.name contains a control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Export(tc.p, tc.format, tc.secret, &buf)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			mustNotContain(t, "error", err.Error())
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

func TestShellQuote_RoundTripsThroughSh(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("no POSIX sh")
	}
	tests := []struct{ in, quoted string }{
		{"", "''"},
		{"plain", "'plain'"},
		{canary, "'" + canary + "'"},
		{"it's", `'it'\''s'`},
		{"''", `''\'''\'''`},
		{"$HOME `id` $(id) \\n !x \"q\" *", "'$HOME `id` $(id) \\n !x \"q\" *'"},
		{"sb-1!b2|it-rt-x!b3", "'sb-1!b2|it-rt-x!b3'"},
		{"ünïcödé ✓", "'ünïcödé ✓'"},
	}
	for _, tc := range tests {
		q := ShellQuote(tc.in)
		if q != tc.quoted {
			t.Errorf("ShellQuote(%q) = %s, want %s", tc.in, q, tc.quoted)
		}
		out, err := exec.Command(sh, "-c", "printf '%s' "+q).Output()
		if err != nil || string(out) != tc.in {
			t.Errorf("sh read %s back as %q (%v), want %q", q, out, err, tc.in)
		}
	}
}

func TestWriteEnvFile_0600AndNoOverwrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := WriteEnvFile(path, fixture(), canary, false); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if !strings.Contains(string(first), EnvClientSecret+"='"+canary+"'\n") {
		t.Errorf(".env lacks the single-quoted secret:\n%s", first)
	}
	checkMode(t, path, 0o600)

	// A second export without force must fail and leave the file alone.
	other := apiOther()
	err := WriteEnvFile(path, other, "", false)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("overwrite without force: %v", err)
	}
	mustNotContain(t, "error", err.Error())
	if now, _ := os.ReadFile(path); !bytes.Equal(now, first) {
		t.Error("the existing file was changed")
	}

	// With force it is replaced, still 0600 even if it had been opened up.
	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o644)
	}
	if err := WriteEnvFile(path, other, "", true); err != nil {
		t.Fatal(err)
	}
	now, _ := os.ReadFile(path)
	if strings.Contains(string(now), canary) || !strings.Contains(string(now), other.ClientID) {
		t.Errorf("forced rewrite:\n%s", now)
	}
	checkMode(t, path, 0o600)
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestWriteFile_NothingCreatedOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	if err := WriteFile(path, fixture(), "xml", canary, false); err == nil {
		t.Fatal("no error for an unknown format")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file exists after a failed export: %v", err)
	}
}

func TestEmbedsSecret(t *testing.T) {
	want := map[string]bool{FormatPostman: true, FormatPostmanCollection: false, FormatEnv: true, FormatDockerEnv: true, FormatCurl: false, FormatTerraform: false, "nope": false}
	for f, w := range want {
		if EmbedsSecret(f) != w {
			t.Errorf("EmbedsSecret(%q) = %v", f, !w)
		}
	}
}

func checkMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
}
