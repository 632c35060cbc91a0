package hub

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
	"golang.org/x/time/rate"
)

// The HTTP API: routes, JSON bodies and errors, sign-in, starting a conversation, the widget's
// settings and readiness.

// routes builds the HTTP routes; the portal takes whatever is left.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", s.handleLogin)
	mux.HandleFunc("POST /api/v1/orgs/{org}/conversations", s.handleStartConversation)
	mux.HandleFunc("GET /api/v1/orgs/{org}/widget", s.handleWidget)
	s.reportRoutes(mux)
	s.adminRoutes(mux)
	s.accountRoutes(mux)
	s.routingRoutes(mux)
	s.recordingRoutes(mux)
	s.monitoringRoutes(mux)
	s.recordingPageRoutes(mux)
	s.recordedCallsRoutes(mux)
	s.networkTestRoutes(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, wire.Errorf(wire.ENOTFOUND, "no such API route"))
	})
	mux.HandleFunc("GET /ws", s.handleWS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.cfg.MetricsAddr == "" {
		// Guarded: this machine or the metrics token (metrics_access.go).
		ops := s.opsHandler()
		mux.Handle("GET /metrics", ops)
		if s.cfg.Debug {
			mux.Handle("/debug/pprof/", ops)
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Portal != nil {
			s.cfg.Portal.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
	return mux
}

// readJSON decodes a small JSON body into v.
func readJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return wire.Errorf(wire.EINVALID, "unreadable body")
	}
	if len(body) > 64<<10 {
		return wire.Errorf(wire.ETOOLARGE, "body over 64 KiB")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return wire.Errorf(wire.EINVALID, "body is not the expected JSON")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the error's code and message; other errors read "internal error".
func writeError(w http.ResponseWriter, err error) {
	code := wire.ErrorCode(err)
	writeJSON(w, code.HTTPStatus(), wire.Error{Code: code, Message: wire.ErrorMessage(err)})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req wire.LoginRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	resp, err := s.login(r.Context(), req, s.clientAddr(r))
	if err != nil {
		if wire.ErrorCode(err) == wire.EINTERNAL {
			s.log.Error("login failed", "err", err)
		}
		var ll *loginLimited
		switch {
		case errors.As(err, &ll):
			w.Header().Set("Retry-After", strconv.Itoa(int(ll.wait.Seconds())+1))
		case errors.Is(err, ErrLoginBusy):
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleStartConversation(w http.ResponseWriter, r *http.Request) {
	var req wire.StartConversation
	if r.ContentLength != 0 {
		if err := readJSON(r, &req); err != nil {
			writeError(w, err)
			return
		}
	}
	if !s.cfg.Limits.Off && !s.limitState.Take("starts:"+clientAddress(r, s.cfg.TrustedProxies), rate.Every(startRefill), startBurst, 1, s.now()) {
		s.metrics.frameErrors.WithLabelValues(string(wire.ERATELIMITED)).Inc()
		s.metrics.rateLimited.WithLabelValues("starts").Inc()
		writeError(w, ErrRateLimited)
		return
	}
	resp, err := s.startConversation(r.Context(), wire.OrgID(r.PathValue("org")), req)
	if err != nil {
		if wire.ErrorCode(err) == wire.EINTERNAL {
			s.log.Error("start conversation failed", "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, resp)
}

// startConversation opens a conversation for an anonymous customer and queues it.
func (s *Server) startConversation(ctx context.Context, org wire.OrgID, req wire.StartConversation) (wire.StartedConversation, error) {
	var resp wire.StartedConversation
	name := strings.TrimSpace(req.Name)
	if len(name) > wire.MaxNameBytes {
		return resp, wire.Errorf(wire.ETOOLARGE, "name is over %d bytes", wire.MaxNameBytes)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return resp, wire.Errorf(wire.EINVALID, "name has characters that are not allowed")
	}
	message, contact := strings.TrimSpace(req.Message), strings.TrimSpace(req.Contact)
	if err := checkText("message", message, wire.MaxTextBytes, false); err != nil {
		return resp, err
	}
	if err := checkText("contact", contact, 2*wire.MaxNameBytes, false); err != nil {
		return resp, err
	}
	if err := s.checkOrg(ctx, org); err != nil {
		return resp, err
	}
	// Which queue, with which skills: the pre-chat answer's, else the widget's, else the
	// default (an unknown one is logged, never refused). Outside its hours a queue takes
	// messages only.
	adm, err := s.router.admit(org, wire.QueueID(truncate(string(req.Queue), 64)), truncate(req.Choice, 64))
	if err != nil {
		return resp, err
	}
	if !adm.info.Open && message == "" {
		return resp, ErrQueueClosed
	}
	now := s.now().UnixMilli()
	conv := wire.Conversation{ID: wire.ConversationID(newID("c")), Org: org, State: wire.ConvWaiting, CustomerName: name, CreatedAt: now,
		Queue: adm.info.ID, QueueName: adm.info.Name, QueuedAt: now, Skills: adm.skills, Message: message != "", Contact: contact}
	token, hash := newToken()
	visit := store.Visit{Conv: conv.ID, N: 1, Org: org, Queue: conv.Queue, EnteredAt: now, Message: conv.Message}
	if err := s.store.StartConversation(ctx, store.Start{Conv: conv,
		Token:   store.Token{Hash: hash, Org: org, Role: wire.RoleCustomer, Conv: conv.ID, ExpiresAt: s.now().Add(s.cfg.CustomerTokenTTL)},
		Routing: store.ConvRouting{Queue: conv.Queue, QueuedAt: now, Skills: conv.Skills, Message: conv.Message, Contact: contact, Visit: 1},
		Visit:   visit}); err != nil {
		return resp, err
	}
	if message != "" {
		// A message left instead of a chat: the customer's words, then the line that says so.
		stored, err := s.store.AppendMessages(ctx, []wire.Message{
			{Conv: conv.ID, Author: wire.AuthorCustomer, AuthorName: name, Text: message},
			{Conv: conv.ID, Author: wire.AuthorSystem, Text: "The customer left a message.", Event: &wire.Event{Kind: wire.EventMessageLeft}},
		})
		if err != nil {
			return resp, err
		}
		conv.LastSeq = stored[len(stored)-1].Message.Seq
	}
	qp, kept, err := s.router.enqueue(conv, visit, truncate(message, 140))
	if err != nil {
		return resp, err
	}
	conv = customerConv(kept)
	conv.QueuePosition = qp.Position
	s.log.Info("conversation started", "org", org, "conv", conv.ID, "queue", conv.Queue, "message", conv.Message)
	return wire.StartedConversation{Conversation: conv, Token: token}, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (s *Server) handleWidget(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.Org(r.Context(), wire.OrgID(r.PathValue("org")))
	if errors.Is(err, store.ErrNotFound) {
		err = ErrOrgNotFound
	}
	if err != nil {
		writeError(w, err)
		return
	}
	queue, prechat, err := s.router.widget(o.ID, wire.QueueID(truncate(r.URL.Query().Get("queue"), 64)))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.WidgetConfig{Org: o.ID, Name: o.Name, MaxTextBytes: wire.MaxTextBytes, Queue: queue, Prechat: prechat})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		writeError(w, ErrClosed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.store.Org(ctx, "readyz-probe"); err != nil && !errors.Is(err, store.ErrNotFound) {
		writeError(w, wire.Errorf(wire.EUNAVAILABLE, "store not ready"))
		return
	}
	if s.cluster != nil && !s.cluster.ready() {
		writeError(w, wire.Errorf(wire.EUNAVAILABLE, "cluster node not ready (draining, or its leases are not renewed)"))
		return
	}
	if !s.router.alive(ctx) {
		writeError(w, wire.Errorf(wire.EUNAVAILABLE, "router not ready"))
		return
	}
	io.WriteString(w, "ready\n")
}
