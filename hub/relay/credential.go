package relay

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are defined as HMAC-SHA1.
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ICEServer is one entry of a client's RTCConfiguration.iceServers: the JSON field names are the
// WebRTC ones, so the hub can hand it to the portal and the agent app unchanged.
type ICEServer struct {
	// URLs are STUN or TURN URLs, e.g. "turn:relay.example.com:3478?transport=udp".
	URLs []string `json:"urls"`
	// Username is "<expiry-unix>:<id>" for TURN; empty for STUN.
	Username string `json:"username,omitempty"`
	// Credential is base64(HMAC-SHA1(secret, Username)); empty for STUN.
	Credential string `json:"credential,omitempty"`
}

// Username returns the TURN REST username "<expiry-unix>:<id>" (coturn's use-auth-secret
// format). The id names who the credential is for, e.g. a call and a participant; it shows in the
// relay's logs and allocation list, so it must not be secret.
func Username(expires time.Time, id string) string {
	return strconv.FormatInt(expires.Unix(), 10) + ":" + id
}

// Password returns base64(HMAC-SHA1(secret, username)), the password that goes with a TURN REST
// username. Anyone who knows the secret can mint credentials: only relays and the hub hold it.
func Password(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username)) // hash.Hash writes never fail
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ParseUsername splits a TURN REST username into its expiry time and id.
func ParseUsername(username string) (expires time.Time, id string, err error) {
	ts, id, ok := strings.Cut(username, ":")
	if !ok || id == "" {
		return time.Time{}, "", fmt.Errorf("%w: %q", ErrBadUsername, username)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, "", fmt.Errorf("%w: %q", ErrBadUsername, username)
	}
	return time.Unix(sec, 0), id, nil
}

// CheckUsername returns the id of a TURN REST username that is well formed and not expired at
// now. It does not prove the client knows the password: TURN's MESSAGE-INTEGRITY does that.
func CheckUsername(username string, now time.Time) (id string, err error) {
	expires, id, err := ParseUsername(username)
	if err != nil {
		return "", err
	}
	if !now.Before(expires) {
		return "", fmt.Errorf("%w: %q at %d", ErrExpired, username, now.Unix())
	}
	return id, nil
}

// Issue returns short-lived credentials for the TURN URLs, valid from now for ttl and naming id.
// Clients never see the secret, only a password that stops working when the username expires.
func Issue(secret string, urls []string, now time.Time, ttl time.Duration, id string) ICEServer {
	user := Username(now.Add(ttl), id)
	return ICEServer{
		URLs:       append([]string(nil), urls...),
		Username:   user,
		Credential: Password(secret, user),
	}
}
