package hub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Playback links: a <video> element cannot send the bearer token, so the playback page asks the
// hub for a signed address per file of a call (POST .../calls/{call}/playback) and gives that to
// the element, which then loads, streams and seeks the file with range requests (served by
// http.ServeContent: Range, If-Range, 206). Each link names one file and one user and is good
// for playbackLinkTTL; asking for the links is the playback's one audit line, however many
// range requests follow. The page renews links that expired during a long playback with the
// playback's own token (Renew), which is not audited again.

// playbackLinkTTL is how long a signed file link may be used.
const playbackLinkTTL = 5 * time.Minute

// playbackRenewal is how long after it started a playback may renew its links unaudited.
const playbackRenewal = 12 * time.Hour

// errBadLink indicates a signed link that is expired, altered, or for another file or user.
var errBadLink = &wire.Error{Code: wire.EFORBIDDEN, Message: "this playback link has expired or is not for this file"}

// linkKey is the key the links are signed with: derived from the cluster's secret, so a link
// made by one node works on every node, or random for a single hub (links die with a restart,
// and the page asks again).
func (s *Server) linkKey() []byte {
	s.linkKeyOnce.Do(func() {
		if s.cluster != nil {
			mac := hmac.New(sha256.New, []byte(s.cluster.secret))
			mac.Write([]byte("parley recording links"))
			s.linkKeyBytes = mac.Sum(nil)
			return
		}
		s.linkKeyBytes = make([]byte, 32)
		_, _ = rand.Read(s.linkKeyBytes)
	})
	return s.linkKeyBytes
}

// linkSig signs the parts of a link, each on its own line.
func (s *Server) linkSig(parts ...string) string {
	mac := hmac.New(sha256.New, s.linkKey())
	mac.Write([]byte(strings.Join(parts, "\n")))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// fileLink is the signed address of one recorded file for user until exp.
func (s *Server) fileLink(org wire.OrgID, conv wire.ConversationID, call wire.CallID, track wire.RecordingTrack, user wire.UserID, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	q := url.Values{"by": {string(user)}, "exp": {e}, "sig": {s.linkSig("file", string(org), string(conv), string(call), string(track), string(user), e)}}
	return fmt.Sprintf("/api/v1/orgs/%s/conversations/%s/calls/%s/recordings/%s?%s", org, conv, call, track, q.Encode())
}

// checkFileLink checks a signed request for one file: the signature over this very file and
// user, not expired, and the user still a supervisor or admin of the organisation.
func (s *Server) checkFileLink(r *http.Request, org wire.OrgID, conv wire.ConversationID, call wire.CallID, track wire.RecordingTrack) error {
	q := r.URL.Query()
	user, e, sig := q.Get("by"), q.Get("exp"), q.Get("sig")
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || user == "" {
		return errBadLink
	}
	want := s.linkSig("file", string(org), string(conv), string(call), string(track), user, e)
	if !hmac.Equal([]byte(sig), []byte(want)) || s.now().Unix() > exp {
		return errBadLink
	}
	u, err := s.store.User(r.Context(), wire.UserID(user))
	if err != nil || u.Org != org || u.Disabled || (u.Role != wire.RoleAdmin && u.Role != wire.RoleSupervisor) {
		return errBadLink
	}
	return nil
}

// playbackToken names one playback (its user, call and start) so that its links can be renewed
// without a second audit line.
func (s *Server) playbackToken(org wire.OrgID, call wire.CallID, user wire.UserID, started time.Time) string {
	at := strconv.FormatInt(started.Unix(), 10)
	return at + "." + s.linkSig("playback", string(org), string(call), string(user), at)
}

// renewable reports whether tok is a playback of this call by user that may still renew.
func (s *Server) renewable(tok string, org wire.OrgID, call wire.CallID, user wire.UserID) bool {
	at, sig, ok := strings.Cut(tok, ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !hmac.Equal([]byte(sig), []byte(s.linkSig("playback", string(org), string(call), string(user), at))) {
		return false
	}
	age := s.now().Sub(time.Unix(n, 0))
	return age >= -time.Minute && age < playbackRenewal
}

// handlePlayback starts (or renews) the playback of a call's recording for a supervisor or an
// admin: one audit line, and a signed link per file.
func (s *Server) handlePlayback(w http.ResponseWriter, r *http.Request) {
	org, conv, call := wire.OrgID(r.PathValue("org")), wire.ConversationID(r.PathValue("conv")), wire.CallID(r.PathValue("call"))
	tok, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor)
	if err != nil {
		writeError(w, err)
		return
	}
	var req wire.PlaybackRequest
	if r.ContentLength != 0 {
		if err := readJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
	}
	recs, err := s.Recordings(org, conv)
	if err != nil {
		s.answer(w, "starting a playback", nil, err)
		return
	}
	recs = slices.DeleteFunc(recs, func(x wire.Recording) bool { return x.Call != call })
	if len(recs) == 0 {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such recording"))
		return
	}
	now := s.now()
	out := wire.Playback{Call: call, ExpiresAt: now.Add(playbackLinkTTL).UnixMilli()}
	if req.Renew != "" && s.renewable(req.Renew, org, call, tok.User) {
		out.Token = req.Renew
	} else {
		u, _ := s.store.User(r.Context(), tok.User)
		by := Actor{User: tok.User, Name: u.Username, Addr: s.clientAddr(r)}
		if err := s.store.Apply(r.Context(), store.Change{Audit: []store.AuditEntry{by.entry(org, AuditRecordingPlay, string(call), string(conv))}}); err != nil {
			s.answer(w, "auditing a playback", nil, err) // no playback without its audit line
			return
		}
		out.Token = s.playbackToken(org, call, tok.User, now)
	}
	for _, rec := range recs {
		out.Files = append(out.Files, wire.PlaybackFile{Track: rec.Track, URL: s.fileLink(org, conv, call, rec.Track, tok.User, now.Add(playbackLinkTTL))})
	}
	writeJSON(w, http.StatusOK, out)
}
