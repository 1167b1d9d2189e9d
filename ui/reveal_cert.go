package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/cpikey/cpikey/steps"
)

// The reveal screen of a certificate key: what the certificate says and
// when it expires, never the private key.

func (m *revealModel) certificateFields(b *strings.Builder, field func(n, name, value string)) {
	st := m.e.st
	c := m.result.Credentials
	info := c.CertificateInfo
	subject := "(unreadable)"
	if info != nil {
		subject = info.SubjectDN
	}
	field("2", "certificate", subject)
	// value is inert text from SAP or a styled note of cpikey's own.
	line := func(name, value string) {
		v := ansi.Hardwrap(value, max(10, m.w-18), false)
		b.WriteString(st.Label.Render(fmt.Sprintf("    %-13s", name)) + " " + strings.ReplaceAll(v, "\n", "\n"+strings.Repeat(" ", 18)) + "\n")
	}
	line("key type", c.KeyType.Label())
	if info != nil {
		line("issuer", inert(info.IssuerDN))
		until := info.Expiry(time.Now())
		switch d := info.DaysLeft(time.Now()); {
		case d < 0:
			until = st.fail(until)
		case d < steps.ExpiryWarningDays:
			until = st.warn(strings.Replace(until, "(! ", "(", 1))
		}
		line("valid until", until)
	}
	if c.Pinning != nil && !*c.Pinning {
		line("pinning", "off: a renewed certificate with the same subject and issuer is accepted")
	}
	line("private key", st.mask()+"  "+st.Subtle.Render("(never shown; kept in the OS keychain with the certificate)"))
}

// certNextStep shows how to get a token with the certificate without the
// key ever being pasted or written: cpikey token, or the curl export that
// reads the keychain when it runs.
func (m *revealModel) certNextStep() string {
	st := m.e.st
	var b strings.Builder
	code := func(l string) {
		b.WriteString(indent(st.Code.Render(ansi.Hardwrap(l, max(10, m.w-2), false)), 2) + "\n")
	}
	if m.e.opts.SaveProfile == nil || m.keychain == nil || m.keychain.Account == "" {
		b.WriteString(wrap("Get a token with the certificate (mTLS) at the tokenurl: curl --cert CERT --key KEY -d grant_type=client_credentials -d client_id=<clientid>. "+
			"The certificate is copied with 2; the private key is in SAP's key (cockpit) or your own file.", m.w, 0) + "\n")
		return b.String()
	}
	b.WriteString(wrap("Call your iFlow with a fresh token; cpikey reads certificate and key from the keychain:", m.w, 0) + "\n")
	code(fmt.Sprintf("curl -H \"Authorization: Bearer $(cpikey token)\" '%s/http/your/endpoint'", m.result.Credentials.URL))
	b.WriteString(wrap("Or a script that uses curl with the certificate, reading the keychain when it runs:", m.w, 0) + "\n")
	code("cpikey export --format curl -o get-token.sh && sh get-token.sh")
	return b.String()
}
