package profiles_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/cpikey/cpikey/btp/oauth"
	"github.com/cpikey/cpikey/btp/sim"
	"github.com/cpikey/cpikey/steps"
)

func TestToken_PrintsOnlyTheToken(t *testing.T) {
	for _, rt := range []steps.Runtime{steps.RuntimeCF, steps.RuntimeOther} {
		t.Run(string(rt), func(t *testing.T) {
			e := newEnv(t)
			sub := sim.SubReady
			if rt == steps.RuntimeOther {
				sub = sim.SubNoCF
			}
			p, secret := e.provision(t, sub, rt, false)
			var out bytes.Buffer
			if err := e.mgr.Token(ctx(t), &out, "", false); err != nil {
				t.Fatal(err)
			}
			tok, ok := strings.CutSuffix(out.String(), "\n")
			if !ok || strings.ContainsAny(tok, " \n\t") {
				t.Fatalf("stdout is not one token and a newline: %q", out.String())
			}
			claims, err := oauth.DecodeJWTPayload(tok)
			if err != nil || claims["client_id"] != p.ClientID {
				t.Fatalf("stdout is not a token of the profile's client: %v", err)
			}
			mustNotContain(t, "token stdout", out.String(), secret)
			if e.notes.Len() != 0 {
				t.Errorf("token wrote notes: %q", e.notes.String())
			}
		})
	}
}

func TestToken_JSONIsTheTokenResponseWithoutTheSecret(t *testing.T) {
	e := newEnv(t)
	_, secret := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
	var out bytes.Buffer
	if err := e.mgr.Token(ctx(t), &out, "", true); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if got["access_token"] == "" || got["token_type"] != "bearer" || got["expires_in"].(float64) <= 0 ||
		!strings.HasSuffix(got["scope"].(string), ".ESBMessaging.send") {
		t.Errorf("token response: %v", got)
	}
	mustNotContain(t, "token --json", out.String(), secret)
}

func TestToken_Errors(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, e *env)
		want  []string
	}{
		{"wrong secret in the keychain", func(t *testing.T, e *env) {
			p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
			if err := keyring.Set("cpikey", p.KeychainAccount, "wrong-$ecret=/x"); err != nil {
				t.Fatal(err)
			}
		}, []string{"profile " + sim.SubReadySubdomain, "rejected the client id or secret", "invalid_client"}},
		{"secret removed from the keychain", func(t *testing.T, e *env) {
			p, _ := e.provision(t, sim.SubReady, steps.RuntimeCF, false)
			if err := keyring.Delete("cpikey", p.KeychainAccount); err != nil {
				t.Fatal(err)
			}
		}, []string{"no client secret", "cpikey rotate"}},
		{"saved with --no-keychain", func(t *testing.T, e *env) {
			e.provision(t, sim.SubReady, steps.RuntimeCF, true)
		}, []string{"--no-keychain"}},
		{"no profile at all", func(*testing.T, *env) {}, []string{"no profile yet"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(t, e)
			var out bytes.Buffer
			err := e.mgr.Token(ctx(t), &out, "", false)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout not empty on failure: %q", out.String())
			}
			mustNotContain(t, "the error", err.Error(), "wrong-$ecret=/x")
		})
	}
}
