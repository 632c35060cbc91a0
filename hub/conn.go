package hub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// Connection limits.
const (
	// hardFrameLimit is the frame size past which the hub drops the connection; frames between
	// wire.MaxFrameBytes and this get an ETOOLARGE error and the connection survives.
	hardFrameLimit = 1 << 20
	// sendQueue is how many frames may wait for a slow client before the hub drops it (it
	// reconnects and resumes).
	sendQueue = 128
	// writeTimeout bounds one frame write.
	writeTimeout = 10 * time.Second
	// historyPage is the most messages one sync answer or replay read carries.
	historyPage = 200
)

// out is one item of a connection's send queue: a frame, or work for the writer that reads the
// store (a replay after Hello, the receipts in the conversations a Welcome lists, or a sync
// answer), so no such read runs on the routing loop.
type out struct {
	frame    []byte
	replay   []replay
	receipts []wire.ConversationID
	sync     *syncReq
}

// replay asks the writer for conv's messages after After up to and including UpTo.
type replay struct {
	conv  wire.ConversationID
	after int64
	upTo  int64
}

// syncReq asks the writer to answer a sync request.
type syncReq struct {
	rid   string
	conv  wire.ConversationID
	after int64
}

// conn is one WebSocket client: a customer, agent, supervisor or admin.
type conn struct {
	s   *Server
	ws  *websocket.Conn
	log *slog.Logger
	// role, org, user and conv say who is connected; conv is set for customers.
	role wire.Role
	org  wire.OrgID
	user store.User
	conv wire.ConversationID
	// addr is the client's address as limits count it (clientAddress).
	addr string
	// session is the id of the member's session (store.Token.ID); it ends when an admin ends the
	// session, the member signs out, is disabled, or the session expires unrenewed.
	session string
	// viaPeer is set for a connection another cluster node passes through; fwdIP is the
	// client's address to pass on to the organisation's node (cluster.go).
	viaPeer bool
	fwdIP   string
	// lim charges the connection's frames to its customer's conversation or its member's
	// account (limits.go).
	lim limiter
	// held are the LimitState keys this connection holds a place under (address, conversation,
	// account), given back when it goes; heldMu guards them, since kill runs on any goroutine
	// (the hub closing, the idle reaper) while the connection's own goroutine holds and drops.
	heldMu sync.Mutex
	held   []string
	// lastRead is when the last frame arrived (Unix ns); pinging is set while a liveness ping
	// is out (conncap.go).
	lastRead atomic.Int64
	pinging  atomic.Bool
	// send is the frames queued for the writer goroutine.
	send chan *out
	// writing is true while a writer goroutine runs. The writer is started by push and ends when
	// the queue is empty, so an idle connection has no writer goroutine (and its stack) at all.
	writing atomic.Bool
	// gone is closed when the connection is finished, which stops the writer.
	gone     chan struct{}
	goneOnce sync.Once
}

// push queues o for the writer without blocking; a client too slow to keep up is dropped.
func (c *conn) push(o *out) {
	select {
	case c.send <- o:
	case <-c.gone:
		return
	default:
		c.log.Warn("client too slow; dropping its connection")
		c.kill()
		return
	}
	if c.writing.CompareAndSwap(false, true) {
		go c.writer()
	}
}

// pushFrame encodes and queues one frame.
func (c *conn) pushFrame(t wire.Type, rid string, payload any) {
	frame, err := wire.Encode(t, rid, payload)
	if err != nil {
		c.log.Error("encoding a frame", "type", t, "err", err)
		return
	}
	c.push(&out{frame: frame})
}

// pushError reports err to the client; internal errors are logged and read "internal error".
func (c *conn) pushError(rid string, err error) {
	code := wire.ErrorCode(err)
	if code == wire.EINTERNAL {
		c.log.Error("request failed", "err", err)
	}
	c.s.metrics.frameErrors.WithLabelValues(string(code)).Inc()
	c.pushFrame(wire.TypeError, rid, wire.Error{Code: code, Message: wire.ErrorMessage(err)})
}

// kill ends the connection abruptly and gives back its places under the caps.
func (c *conn) kill() {
	c.goneOnce.Do(func() {
		close(c.gone)
		_ = c.ws.CloseNow()
		c.heldMu.Lock()
		for _, k := range c.held {
			c.s.limitState.Release(k)
		}
		c.held = nil
		c.heldMu.Unlock()
	})
}

// hold takes a place under key, of which max may be held at once; reason names the cap in the
// refusal's metric.
func (c *conn) hold(key string, max int, reason string) error {
	if !c.s.limitState.Acquire(key, max) {
		c.s.metrics.connsRefused.WithLabelValues(reason).Inc()
		return ErrTooManyConns
	}
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	select {
	case <-c.gone: // killed meanwhile: kill has given back what it held, so give this back too
		c.s.limitState.Release(key)
		return ErrClosed
	default:
	}
	c.held = append(c.held, key)
	return nil
}

// drop gives back the place held under key before the connection goes.
func (c *conn) drop(key string) {
	c.heldMu.Lock()
	defer c.heldMu.Unlock()
	for i, k := range c.held {
		if k == key {
			c.s.limitState.Release(k)
			c.held = append(c.held[:i], c.held[i+1:]...)
			return
		}
	}
}

// handleWS upgrades to WebSocket, authenticates the Hello, then reads requests until the client
// goes.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		writeError(w, ErrClosed)
		return
	}
	s.conns.Add(1)
	s.mu.Unlock()
	defer s.conns.Done()
	viaPeer := r.Context().Value(peerKey{}) != nil
	// One address's connections that have not said Hello yet are capped: refused before the
	// upgrade, with 429 (after it, its customers are capped at their Hello).
	addr := clientAddress(r, s.cfg.TrustedProxies)
	pendingKey := ""
	if !s.cfg.Limits.Off {
		pendingKey = "conns-pending:" + addr
		if !s.limitState.Acquire(pendingKey, s.cfg.Limits.PendingConns) {
			s.metrics.connsRefused.WithLabelValues("pending").Inc()
			writeError(w, ErrTooManyConns)
			return
		}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if pendingKey != "" {
			s.limitState.Release(pendingKey)
		}
		return
	}
	ws.SetReadLimit(hardFrameLimit)
	c := &conn{s: s, ws: ws, log: s.log, send: make(chan *out, sendQueue), gone: make(chan struct{}), viaPeer: viaPeer}
	if s.cluster != nil {
		c.fwdIP = s.cluster.clientIP(r)
	}
	if pendingKey != "" {
		c.held = append(c.held, pendingKey)
	}
	c.lastRead.Store(time.Now().UnixNano())
	err = c.hello(addr)
	c.drop(pendingKey)
	var away *errElsewhere
	if errors.As(err, &away) {
		s.cluster.relay(ws, away.up)
		return
	}
	if err != nil {
		c.kill()
		return
	}
	// The connection is hijacked: the handler returns, so net/http's per-request memory (the
	// request, its headers, the serving goroutine's stack) is freed, and a fresh goroutine reads.
	// An idle connection then costs two small goroutines and the WebSocket's buffers.
	s.conns.Add(1)
	go func() {
		defer s.conns.Done()
		defer c.kill()
		s.metrics.connections.WithLabelValues(string(c.role)).Inc()
		defer s.metrics.connections.WithLabelValues(string(c.role)).Dec()
		c.readLoop()
		s.router.unregister(c)
	}()
}

// hello reads and checks the first frame, takes the connection's places under the caps (a
// customer's conversation and address, a member's account), registers the connection, and
// queues the Welcome.
func (c *conn) hello(addr string) error {
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.Limits.HelloTimeout)
	defer cancel()
	fail := func(err error) error {
		c.s.metrics.frameErrors.WithLabelValues(string(wire.ErrorCode(err))).Inc()
		frame, _ := wire.Encode(wire.TypeError, "", wire.Error{Code: wire.ErrorCode(err), Message: wire.ErrorMessage(err)})
		_ = c.ws.Write(ctx, websocket.MessageText, frame)
		_ = c.ws.Close(websocket.StatusPolicyViolation, string(wire.ErrorCode(err)))
		return err
	}
	data, err := c.readFrame(ctx)
	if err != nil {
		if wire.ErrorCode(err) != wire.EINTERNAL {
			return fail(err)
		}
		if ctx.Err() != nil && c.s.ctx.Err() == nil {
			// Silent past the deadline: the WebSocket library has closed the connection already.
			c.s.metrics.connsRefused.WithLabelValues("hello_timeout").Inc()
		}
		return err
	}
	env, err := wire.Decode(data)
	if err != nil {
		return fail(err)
	}
	if env.Type != wire.TypeHello {
		return fail(wire.Errorf(wire.EINVALID, "the first frame must be hello"))
	}
	var h wire.Hello
	if err := env.Unmarshal(&h); err != nil {
		return fail(err)
	}
	tok, err := c.s.authenticate(ctx, h.Token)
	if err != nil {
		return fail(err)
	}
	if cn := c.s.cluster; cn != nil && !cn.owns(tok.Org) {
		// Served by another node (passed through), or taken here first.
		if err := cn.dialOwner(ctx, c, tok.Org, data); err != nil {
			var away *errElsewhere
			if errors.As(err, &away) {
				return err
			}
			return fail(err)
		}
	}
	c.role, c.org, c.conv, c.session, c.addr = tok.Role, tok.Org, tok.Conv, tok.ID, addr
	c.lim = c.s.limiterFor(tok.Role, tok.Conv, tok.User)
	lim := c.s.cfg.Limits
	if tok.Role == wire.RoleCustomer {
		c.log = c.s.log.With("org", tok.Org, "conv", tok.Conv, "role", tok.Role)
		if !lim.Off {
			if err := c.hold("conns-conv:"+string(tok.Conv), lim.CustomerConns, "conversation"); err != nil {
				c.log.Info("connection refused: too many for this conversation", "max", lim.CustomerConns)
				return fail(err)
			}
			if err := c.hold("conns-address:"+addr, lim.AddressConns, "address"); err != nil {
				c.log.Info("connection refused: too many customers' connections from this address", "max", lim.AddressConns, "address", addr)
				return fail(err)
			}
		}
	} else {
		u, err := c.s.store.User(ctx, tok.User)
		if err != nil {
			return fail(ErrTokenInvalid)
		}
		c.user = u
		c.log = c.s.log.With("org", tok.Org, "user", u.ID, "role", tok.Role)
		if !lim.Off {
			// An office's agents share an address: members count per account.
			if err := c.hold("conns-user:"+string(u.ID), lim.MemberConns, "account"); err != nil {
				c.log.Info("connection refused: too many for this account", "max", lim.MemberConns)
				return fail(err)
			}
		}
	}
	if err := c.s.router.register(c, h.Resume); err != nil {
		return fail(err)
	}
	c.log.Debug("connected")
	return nil
}

// readFrame reads one text frame of at most wire.MaxFrameBytes. A larger frame is read to its end
// and reported as ETOOLARGE, so the connection survives it; a binary frame is EINVALID. Other
// errors mean the connection is gone.
func (c *conn) readFrame(ctx context.Context) ([]byte, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 512)
	buf, err = readAtMost(r, buf, wire.MaxFrameBytes+1)
	if err != nil {
		return nil, err
	}
	if len(buf) > wire.MaxFrameBytes {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
		return nil, wire.Errorf(wire.ETOOLARGE, "frame is over the %d-byte limit", wire.MaxFrameBytes)
	}
	if typ != websocket.MessageText {
		return nil, wire.Errorf(wire.EINVALID, "binary frames are not accepted")
	}
	return buf, nil
}

// readAtMost appends from r to buf until EOF or until buf holds n bytes.
func readAtMost(r io.Reader, buf []byte, n int) ([]byte, error) {
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// readLoop reads and dispatches requests until the connection fails.
func (c *conn) readLoop() {
	for {
		data, err := c.readFrame(c.s.ctx)
		if err != nil {
			if wire.ErrorCode(err) == wire.EINTERNAL { // not one of ours: the link is gone
				return
			}
			c.pushError("", err)
			continue
		}
		c.lastRead.Store(time.Now().UnixNano())
		env, err := wire.Decode(data)
		if err != nil {
			c.pushError("", err)
			continue
		}
		if which, err := c.lim.allow(env.Type, len(data)); err != nil {
			c.s.metrics.rateLimited.WithLabelValues(which).Inc()
			c.pushError(env.RID, err)
			continue
		}
		if err := c.dispatch(env); err != nil {
			c.pushError(env.RID, c.notOpen(err))
		}
	}
}

// notOpen turns the router's errNotOpen into ErrConvEnded for a stored conversation the caller
// could see, or ErrConvNotFound; it reads the store on the connection's goroutine. Other errors
// pass as they are.
func (c *conn) notOpen(err error) error {
	var no *errNotOpen
	if !errors.As(err, &no) {
		return err
	}
	ctx, cancel := dbctx()
	defer cancel()
	conv, serr := c.s.store.Conversation(ctx, no.conv)
	switch {
	case errors.Is(serr, store.ErrNotFound):
		return ErrConvNotFound
	case serr != nil:
		return serr
	case conv.Org != c.org || (c.role == wire.RoleCustomer && conv.ID != c.conv) ||
		(c.role == wire.RoleAgent && conv.AgentID != c.user.ID):
		return ErrConvNotFound
	}
	return ErrConvEnded
}

// decode unmarshals a request's payload into a T and hands it to handle, which checks it and
// passes it to the router: every request with a payload starts this way.
func decode[T any](env wire.Envelope, handle func(T) error) error {
	var v T
	if err := env.Unmarshal(&v); err != nil {
		return err
	}
	return handle(v)
}

// dispatch checks one request's payload and hands it to the router. The router answers
// successful requests; dispatch returns the error of a refused one.
func (c *conn) dispatch(env wire.Envelope) error {
	switch env.Type {
	case wire.TypePing:
		c.pushFrame(wire.TypeAck, env.RID, nil)
		return nil
	case wire.TypeHello:
		return wire.Errorf(wire.EINVALID, "already said hello")
	case wire.TypeChatSend:
		return decode(env, func(m wire.ChatSend) error {
			if len(m.Text) > wire.MaxTextBytes {
				return wire.Errorf(wire.ETOOLARGE, "message is over %d bytes", wire.MaxTextBytes)
			}
			if strings.TrimSpace(m.Text) == "" {
				return wire.Errorf(wire.EINVALID, "message is empty")
			}
			if !utf8.ValidString(m.Text) {
				return wire.Errorf(wire.EINVALID, "message is not UTF-8")
			}
			if len(m.ClientID) > 64 {
				return wire.Errorf(wire.EINVALID, "client_id is longer than 64 bytes")
			}
			return c.s.router.chatSend(c, env.RID, m)
		})
	case wire.TypeChatTyping:
		return decode(env, func(t wire.Typing) error {
			return c.s.router.typing(c, env.RID, t)
		})
	case wire.TypeChatReceipt:
		return decode(env, func(rc wire.Receipt) error {
			if rc.Kind != wire.ReceiptDelivered && rc.Kind != wire.ReceiptRead {
				return wire.Errorf(wire.EINVALID, "receipt kind must be delivered or read")
			}
			if rc.Seq < 0 {
				return wire.Errorf(wire.EINVALID, "receipt seq is negative")
			}
			return c.s.router.receipt(c, env.RID, rc)
		})
	case wire.TypeSync:
		return decode(env, func(sy wire.Sync) error {
			if err := c.canRead(sy.Conv); err != nil {
				return err
			}
			c.push(&out{sync: &syncReq{rid: env.RID, conv: sy.Conv, after: max(sy.After, 0)}})
			return nil
		})
	case wire.TypeConvEnd, wire.TypeConvLeave:
		return decode(env, func(ref wire.ConvRef) error {
			return c.s.router.end(c, env.RID, env.Type, ref.Conv)
		})
	case wire.TypePresenceSet:
		return decode(env, func(p wire.PresenceSet) error {
			switch p.Presence {
			case wire.PresenceAvailable, wire.PresenceBusy, wire.PresenceAway:
			default:
				return wire.Errorf(wire.EINVALID, "presence must be available, busy or away")
			}
			return c.s.router.setPresence(c, env.RID, p.Presence)
		})
	case wire.TypeAgentSignOut:
		return c.s.router.signOut(c, env.RID)
	case wire.TypeOfferAccept, wire.TypeOfferDecline:
		return decode(env, func(ref wire.OfferRef) error {
			return c.s.router.answerOffer(c, env.RID, ref.Offer, env.Type == wire.TypeOfferAccept)
		})
	case wire.TypeVisualInvite, wire.TypeVisualAccept, wire.TypeVisualDecline, wire.TypeVisualStop, wire.TypeVisualControl,
		wire.TypeVisualEvent, wire.TypeVisualPointer, wire.TypeVisualCommand, wire.TypeVisualResult, wire.TypeVisualSignal:
		return c.visual(env)
	case wire.TypeCallInvite, wire.TypeCallAccept, wire.TypeCallAnswering, wire.TypeCallDecline, wire.TypeCallEnd, wire.TypeCallSignal,
		wire.TypeCallMedia, wire.TypeCallState, wire.TypeCallRecord, wire.TypeCallProbe, wire.TypeCallProbeResult:
		return c.callRequest(env)
	case wire.TypeCallMonitor, wire.TypeMonitorSignal, wire.TypeMonitorState:
		return c.monitorRequest(env)
	case wire.TypeCustomerPresence:
		return decode(env, func(m wire.CustomerPresenceSet) error {
			return c.s.router.customerPresence(c, env.RID, m)
		})
	case wire.TypeConvWrapUp:
		return decode(env, func(m wire.WrapUpDone) error {
			return c.s.router.wrapUp(c, env.RID, m)
		})
	case wire.TypeConvKeep, wire.TypeSupervisorClose:
		return decode(env, func(ref wire.ConvRef) error {
			if env.Type == wire.TypeConvKeep {
				return c.s.router.keepOpen(c, env.RID, ref.Conv)
			}
			return c.s.router.supervisorClose(c, env.RID, ref.Conv)
		})
	case wire.TypeSupervisorAssign:
		return decode(env, func(a wire.Assign) error {
			return c.s.router.assign(c, env.RID, a)
		})
	case wire.TypeSupervisorWatch:
		return decode(env, func(w wire.Watch) error {
			return c.s.router.watch(c, env.RID, w)
		})
	case wire.TypeConvTransfer, wire.TypeConvInvite, wire.TypeConvConsultLeave, wire.TypeConvMessage:
		return c.routingRequest(env)
	default:
		return wire.Errorf(wire.EUNKNOWNTYPE, "unknown message type %.40q", env.Type)
	}
}

// canRead checks that the connection may read conv's transcript: a customer their own
// conversation, an agent the ones assigned to them, a supervisor or admin any of their
// organisation.
func (c *conn) canRead(id wire.ConversationID) error {
	if id == "" {
		return wire.Errorf(wire.EINVALID, "conv is missing")
	}
	if c.role == wire.RoleCustomer && id != c.conv {
		return ErrConvNotFound
	}
	conv, err := c.s.store.Conversation(c.s.ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && conv.Org != c.org) {
		return ErrConvNotFound
	}
	if err != nil {
		return err
	}
	if c.role == wire.RoleAgent && conv.AgentID != c.user.ID && !c.s.router.isConsultant(id, c.user.ID) {
		return ErrConvNotFound
	}
	return nil
}

// writer writes queued frames, and reads the store for replays and sync answers, until the queue
// is empty or the connection is gone. At most one runs per connection (see writing).
func (c *conn) writer() {
	for {
		var o *out
		select {
		case <-c.gone:
			return
		case o = <-c.send:
		default:
			// Queue empty: stop, unless a push slipped in after the check (it saw writing
			// still true and started no writer).
			c.writing.Store(false)
			if len(c.send) == 0 || !c.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		var err error
		switch {
		case o.frame != nil:
			err = c.write(o.frame)
		case o.replay != nil:
			err = c.writeReplay(o.replay)
		case o.receipts != nil:
			err = c.writeReceipts(o.receipts)
		case o.sync != nil:
			err = c.writeSync(o.sync)
		}
		if err != nil {
			c.kill()
			return
		}
	}
}

func (c *conn) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(c.s.ctx, writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, frame)
}

// writeReplay sends the messages a reconnecting client missed.
func (c *conn) writeReplay(rs []replay) error {
	for _, r := range rs {
		after := r.after
	conv:
		for after < r.upTo {
			msgs, err := c.s.store.Messages(c.s.ctx, r.conv, after, historyPage)
			if err != nil {
				return err
			}
			if len(msgs) == 0 {
				break
			}
			for _, m := range msgs {
				if m.Seq > r.upTo {
					break conv // newer messages go out live; the next conversation's replay follows
				}
				after = m.Seq
				if m.Internal && c.role == wire.RoleCustomer {
					continue // never to a customer
				}
				frame, err := wire.Encode(wire.TypeChatMessage, "", m)
				if err != nil {
					return err
				}
				if err := c.write(frame); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeReceipts sends the delivery markers the other side set in convs. One the store cannot read
// is logged and left out: the next receipt the other side sets carries the same news.
func (c *conn) writeReceipts(convs []wire.ConversationID) error {
	for _, id := range convs {
		ctx, cancel := dbctx()
		rs, err := c.s.store.Receipts(ctx, id)
		cancel()
		if err != nil {
			c.log.Warn("reading receipts", "conv", id, "err", err)
			continue
		}
		for _, rc := range rs {
			if rc.By == authorOf(c.role) {
				continue
			}
			frame, err := wire.Encode(wire.TypeChatReceipt, "", wire.Receipt{Conv: id, Seq: rc.Seq, Kind: rc.Kind, By: rc.By})
			if err != nil {
				return err
			}
			if err := c.write(frame); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeSync answers a sync request: up to historyPage messages tagged with its RID, then the Ack
// with the last sequence number read (a customer's answer leaves internal notes out).
func (c *conn) writeSync(r *syncReq) error {
	msgs, err := c.s.store.Messages(c.s.ctx, r.conv, r.after, historyPage)
	if err != nil {
		frame, _ := wire.Encode(wire.TypeError, r.rid, wire.Error{Code: wire.EINTERNAL, Message: "internal error"})
		c.log.Error("sync failed", "err", err)
		return c.write(frame)
	}
	ack := wire.Ack{Conv: r.conv, Seq: r.after}
	for _, m := range msgs {
		ack.Seq = m.Seq
		if m.Internal && c.role == wire.RoleCustomer {
			continue // never to a customer
		}
		frame, err := wire.Encode(wire.TypeChatMessage, r.rid, m)
		if err != nil {
			return err
		}
		if err := c.write(frame); err != nil {
			return err
		}
	}
	frame, err := wire.Encode(wire.TypeAck, r.rid, ack)
	if err != nil {
		return err
	}
	return c.write(frame)
}
