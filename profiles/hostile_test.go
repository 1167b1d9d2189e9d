package profiles_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/profiles"
	"github.com/cpikey/cpikey/safetext"
	"github.com/cpikey/cpikey/steps"
)

// TestOutput_ServerTextIsInert: list, show, token and the notes of forget
// show every value inert, even from a profiles.json holding escape
// sequences (edited by hand, or written by another tool), and a token
// endpoint that answers with one.
func TestOutput_ServerTextIsInert(t *testing.T) {
	e := newEnv(t)
	p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	hostile := sim.HostileSpace() // every attack of the hostile simulator
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		b, _ := json.Marshal(map[string]any{"access_token": "eyJ." + hostile, "token_type": "bearer", "expires_in": 3600})
		w.Write(b) //nolint:errcheck
	}))
	defer tokens.Close()

	h := p
	h.Name = p.Name + " " + hostile
	h.GlobalAccount, h.Subaccount.Name, h.Org, h.Space = hostile, hostile, hostile, hostile
	h.Instance.ID, h.Key.ID = hostile, hostile
	h.TokenURL = tokens.URL + "/oauth/token"
	b, err := json.Marshal(map[string]any{"version": 1, "profiles": []profiles.Profile{h}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.mgr.Store.Path(), b, 0o600); err != nil {
		t.Fatal(err)
	}

	outputs := []struct {
		name string
		run  func(w *bytes.Buffer) error
	}{
		{"list", func(w *bytes.Buffer) error { return e.mgr.List(w, false) }},
		{"show", func(w *bytes.Buffer) error { return e.mgr.Show(ctx(t), w, h.Name, false, false) }},
		{"token", func(w *bytes.Buffer) error { return e.mgr.Token(ctx(t), w, h.Name, false) }},
		{"forget notes", func(w *bytes.Buffer) error {
			e.notes.Reset()
			err := e.mgr.Forget(ctx(t), nil, h.Name, false, e.login())
			w.Write(e.notes.Bytes())
			return err
		}},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := o.run(&out); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if c := safetext.Controls(got); len(c) > 0 {
				t.Errorf("control runes %q reach the terminal:\n%q", c, got)
			}
			if !strings.Contains(got, `\x1b]52;c;`) {
				t.Errorf("the hostile text is not shown escaped:\n%q", got)
			}
		})
	}
}
