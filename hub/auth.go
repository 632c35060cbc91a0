package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/crypto/bcrypt"
)

// HashPassword returns the bcrypt hash of password at cost (bcrypt.DefaultCost when 0).
func HashPassword(password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// newToken returns a fresh bearer token and the hash that is stored for it.
func newToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// hashToken is what the store keeps of a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newID returns a random identifier with a readable prefix, e.g. "c_5f1c...".
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// login checks a member's password and issues a token.
func (s *Server) login(ctx context.Context, req wire.LoginRequest) (wire.LoginResponse, error) {
	var resp wire.LoginResponse
	if req.Org == "" || req.Username == "" || len(req.Username) > 200 || len(req.Password) > 200 {
		return resp, ErrBadLogin
	}
	key := loginKey(req.Org, req.Username)
	if s.logins.blocked(key, s.now()) {
		s.log.Warn("sign-in refused: too many failed attempts", "org", req.Org)
		return resp, ErrLoginLimited
	}
	u, err := s.store.UserByName(ctx, req.Org, strings.TrimSpace(req.Username))
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword([]byte(s.dummyHash), []byte(req.Password))
		s.logins.take(key, s.now())
		return resp, ErrBadLogin
	}
	if err != nil {
		return resp, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil {
		s.logins.take(key, s.now())
		return resp, ErrBadLogin
	}
	token, hash := newToken()
	exp := s.now().Add(s.cfg.TokenTTL)
	if err := s.store.CreateToken(ctx, store.Token{Hash: hash, Org: u.Org, Role: u.Role, User: u.ID, ExpiresAt: exp}); err != nil {
		return resp, err
	}
	s.log.Info("member signed in", "org", u.Org, "user", u.ID, "role", u.Role)
	return wire.LoginResponse{Token: token, ExpiresAt: exp.UnixMilli(), User: u.Wire()}, nil
}

// authenticate resolves a token presented in Hello.
func (s *Server) authenticate(ctx context.Context, token string) (store.Token, error) {
	if token == "" || len(token) > 200 {
		return store.Token{}, ErrTokenInvalid
	}
	t, err := s.store.Token(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return t, ErrTokenInvalid
	}
	if err != nil {
		return t, err
	}
	if !s.now().Before(t.ExpiresAt) {
		return t, ErrTokenInvalid
	}
	return t, nil
}
