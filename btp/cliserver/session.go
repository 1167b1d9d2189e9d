package cliserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
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

// CLISession describes a session the btp CLI left on this machine (found by
// adapters/btpsession). It holds no id: the finder keeps that and hands it
// to UseSession.
type CLISession struct {
	ConfigPath string // absolute path of the btp CLI's config.json
	ServerURL  string // CLI server the session belongs to
	User       string // "UserName" of the config
	Mail       string
	Issuer     string
	Subdomain  string // global account from the config's target, "" if none
	CustomIdP  string
	Source     string // "keychain" or "file"
}

// ErrNoCLISession means no usable btp CLI session exists on this machine.
var ErrNoCLISession = errors.New("no btp CLI session found on this machine (log in with the btp CLI first, or log in here)")

// UseSession makes a btp CLI session current without contacting the
// server. It refuses a session of another CLI server, so the id is never
// sent anywhere but where it came from. subdomain overrides the config's
// global account ("" keeps it).
func (c *Client) UseSession(cs CLISession, id, subdomain string) (*Session, error) {
	if id == "" {
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
	s := &Session{id: id, Subdomain: subdomain, CustomIdP: cs.CustomIdP, Mail: cs.Mail, Issuer: cs.Issuer, User: cs.User}
	c.SetSession(s)
	return s, nil
}

func sameServer(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.TrimRight(strings.TrimSpace(s), "/")) }
	return norm(a) == norm(b)
}
