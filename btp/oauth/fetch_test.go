package oauth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cpikey/cpikey/btp/oauth"
)

func TestFetch_ReturnsTheTokenResponse(t *testing.T) {
	s := startSim(t)
	creds := newKey(t, s, "integration-flow", "fetch", `{"roles":["ESBMessaging.send"],"grant-types":["client_credentials"]}`)
	tok, err := oauth.Fetch(ctx(t), nil, creds)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := oauth.DecodeJWTPayload(tok.AccessToken)
	if err != nil || claims["client_id"] != creds.ClientID {
		t.Fatalf("access token is not the client's JWT: %v", err)
	}
	if tok.TokenType != "bearer" || tok.ExpiresIn != 3599 || !strings.HasSuffix(tok.Scope, ".ESBMessaging.send") || tok.JTI == "" {
		t.Errorf("token response fields: type %q, expires %d, scope %q, jti %q", tok.TokenType, tok.ExpiresIn, tok.Scope, tok.JTI)
	}
	for _, verb := range []string{"%v", "%s", "%+v", "%#v"} {
		if strings.Contains(fmt.Sprintf(verb, tok), tok.AccessToken) || strings.Contains(fmt.Sprintf(verb, *tok), tok.AccessToken) {
			t.Errorf("%s prints the access token", verb)
		}
	}
}

func TestFetch_WrongSecretSaysSoWithoutTheSecret(t *testing.T) {
	s := startSim(t)
	creds := newKey(t, s, "integration-flow", "fetchbad", `{"roles":["ESBMessaging.send"]}`)
	creds.ClientSecret = "wrong-$ecret=/x"
	_, err := oauth.Fetch(ctx(t), nil, creds)
	if err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("want invalid_client, got %v", err)
	}
	if strings.Contains(err.Error(), creds.ClientSecret) {
		t.Fatal("error carries the secret")
	}
}

func TestVerifyToken_ScopesAndTheTokenItself(t *testing.T) {
	s := startSim(t)
	creds := newKey(t, s, "integration-flow", "verifytok", `{"roles":["ESBMessaging.send"]}`)
	info, tok, err := oauth.VerifyToken(ctx(t), nil, creds)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := oauth.DecodeJWTPayload(tok)
	if err != nil || claims["client_id"] != creds.ClientID || !info.HasScopeSuffix(".ESBMessaging.send") {
		t.Fatalf("token %v, scopes %v", err, info.Scopes)
	}
	creds.ClientSecret = "wrong"
	if _, tok, err := oauth.VerifyToken(ctx(t), nil, creds); err == nil || tok != "" {
		t.Fatalf("a wrong secret: %v, token %q", err, tok)
	}
}
