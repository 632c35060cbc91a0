package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/media"
	"github.com/parleyhq/parley/wire"
)

// Recording a call (docs/recording.md): the hub decides (the organisation's setting and the
// customer's consent) and says so in call.state; this engine writes both sides' media to a spool
// directory as it flows and, when the call ends, uploads the files to the hub, resuming and
// retrying until the hub has them all. A spool left by a killed app is uploaded at the next
// sign-in.

// ErrNotRecordable indicates a start or stop of recording when the call has no recording
// setting or has ended.
var ErrNotRecordable = &wire.Error{Code: wire.ENOCONSENT, Message: "this call cannot be recorded"}

// spoolFile is pending.json in a call's spool directory: where its files go.
type spoolFile struct {
	Hub  string              `json:"hub"`
	Org  wire.OrgID          `json:"org"`
	Conv wire.ConversationID `json:"conv"`
	Call wire.CallID         `json:"call"`
	// Agent is who recorded it: only they may upload it.
	Agent wire.UserID `json:"agent"`
}

// SetRecording starts or stops recording the current call. The hub refuses a start the
// customer has not agreed to (ENOCONSENT); the engine follows the hub's call.state.
func (cs *Calls) SetRecording(on bool) error {
	s := cs.m.current()
	if s == nil {
		return ErrNoCall
	}
	var id wire.CallID
	s.q.Do(func() {
		if s.state == CallActive {
			id = s.id
		}
	})
	if id == "" {
		return ErrNotRecordable
	}
	_, err := cs.m.send(wire.TypeCallRecord, wire.CallRecord{Call: id, On: on})
	if err != nil {
		s.log.Info("recording refused", "on", on, "code", wire.ErrorCode(err))
		return asWireError(err)
	}
	return nil
}

// spoolRoot is where recordings wait for their upload: under the app's state directory, or the
// system's temporary directory when it has none.
func (c *core) spoolRoot() string {
	if c.stateDir != "" {
		return filepath.Join(c.stateDir, "recordings")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("parley-recordings-%d", os.Getuid()))
}

// applyRecording follows the hub's recording state: the engine writes while it says recording.
func (s *callSession) applyRecording(st wire.Call) {
	s.record, s.consent, s.recording = st.Record, st.Consent, st.Recording
	if s.mc == nil || st.State != wire.CallActive {
		return
	}
	switch {
	case st.Recording && !s.mc.Recording():
		if s.spool == "" {
			c := s.m.c
			c.mu.Lock()
			sp := spoolFile{Hub: c.session.HubURL, Conv: s.conv, Call: s.id}
			if c.session.User != nil {
				sp.Org, sp.Agent = c.session.User.Org, c.session.User.ID
			}
			c.mu.Unlock()
			dir := filepath.Join(c.spoolRoot(), safeName(string(s.id)))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				s.log.Warn("recording spool", "err", err)
				return
			}
			raw, _ := json.Marshal(sp)
			if err := os.WriteFile(filepath.Join(dir, "pending.json"), raw, 0o600); err != nil {
				s.log.Warn("recording spool", "err", err)
				return
			}
			s.spool = dir
		}
		if err := s.mc.Record(s.spool); err != nil {
			s.log.Warn("recording did not start", "err", err)
			return
		}
		s.log.Info("recording")
	case !st.Recording && s.mc.Recording():
		s.mc.PauseRecording()
		s.log.Info("recording paused")
	}
}

// uploadSpool uploads a finished call's recording in the background.
func (s *callSession) uploadSpool() {
	if s.spool == "" {
		return
	}
	dir := s.spool
	go s.m.c.uploadRecording(dir)
}

// uploadPending uploads the recordings a previous run of this agent left (killed mid-call, or
// before its uploads finished); run after signing in. Another agent's spool on this machine
// waits for them.
func (c *core) uploadPending(hubURL string, user wire.UserID) {
	files, _ := filepath.Glob(filepath.Join(c.spoolRoot(), "*", "pending.json"))
	for _, p := range files {
		var sp spoolFile
		raw, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(raw, &sp) != nil || sp.Agent != user || strings.TrimRight(sp.Hub, "/") != strings.TrimRight(hubURL, "/") {
			continue
		}
		c.log.Info("uploading a recording left by the last run", "call", sp.Call)
		go c.uploadRecording(filepath.Dir(p))
	}
}

// uploadRecording sends every file of a spool directory to the hub, resuming from what the hub
// holds, retrying with backoff for about ten minutes; the directory goes once all arrived.
// A refusal (no consent, not this agent's call) deletes the spool: the hub will never take it.
func (c *core) uploadRecording(dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "pending.json"))
	var sp spoolFile
	if err != nil || json.Unmarshal(raw, &sp) != nil {
		return
	}
	log := c.log.With("call", sp.Call)
	backoff := time.Second
	for attempt := 0; attempt < 12; attempt++ {
		c.mu.Lock()
		token, hubURL := c.token, c.session.HubURL
		c.mu.Unlock()
		if hubURL == "" {
			hubURL = sp.Hub
		}
		err := uploadDir(context.Background(), dir, strings.TrimRight(hubURL, "/"), token, sp)
		switch code := wire.ErrorCode(err); {
		case err == nil:
			log.Info("recording uploaded")
			_ = os.RemoveAll(dir)
			return
		case code == wire.ENOCONSENT:
			log.Warn("recording refused by the hub (no consent); deleted", "code", code)
			_ = os.RemoveAll(dir)
			return
		case code == wire.EFORBIDDEN || code == wire.ENOTFOUND || code == wire.EUNAUTHORIZED:
			log.Warn("recording refused by the hub; kept for the next sign-in", "code", code)
			return
		default:
			log.Info("recording upload failed; retrying", "err", err, "in", backoff)
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, time.Minute)
	}
	log.Warn("recording upload gave up; it is retried at the next sign-in", "dir", dir)
}

// trackName is the hub's name of a file the engine wrote: local is the agent, remote the customer.
func trackName(file string) (wire.RecordingTrack, bool) {
	name := file
	if rest, ok := strings.CutPrefix(file, "local"); ok {
		name = "agent" + rest
	} else if rest, ok := strings.CutPrefix(file, "remote"); ok {
		name = "customer" + rest
	}
	for _, t := range wire.RecordingTracks {
		if string(t) == name {
			return t, true
		}
	}
	return "", false
}

var uploadClient = &http.Client{Timeout: 10 * time.Minute}

// uploadDir uploads each recorded file of dir.
func uploadDir(ctx context.Context, dir, hubURL, token string, sp spoolFile) error {
	for _, name := range []string{media.RecLocalWebM, media.RecRemoteWebM, media.RecLocalAudio, media.RecLocalVP8, media.RecLocalH264, media.RecRemoteAudio, media.RecRemoteVP8, media.RecRemoteH264} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if strings.HasSuffix(name, ".webm") {
			// A file the engine could not finish (the app killed mid-call) gets its length; one
			// it cannot read is uploaded as it is.
			_, _ = media.RepairWebM(path)
		}
		track, _ := trackName(name)
		u := fmt.Sprintf("%s/api/v1/orgs/%s/conversations/%s/calls/%s/recordings/%s", hubURL,
			url.PathEscape(string(sp.Org)), url.PathEscape(string(sp.Conv)), url.PathEscape(string(sp.Call)), track)
		if err := uploadFile(ctx, u, token, path); err != nil {
			return err
		}
		_ = os.Remove(path)
	}
	return nil
}

// uploadFile sends one file: HEAD says how much the hub holds, PUT sends the rest with the
// whole file's checksum.
func uploadFile(ctx context.Context, u, token, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := uploadClient.Do(req)
	if err != nil {
		return ErrHubUnreachable
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return hubRefusal(res.StatusCode, nil)
	}
	off, _ := strconv.ParseInt(res.Header.Get("X-Parley-Offset"), 10, 64)
	if off == size && res.Header.Get(wire.HeaderSHA256) == sum {
		return nil // already there
	}
	if off >= size || res.Header.Get(wire.HeaderSHA256) != "" {
		off = 0 // the hub holds something else: start over (it refuses a different complete file)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, u, f)
	req.ContentLength = size - off
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set(wire.HeaderSHA256, sum)
	req.Header.Set("X-Parley-Offset", strconv.FormatInt(off, 10))
	res, err = uploadClient.Do(req)
	if err != nil {
		return ErrHubUnreachable
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 2 {
		return hubRefusal(res.StatusCode, body)
	}
	return nil
}

// hubRefusal is the hub's *wire.Error in body, or one made from the status.
func hubRefusal(status int, body []byte) error {
	var werr wire.Error
	if json.Unmarshal(body, &werr) == nil && werr.Code != "" {
		return &werr
	}
	switch status {
	case http.StatusForbidden:
		return &wire.Error{Code: wire.EFORBIDDEN, Message: "refused"}
	case http.StatusNotFound:
		return &wire.Error{Code: wire.ENOTFOUND, Message: "not found"}
	case http.StatusUnauthorized:
		return &wire.Error{Code: wire.EUNAUTHORIZED, Message: "signed out"}
	}
	return errors.New(http.StatusText(status))
}
