package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/steps"
)

// Forget removes the profile's client secret from the keychain and then
// the profile. With deleteKey it first deletes the key in SAP (flow logs
// in with l); if that fails nothing is removed, so the command can be
// repeated. Without deleteKey the key stays valid in SAP.
func (m *Manager) Forget(ctx context.Context, flow *steps.Flow, name string, deleteKey bool, l Login) error {
	p, err := m.resolve(name)
	if err != nil {
		return err
	}
	if deleteKey {
		if flow == nil {
			return errors.New("deleting the key needs SAP BTP, and no flow was given")
		}
		if p.Key.ID == "" {
			return fmt.Errorf("profile %s does not record the id of key %s: delete the key in the cockpit, then run cpikey forget without --delete-key", p.Name, p.Key.Name)
		}
		if err := login(ctx, flow, p, l); err != nil {
			return err
		}
		t := targetOf(p)
		if err := flow.Locate(ctx, &t, p.CFAPIURL); err != nil {
			return fmt.Errorf("forget %s: %w; nothing was removed", p.Name, err)
		}
		if err := flow.DeleteKey(ctx, t, p.Key.ID); err != nil {
			return fmt.Errorf("forget %s: %w; nothing was removed", p.Name, err)
		}
	}
	if p.KeychainAccount != "" {
		if m.Keyring == nil {
			return fmt.Errorf("forget %s: no OS keychain available to remove its secret from; profile kept", p.Name)
		}
		err := keychain.DeleteSplit(ctx, m.Keyring, keychainService(p), p.KeychainAccount)
		if err != nil && !errors.Is(err, keychain.ErrNotFound) {
			return fmt.Errorf("forget %s: remove the client secret from the OS keychain: %w; profile kept, so you can try again", p.Name, err)
		}
		m.dropToken(ctx, p)
	}
	if err := m.Store.Delete(p.Name); err != nil {
		return err
	}
	switch {
	case deleteKey:
		m.note("✓ Forgot profile %s: key %s deleted in SAP, secret removed from the OS keychain, profile removed.", p.Name, p.Key.Name)
	case p.KeychainAccount != "":
		m.note("✓ Forgot profile %s: secret removed from the OS keychain, profile removed. Key %s still exists in SAP and its secret still works; delete it in the cockpit if nobody uses it.", p.Name, p.Key.Name)
	default:
		m.note("✓ Forgot profile %s. Key %s still exists in SAP; delete it in the cockpit if nobody uses it.", p.Name, p.Key.Name)
	}
	return nil
}
