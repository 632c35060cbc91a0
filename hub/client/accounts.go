package client

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// The hub's account API for clients: how an organisation signs in, signing in with a password or
// with the code of a single sign-on, renewing and ending a session.

func apiURL(hubURL, path string) string { return strings.TrimRight(hubURL, "/") + path }

// SignIn signs a member in with a password (req.Client says what signs in).
func SignIn(ctx context.Context, hubURL string, req wire.LoginRequest) (wire.LoginResponse, error) {
	var resp wire.LoginResponse
	err := postJSON(ctx, apiURL(hubURL, "/api/v1/login"), req, &resp, nil)
	return resp, err
}

// SignInOptions tells how org's members sign in: password, identity provider, or both.
func SignInOptions(ctx context.Context, hubURL string, org wire.OrgID) (wire.SignInOptions, error) {
	var resp wire.SignInOptions
	err := doJSON(ctx, http.MethodGet, apiURL(hubURL, "/api/v1/orgs/"+url.PathEscape(string(org))+"/signin"), "", nil, &resp)
	return resp, err
}

// ExchangeSSO gives the one-time code a single sign-on brought back, with the PKCE verifier of
// the challenge the sign-in started with, for a session.
func ExchangeSSO(ctx context.Context, hubURL, code, verifier string) (wire.LoginResponse, error) {
	var resp wire.LoginResponse
	err := postJSON(ctx, apiURL(hubURL, "/api/v1/sso/token"), wire.TokenExchange{Code: code, CodeVerifier: verifier}, &resp, nil)
	return resp, err
}

// Renew swaps a session's token for a new one with a new expiry; connections made with the old
// one stay up.
func Renew(ctx context.Context, hubURL, token string) (wire.RenewResponse, error) {
	var resp wire.RenewResponse
	err := doJSON(ctx, http.MethodPost, apiURL(hubURL, "/api/v1/token/renew"), token, struct{}{}, &resp)
	return resp, err
}

// Logout ends the token's session on the hub.
func Logout(ctx context.Context, hubURL, token string) error {
	return doJSON(ctx, http.MethodPost, apiURL(hubURL, "/api/v1/logout"), token, struct{}{}, nil)
}

// Me tells whose a token is.
func Me(ctx context.Context, hubURL, token string) (wire.Me, error) {
	var resp wire.Me
	err := doJSON(ctx, http.MethodGet, apiURL(hubURL, "/api/v1/me"), token, nil, &resp)
	return resp, err
}

// API calls the hub's HTTP API at path (e.g. "/api/v1/orgs/acme/members") with a member's
// token: in is sent as JSON (nil for none), the answer decoded into out (nil to drop it).
func API(ctx context.Context, hubURL, method, path, token string, in, out any) error {
	return doJSON(ctx, method, apiURL(hubURL, path), token, in, out)
}
