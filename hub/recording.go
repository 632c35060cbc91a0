package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Recording with consent (wire/recording.go): the organisation's setting, the customer's consent
// on the call, call.record from the agent, and the files the agent's app uploads at the end of
// the call. Media still goes peer to peer: the hub only ever sees the finished files.
//
// In the recordings store (recording_store.go: a directory, Config.RecordingsDir, or an S3
// bucket, Config.RecordingsS3), one folder per call:
//
//	<org>/<conv>/<call>/recording.json   written by the hub when recording first starts (the consent)
//	<org>/<conv>/<call>/<track>          an uploaded file, moved in once its checksum matched
//	<org>/<conv>/<call>/<track>.sha256   its checksum
//
// and on local disk (the staging directory, Config.RecordingsDir: the same tree when the store is
// that directory) <org>/<conv>/<call>/<track>.part, an upload in progress resumed from its size.
//
// An upload is refused unless recording.json exists, so nothing recorded without the customer's
// consent is ever kept, whatever a client sends.

// settingRecording is the org_settings key of the recording setting.
const settingRecording = "recording"

// Audit actions of recordings.
const (
	AuditRecordingUpdate   = "settings.recording"
	AuditRecordingPlay     = "recording.play"
	AuditRecordingDelete   = "recording.delete"
	AuditRecordingUploaded = "recording.upload"
)

// ErrNoConsent indicates a recording the customer has not agreed to.
var ErrNoConsent = &wire.Error{Code: wire.ENOCONSENT, Message: "the customer has not agreed to recording this call"}

// errNoRecordings indicates a hub with nowhere to keep recordings.
var errNoRecordings = &wire.Error{Code: wire.EUNAVAILABLE, Message: "this hub keeps no recordings (no recordings directory)"}

// recordingManifest is recording.json: what the hub knew when the recording started.
type recordingManifest struct {
	Org       wire.OrgID          `json:"org"`
	Conv      wire.ConversationID `json:"conv"`
	Call      wire.CallID         `json:"call"`
	Agent     wire.UserID         `json:"agent"`
	Mode      wire.RecordingMode  `json:"mode"`
	ConsentAt int64               `json:"consent_at"`
	StartedAt int64               `json:"started_at"`
}

// recordingsDir is where recordings live on disk (the directory store), or where uploads are
// assembled for a bucket: Config.RecordingsDir, or "recordings" beside the SQLite database. A
// PostgreSQL address names no place on this disk: its hubs keep recordings where -recordings
// says, and stage a bucket's uploads in the system's temporary directory; "" when none applies.
func (s *Server) recordingsDir() string {
	switch {
	case s.cfg.RecordingsDir != "":
		return s.cfg.RecordingsDir
	case s.cfg.DB != "" && !postgres.IsDSN(s.cfg.DB):
		return filepath.Join(filepath.Dir(s.cfg.DB), "recordings")
	case s.cfg.RecordingsS3 != nil:
		return filepath.Join(os.TempDir(), "parley-recordings")
	}
	return ""
}

// safeID reports whether an id from a request can name a directory: what newID makes, nothing
// that walks out of it.
func safeID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// callDir is a call's staging directory (its uploads in progress).
func (s *Server) callDir(org wire.OrgID, conv wire.ConversationID, call wire.CallID) (string, error) {
	root := s.recordingsDir()
	if root == "" || s.recs == nil {
		return "", errNoRecordings
	}
	if !safeID(string(org)) || !safeID(string(conv)) || !safeID(string(call)) {
		return "", ErrCallNotFound
	}
	return filepath.Join(root, string(org), string(conv), string(call)), nil
}

// callKey is a call's folder in the recordings store.
func callKey(org wire.OrgID, conv wire.ConversationID, call wire.CallID) string {
	return string(org) + "/" + string(conv) + "/" + string(call) + "/"
}

// recordingSettings reads an organisation's recording setting (off when never set).
func (s *Server) recordingSettings(ctx context.Context, org wire.OrgID) (wire.RecordingSettings, error) {
	raw, err := s.store.OrgSetting(ctx, org, settingRecording)
	if errors.Is(err, store.ErrNotFound) {
		return wire.RecordingSettings{Mode: wire.RecordingOff}, nil
	}
	if err != nil {
		return wire.RecordingSettings{}, err
	}
	var v wire.RecordingSettings
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return wire.RecordingSettings{}, err
	}
	if v.Mode == "" {
		v.Mode = wire.RecordingOff
	}
	return v, nil
}

// SetRecordingSettings checks and stores an organisation's recording setting. Calls already
// ringing or running keep the setting they started with; the next ones follow the new one.
func (s *Server) SetRecordingSettings(ctx context.Context, by Actor, org wire.OrgID, v wire.RecordingSettings) error {
	switch v.Mode {
	case wire.RecordingOff, wire.RecordingAsk, wire.RecordingAlways:
	default:
		return wire.Errorf(wire.EINVALID, "mode must be off, ask or always")
	}
	if v.RetentionDays < 0 || v.RetentionDays > wire.MaxRetentionDays {
		return wire.Errorf(wire.EINVALID, "retention_days must be 0 (keep) to %d", wire.MaxRetentionDays)
	}
	if v.Mode != wire.RecordingOff && s.recordingsDir() == "" {
		return errNoRecordings
	}
	if _, err := s.orgRecord(ctx, org); err != nil {
		return err
	}
	detail := fmt.Sprintf("%s, kept %d days", v.Mode, v.RetentionDays)
	if err := s.saveOrgSetting(ctx, by, org, settingRecording, v, AuditRecordingUpdate, detail); err != nil {
		return err
	}
	return s.router.call(func() error {
		if o := s.router.orgs[org]; o != nil {
			o.recording = v
		}
		return nil
	})
}

// recordMode is the setting a new call of cs starts with: its queue's when the queue overrides
// the organisation's, else the organisation's; "" when off.
func (cs *convState) recordMode() wire.RecordingMode {
	mode := cs.org.recording.Mode
	if cs.queue != nil && cs.queue.q.Recording != "" {
		mode = cs.queue.q.Recording
	}
	if mode == wire.RecordingAsk || mode == wire.RecordingAlways {
		return mode
	}
	return ""
}

// callRecord is call.record: the call's agent starts or stops recording. The hub refuses to start
// without the customer's consent (ENOCONSENT), whatever the agent's app shows.
func (r *router) callRecord(c *conn, rid string, cr wire.CallRecord) error {
	return r.call(func() error {
		cl, side, err := r.callOf(c, cr.Call)
		if err != nil {
			return err
		}
		switch {
		case side != wire.AuthorAgent:
			return wire.Errorf(wire.EFORBIDDEN, "only the agent starts or stops recording")
		case cr.On && !cl.call.Consent:
			return ErrNoConsent
		case cl.call.State != wire.CallActive:
			return wire.Errorf(wire.ECONFLICT, "the call is not running")
		case cr.On == cl.call.Recording:
			ack(c, rid, wire.Ack{})
			return nil
		}
		if cr.On {
			if err := r.startRecording(cl, cl.agent.user); err != nil {
				return err
			}
		} else {
			r.stopRecording(cl, cl.agent.user)
		}
		ack(c, rid, wire.Ack{})
		// Both indicators change first, then the transcript says who.
		r.sendCallState(cl)
		if cr.On {
			r.recordingStartedLine(cl, cl.agent.user)
		} else {
			r.systemEvent(cl.cs, recordingText("Recording stopped", cl.agent.user), &wire.Event{Kind: wire.EventRecordingStopped, Name: cl.agent.user.DisplayName})
		}
		return nil
	})
}

// startRecording writes the call's consent record (once) and marks it recording.
func (r *router) startRecording(cl *callState, by store.User) error {
	if _, err := r.s.callDir(cl.cs.org.id, cl.cs.conv.ID, cl.call.ID); err != nil {
		return err
	}
	if !cl.manifest {
		now := r.s.now().UnixMilli()
		m := recordingManifest{Org: cl.cs.org.id, Conv: cl.cs.conv.ID, Call: cl.call.ID, Agent: cl.agent.user.ID,
			Mode: cl.call.Record, ConsentAt: cl.call.AnsweredAt, StartedAt: now}
		raw, _ := json.Marshal(m)
		ctx, cancel := dbctx()
		defer cancel()
		if err := r.s.recs.WriteSmall(ctx, callKey(cl.cs.org.id, cl.cs.conv.ID, cl.call.ID)+"recording.json", raw); err != nil {
			cl.log.Error("recording consent record", "err", err)
			return errNoRecordings
		}
		cl.manifest = true
	}
	cl.call.Recording = true
	cl.log.Info("recording started", "by", by.ID)
	return nil
}

// recordingStartedLine writes the transcript's line for a recording that started: who started
// it, or nobody when the organisation records every call.
func (r *router) recordingStartedLine(cl *callState, by store.User) {
	r.systemEvent(cl.cs, recordingText("Recording started", by), &wire.Event{Kind: wire.EventRecordingStarted, Name: by.DisplayName})
}

// stopRecording marks the call not recording (the call's end stops it with no line of its own).
func (r *router) stopRecording(cl *callState, by store.User) {
	if !cl.call.Recording {
		return
	}
	cl.call.Recording = false
	cl.log.Info("recording stopped", "by", by.ID)
}

func recordingText(what string, by store.User) string {
	if by.DisplayName == "" {
		return what
	}
	return what + " by " + by.DisplayName
}

// recordingRoutes adds the recording API.
func (s *Server) recordingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/orgs/{org}/settings/recording", s.handleGetRecording)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/settings/recording", s.admin(s.handlePutRecording))
	mux.HandleFunc("GET /api/v1/orgs/{org}/conversations/{conv}/recordings", s.handleListRecordings)
	mux.HandleFunc("HEAD /api/v1/orgs/{org}/conversations/{conv}/calls/{call}/recordings/{track}", s.handleUploadOffset)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/conversations/{conv}/calls/{call}/recordings/{track}", s.handleUpload)
	mux.HandleFunc("GET /api/v1/orgs/{org}/conversations/{conv}/calls/{call}/recordings/{track}", s.handlePlay)
	mux.HandleFunc("POST /api/v1/orgs/{org}/conversations/{conv}/calls/{call}/playback", s.handlePlayback)
	mux.HandleFunc("DELETE /api/v1/orgs/{org}/conversations/{conv}/calls/{call}/recordings", s.admin(s.handleDeleteRecording))
}

func (s *Server) handleGetRecording(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor, wire.RoleAgent); err != nil {
		writeError(w, err)
		return
	}
	v, err := s.recordingSettings(r.Context(), org)
	s.answer(w, "reading the recording setting", v, err)
}

func (s *Server) handlePutRecording(w http.ResponseWriter, r *http.Request, a adminCtx) {
	var v wire.RecordingSettings
	if err := readJSON(r, &v); err != nil {
		writeError(w, err)
		return
	}
	if err := s.SetRecordingSettings(r.Context(), a.by, a.org, v); err != nil {
		s.answer(w, "storing the recording setting", nil, err)
		return
	}
	s.log.Info("recording setting changed", "org", a.org, "mode", v.Mode, "retention_days", v.RetentionDays, "by", a.tok.User)
	writeJSON(w, http.StatusOK, v)
}

// uploadTarget checks an upload request: the call's own agent, a call of this conversation
// and organisation, a known track, a call recorded with consent.
func (s *Server) uploadTarget(r *http.Request) (dir, key string, track wire.RecordingTrack, tok store.Token, err error) {
	org, conv, call := wire.OrgID(r.PathValue("org")), wire.ConversationID(r.PathValue("conv")), wire.CallID(r.PathValue("call"))
	tok, err = s.member(r, org, wire.RoleAgent)
	if err != nil {
		return "", "", "", tok, err
	}
	track = wire.RecordingTrack(r.PathValue("track"))
	if !slices.Contains(wire.RecordingTracks, track) {
		return "", "", "", tok, wire.Errorf(wire.EINVALID, "no such recording track %q", track)
	}
	if dir, err = s.callDir(org, conv, call); err != nil {
		return "", "", "", tok, err
	}
	calls, err := s.store.CallsOf(r.Context(), conv)
	if err != nil {
		return "", "", "", tok, err
	}
	i := slices.IndexFunc(calls, func(c store.CallRecord) bool { return c.ID == call && c.Org == org })
	switch {
	case i < 0:
		return "", "", "", tok, ErrCallNotFound
	case calls[i].Agent != tok.User:
		return "", "", "", tok, wire.Errorf(wire.EFORBIDDEN, "only the call's agent uploads its recording")
	}
	key = callKey(org, conv, call)
	if _, _, err := s.recs.Stat(r.Context(), key+"recording.json"); err != nil {
		return "", "", "", tok, ErrNoConsent
	}
	return dir, key, track, tok, nil
}

// handleUploadOffset answers how much of an interrupted upload the hub holds (header
// X-Parley-Offset), so the app sends only the rest; the whole size when the file is complete.
func (s *Server) handleUploadOffset(w http.ResponseWriter, r *http.Request) {
	dir, key, track, _, err := s.uploadTarget(r)
	if err != nil {
		w.WriteHeader(wire.ErrorCode(err).HTTPStatus())
		return
	}
	unlock, err := s.uploads.lock(r.Context(), filepath.Join(dir, string(track)))
	if err != nil {
		return
	}
	defer unlock()
	var n int64
	if size, _, err := s.recs.Stat(r.Context(), key+string(track)); err == nil {
		n = size
		w.Header().Set(wire.HeaderSHA256, s.readSum(r.Context(), key, track))
	} else if st, err := os.Stat(filepath.Join(dir, string(track)+".part")); err == nil {
		n = st.Size()
	}
	w.Header().Set("X-Parley-Offset", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) readSum(ctx context.Context, key string, track wire.RecordingTrack) string {
	b, _ := s.recs.ReadSmall(ctx, key+string(track)+".sha256")
	return strings.TrimSpace(string(b))
}

// handleUpload takes a recording file, or the rest of it from X-Parley-Offset. The file is kept
// only when the SHA-256 of the whole matches the header; a retry of a completed upload with the
// same checksum is answered as done.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	dir, key, track, tok, err := s.uploadTarget(r)
	if err != nil {
		s.answer(w, "recording upload", nil, err)
		return
	}
	unlock, err := s.uploads.lock(r.Context(), filepath.Join(dir, string(track)))
	if err != nil {
		return
	}
	defer unlock()
	want := strings.ToLower(r.Header.Get(wire.HeaderSHA256))
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
		writeError(w, wire.Errorf(wire.EINVALID, "%s must be the file's hex SHA-256", wire.HeaderSHA256))
		return
	}
	if _, _, err := s.recs.Stat(r.Context(), key+string(track)); err == nil {
		if s.readSum(r.Context(), key, track) == want {
			writeJSON(w, http.StatusOK, struct{}{})
			return
		}
		writeError(w, wire.Errorf(wire.ECONFLICT, "this track was uploaded already with another checksum"))
		return
	}
	offset, _ := strconv.ParseInt(r.Header.Get("X-Parley-Offset"), 10, 64)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.answer(w, "recording upload", nil, err)
		return
	}
	part := filepath.Join(dir, string(track)+".part")
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if offset > 0 {
		st, err := os.Stat(part)
		if err != nil || st.Size() != offset {
			writeError(w, wire.Errorf(wire.ECONFLICT, "the upload resumes from the size the hub holds (HEAD)"))
			return
		}
		flags = os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(part, flags, 0o640)
	if err != nil {
		s.answer(w, "recording upload", nil, err)
		return
	}
	n, err := io.Copy(f, io.LimitReader(r.Body, wire.MaxRecordingBytes-offset+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A dropped link: what arrived stays in .part for the app to resume.
		s.answer(w, "recording upload", nil, wire.Errorf(wire.EUNAVAILABLE, "the upload was cut off; resume it"))
		return
	}
	if offset+n > wire.MaxRecordingBytes {
		_ = os.Remove(part)
		writeError(w, wire.Errorf(wire.ETOOLARGE, "a recording file is at most %d bytes", int64(wire.MaxRecordingBytes)))
		return
	}
	got, err := fileSum(part)
	if err != nil {
		s.answer(w, "recording upload", nil, err)
		return
	}
	if got != want {
		_ = os.Remove(part)
		writeError(w, wire.Errorf(wire.EINVALID, "the file's checksum does not match %s; nothing was kept", wire.HeaderSHA256))
		return
	}
	// The checksum goes first: a file in the store always has its checksum beside it.
	if err := s.recs.WriteSmall(r.Context(), key+string(track)+".sha256", []byte(got+"\n")); err != nil {
		s.answer(w, "recording upload", nil, err)
		return
	}
	if err := s.recs.Put(r.Context(), key+string(track), part); err != nil {
		s.log.Error("storing a recording", "store", s.recs.String(), "err", err)
		s.answer(w, "recording upload", nil, wire.Errorf(wire.EUNAVAILABLE, "the recording could not be stored; retry"))
		return
	}
	org := wire.OrgID(r.PathValue("org"))
	ctx, cancel := dbctx()
	defer cancel()
	_ = s.store.Apply(ctx, store.Change{Audit: []store.AuditEntry{{Org: org, Actor: tok.User, ActorName: string(tok.User),
		Action: AuditRecordingUploaded, Target: r.PathValue("call") + "/" + string(track), Detail: fmt.Sprintf("%d bytes", offset+n), Addr: s.clientAddr(r)}}})
	s.log.Info("recording uploaded", "org", org, "call", r.PathValue("call"), "track", track, "bytes", offset+n)
	writeJSON(w, http.StatusOK, struct{}{})
}

// keyedLock is a mutex per key whose waiters give up with their request.
type keyedLock struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the holder unlocks
}

func (k *keyedLock) lock(ctx context.Context, key string) (unlock func(), err error) {
	for {
		k.mu.Lock()
		done, busy := k.held[key]
		if !busy {
			if k.held == nil {
				k.held = map[string]chan struct{}{}
			}
			done = make(chan struct{})
			k.held[key] = done
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(done)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// handleListRecordings lists a conversation's recorded files: supervisors and admins of its
// organisation.
func (s *Server) handleListRecordings(w http.ResponseWriter, r *http.Request) {
	org, conv := wire.OrgID(r.PathValue("org")), wire.ConversationID(r.PathValue("conv"))
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor); err != nil {
		writeError(w, err)
		return
	}
	out, err := s.Recordings(org, conv)
	s.answer(w, "listing recordings", out, err)
}

// Recordings lists the uploaded files of a conversation's calls, oldest call first.
func (s *Server) Recordings(org wire.OrgID, conv wire.ConversationID) ([]wire.Recording, error) {
	out := []wire.Recording{}
	if s.recs == nil || !safeID(string(org)) || !safeID(string(conv)) {
		return out, nil
	}
	ctx, cancel := dbctx()
	defer cancel()
	keys, err := s.recs.List(ctx, string(org)+"/"+string(conv)+"/")
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if path.Base(k) != "recording.json" {
			continue
		}
		key := strings.TrimSuffix(k, "recording.json")
		var m recordingManifest
		raw, err := s.recs.ReadSmall(ctx, k)
		if err != nil || json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, t := range wire.RecordingTracks {
			if !slices.Contains(keys, key+string(t)) {
				continue
			}
			size, mod, err := s.recs.Stat(ctx, key+string(t))
			if err != nil {
				continue
			}
			out = append(out, wire.Recording{Call: m.Call, Conv: conv, Track: t, Bytes: size, SHA256: s.readSum(ctx, key, t),
				Agent: m.Agent, StartedAt: m.StartedAt, UploadedAt: mod.UnixMilli(),
				URL: fmt.Sprintf("/api/v1/orgs/%s/conversations/%s/calls/%s/recordings/%s", org, conv, m.Call, t)})
		}
	}
	slices.SortStableFunc(out, func(a, b wire.Recording) int { return int(a.StartedAt - b.StartedAt) })
	return out, nil
}

// recordingTypes are the media types of the tracks.
var recordingTypes = map[string]string{".webm": "video/webm", ".ogg": "audio/ogg", ".ivf": "video/x-ivf", ".h264": "video/h264"}

// handlePlay serves one recorded file (Range and If-Range too, for a player streaming and
// seeking in it) to a signed playback link (recording_links.go: audited when the playback
// started), or to a supervisor or admin of its organisation with their token: each such
// download from its start is an audit line.
func (s *Server) handlePlay(w http.ResponseWriter, r *http.Request) {
	org, conv, call := wire.OrgID(r.PathValue("org")), wire.ConversationID(r.PathValue("conv")), wire.CallID(r.PathValue("call"))
	track := wire.RecordingTrack(r.PathValue("track"))
	signed := r.URL.Query().Has("sig")
	var tok store.Token
	var err error
	if signed {
		err = s.checkFileLink(r, org, conv, call, track)
	} else {
		tok, err = s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := s.callDir(org, conv, call); err != nil || !slices.Contains(wire.RecordingTracks, track) {
		writeError(w, ErrCallNotFound)
		return
	}
	key := callKey(org, conv, call) + string(track)
	_, mod, err := s.recs.Stat(r.Context(), key)
	if err != nil {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such recording"))
		return
	}
	f, err := s.recs.Open(r.Context(), key)
	if err != nil {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such recording"))
		return
	}
	defer f.Close()
	if rg := r.Header.Get("Range"); !signed && (rg == "" || strings.HasPrefix(rg, "bytes=0-")) {
		u, _ := s.store.User(r.Context(), tok.User)
		by := Actor{User: tok.User, Name: u.Username, Addr: s.clientAddr(r)}
		if err := s.store.Apply(r.Context(), store.Change{Audit: []store.AuditEntry{by.entry(org, AuditRecordingPlay, string(call)+"/"+string(track), string(conv))}}); err != nil {
			s.answer(w, "auditing a playback", nil, err) // no playback without its audit line
			return
		}
	}
	w.Header().Set("Content-Type", recordingTypes[filepath.Ext(string(track))])
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, string(track), mod, f)
}

// handleDeleteRecording deletes a call's recording (every track): admins only.
func (s *Server) handleDeleteRecording(w http.ResponseWriter, r *http.Request, a adminCtx) {
	conv, call := wire.ConversationID(r.PathValue("conv")), wire.CallID(r.PathValue("call"))
	dir, err := s.callDir(a.org, conv, call)
	if err != nil {
		writeError(w, err)
		return
	}
	key := callKey(a.org, conv, call)
	if _, _, err := s.recs.Stat(r.Context(), key+"recording.json"); err != nil {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such recording"))
		return
	}
	if err := s.store.Apply(r.Context(), store.Change{Audit: []store.AuditEntry{a.by.entry(a.org, AuditRecordingDelete, string(call), string(conv))}}); err != nil {
		s.answer(w, "auditing a deletion", nil, err)
		return
	}
	err = s.recs.DeleteAll(r.Context(), key)
	if err == nil {
		err = os.RemoveAll(dir) // uploads in progress
	}
	s.answer(w, "deleting a recording", struct{}{}, err)
}

// sweepRecordings deletes recordings older than their organisation's retention, hourly.
func (s *Server) sweepRecordings() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		s.expireRecordings(s.ctx)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireRecordings deletes every call whose recording started longer ago than its
// organisation's retention (organisations with 0 keep theirs), from the store and the staging
// directory.
func (s *Server) expireRecordings(ctx context.Context) {
	if s.recs == nil {
		return
	}
	keys, err := s.recs.List(ctx, "")
	if err != nil {
		s.log.Warn("listing recordings to expire", "store", s.recs.String(), "err", err)
		return
	}
	settings := map[wire.OrgID]wire.RecordingSettings{}
	for _, k := range keys {
		parts := strings.Split(k, "/")
		if len(parts) != 4 || parts[3] != "recording.json" {
			continue
		}
		org := wire.OrgID(parts[0])
		set, ok := settings[org]
		if !ok {
			if set, err = s.recordingSettings(ctx, org); err != nil {
				continue
			}
			settings[org] = set
		}
		if set.RetentionDays == 0 {
			continue
		}
		cutoff := s.now().Add(-time.Duration(set.RetentionDays) * 24 * time.Hour).UnixMilli()
		var m recordingManifest
		raw, err := s.recs.ReadSmall(ctx, k)
		if err != nil || json.Unmarshal(raw, &m) != nil || m.StartedAt >= cutoff {
			continue
		}
		if err := s.recs.DeleteAll(ctx, strings.TrimSuffix(k, "recording.json")); err != nil {
			s.log.Warn("deleting an expired recording", "org", org, "call", m.Call, "err", err)
			continue
		}
		if dir, err := s.callDir(org, wire.ConversationID(parts[1]), wire.CallID(parts[2])); err == nil {
			_ = os.RemoveAll(dir)
		}
		s.log.Info("expired recording deleted", "org", org, "call", m.Call, "retention_days", set.RetentionDays)
	}
}
