package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/profiles"
)

// The reveal screen's export chooser: e opens it, one key per format
// writes a file next to the user (Options.ExportDir), never overwriting.

type exportChooser struct {
	open bool
	id   uint64
}

type exportedMsg struct {
	id           uint64
	path, format string
	secret       bool   // the file holds the client secret
	also         string // the companion file written after it, if any
	err          error
	alsoErr      error // writing the companion failed
}

// exportFormat describes one entry of the chooser.
type exportFormat struct {
	format, title string
	file          func(key string) string
	// also is written right after file: for Postman the collection that
	// sends, beside the environment that holds the secret.
	also *exportFormat
}

var postmanCollection = exportFormat{profiles.FormatPostmanCollection, "Postman collection", func(k string) string { return k + ".postman_collection.json" }, nil}

var exportFormats = []exportFormat{
	{profiles.FormatPostman, "Postman environment + collection", func(k string) string { return k + ".postman_environment.json" }, &postmanCollection},
	{profiles.FormatEnv, ".env file", func(k string) string { return k + ".env" }, nil},
	{profiles.FormatCurl, "curl script", func(k string) string { return k + "-token.sh" }, nil},
	{profiles.FormatTerraform, "Terraform configuration", func(k string) string { return k + ".tf" }, nil},
}

// exportProfile is the profile to export: the one kept, or one built from
// the result when none was kept (demo, or keeping failed).
func (m *revealModel) exportProfile() profiles.Profile {
	r := m.current()
	p := profiles.FromResult(&r, m.target, m.e.now())
	if s := m.profSaved; s != nil {
		p.GlobalAccount, p.CFAPIURL = s.GlobalAccount, s.CFAPIURL
		p.Name, p.CreatedAt = s.Name, s.CreatedAt
	}
	return p
}

// secretNote says what the file of a format holds.
func (m *revealModel) secretNote(format string) string {
	cert := m.result.Credentials.KeyType.IsCertificate()
	switch {
	case cert && profiles.EmbedsSecret(format):
		return "with the certificate and private key in two files beside it"
	case cert && format == profiles.FormatCurl && m.keychain != nil && m.keychain.Account != "":
		return "no key in it: reads certificate and key from the OS keychain when run"
	case cert && format == profiles.FormatCurl:
		return "no key in it: set " + profiles.EnvCertFile + " and " + profiles.EnvKeyFile + " before running it"
	case profiles.EmbedsSecret(format):
		return "contains the client secret"
	case format == profiles.FormatCurl && m.keychain != nil && m.keychain.Account != "":
		return "no secret in it: reads it from the OS keychain when run"
	case format == profiles.FormatCurl:
		return "no secret in it: set " + profiles.EnvClientSecret + " before running it"
	}
	return "no secret in it"
}

func (m *revealModel) exportKey(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.e.keys.Back) {
		m.export.open = false
		return nil
	}
	for i, b := range m.e.keys.ExportFormat {
		if key.Matches(msg, b) {
			m.export.open = false
			return m.writeExport(exportFormats[i])
		}
	}
	return nil
}

// writeExport writes the file in a Cmd; the secret comes from memory (it is
// on this screen anyway), not from the keychain.
func (m *revealModel) writeExport(f exportFormat) tea.Cmd {
	m.export.id = m.e.newID()
	id, p, goos := m.export.id, m.exportProfile(), m.e.goos
	path := filepath.Join(m.e.opts.ExportDir, f.file(p.Key.Name))
	secret := ""
	if profiles.EmbedsSecret(f.format) {
		secret = m.result.Credentials.ClientSecret
	}
	m.status = ""
	if c := m.result.Credentials; c.KeyType.IsCertificate() && profiles.EmbedsSecret(f.format) {
		return func() tea.Msg {
			e, err := profiles.Exporter{GOOS: goos}.WriteCertFiles(path, p, f.format, c.Certificate, c.PrivateKey, false)
			msg := exportedMsg{id: id, path: path, format: f.format, secret: true, err: err}
			if err == nil && f.also != nil {
				msg.also = filepath.Join(filepath.Dir(path), f.also.file(p.Key.Name))
				msg.alsoErr = e.WriteFile(msg.also, p, f.also.format, "", false)
			}
			return msg
		}
	}
	return func() tea.Msg {
		e := profiles.Exporter{GOOS: goos}
		msg := exportedMsg{id: id, path: path, format: f.format, secret: secret != ""}
		if msg.err = e.WriteFile(path, p, f.format, secret, false); msg.err != nil || f.also == nil {
			return msg
		}
		msg.also = filepath.Join(filepath.Dir(path), f.also.file(p.Key.Name))
		msg.alsoErr = e.WriteFile(msg.also, p, f.also.format, "", false)
		return msg
	}
}

func (m *revealModel) exported(msg exportedMsg) {
	if msg.id != m.export.id {
		return
	}
	st := m.e.st
	// One status line: what matters first, the (long) file name after.
	name := filepath.Base(msg.path)
	switch {
	case errors.Is(msg.err, fs.ErrExist):
		m.status = st.warn("Not overwritten, it exists: " + name + " (cpikey export --force replaces it).")
	case msg.err != nil:
		m.status = st.fail(fmt.Sprintf("Export failed: %v", msg.err))
	case msg.secret && m.result.Credentials.KeyType.IsCertificate():
		m.status = st.ok("Wrote the private key (mode 0600: keep it private, out of git) into " + m.result.Key.Name + ".key.pem, beside " + name + ".")
	case msg.secret:
		m.status = st.ok("Wrote the client secret into " + name + " (mode 0600): keep it private, out of git.")
	default:
		m.status = st.ok("Wrote " + name + " (" + m.secretNote(msg.format) + ").")
	}
	if msg.err != nil || msg.also == "" {
		return
	}
	// Postman: the environment and the collection that sends with it.
	also := filepath.Base(msg.also)
	held := "it holds the client secret"
	switch {
	case m.result.Credentials.KeyType.IsCertificate():
		held = "certificate and key files beside it; add them in Settings > Certificates"
	case !msg.secret:
		held = "its clientSecret is empty: fill it in"
	}
	switch {
	case errors.Is(msg.alsoErr, fs.ErrExist):
		m.status = st.warn("Wrote the environment (" + held + "); not overwritten, it exists: " + also)
	case msg.alsoErr != nil:
		m.status = st.fail(fmt.Sprintf("Wrote the environment (%s); the collection failed: %v", held, msg.alsoErr))
	default:
		m.status = st.ok("Import both into Postman (the environment: " + held + ", mode 0600, out of git): " + name + ", " + also)
	}
}

func (m *revealModel) exportView() string {
	st := m.e.st
	where := "the current directory"
	if m.e.opts.ExportDir != "" {
		where = m.e.opts.ExportDir
	}
	var b strings.Builder
	b.WriteString(wrap(st.Label.Render("Export")+" this key to a file in "+where+" (mode 0600; an existing file is never overwritten):", m.w, 0) + "\n\n")
	for i, f := range exportFormats {
		k := m.e.keys.ExportFormat[i].Help().Key
		b.WriteString(wrap(fmt.Sprintf("[%s] %s: %s", k, f.title, f.file(m.result.Key.Name)), m.w, 4) + "\n")
		note := m.secretNote(f.format)
		if f.also != nil {
			note += " (not the collection)"
		}
		if profiles.EmbedsSecret(f.format) {
			note = st.warn(note)
		} else {
			note = st.Subtle.Render(note)
		}
		b.WriteString(indent(note, 4) + "\n")
	}
	b.WriteString("\n" + wrap(st.Subtle.Render("Esc goes back. Later: cpikey export --format FORMAT (see its --help)."), m.w, 0))
	return b.String()
}
