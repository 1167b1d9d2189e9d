package steps

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// Prefs are the non-secret choices remembered between runs.
type Prefs struct {
	LastGlobalAccount string `json:"lastGlobalAccount,omitempty"`
}

// prefsPath is os.UserConfigDir()/cpikey/prefs.json.
func prefsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "cpikey", "prefs.json"), nil
}

// LoadPrefs reads the remembered choices; a missing or broken file yields
// empty prefs (they are a convenience, never a reason to fail).
func LoadPrefs() Prefs {
	var p Prefs
	path, err := prefsPath()
	if err != nil {
		return p
	}
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &p) //nolint:errcheck // convenience only
	}
	return p
}

// SavePrefs writes the remembered choices (0600 in a 0700 directory).
func SavePrefs(p Prefs) error {
	path, err := prefsPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
