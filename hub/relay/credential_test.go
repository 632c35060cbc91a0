package relay

import (
	"errors"
	"testing"
	"time"
)

func TestPasswordMatchesCoturn(t *testing.T) {
	// coturn's use-auth-secret: password = base64(HMAC-SHA1(secret, username)). Reference value from
	// `printf %s 1700000000:call-1/agent | openssl dgst -sha1 -hmac s3cret -binary | base64`.
	got := Password("s3cret", "1700000000:call-1/agent")
	want := "AIkzLSin9+7PmqyL4A8AxRRhKVQ="
	if got != want {
		t.Fatalf("Password = %q; want %q", got, want)
	}
}

func TestIssue(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := Issue("s3cret", []string{"turn:h:3478?transport=udp"}, now, time.Hour, "call-1/agent")
	if s.Username != "1700003600:call-1/agent" {
		t.Errorf("Username = %q; want %q", s.Username, "1700003600:call-1/agent")
	}
	if s.Credential != Password("s3cret", s.Username) {
		t.Errorf("Credential = %q; want the HMAC of the username", s.Credential)
	}
	if len(s.URLs) != 1 || s.URLs[0] != "turn:h:3478?transport=udp" {
		t.Errorf("URLs = %q", s.URLs)
	}
}

func TestCheckUsername(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		user   string
		wantID string
		err    error
	}{
		{"1700000001:call-1/agent", "call-1/agent", nil},
		{"1700000001:a:b", "a:b", nil},
		{"1700000000:call-1/agent", "", ErrExpired},
		{"1600000000:x", "", ErrExpired},
		{"1700000001", "", ErrBadUsername},
		{"1700000001:", "", ErrBadUsername},
		{"soon:x", "", ErrBadUsername},
		{"-5:x", "", ErrBadUsername},
		{"", "", ErrBadUsername},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			id, err := CheckUsername(tt.user, now)
			if !errors.Is(err, tt.err) || id != tt.wantID {
				t.Errorf("CheckUsername(%q) = %q, %v; want %q, %v", tt.user, id, err, tt.wantID, tt.err)
			}
		})
	}
}
