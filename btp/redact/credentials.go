package redact

import (
	"encoding/json"
	"strings"
)

// CredentialValues returns the secret string values of a JSON document such
// as a service key's credentials: those held under a name that marks a
// secret (clientsecret, password, key, ..._token; see SecretName), at any
// depth. A document that is not JSON gives none.
func CredentialValues(doc []byte) []string {
	var v any
	if json.Unmarshal(doc, &v) != nil {
		return nil
	}
	var out []string
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(name, e)
			}
		case string:
			if SecretName(name) && len(x) >= MinLen {
				out = append(out, x)
			}
		}
	}
	walk("", v)
	return out
}

// SecretName reports whether a credentials field of this name holds a
// secret: anything named like a secret, password or passcode, a private
// key ("key" in x509 service keys) or a token (but not a token URL).
func SecretName(name string) bool {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "secret"), strings.Contains(n, "password"), strings.Contains(n, "passcode"):
		return true
	case n == "key", strings.HasSuffix(n, "privatekey"), strings.HasSuffix(n, "private_key"):
		return true
	case strings.HasSuffix(n, "token"):
		return true
	}
	return false
}
