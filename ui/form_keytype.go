package ui

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/cpikey/cpikey/steps"
)

// The key type part of the form: the three types of SAP's Create Service
// Key dialog, and under a certificate type two fields: validity and key
// length (Certificate), or the certificate and private key files
// (External Certificate).

// certFilesMsg: the external certificate's files were read and checked.
type certFilesMsg struct {
	id   uint64
	spec steps.KeySpec
	err  error
}

type keyTypeFields struct {
	kind picker
	a, b textinput.Model // validity days and key length, or certificate and key file
	// pre is an external certificate given by flags: used while no file
	// is typed.
	pre steps.KeySpec
}

func newKeyTypeFields(p steps.KeySpec) keyTypeFields {
	k := keyTypeFields{pre: p}
	k.kind = newPicker([]pickItem{
		{label: steps.KeyTypeSecret.Label(), note: "client id and secret"},
		{label: steps.KeyTypeCertificate.Label(), note: "SAP issues certificate and key (mTLS, recommended)"},
		{label: steps.KeyTypeExternal.Label(), note: "your CA's certificate; the key stays here"},
	})
	for i, t := range steps.KeyTypes {
		if p.Type.Or() == t {
			k.kind.cursor = i
		}
	}
	k.a, k.b = newInput("", 256), newInput("", 256)
	k.setDefaults()
	if p.Type == steps.KeyTypeCertificate {
		if p.Validity != 0 {
			k.a.SetValue(strconv.Itoa(p.Validity))
		}
		if p.KeyLength != 0 {
			k.b.SetValue(strconv.Itoa(p.KeyLength))
		}
	}
	return k
}

func (k *keyTypeFields) typ() steps.KeyType { return steps.KeyTypes[k.kind.cursor] }

// setDefaults fills the two fields for the type shown.
func (k *keyTypeFields) setDefaults() {
	switch k.typ() {
	case steps.KeyTypeCertificate:
		k.a.Placeholder, k.b.Placeholder = strconv.Itoa(steps.DefaultValidity), strconv.Itoa(steps.DefaultKeyLength)
		k.a.SetValue(strconv.Itoa(steps.DefaultValidity))
		k.b.SetValue(strconv.Itoa(steps.DefaultKeyLength))
	case steps.KeyTypeExternal:
		k.a.Placeholder, k.b.Placeholder = "certificate.pem", "empty: the key cpikey csr made"
		k.a.SetValue("")
		k.b.SetValue("")
	}
}

// lastField is the form's last field for the type shown.
func (k *keyTypeFields) lastField() int {
	if k.typ() == steps.KeyTypeSecret {
		return formKeyType
	}
	return formCertB
}

func (k *keyTypeFields) labels() (string, string) {
	if k.typ() == steps.KeyTypeExternal {
		return "Certificate file (PEM, from your CA)", "Private key file (PEM)"
	}
	return fmt.Sprintf("Validity (days, %d-%d)", steps.MinValidity, steps.MaxValidity), "Key length (bits: 1024, 2048, 3072, 4096)"
}

// problems checks what can be checked without reading files.
func (k *keyTypeFields) problems(plan string, out map[int]string) {
	switch k.typ() {
	case steps.KeyTypeCertificate:
		spec, err := k.certificateSpec()
		if err != nil {
			out[formCertA] = err.Error()
			return
		}
		if err := spec.Validate(plan, time.Now()); err != nil {
			if strings.Contains(err.Error(), "key length") {
				out[formCertB] = err.Error()
			} else {
				out[formCertA] = err.Error()
			}
		}
	case steps.KeyTypeExternal:
		if strings.TrimSpace(k.a.Value()) == "" && k.pre.Certificate == "" {
			out[formCertA] = "give the certificate file your CA issued (cpikey csr makes the request)"
		}
	}
}

func (k *keyTypeFields) certificateSpec() (steps.KeySpec, error) {
	v, err := strconv.Atoi(strings.TrimSpace(k.a.Value()))
	if err != nil {
		return steps.KeySpec{}, fmt.Errorf("validity: a number of days, %d to %d", steps.MinValidity, steps.MaxValidity)
	}
	l, err := strconv.Atoi(strings.TrimSpace(k.b.Value()))
	if err != nil {
		return steps.KeySpec{}, fmt.Errorf("key length: 1024, 2048, 3072 or 4096")
	}
	return steps.KeySpec{Type: steps.KeyTypeCertificate, Validity: v, KeyLength: l}, nil
}

// spec is the key spec when it needs no file read; load reads the
// external certificate's files in a Cmd otherwise.
func (k *keyTypeFields) spec() (steps.KeySpec, bool) {
	switch k.typ() {
	case steps.KeyTypeCertificate:
		s, _ := k.certificateSpec()
		return s, true
	case steps.KeyTypeExternal:
		if strings.TrimSpace(k.a.Value()) == "" {
			return k.pre, true
		}
		return steps.KeySpec{}, false
	}
	return steps.KeySpec{Type: steps.KeyTypeSecret}, true
}

// load reads and checks the external certificate's files (I/O: in a Cmd).
func (k *keyTypeFields) load(id uint64, plan string) tea.Cmd {
	certPath, keyPath := strings.TrimSpace(k.a.Value()), strings.TrimSpace(k.b.Value())
	return func() tea.Msg {
		spec := steps.KeySpec{Type: steps.KeyTypeExternal}
		b, err := os.ReadFile(certPath)
		if err != nil {
			return certFilesMsg{id: id, err: fmt.Errorf("certificate file: %w", err)}
		}
		spec.Certificate = string(b)
		if keyPath != "" {
			kb, err := os.ReadFile(keyPath)
			if err != nil {
				return certFilesMsg{id: id, err: fmt.Errorf("private key file: %w", err)}
			}
			spec.PrivateKey = steps.PrivateKeyPEM(kb)
		}
		return certFilesMsg{id: id, spec: spec, err: spec.ValidatePending(plan, time.Now())}
	}
}
