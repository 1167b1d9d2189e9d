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
	// LastSubaccount is the subaccount (GUID) last used, per global account
	// subdomain.
	LastSubaccount map[string]string `json:"lastSubaccount,omitempty"`
	// Subaccounts are the wizard's last choices per subaccount (GUID), so a
	// rerun (after Ctrl+C, say) resumes with the same instance.
	Subaccounts map[string]Choices `json:"subaccounts,omitempty"`
}

// Choices are what the wizard asked for one subaccount; nothing secret.
type Choices struct {
	Runtime  string   `json:"runtime,omitempty"` // cf or other
	Org      string   `json:"org,omitempty"`
	Space    string   `json:"space,omitempty"`
	Plan     string   `json:"plan,omitempty"`
	Instance string   `json:"instance,omitempty"`
	Key      string   `json:"key,omitempty"`
	Roles    []string `json:"roles,omitempty"`
}

// maxRemembered bounds the subaccounts whose choices are kept.
const maxRemembered = 50

// RememberChoices saves c as the last choices for subaccountID and that
// subaccount as the last one of globalAccount.
func (d Dirs) RememberChoices(globalAccount, subaccountID string, c Choices) error {
	if subaccountID == "" {
		return nil
	}
	return d.UpdatePrefs(func(p *Prefs) bool {
		if p.Subaccounts == nil {
			p.Subaccounts = map[string]Choices{}
		}
		if _, known := p.Subaccounts[subaccountID]; !known && len(p.Subaccounts) >= maxRemembered {
			for k := range p.Subaccounts { // forget one; they are conveniences
				delete(p.Subaccounts, k)
				break
			}
		}
		p.Subaccounts[subaccountID] = c
		if globalAccount != "" {
			if p.LastSubaccount == nil {
				p.LastSubaccount = map[string]string{}
			}
			p.LastSubaccount[globalAccount] = subaccountID
		}
		return true
	})
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
	unlock, err := Lock(d.Config, PrefsFile)
	if err != nil {
		return err
	}
	defer unlock()
	return d.savePrefs(p)
}

func (d Dirs) savePrefs(p Prefs) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(d.Config, PrefsFile, b)
}

// RememberGlobalAccount saves subdomain as the last global account when it
// changed.
func (d Dirs) RememberGlobalAccount(subdomain string) error {
	return d.UpdatePrefs(func(p *Prefs) bool {
		if subdomain == "" || p.LastGlobalAccount == subdomain {
			return false
		}
		p.LastGlobalAccount = subdomain
		return true
	})
}

// UpdatePrefs reads, changes and writes the preferences under the
// cross-process lock; change reports whether it changed anything.
func (d Dirs) UpdatePrefs(change func(*Prefs) bool) error {
	unlock, err := Lock(d.Config, PrefsFile)
	if err != nil {
		return err
	}
	defer unlock()
	p := d.LoadPrefs()
	if !change(&p) {
		return nil
	}
	return d.savePrefs(p)
}
