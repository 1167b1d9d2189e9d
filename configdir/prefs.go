package configdir

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// Prefs are the non-secret choices remembered between runs. The front ends
// load and save them; the flow never does.
type Prefs struct {
	LastGlobalAccount string `json:"lastGlobalAccount,omitempty"`
}

// PrefsFile is the preferences file's name in the config directory.
const PrefsFile = "prefs.json"

// LoadPrefs reads the remembered choices; a missing or broken file yields
// empty prefs (they are a convenience, never a reason to fail).
func (d Dirs) LoadPrefs() Prefs {
	var p Prefs
	if b, err := os.ReadFile(filepath.Join(d.Config, PrefsFile)); err == nil {
		json.Unmarshal(b, &p) //nolint:errcheck // convenience only
	}
	return p
}

// SavePrefs writes the remembered choices (0600 in a 0700 directory).
func (d Dirs) SavePrefs(p Prefs) error {
	if err := os.MkdirAll(d.Config, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.Config, PrefsFile), b, 0o600)
}

// RememberGlobalAccount saves subdomain as the last global account when it
// changed.
func (d Dirs) RememberGlobalAccount(subdomain string) error {
	p := d.LoadPrefs()
	if subdomain == "" || p.LastGlobalAccount == subdomain {
		return nil
	}
	p.LastGlobalAccount = subdomain
	return d.SavePrefs(p)
}
