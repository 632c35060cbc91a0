package hub

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
)

// Network tests (wire/nettest.go): a member's app asks for the relays its organisation's calls
// would use, with credentials for the test only, and ends the test when done.

// networkTestRoutes adds the network-test API.
func (s *Server) networkTestRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/orgs/{org}/network-test", s.handleNetworkTest)
	mux.HandleFunc("DELETE /api/v1/orgs/{org}/network-test/{id}", s.handleEndNetworkTest)
	mux.HandleFunc("PUT /api/v1/orgs/{org}/setup-result", s.handleSetupResult)
}

// networkTestID is the credential id of one member's test: the relay knows test ids by their
// prefix, and the member's id in it lets only them end it.
func networkTestID(user wire.UserID, nonce string) string {
	return relay.TestIDPrefix + string(user) + "/" + nonce
}

func (s *Server) handleNetworkTest(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	tok, err := s.member(r, org, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	rec, err := s.orgRecord(r.Context(), org)
	if err != nil {
		writeError(w, err)
		return
	}
	nonce := strings.TrimPrefix(newID("nt"), "nt_")
	region := relay.Region(rec.Region)
	nt := wire.NetworkTest{ID: nonce, Region: rec.Region, Government: region.Government(),
		Policy: string(relay.PolicyAll), Relays: []wire.NetworkTestRelay{},
		ExpiresAt: s.now().Add(relay.TestTTL).UnixMilli()}
	if dir := s.relays.Load(); dir != nil {
		plan, err := dir.PlanFor(region, "", networkTestID(tok.User, nonce), relay.TestTTL)
		// A government organisation with no North-American relay gets no relay: the test says so.
		if err != nil && !errors.Is(err, relay.ErrNoRelay) {
			writeError(w, err)
			return
		}
		nt.Policy = string(plan.Policy)
		for i, sv := range plan.Servers {
			nt.Relays = append(nt.Relays, wire.NetworkTestRelay{ID: plan.Route[i].ID, Region: string(plan.Route[i].Region),
				URLs: sv.URLs, Username: sv.Username, Credential: sv.Credential})
		}
	} else if region.Government() {
		nt.Policy = string(relay.PolicyRelay)
	}
	s.log.Info("network test", "org", org, "user", tok.User, "test", nonce, "relays", len(nt.Relays))
	writeJSON(w, http.StatusOK, nt)
}

func (s *Server) handleEndNetworkTest(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	tok, err := s.member(r, org, wire.RoleAgent, wire.RoleSupervisor, wire.RoleAdmin)
	if err != nil {
		writeError(w, err)
		return
	}
	if ts := s.turn; ts != nil {
		ts.Revoke(networkTestID(tok.User, r.PathValue("id")))
	}
	w.WriteHeader(http.StatusNoContent)
}

// setupCode is what a "Test my setup" problem code looks like.
var setupCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// handleSetupResult takes an agent's "Test my setup" result: supervisors see it beside the agent
// (supervisor.snapshot) and /metrics counts it.
func (s *Server) handleSetupResult(w http.ResponseWriter, r *http.Request) {
	org := wire.OrgID(r.PathValue("org"))
	tok, err := s.member(r, org, wire.RoleAgent)
	if err != nil {
		writeError(w, err)
		return
	}
	var res wire.SetupResult
	if err := readJSON(r, &res); err != nil {
		writeError(w, err)
		return
	}
	if res.Status != "pass" && res.Status != "warn" && res.Status != "fail" {
		writeError(w, wire.Errorf(wire.EINVALID, "status %.20q: pass, warn or fail", res.Status))
		return
	}
	if len(res.Problems) > 16 || slices.ContainsFunc(res.Problems, func(c string) bool { return !setupCode.MatchString(c) }) {
		writeError(w, wire.Errorf(wire.EINVALID, "problems: up to 16 codes of lower-case letters, digits and _"))
		return
	}
	res.At = s.now().UnixMilli()
	// Kept with the member, so the team view still shows it after a restart.
	if err := s.store.SetSetupResult(r.Context(), tok.User, res); err != nil {
		writeError(w, err)
		return
	}
	err = s.router.call(func() error {
		o, err := s.router.org(org)
		if err != nil {
			return err
		}
		a := o.agents[tok.User]
		if a == nil {
			return wire.Errorf(wire.ENOTFOUND, "no agent %q", tok.User)
		}
		a.setup = &res
		s.router.dirty[o] = struct{}{}
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	s.metrics.setupChecks.WithLabelValues(res.Status).Inc()
	s.log.Info("setup check", "org", org, "user", tok.User, "status", res.Status, "problems", res.Problems)
	w.WriteHeader(http.StatusNoContent)
}
