// Package headless is the other front end beside the wizard: what
// `cpikey --yes` prints: progress lines on stderr, the result as text or in
// the fixed --json shape on stdout.
package headless

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// resultJSON is the --json contract; field names and nesting are fixed.
type resultJSON struct {
	Subaccount struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Subdomain string `json:"subdomain"`
	} `json:"subaccount"`
	Runtime     steps.Runtime   `json:"runtime"`
	Org         string          `json:"org"`
	Space       string          `json:"space"`
	Plan        string          `json:"plan"`
	Instance    refJSON         `json:"instance"`
	Key         refJSON         `json:"key"`
	Credentials credentialsJSON `json:"credentials"`
	Verified    bool            `json:"verified"`
	Keychain    *keychainJSON   `json:"keychain"`
	// TenantCheck is the request to the tenant after the token check
	// (null when none was sent).
	TenantCheck *tenantCheckJSON `json:"tenantCheck"`
}

type tenantCheckJSON struct {
	Request string `json:"request"` // e.g. "GET https://…/http/__cpikey_probe__"
	Status  int    `json:"status"`  // 0 when there was no answer
	Outcome string `json:"outcome"` // accepted, rejected, role-missing, unreachable, unexpected
	Message string `json:"message"`
}

type refJSON struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Reused bool   `json:"reused"`
}

type credentialsJSON struct {
	ClientID     string `json:"clientid"`
	TokenURL     string `json:"tokenurl"`
	URL          string `json:"url"`
	ClientSecret string `json:"clientsecret,omitempty"`
	// Certificate keys only: the type, the certificate chain (public) and
	// what it says. The private key is never part of the result.
	KeyType            string                  `json:"keytype,omitempty"`
	Certificate        string                  `json:"certificate,omitempty"`
	CertificateDetails *certificateDetailsJSON `json:"certificatedetails,omitempty"`
}

// certificateDetailsJSON mirrors SAP's certificatedetails.
type certificateDetailsJSON struct {
	IssuerDN     string `json:"issuerdn"`
	SubjectDN    string `json:"subjectdn"`
	ValidUntil   string `json:"validuntil"`
	SerialNumber string `json:"serialnumber"`
}

type keychainJSON struct {
	Service string `json:"service"`
	Account string `json:"account"`
}

// WriteJSON prints the result in the --json shape; the secret only when the
// user asked for it with --show-secret.
func WriteJSON(w io.Writer, r *steps.Result, showSecret bool) error {
	var out resultJSON
	out.Subaccount.ID, out.Subaccount.Name, out.Subaccount.Subdomain = r.Subaccount.ID, r.Subaccount.Name, r.Subaccount.Subdomain
	out.Runtime, out.Org, out.Space, out.Plan = r.Runtime, r.Org, r.Space, r.Plan
	out.Instance = refJSON{Name: r.Instance.Name, ID: r.Instance.ID, Reused: r.Instance.Reused}
	out.Key = refJSON{Name: r.Key.Name, ID: r.Key.ID, Reused: r.Key.Reused}
	out.Credentials = credentialsJSON{ClientID: r.Credentials.ClientID, TokenURL: r.Credentials.TokenURL, URL: r.Credentials.URL}
	if showSecret {
		out.Credentials.ClientSecret = r.Credentials.ClientSecret
	}
	if c := r.Credentials; c.KeyType.IsCertificate() {
		out.Credentials.KeyType, out.Credentials.Certificate = string(c.KeyType), c.Certificate
		if i := c.CertificateInfo; i != nil {
			out.Credentials.CertificateDetails = &certificateDetailsJSON{IssuerDN: i.IssuerDN, SubjectDN: i.SubjectDN,
				ValidUntil: i.ValidUntil.UTC().Format("2006-01-02T15:04:05.000Z"), SerialNumber: i.SerialNumber}
		}
	}
	out.Verified = r.Verified
	if r.Keychain != nil {
		out.Keychain = &keychainJSON{Service: r.Keychain.Service, Account: r.Keychain.Account}
	}
	if c := r.Tenant; c != nil {
		out.TenantCheck = &tenantCheckJSON{Request: strings.TrimSpace(c.Method + " " + c.URL), Status: c.Status, Outcome: string(c.Outcome), Message: c.Message}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	// encoding/json writes DEL, C1 and bidi controls raw: escape them too,
	// so names stay exact and the output inert.
	_, err := w.Write(safetext.JSON(b.Bytes()))
	return err
}

// WriteText prints the result for people; the secret stays masked. The
// values come from SAP: each is shown inert, on its own line.
func WriteText(w io.Writer, r *steps.Result) error {
	var b strings.Builder
	c := r.Credentials
	fmt.Fprintf(&b, "clientid:     %s\n", safetext.Line(c.ClientID))
	if c.KeyType.IsCertificate() {
		fmt.Fprintf(&b, "keytype:      %s\n", c.KeyType.Label())
		if i := c.CertificateInfo; i != nil {
			fmt.Fprintf(&b, "subject:      %s\n", safetext.Line(i.SubjectDN))
			fmt.Fprintf(&b, "issuer:       %s\n", safetext.Line(i.IssuerDN))
			fmt.Fprintf(&b, "valid until:  %s\n", i.Expiry(time.Now()))
		}
		fmt.Fprintf(&b, "private key:  %s\n", safetext.Mask("x"))
	} else {
		fmt.Fprintf(&b, "clientsecret: %s\n", safetext.Mask(c.ClientSecret))
	}
	fmt.Fprintf(&b, "tokenurl:     %s\n", safetext.Line(c.TokenURL))
	fmt.Fprintf(&b, "url:          %s\n", safetext.Line(c.URL))
	if r.Keychain != nil {
		what := "secret"
		if c.KeyType.IsCertificate() {
			what = "certificate and private key"
		}
		// %q escapes control and bidi characters itself.
		fmt.Fprintf(&b, "%s saved in the OS keychain (service %q, account %q)\n", what, r.Keychain.Service, r.Keychain.Account)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TextReporter prints progress lines (gh style) for headless mode. A fatal
// failure is not printed: it is the command's error, which main prints
// once. It remembers what SAP is still working on, for Ctrl+C.
type TextReporter struct {
	mu sync.Mutex
	w  io.Writer
	// lastWait throttles "waiting" lines to one per few seconds per step.
	lastWait map[steps.Step]time.Time
	pending  steps.Pending
}

// Pending says what SAP is still doing ("" when nothing), for the message
// after an interruption.
func (t *TextReporter) Pending() string { return t.pending.String() }

// NewTextReporter reports to w (stderr in headless mode).
func NewTextReporter(w io.Writer) *TextReporter {
	return &TextReporter{w: w, lastWait: map[steps.Step]time.Time{}}
}

// Report implements steps.Reporter. Messages name what SAP calls things
// and quote what it said: each event is one inert line.
func (t *TextReporter) Report(e steps.Event) {
	t.pending.Report(e)
	if e.Kind == steps.EventFailed && e.Fatal {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var glyph string
	switch e.Kind {
	case steps.EventStarted:
		glyph = "…"
	case steps.EventWaiting:
		if time.Since(t.lastWait[e.Step]) < 3*time.Second {
			return
		}
		t.lastWait[e.Step] = time.Now()
		glyph = "…"
	case steps.EventDone:
		glyph = "✓"
	case steps.EventReused:
		glyph = "✓"
	case steps.EventSkipped:
		glyph = "-"
	case steps.EventFailed:
		glyph = "✗"
	}
	line := fmt.Sprintf("%s %s", glyph, e.Message)
	if e.State != "" && e.Kind == steps.EventWaiting {
		line += fmt.Sprintf(" (%s, %s)", e.State, e.Elapsed.Round(time.Second))
	}
	if e.Kind == steps.EventReused {
		line += " (reused)"
	}
	fmt.Fprintln(t.w, safetext.Line(line))
}
