package hub

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The playback page: supervisors and admins open /admin/{org}/recordings/{conv} (linked from the
// CSV reports' recording column), which plays each recorded call's two sides in step beside the
// conversation's transcript. The page is the admin console's bundle; it reads the transcript
// here and the files through the recording API (each playback audited there).

// transcriptLimit is the most messages one transcript answer holds.
const transcriptLimit = 5000

// recordingPageRoutes adds the playback page and the transcript it shows.
func (s *Server) recordingPageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/{org}/recordings/{conv}", s.handleAdminPage)
	// The organisation's recorded calls (recording_list.go); /admin/{org}/recordings redirects here.
	mux.HandleFunc("GET /admin/{org}/recordings/", s.handleAdminPage)
	mux.HandleFunc("GET /api/v1/orgs/{org}/conversations/{conv}/transcript", s.handleTranscript)
}

// handleTranscript serves a conversation's messages, internal notes included, to a supervisor or
// admin of its organisation.
func (s *Server) handleTranscript(w http.ResponseWriter, r *http.Request) {
	org, conv := wire.OrgID(r.PathValue("org")), wire.ConversationID(r.PathValue("conv"))
	if _, err := s.member(r, org, wire.RoleAdmin, wire.RoleSupervisor); err != nil {
		writeError(w, err)
		return
	}
	c, err := s.store.Conversation(r.Context(), conv)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Org != org) {
		writeError(w, ErrConvNotFound)
		return
	}
	if err != nil {
		s.answer(w, "reading a transcript", nil, err)
		return
	}
	msgs, err := s.store.Messages(r.Context(), conv, 0, transcriptLimit)
	s.answer(w, "reading a transcript", wire.Transcript{Conversation: c, Messages: msgs}, err)
}

// recordingPage is the playback page's address for a conversation with a recorded call, or ""
// when none of its calls (or not call, when given) has a recorded file on this hub.
func (s *Server) recordingPage(r *http.Request, org wire.OrgID, conv wire.ConversationID, call wire.CallID) string {
	recs, err := s.Recordings(org, conv)
	if err != nil || !slices.ContainsFunc(recs, func(x wire.Recording) bool { return call == "" || x.Call == call }) {
		return ""
	}
	return s.baseURL(r) + "/admin/" + url.PathEscape(string(org)) + "/recordings/" + url.PathEscape(string(conv))
}
