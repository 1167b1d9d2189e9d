package cliserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Session is a logged-in BTP CLI server session. Its id is a bearer
// secret: it is unexported and every way of printing a Session redacts it.
type Session struct {
	id string

	Subdomain string // global account subdomain (X-Cpcli-Subdomain)
	CustomIdP string // "" for the SAP ID service (X-Cpcli-Customidp)
	Mail      string // from the login answer or the btp CLI config
	Issuer    string
	User      string
}

// String describes the session without its id.
func (s Session) String() string {
	return fmt.Sprintf("cliserver.Session{GlobalAccount:%q User:%q IdP:%q ID:REDACTED}", s.Subdomain, s.Mail, s.CustomIdP)
}

// GoString is String: %#v must not reveal the id either.
func (s Session) GoString() string { return s.String() }

// Format makes every fmt verb print String.
func (s Session) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) } //nolint:errcheck

// LogValue keeps the id out of slog output.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("globalAccount", s.Subdomain), slog.String("user", s.Mail),
		slog.String("idp", s.CustomIdP), slog.String("id", "REDACTED"))
}

// --- reuse of a btp CLI session (§2.6) -----------------------------------------

// CLISession is a session the btp CLI left on this machine. Using it needs
// no password; it expires like any session (IsUnauthorized on first use).
type CLISession struct {
	ConfigPath string // absolute path of the btp CLI's config.json
	ServerURL  string // CLI server the session belongs to
	User       string // "UserName" of the config
	Mail       string
	Issuer     string
	Subdomain  string // global account from the config's target, "" if none
	CustomIdP  string
	Source     string // "keychain" or "file"

	id string
}

// String describes the session without its id.
func (s CLISession) String() string {
	return fmt.Sprintf("cliserver.CLISession{Config:%q Server:%q GlobalAccount:%q User:%q Source:%s ID:REDACTED}",
		s.ConfigPath, s.ServerURL, s.Subdomain, s.Mail, s.Source)
}

// GoString is String.
func (s CLISession) GoString() string { return s.String() }

// Format makes every fmt verb print String.
func (s CLISession) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) } //nolint:errcheck

// ErrNoCLISession means no usable btp CLI session exists on this machine.
var ErrNoCLISession = errors.New("no btp CLI session found on this machine (log in with the btp CLI first, or log in here)")

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

// DefaultCLIConfigPath is the btp CLI's default config.json:
// os.UserConfigDir()/.btp/config.json (Windows: …\SAP\btp\config.json).
func DefaultCLIConfigPath() (string, error) {
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

// FindCLISession reads the btp CLI's config (configPath: a file, a
// directory holding config.json, or "" for the default) and its session id
// from the keychain (macOS/Windows with the secure store) or the session
// file. It returns an error wrapping ErrNoCLISession when there is none.
func FindCLISession(configPath string) (*CLISession, error) {
	if configPath == "" {
		p, err := DefaultCLIConfigPath()
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
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoCLISession, abs)
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
		return nil, fmt.Errorf("%w: %s has no stored session", ErrNoCLISession, abs)
	}
	cs := &CLISession{ConfigPath: abs, ServerURL: cfg.ServerURL, User: cfg.UserName, Mail: cfg.Authentication.Mail,
		Issuer: cfg.Authentication.Issuer, Source: source, id: id}
	for _, t := range cfg.TargetHierarchy {
		if strings.EqualFold(t.Type, "globalaccount") {
			cs.Subdomain = t.Subdomain
		}
	}
	// The IdP is not documented in config.json: an explicit field wins;
	// otherwise a non-default issuer is the custom IdP, as with ID-token
	// logins (§2.4).
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

// UseSession makes a btp CLI session current without contacting the
// server. It refuses a session of another CLI server, so the id is never
// sent anywhere but where it came from. subdomain overrides the config's
// global account ("" keeps it).
func (c *Client) UseSession(cs *CLISession, subdomain string) (*Session, error) {
	if cs == nil || cs.id == "" {
		return nil, ErrNoCLISession
	}
	if subdomain == "" {
		subdomain = cs.Subdomain
	}
	if subdomain == "" {
		return nil, errors.New("the btp CLI session has no target global account: enter the global account subdomain")
	}
	if cs.ServerURL != "" && !sameServer(cs.ServerURL, c.ServerURL()) {
		return nil, fmt.Errorf("the btp CLI session belongs to %s, not to %s: log in here instead, or use that server URL", cs.ServerURL, strings.TrimSuffix(c.ServerURL(), "/"))
	}
	s := &Session{id: cs.id, Subdomain: subdomain, CustomIdP: cs.CustomIdP, Mail: cs.Mail, Issuer: cs.Issuer, User: cs.User}
	c.SetSession(s)
	return s, nil
}

func sameServer(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "/")) }
	return norm(a) == norm(b)
}
