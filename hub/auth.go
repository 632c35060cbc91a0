package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

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
	now := s.now()
	if !now.Before(t.ExpiresAt) {
		return t, ErrTokenInvalid
	}
	if t.Role == wire.RoleCustomer {
		// A customer's token ends with its conversation, after a grace to read the transcript.
		c, err := s.store.Conversation(ctx, t.Conv)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return t, err
		}
		if c.State == wire.ConvEnded && c.EndedAt > 0 {
			end := time.UnixMilli(c.EndedAt).Add(s.cfg.CustomerGrace)
			if !now.Before(end) {
				_ = s.store.ExpireConversationTokens(ctx, t.Conv, end) // the sweeper deletes it
				return t, ErrTokenInvalid
			}
		}
	}
	return t, nil
}
