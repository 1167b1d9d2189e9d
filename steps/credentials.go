package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrCertificateKey means the key under the requested name is a certificate
// key: it has no client secret, so it cannot be used with client credentials.
var ErrCertificateKey = errors.New("certificate key")

// CertificateKeyError explains a certificate key found under the key name.
type CertificateKeyError struct{ Key string }

func (e *CertificateKeyError) Error() string {
	return fmt.Sprintf("key %q is a certificate key (it has a certificate and private key, no client secret); "+
		"choose another key name (e.g. --key %s-secret) to create a ClientId/Secret key, or delete %q in the cockpit first",
		e.Key, e.Key, e.Key)
}

// Is lets errors.Is(err, ErrCertificateKey) match.
func (e *CertificateKeyError) Is(target error) bool { return target == ErrCertificateKey }

// ParseCredentials extracts clientid, clientsecret, tokenurl and url from a
// service key. It accepts the shapes seen in the wild (docs/protocol/it-rt.md §4.1):
// {"credentials":{"oauth":{...}}}, {"oauth":{...}} and the fields at the top
// level. A certificate key yields *CertificateKeyError instead of an empty
// secret. Errors never include field values.
func ParseCredentials(keyName string, raw []byte) (Credentials, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(raw, &root); err != nil {
		return Credentials{}, fmt.Errorf("key %q: credentials are not a JSON object", keyName)
	}
	obj := root
	if inner, ok := root["credentials"]; ok {
		if m, ok := asObject(inner); ok {
			obj = m
		}
	}
	if inner, ok := obj["oauth"]; ok {
		if m, ok := asObject(inner); ok {
			obj = m
		}
	}
	c := Credentials{
		ClientID:     stringField(obj, "clientid"),
		ClientSecret: stringField(obj, "clientsecret"),
		TokenURL:     stringField(obj, "tokenurl"),
		URL:          stringField(obj, "url"),
	}
	if c.ClientSecret == "" {
		if _, hasCert := obj["certificate"]; hasCert {
			return Credentials{}, &CertificateKeyError{Key: keyName}
		}
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"clientid", c.ClientID}, {"clientsecret", c.ClientSecret}, {"tokenurl", c.TokenURL}, {"url", c.URL}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("key %q: the credentials lack %s; this does not look like an it-rt ClientId/Secret key",
			keyName, strings.Join(missing, ", "))
	}
	return c, nil
}

func asObject(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

func stringField(m map[string]json.RawMessage, name string) string {
	raw, ok := m[name]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
