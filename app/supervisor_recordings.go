package app

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// Supervisors' way to a conversation's recordings: the team view asks whether it has any, and
// opens the hub's playback page (docs/recording.md) in the system browser, where the supervisor
// plays them beside the transcript.

// orgURL is a hub address under the signed-in member's organisation, with their token.
func (s *Supervisor) orgURL(path string) (u, token string, err error) {
	s.c.mu.Lock()
	token, hubURL, user := s.c.token, s.c.session.HubURL, s.c.session.User
	s.c.mu.Unlock()
	if token == "" || user == nil {
		return "", "", ErrNotSignedIn
	}
	return strings.TrimRight(hubURL, "/") + "/" + strings.ReplaceAll(path, "{org}", url.PathEscape(string(user.Org))), token, nil
}

// Recordings lists the recorded files of a conversation's calls, oldest call first. Only
// supervisors and admins may list them; the hub answers anyone else with EFORBIDDEN.
func (s *Supervisor) Recordings(conv wire.ConversationID) ([]wire.Recording, error) {
	u, token, err := s.orgURL("api/v1/orgs/{org}/conversations/" + url.PathEscape(string(conv)) + "/recordings")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	body, err := getReport(ctx, u, token)
	if err != nil {
		return nil, err
	}
	out := []wire.Recording{}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return nil, &wire.Error{Code: wire.EINTERNAL, Message: "the hub's list of recordings did not read"}
	}
	return out, nil
}

// OpenRecordings opens the hub's playback page of a conversation's recordings in the system
// browser (the supervisor signs in there: the page plays the calls beside the transcript).
func (s *Supervisor) OpenRecordings(conv wire.ConversationID) error {
	return s.openRecordingsPage("admin/{org}/recordings/" + url.PathEscape(string(conv)))
}

// OpenRecordedCalls opens the hub's list of the organisation's recorded calls in the system
// browser: newest first, ended conversations included, each linking to its playback page.
func (s *Supervisor) OpenRecordedCalls() error {
	return s.openRecordingsPage("admin/{org}/recordings/")
}

// openRecordingsPage opens one of the hub's recordings pages (path as orgURL takes it) in the
// system browser.
func (s *Supervisor) openRecordingsPage(path string) error {
	u, _, err := s.orgURL(path)
	if err != nil {
		return err
	}
	if s.c.openURL == nil {
		return wire.Errorf(wire.EUNAVAILABLE, "no system browser to open the recordings in")
	}
	if err := s.c.openURL(u); err != nil {
		return asWireError(err)
	}
	return nil
}
