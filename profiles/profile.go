// Package profiles is what cpikey keeps after the wizard: a profile per
// revealed service key (the non-secret facts, in a JSON file under the
// user's config directory) and the export formats built from it (Postman
// environment, .env, curl snippet, Terraform configuration, docker env
// file).
//
// The client secret (or a certificate key's private key) is never part of a
// Profile: it lives only in the OS keychain (adapters/keychain). An export
// that needs it (postman, env, docker-env) gets it as an explicit argument
// from the caller, who read it from the keychain because the user asked for
// that export.
package profiles

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cpikey/cpikey/adapters/keychain"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// Profile is one stored service key without its secret. There is
// deliberately no field for the client secret.
type Profile struct {
	Name          string        `json:"name"`
	GlobalAccount string        `json:"globalAccount,omitempty"` // global account subdomain (Terraform provider "btp")
	Subaccount    Subaccount    `json:"subaccount"`
	Runtime       steps.Runtime `json:"runtime"`
	Org           string        `json:"org,omitempty"`
	OrgID         string        `json:"orgId,omitempty"`
	Space         string        `json:"space,omitempty"`
	SpaceID       string        `json:"spaceId,omitempty"`
	CFAPIURL      string        `json:"cfApiUrl,omitempty"` // Cloud Foundry API endpoint, when known
	Plan          string        `json:"plan"`
	Instance      Ref           `json:"instance"`
	Key           Ref           `json:"key"`
	ClientID      string        `json:"clientid"`
	TokenURL      string        `json:"tokenurl"`
	URL           string        `json:"url"`
	Roles         []string      `json:"roles,omitempty"`
	// Entitlements are the it-rt plans entitled to the subaccount when the
	// key was made, and how; empty in profiles of older versions.
	Entitlements []Entitlement `json:"entitlements,omitempty"`
	// KeychainService/KeychainAccount locate the secret (for certificate
	// keys: the certificate chain and private key); both empty when it
	// was not stored (--no-keychain or the keychain failed).
	KeychainService string    `json:"keychainService,omitempty"`
	KeychainAccount string    `json:"keychainAccount,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`

	// Certificate keys: the key type ("" is ClientId/Secret), the
	// parameters rotate renews it with, and what the certificate says.
	KeyType            steps.KeyType `json:"keyType,omitempty"`
	Validity           int           `json:"validity,omitempty"`
	KeyLength          int           `json:"keyLength,omitempty"`
	CertificatePinning *bool         `json:"certificatePinning,omitempty"`
	Certificate        *Certificate  `json:"certificate,omitempty"`
}

// Certificate is what a certificate key's certificate says (SAP's
// certificatedetails); the certificate itself is in the keychain.
type Certificate struct {
	SubjectDN    string    `json:"subjectdn"`
	IssuerDN     string    `json:"issuerdn"`
	SerialNumber string    `json:"serialnumber"`
	ValidUntil   time.Time `json:"validuntil"`
}

// IsCertificate reports a certificate key (SAP-generated or external).
func (p Profile) IsCertificate() bool { return p.KeyType.IsCertificate() }

// info is the certificate in the flow's terms (expiry texts).
func (c *Certificate) info() *steps.CertificateInfo {
	return &steps.CertificateInfo{SubjectDN: c.SubjectDN, IssuerDN: c.IssuerDN, SerialNumber: c.SerialNumber, ValidUntil: c.ValidUntil}
}

// setCredentials records the key type and certificate of c (not its
// secret or private key) and the key parameters of spec.
func (p *Profile) setCredentials(c steps.Credentials, spec steps.KeySpec) {
	p.KeyType, p.Certificate, p.Validity, p.KeyLength, p.CertificatePinning = "", nil, 0, 0, nil
	if !c.KeyType.IsCertificate() {
		return
	}
	p.KeyType = c.KeyType
	if i := c.CertificateInfo; i != nil {
		p.Certificate = &Certificate{SubjectDN: i.SubjectDN, IssuerDN: i.IssuerDN, SerialNumber: i.SerialNumber, ValidUntil: i.ValidUntil.UTC()}
	}
	if c.KeyType == steps.KeyTypeCertificate && spec.Type == steps.KeyTypeCertificate {
		n := spec.Normalized()
		p.Validity, p.KeyLength = n.Validity, n.KeyLength
	}
	p.CertificatePinning = c.Pinning
	if p.CertificatePinning == nil {
		p.CertificatePinning = spec.Pinning
	}
}

// Subaccount identifies the BTP subaccount.
type Subaccount struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Subdomain string `json:"subdomain"`
	Region    string `json:"region,omitempty"`
}

// Entitlement is one it-rt plan entitled to the subaccount: enabled (no
// numeric quota, Amount 0) or with an amount, as the flow decided from the
// plan's category.
type Entitlement struct {
	Plan     string `json:"plan"`
	Category string `json:"category,omitempty"`
	Amount   int    `json:"amount,omitempty"`
}

// Ref names a service instance or key.
type Ref struct {
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	Reused bool   `json:"reused,omitempty"` // cpikey found it instead of creating it
}

// DefaultName is a profile's name unless the user picks one:
// <subaccount subdomain>/<instance>/<key>, the same string as the keychain
// account, so one name finds both.
func DefaultName(subaccountSubdomain, instance, key string) string {
	return keychain.AccountName(subaccountSubdomain, instance, key)
}

// FromResult builds the profile of a successful run. r.Credentials.ClientSecret
// is ignored on purpose. Fields the result leaves empty are taken from t.
// GlobalAccount and CFAPIURL are not known to either; the caller sets them.
func FromResult(r *steps.Result, t steps.Target, now time.Time) Profile {
	if r == nil {
		r = &steps.Result{}
	}
	p := Profile{
		Subaccount: Subaccount{
			ID:        cmp.Or(r.Subaccount.ID, t.Subaccount.ID),
			Name:      cmp.Or(r.Subaccount.Name, t.Subaccount.Name),
			Subdomain: cmp.Or(r.Subaccount.Subdomain, t.Subaccount.Subdomain),
			Region:    cmp.Or(r.Subaccount.Region, t.Subaccount.Region),
		},
		Runtime:   steps.Runtime(cmp.Or(string(r.Runtime), string(t.Runtime))),
		Org:       cmp.Or(r.Org, t.OrgName),
		OrgID:     t.OrgID,
		Space:     cmp.Or(r.Space, t.Space),
		SpaceID:   t.SpaceID,
		Plan:      cmp.Or(r.Plan, t.Plan),
		Instance:  Ref{Name: cmp.Or(r.Instance.Name, t.Instance), ID: r.Instance.ID, Reused: r.Instance.Reused},
		Key:       Ref{Name: cmp.Or(r.Key.Name, t.Key), ID: r.Key.ID, Reused: r.Key.Reused},
		ClientID:  r.Credentials.ClientID,
		TokenURL:  r.Credentials.TokenURL,
		URL:       r.Credentials.URL,
		Roles:     slices.Clone(t.Roles),
		CreatedAt: now.UTC(),
	}
	for _, e := range r.Entitlements {
		p.Entitlements = append(p.Entitlements, Entitlement{Plan: e.Plan, Category: e.Category, Amount: e.Amount})
	}
	if r.Keychain != nil {
		p.KeychainService, p.KeychainAccount = r.Keychain.Service, r.Keychain.Account
	}
	p.setCredentials(r.Credentials, t.KeySpec)
	p.Name = DefaultName(p.Subaccount.Subdomain, p.Instance.Name, p.Key.Name)
	return p
}

// MaxNameLen bounds a profile name.
const MaxNameLen = 256

// Validate checks what every export relies on: a usable name and no
// control characters anywhere (values end up in shell scripts, .env
// comments and HCL). Errors name the field, never its value.
func (p Profile) Validate() error {
	if p.Name == "" {
		return errors.New("profile: the name is empty")
	}
	if len(p.Name) > MaxNameLen {
		return fmt.Errorf("profile: the name is longer than %d bytes", MaxNameLen)
	}
	fields := []struct{ name, val string }{
		{"name", p.Name}, {"globalAccount", p.GlobalAccount},
		{"subaccount.id", p.Subaccount.ID}, {"subaccount.name", p.Subaccount.Name},
		{"subaccount.subdomain", p.Subaccount.Subdomain}, {"subaccount.region", p.Subaccount.Region},
		{"runtime", string(p.Runtime)}, {"org", p.Org}, {"orgId", p.OrgID}, {"space", p.Space},
		{"spaceId", p.SpaceID}, {"cfApiUrl", p.CFAPIURL}, {"plan", p.Plan},
		{"instance.name", p.Instance.Name}, {"instance.id", p.Instance.ID},
		{"key.name", p.Key.Name}, {"key.id", p.Key.ID},
		{"clientid", p.ClientID}, {"tokenurl", p.TokenURL}, {"url", p.URL},
		{"keychainService", p.KeychainService}, {"keychainAccount", p.KeychainAccount},
		{"keyType", string(p.KeyType)},
	}
	if c := p.Certificate; c != nil {
		fields = append(fields, struct{ name, val string }{"certificate.subjectdn", c.SubjectDN},
			struct{ name, val string }{"certificate.issuerdn", c.IssuerDN}, struct{ name, val string }{"certificate.serialnumber", c.SerialNumber})
	}
	for i, r := range p.Roles {
		fields = append(fields, struct{ name, val string }{fmt.Sprintf("roles[%d]", i), r})
	}
	for i, e := range p.Entitlements {
		fields = append(fields, struct{ name, val string }{fmt.Sprintf("entitlements[%d].plan", i), e.Plan},
			struct{ name, val string }{fmt.Sprintf("entitlements[%d].category", i), e.Category})
	}
	for _, f := range fields {
		if hasControl(f.val) {
			return fmt.Errorf("profile %q: field %s contains a control character", safeName(p.Name), f.name)
		}
	}
	return nil
}

// hasControl: the profile's values end up in exported shell scripts and
// files, so anything that changes how text around it reads (controls,
// newlines, bidi controls that can reorder a shell line) is refused.
func hasControl(s string) bool {
	if strings.ContainsAny(s, "\n\t") {
		return true
	}
	for _, r := range safetext.Controls(s) {
		if r != utf8.RuneError { // invalid UTF-8 has its own message where it matters
			return true
		}
	}
	return false
}

// safeName is p.Name fit for an error message even when Validate rejected it.
func safeName(s string) string {
	if !hasControl(s) && len(s) <= MaxNameLen {
		return s
	}
	out := []rune{}
	for _, r := range s {
		if len(out) >= 64 {
			out = append(out, '…')
			break
		}
		if unicode.IsControl(r) {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
