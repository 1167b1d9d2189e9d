// Package btpsession finds a session the btp CLI left on this machine (its
// config.json, and the session id in the OS keychain or its session file),
// so cpikey can reuse it without a password. It reads files and the
// keychain; speaking to the server stays in btp/cliserver.
package btpsession

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/cliserver"
)

// Found is a btp CLI session on this machine. Its id is a bearer secret: it
// is unexported and every way of printing a Found redacts it.
type Found struct {
	cliserver.CLISession
	id string
}

// String describes the session without its id.
func (s Found) String() string {
	return fmt.Sprintf("btpsession.Found{Config:%q Server:%q GlobalAccount:%q User:%q Source:%s ID:REDACTED}",
		s.ConfigPath, s.ServerURL, s.Subdomain, s.Mail, s.Source)
}

// GoString is String.
func (s Found) GoString() string { return s.String() }

// Format makes every fmt verb print String.
func (s Found) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) } //nolint:errcheck

// Use makes the session current on c without contacting the server (see
// cliserver.Client.UseSession). subdomain overrides the config's global
// account ("" keeps it).
func (s *Found) Use(c *cliserver.Client, subdomain string) (*cliserver.Session, error) {
	if s == nil {
		return nil, cliserver.ErrNoCLISession
	}
	return c.UseSession(s.CLISession, s.id, subdomain)
}

// Seams for tests: the OS switch and the keychain run on Linux too.
var (
	goos           = runtime.GOOS
	userConfigDir  = os.UserConfigDir
	userCacheDir   = os.UserCacheDir
	keyringGet     = keyring.Get
	keyringTimeout = 3 * time.Second
)

const (
	keychainService = "cli.btp.cloud.sap:session"
	secureStoreKey  = "login.securestore"
)

// btpConfig holds the fields of the btp CLI's config.json that matter.
type btpConfig struct {
	ServerURL      string `json:"ServerURL"`
	UserName       string `json:"UserName"`
	Authentication struct {
		Mail             string `json:"Mail"`
		Issuer           string `json:"Issuer"`
		IdentityProvider string `json:"IdentityProvider"` // inferred name; used when present
	} `json:"Authentication"`
	TargetHierarchy []struct {
		Type      string `json:"Type"`
		ID        string `json:"ID"`
		Subdomain string `json:"Subdomain"`
	} `json:"TargetHierarchy"`
	Settings map[string]string `json:"Settings"`
}

// btpDir is where the btp CLI keeps its files below a base directory.
func btpDir(base string) string {
	if goos == "windows" {
		return filepath.Join(base, "SAP", "btp")
	}
	return filepath.Join(base, ".btp")
}

// DefaultConfigPath is the btp CLI's default config.json:
// os.UserConfigDir()/.btp/config.json (Windows: …\SAP\btp\config.json).
func DefaultConfigPath() (string, error) {
	dir, err := userConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot determine the user config directory: %w", err)
	}
	return filepath.Join(btpDir(dir), "config.json"), nil
}

// sessionKey is the btp CLI's key for a config: lowercase hex of the first
// 16 bytes of SHA-256 of the absolute config path.
func sessionKey(absPath string) string {
	sum := sha256.Sum256([]byte(absPath))
	return hex.EncodeToString(sum[:16])
}

// Find reads the btp CLI's config (configPath: a file, a
// directory holding config.json, or "" for the default) and its session id
// from the keychain (macOS/Windows with the secure store) or the session
// file. It returns an error wrapping cliserver.ErrNoCLISession when there is none.
func Find(configPath string) (*Found, error) {
	if configPath == "" {
		p, err := DefaultConfigPath()
		if err != nil {
			return nil, err
		}
		configPath = p
	} else if fi, err := os.Stat(configPath); err == nil && fi.IsDir() {
		configPath = filepath.Join(configPath, "config.json")
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil, fmt.Errorf("btp CLI config %s: %w", configPath, err)
	}
	raw, err := os.ReadFile(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", cliserver.ErrNoCLISession, abs)
	}
	if err != nil {
		return nil, fmt.Errorf("btp CLI config %s: %w", abs, err)
	}
	var cfg btpConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("btp CLI config %s is not valid JSON: %v", abs, err)
	}
	key := sessionKey(abs)
	id, source, err := readSessionID(cfg, key)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("%w: %s has no stored session", cliserver.ErrNoCLISession, abs)
	}
	cs := &Found{CLISession: cliserver.CLISession{ConfigPath: abs, ServerURL: cfg.ServerURL, User: cfg.UserName, Mail: cfg.Authentication.Mail,
		Issuer: cfg.Authentication.Issuer, Source: source}, id: id}
	for _, t := range cfg.TargetHierarchy {
		if strings.EqualFold(t.Type, "globalaccount") {
			cs.Subdomain = t.Subdomain
		}
	}
	// The IdP is not documented in config.json: an explicit field wins;
	// otherwise a non-default issuer is the custom IdP, as with ID-token
	// logins (docs/protocol/btp-cli-server.md §2.4).
	switch iss := cfg.Authentication.Issuer; {
	case cfg.Authentication.IdentityProvider != "":
		cs.CustomIdP = cfg.Authentication.IdentityProvider
	case iss != "" && !strings.EqualFold(iss, "accounts.sap.com") && !strings.EqualFold(iss, "sap.ids"):
		cs.CustomIdP = iss
	}
	return cs, nil
}

// useSecureStore mirrors the btp CLI: keychain on macOS and Windows unless
// the config says login.securestore=false; never on Linux.
func useSecureStore(cfg btpConfig) bool {
	if goos != "darwin" && goos != "windows" {
		return false
	}
	v, ok := cfg.Settings[secureStoreKey]
	return !ok || v == "default" || v == "true"
}

func readSessionID(cfg btpConfig, key string) (id, source string, err error) {
	if useSecureStore(cfg) {
		if id, ok := keychainSession(key); ok && id != "" {
			return id, "keychain", nil
		}
	}
	cache, err := userCacheDir()
	if err != nil {
		return "", "", fmt.Errorf("cannot determine the user cache directory: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(btpDir(cache), key, "session"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("btp CLI session file: %w", err)
	}
	return strings.TrimSpace(string(b)), "file", nil
}

// keychainSession asks the OS keychain, giving up after keyringTimeout (a
// locked keychain can block on a dialog); ok is false on any failure.
func keychainSession(key string) (string, bool) {
	type result struct {
		id  string
		err error
	}
	ch := make(chan result, 1)
	get := keyringGet
	go func() {
		id, err := get(keychainService, key)
		ch <- result{id, err}
	}()
	t := time.NewTimer(keyringTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", false
		}
		return strings.TrimSpace(r.id), true
	case <-t.C:
		return "", false
	}
}
