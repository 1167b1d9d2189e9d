package profiles

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/configdir"
)

// Export formats.
const (
	FormatPostman           = "postman"            // Postman environment JSON; embeds the secret if given
	FormatPostmanCollection = "postman-collection" // Postman collection that fetches its own token; never contains a secret
	FormatEnv               = "env"                // .env (shell-sourceable); embeds the secret if given
	FormatCurl              = "curl"               // POSIX sh + curl snippet; never embeds the secret
	FormatTerraform         = "terraform"          // Terraform configuration; never contains a secret
	FormatDockerEnv         = "docker-env"         // docker run --env-file (unquoted); embeds the secret if given
)

// Formats lists the export formats in help order.
var Formats = []string{FormatPostman, FormatPostmanCollection, FormatEnv, FormatCurl, FormatTerraform, FormatDockerEnv}

// EmbedsSecret says whether a format writes the secret passed to Export.
// The caller should read the secret from the keychain only for these.
func EmbedsSecret(format string) bool {
	f, _ := normalize(format)
	return f == FormatPostman || f == FormatEnv || f == FormatDockerEnv
}

// Env variable names shared by the env, docker-env and curl formats, so
// that sourcing the .env file feeds the curl snippet.
const (
	EnvClientID     = "CPI_CLIENT_ID"
	EnvClientSecret = "CPI_CLIENT_SECRET"
	EnvTokenURL     = "CPI_TOKEN_URL"
	EnvURL          = "CPI_URL"
	EnvEndpoint     = "CPI_ENDPOINT"
	// Certificate keys: files with the certificate chain and the private key.
	EnvCertFile = "CPI_CERT_FILE"
	EnvKeyFile  = "CPI_KEY_FILE"
)

// Exporter renders profiles. The zero value targets the running OS.
type Exporter struct {
	// GOOS picks how the curl snippet reads the secret from the keychain
	// (linux & co: secret-tool, darwin: security, windows: none). "" means
	// runtime.GOOS.
	GOOS string
	// CertFile and KeyFile are where a certificate profile's certificate
	// chain and private key were written (postman and env name them).
	CertFile, KeyFile string
}

// Export writes p in format to w for the running OS; see Exporter.Export.
func Export(p Profile, format, secret string, w io.Writer) error {
	return Exporter{}.Export(p, format, secret, w)
}

// Export writes p in format to w. secret is used only by the postman, env
// and docker-env formats (an export the user explicitly asked for is the one place a
// secret leaves the keychain); "" leaves it out. curl, terraform and
// postman-collection ignore secret: the snippet reads it at run time,
// Terraform creates its own key, the collection reads it from the
// Postman environment.
// Nothing is written when p or format is invalid.
func (e Exporter) Export(p Profile, format, secret string, w io.Writer) error {
	f, err := normalize(format)
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if hasControl(secret) && EmbedsSecret(f) {
		return errors.New("export: the client secret contains a control character; refusing to write it")
	}
	var buf bytes.Buffer
	switch f {
	case FormatPostman:
		err = writePostman(&buf, p, secret, e)
	case FormatPostmanCollection:
		err = writePostmanCollection(&buf, p)
	case FormatEnv:
		writeEnv(&buf, p, secret, e)
	case FormatDockerEnv:
		if p.IsCertificate() {
			err = writeDockerEnvCert(&buf, p, e)
		} else {
			err = writeDockerEnv(&buf, p, secret)
		}
	case FormatCurl:
		if p.IsCertificate() {
			err = writeCurlCert(&buf, p, e.goos())
		} else {
			err = writeCurl(&buf, p, e.goos())
		}
	case FormatTerraform:
		err = writeTerraform(&buf, p)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func (e Exporter) goos() string {
	if e.GOOS != "" {
		return e.GOOS
	}
	return runtime.GOOS
}

func normalize(format string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(format))
	for _, k := range Formats {
		if f == k {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown export format %q (want %s)", format, strings.Join(Formats, ", "))
}

// WriteFile writes the export of p to path with mode 0600. Without force it
// never replaces an existing file (O_EXCL; the error matches fs.ErrExist);
// with force it replaces it atomically. Nothing is created when the export
// fails.
func (e Exporter) WriteFile(path string, p Profile, format, secret string, force bool) error {
	var buf bytes.Buffer
	if err := e.Export(p, format, secret, &buf); err != nil {
		return err
	}
	if force {
		if err := configdir.ReplaceFile(path, buf.Bytes()); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("export: %s already exists; use --force to overwrite it: %w", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(path)
		}
	}()
	if runtime.GOOS != "windows" {
		// The umask may only have narrowed 0600; make it exact.
		if err := f.Chmod(FileMode); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: write %s: %w", path, err)
	}
	ok = true
	return nil
}

// WriteFile writes the export of p for the running OS; see Exporter.WriteFile.
func WriteFile(path string, p Profile, format, secret string, force bool) error {
	return Exporter{}.WriteFile(path, p, format, secret, force)
}

// WriteEnvFile writes p as a .env file (mode 0600), refusing to overwrite an
// existing file unless force.
func WriteEnvFile(path string, p Profile, secret string, force bool) error {
	return WriteFile(path, p, FormatEnv, secret, force)
}

// ShellQuote quotes s for POSIX sh as one word. Inside single quotes
// nothing ($, backquote, backslash, !) is special; a single quote in s ends
// the quoting, is written escaped (\') and the quoting resumes.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// --- postman ---------------------------------------------------------------

type postmanEnv struct {
	ID            string       `json:"id"`
	Name          string       `json:"name"`
	Values        []postmanVar `json:"values"`
	Scope         string       `json:"_postman_variable_scope"`
	ExportedUsing string       `json:"_postman_exported_using"`
}

type postmanVar struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Type    string `json:"type"` // "default" or "secret" (masked in Postman's UI)
	Enabled bool   `json:"enabled"`
}

// Postman environment variables: the collection (postman-collection) and
// Postman's OAuth 2.0 helper (grant type Client Credentials) use them.
const (
	PostmanClientID     = "clientId"
	PostmanClientSecret = "clientSecret"
	PostmanTokenURL     = "tokenUrl"
	PostmanBaseURL      = "baseUrl"
	PostmanCertFile     = "certFile" // certificate keys: the certificate chain (PEM)
	PostmanKeyFile      = "keyFile"  // certificate keys: the private key (PEM)
)

func writePostman(w io.Writer, p Profile, secret string, e Exporter) error {
	values := []postmanVar{
		{Key: PostmanClientID, Value: p.ClientID, Type: "default", Enabled: true},
		// Always present so the user sees where it goes; empty unless
		// the caller passed it.
		{Key: PostmanClientSecret, Value: secret, Type: "secret", Enabled: true},
		{Key: PostmanTokenURL, Value: p.TokenURL, Type: "default", Enabled: true},
		{Key: PostmanBaseURL, Value: p.URL, Type: "default", Enabled: true},
	}
	if p.IsCertificate() {
		// No secret: Postman presents the certificate (Settings >
		// Certificates, for the token host); the variables say which files.
		values = []postmanVar{values[0], values[2], values[3],
			{Key: PostmanCertFile, Value: e.CertFile, Type: "default", Enabled: true},
			{Key: PostmanKeyFile, Value: e.KeyFile, Type: "default", Enabled: true}}
	}
	env := postmanEnv{
		ID:            stableUUID("cpikey-profile:" + p.Name),
		Name:          "cpikey " + p.Name,
		Values:        values,
		Scope:         "environment",
		ExportedUsing: "cpikey",
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(env)
}

// stableUUID is a name-based (version 5 layout) UUID, so exporting the same
// profile twice gives the same Postman environment id (re-import replaces
// instead of duplicating).
func stableUUID(name string) string {
	h := sha1.Sum([]byte(name))
	b := h[:16]
	b[6] = (b[6] & 0x0f) | 0x50
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// --- env ---------------------------------------------------------------------

func writeEnv(w *bytes.Buffer, p Profile, secret string, e Exporter) {
	fmt.Fprintf(w, "# cpikey profile %s\n", p.Name)
	fmt.Fprintf(w, "# SAP Process Integration Runtime (it-rt), plan %s\n", p.Plan)
	if p.IsCertificate() {
		fmt.Fprintf(w, "# %s key: the token request authenticates with the certificate (mTLS) at CPI_TOKEN_URL.\n", p.KeyType.Label())
		w.WriteString("# CPI_KEY_FILE holds the private key: keep that file private (mode 0600) and out of version control.\n")
		w.WriteString("# Values are single-quoted for sh. Load with: set -a; . ./.env; set +a\n")
		fmt.Fprintf(w, "%s=%s\n", EnvClientID, ShellQuote(p.ClientID))
		fmt.Fprintf(w, "%s=%s\n", EnvTokenURL, ShellQuote(p.TokenURL))
		fmt.Fprintf(w, "%s=%s\n", EnvURL, ShellQuote(p.URL))
		fmt.Fprintf(w, "%s=%s\n", EnvCertFile, ShellQuote(e.CertFile))
		fmt.Fprintf(w, "%s=%s\n", EnvKeyFile, ShellQuote(e.KeyFile))
		return
	}
	if secret != "" {
		w.WriteString("# This file holds the client secret: keep it private (mode 0600) and out of version control.\n")
	}
	w.WriteString("# Values are single-quoted for sh. Load with: set -a; . ./.env; set +a\n")
	w.WriteString("# docker compose reads it too (env_file); for docker run --env-file export docker-env.\n")
	fmt.Fprintf(w, "%s=%s\n", EnvClientID, ShellQuote(p.ClientID))
	if secret != "" {
		fmt.Fprintf(w, "%s=%s\n", EnvClientSecret, ShellQuote(secret))
	} else {
		fmt.Fprintf(w, "# %s is not included: %s\n", EnvClientSecret, secretWhere(p))
	}
	fmt.Fprintf(w, "%s=%s\n", EnvTokenURL, ShellQuote(p.TokenURL))
	fmt.Fprintf(w, "%s=%s\n", EnvURL, ShellQuote(p.URL))
}

// --- docker-env ----------------------------------------------------------------

// dockerMaxLine is the longest line docker run --env-file reads (its line
// scanner's limit, bufio.MaxScanTokenSize).
const dockerMaxLine = 64 * 1024

// writeDockerEnv writes the variables for docker run --env-file: one
// KEY=value a line, and docker takes everything after the '=' literally (no
// quotes, escapes or expansion; the env format's quotes would end up in the
// values). A value that docker cannot carry that way is refused.
func writeDockerEnv(w *bytes.Buffer, p Profile, secret string) error {
	vals := []struct{ key, what, val string }{
		{EnvClientID, "the clientid", p.ClientID},
		{EnvClientSecret, "the client secret", secret},
		{EnvTokenURL, "the tokenurl", p.TokenURL},
		{EnvURL, "the url", p.URL},
	}
	for _, v := range vals {
		if v.key == EnvClientSecret && secret == "" {
			continue
		}
		if why := dockerCannotCarry(v.key, v.val); why != "" {
			return fmt.Errorf("export docker-env: %s %s, which docker run --env-file cannot carry (it reads each value literally, up to the end of the line): "+
				"pass %s with docker run -e, or export --format env for sh and docker compose", v.what, why, v.key)
		}
	}
	fmt.Fprintf(w, "# cpikey profile %s\n", p.Name)
	fmt.Fprintf(w, "# SAP Process Integration Runtime (it-rt), plan %s\n", p.Plan)
	if secret != "" {
		w.WriteString("# This file holds the client secret: keep it private (mode 0600) and out of version control.\n")
	}
	w.WriteString("# For docker run --env-file FILE: values are unquoted and taken literally.\n")
	w.WriteString("# For sh and docker compose (env_file), export --format env instead.\n")
	for _, v := range vals {
		if v.key == EnvClientSecret && secret == "" {
			fmt.Fprintf(w, "# %s is not included: %s.\n", EnvClientSecret, secretWhere(p))
			w.WriteString("# Named without a value, docker run passes it on from its own environment:\n")
			fmt.Fprintf(w, "%s\n", EnvClientSecret)
			continue
		}
		fmt.Fprintf(w, "%s=%s\n", v.key, v.val)
	}
	return nil
}

// dockerCannotCarry says why value cannot be a docker env-file value, ""
// when it can.
func dockerCannotCarry(key, value string) string {
	switch {
	case !utf8.ValidString(value):
		return "is not valid UTF-8 (docker refuses such a file)"
	case hasControl(value):
		return "contains a control character (a line break ends the value)"
	case strings.TrimSpace(value) != value:
		return "starts or ends with whitespace (invisible in the file and easily lost)"
	case len(key)+1+len(value) >= dockerMaxLine:
		return fmt.Sprintf("is longer than docker's line limit (%d KiB)", dockerMaxLine/1024)
	}
	return ""
}

// secretWhere tells where the secret of p is, for comments.
func secretWhere(p Profile) string {
	if p.KeychainAccount == "" {
		return "this profile has no keychain entry (it was saved with --no-keychain)"
	}
	return fmt.Sprintf("it is in the keychain (service %s, account %s)", p.keychainService(), p.KeychainAccount)
}

func (p Profile) keychainService() string {
	if p.KeychainService != "" {
		return p.KeychainService
	}
	return keychain.Service
}
