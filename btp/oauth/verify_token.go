package oauth

import (
	"context"
	"net/http"
)

// VerifyToken is Verify that also hands back the access token, for a
// caller that uses it at once (the flow's request to the tenant). The
// token is a credential: it must not be logged or kept.
func VerifyToken(ctx context.Context, httpClient *http.Client, c Credentials) (info *TokenInfo, accessToken string, err error) {
	tok, err := token(ctx, httpClient, c)
	if err != nil {
		return nil, "", err
	}
	info, err = inspect(tok, c)
	if err != nil {
		return nil, "", err
	}
	return info, tok.AccessToken, nil
}
