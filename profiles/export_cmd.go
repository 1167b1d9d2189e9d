package profiles

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cpikey/cpikey/steps"
)

// Export writes the profile in format (Formats) to path, or to w
// when path is "". Files are created with mode 0600 and an existing file is
// replaced only with force. postman and env embed the client secret, read
// from the keychain for that purpose; curl and terraform never contain it.
func (m *Manager) Export(ctx context.Context, w io.Writer, name, format, path string, force bool) error {
	format = strings.ToLower(strings.TrimSpace(format))
	if !slices.Contains(Formats, format) {
		return &steps.UsageError{Msg: fmt.Sprintf("--format must be one of %s, not %q", strings.Join(Formats, ", "), format)}
	}
	p, err := m.resolve(name)
	if err != nil {
		return err
	}
	secret := ""
	if EmbedsSecret(format) {
		if p.KeychainAccount == "" {
			m.note("! Profile %s has no client secret in the OS keychain: the %s export leaves it out.", p.Name, format)
		} else if secret, err = m.secret(ctx, p); err != nil {
			return err
		}
	}
	e := Exporter{GOOS: m.GOOS}
	if path == "" {
		return e.Export(p, format, secret, w)
	}
	if err := e.WriteFile(path, p, format, secret, force); err != nil {
		return err
	}
	what := "no secret in it"
	if secret != "" {
		what = "it contains the client secret: keep it private and out of version control"
	}
	m.note("✓ Wrote %s (%s export of profile %s, mode 0600; %s)", path, format, p.Name, what)
	return nil
}
