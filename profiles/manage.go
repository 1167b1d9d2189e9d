// Manager runs the subcommands on the profiles of revealed keys (the secret
// in the OS keychain): list, show, token, export, rotate, forget. main parses
// flags and calls one Manager method per subcommand.

package profiles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// Manager runs the subcommands against one profile store and keychain.
type Manager struct {
	Store      *Store
	Keyring    steps.Keyring // nil: no keychain (secrets cannot be read or stored)
	HTTPClient *http.Client  // token requests; nil: the transport default
	// Notes receives what was done, for people (stderr); nil discards.
	Notes io.Writer
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
	// GOOS picks how curl exports read the keychain; "": runtime.GOOS.
	GOOS string
	// Command is how the user runs cpikey here, for hints ("cpikey --demo");
	// "" means "cpikey".
	Command string
	// VerifyWait bounds how long Rotate keeps trying the new key's first
	// token (XSUAA can take a few seconds to know a new client); 0: 30s.
	VerifyWait time.Duration
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// note tells people what was done. Notes name profiles, keys and what SAP
// said: each is printed inert.
func (m *Manager) note(format string, a ...any) {
	if m.Notes != nil {
		fmt.Fprintln(m.Notes, safetext.Text(fmt.Sprintf(format, a...)))
	}
}

// SaveResult stores the profile of a successful run: the result's
// non-secret fields, the global account and the Cloud Foundry API endpoint
// the flow learnt (flow may be nil). A profile of the same name is replaced.
func (m *Manager) SaveResult(flow *steps.Flow, res *steps.Result, t steps.Target) (Profile, error) {
	if res == nil {
		return Profile{}, errors.New("no result to keep")
	}
	p := FromResult(res, t, m.now())
	if flow != nil {
		if a := flow.Account(); a != nil {
			p.GlobalAccount = a.GlobalAccountSubdomain
		}
		if env := flow.CFEnvironment(p.Subaccount.ID); env != nil && p.Runtime == steps.RuntimeCF {
			p.CFAPIURL = env.APIURL
			if p.OrgID == "" && strings.EqualFold(p.Org, env.OrgName) {
				p.OrgID = env.OrgID
			}
		}
	}
	if err := m.Store.Save(p); err != nil {
		return p, fmt.Errorf("keep profile %s: %w", p.Name, err)
	}
	return p, nil
}

// HeadlessTarget is the target `cpikey --yes` worked on, for SaveResult:
// in with its defaults filled (the result adds what the flow resolved).
func HeadlessTarget(in steps.HeadlessInput) steps.Target {
	_ = in.Normalize() // RunHeadless succeeded with the same input
	t := steps.Target{Runtime: in.Runtime, OrgName: in.Org, Space: in.Space, Plan: in.Plan,
		Instance: in.Instance, Key: in.Key, Roles: slices.Clone(in.Roles), NoKeychain: in.NoKeychain, KeySpec: in.KeySpec}
	if t.Runtime == steps.RuntimeOther {
		t.OrgName, t.Space = "", "" // Service Manager has neither
	}
	return t
}

// resolve loads the named profile, or the most recent one for "".
func (m *Manager) resolve(name string) (Profile, error) {
	p, err := m.Store.Resolve(name)
	var amb *AmbiguousError
	if errors.As(err, &amb) {
		return p, &steps.UsageError{Msg: "name the profile: " + err.Error()}
	}
	return p, err
}

// secret reads the client secret of p from the keychain. Errors say why it
// is not there and what to do; they never contain the secret.
func (m *Manager) secret(ctx context.Context, p Profile) (string, error) {
	if p.IsCertificate() {
		return "", fmt.Errorf("profile %s is a %s key: it has a certificate and private key, no client secret", p.Name, p.KeyType.Label())
	}
	return m.keychainValue(ctx, p, "client secret")
}

// certificate reads the certificate chain and private key of a
// certificate profile from the keychain.
func (m *Manager) certificate(ctx context.Context, p Profile) (string, steps.PrivateKeyPEM, error) {
	v, err := m.keychainValue(ctx, p, "certificate and private key")
	if err != nil {
		return "", "", err
	}
	chain, key, err := steps.ParseCertBundle(v)
	if err != nil {
		return "", "", fmt.Errorf("profile %s: %w; cpikey rotate %s makes a new key", p.Name, err, p.Name)
	}
	return chain, key, nil
}

// keychainValue reads what the keychain keeps of p (split entries joined).
func (m *Manager) keychainValue(ctx context.Context, p Profile, what string) (string, error) {
	if p.KeychainAccount == "" {
		return "", fmt.Errorf("profile %s has no %s in the OS keychain (it was saved with --no-keychain, or the keychain failed then): "+
			"run cpikey again without --no-keychain to store it, or cpikey rotate %s for a new key", p.Name, what, p.Name)
	}
	if m.Keyring == nil {
		return "", fmt.Errorf("no OS keychain available here, and the %s is only kept there", what)
	}
	s, err := keychain.GetSplit(ctx, m.Keyring, keychainService(p), p.KeychainAccount)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return "", fmt.Errorf("the OS keychain has no %s for profile %s any more (service %s, account %s): "+
			"run cpikey rotate %s for a new key, or cpikey again", what, p.Name, keychainService(p), p.KeychainAccount, p.Name)
	case err != nil:
		return "", fmt.Errorf("read the %s of profile %s: %w", what, p.Name, err)
	case s == "":
		return "", fmt.Errorf("the OS keychain holds an empty %s for profile %s", what, p.Name)
	}
	return s, nil
}

func keychainService(p Profile) string {
	if p.KeychainService != "" {
		return p.KeychainService
	}
	return steps.KeychainService
}

// writeJSON prints v as indented JSON, inert for a terminal (safetext.JSON
// escapes what encoding/json leaves raw) and with every value exact.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(safetext.JSON(b.Bytes()))
	return err
}

// WriteProfile prints p as JSON (it holds no secret).
func WriteProfile(w io.Writer, p Profile) error { return writeJSON(w, p) }

// List prints the profiles, one name a line (or all of them as a JSON
// array). No profile is not an error.
func (m *Manager) List(w io.Writer, asJSON bool) error {
	all, err := m.Store.List()
	if err != nil {
		return err
	}
	if asJSON {
		if all == nil {
			all = []Profile{}
		}
		return writeJSON(w, all)
	}
	if len(all) == 0 {
		c := firstNonEmptyStr(m.Command, "cpikey")
		m.note("No profile yet: run %s (or %s --yes) to create a key; it is kept as a profile.", c, c)
		return nil
	}
	var b strings.Builder
	for _, p := range all {
		b.WriteString(safetext.Line(p.Name))
		if p.IsCertificate() && p.Certificate != nil {
			// Days left at a glance: certificate keys expire.
			fmt.Fprintf(&b, "  (%s, valid until %s)", p.KeyType.Label(), p.Certificate.info().Expiry(m.now()))
		}
		b.WriteString("\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// showJSON is a profile with the secret only when asked for.
type showJSON struct {
	Profile
	ClientSecret string `json:"clientsecret,omitempty"`
}

// Show prints one profile; the secret stays masked unless showSecret, and
// is read from the keychain only then.
func (m *Manager) Show(ctx context.Context, w io.Writer, name string, showSecret, asJSON bool) error {
	p, err := m.resolve(name)
	if err != nil {
		return err
	}
	secret := ""
	if showSecret && p.IsCertificate() {
		return &steps.UsageError{Msg: fmt.Sprintf("profile %s is a %s key: cpikey never prints its private key; "+
			"cpikey export %s --format postman -o FILE (or env) writes certificate and key to files (mode 0600)", p.Name, p.KeyType.Label(), p.Name)}
	}
	if showSecret {
		if secret, err = m.secret(ctx, p); err != nil {
			return err
		}
	}
	if asJSON {
		return writeJSON(w, showJSON{Profile: p, ClientSecret: secret})
	}
	var b strings.Builder
	// Every value is shown inert on its line: names and URLs come from SAP,
	// and the file may have been edited.
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-15s %s\n", k+":", safetext.Line(v))
		}
	}
	line("profile", p.Name)
	line("global account", p.GlobalAccount)
	line("subaccount", fmt.Sprintf("%s (subdomain %s, id %s)", p.Subaccount.Name, p.Subaccount.Subdomain, p.Subaccount.ID))
	where := string(p.Runtime)
	if p.Runtime == steps.RuntimeCF {
		where += fmt.Sprintf(" (org %s, space %s)", p.Org, p.Space)
	} else {
		where += " (Service Manager)"
	}
	line("runtime", where)
	line("plan", p.Plan)
	if len(p.Roles) > 0 {
		line("roles", strings.Join(p.Roles, ", "))
	}
	line("instance", ref(p.Instance))
	line("key", ref(p.Key))
	line("clientid", p.ClientID)
	switch {
	case p.IsCertificate():
		line("key type", p.KeyType.Label())
		if c := p.Certificate; c != nil {
			line("subject", c.SubjectDN)
			line("issuer", c.IssuerDN)
			line("serial number", c.SerialNumber)
			line("valid until", c.info().Expiry(m.now()))
		}
		if p.KeychainAccount == "" {
			line("private key", "(not stored: saved with --no-keychain)")
		} else {
			line("private key", fmt.Sprintf("%s (OS keychain with the certificate, service %s, account %s; only an export writes it out)", safetext.Mask("x"), keychainService(p), p.KeychainAccount))
		}
	case showSecret:
		line("clientsecret", secret)
	case p.KeychainAccount == "":
		line("clientsecret", "(not stored: saved with --no-keychain)")
	default:
		line("clientsecret", fmt.Sprintf("%s (OS keychain, service %s, account %s; --show-secret prints it)", safetext.Mask("x"), keychainService(p), p.KeychainAccount))
	}
	line("tokenurl", p.TokenURL)
	line("url", p.URL)
	line("created", p.CreatedAt.Local().Format(time.RFC3339))
	_, err = io.WriteString(w, b.String())
	return err
}

func firstNonEmptyStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ref(r Ref) string {
	if r.ID == "" {
		return r.Name
	}
	return fmt.Sprintf("%s (id %s)", r.Name, r.ID)
}
