package hub

import (
	"context"
	"net"
	"sync"
	"time"
)

// Connection caps and deadlines: everywhere a stranger can connect, a connection costs the hub a
// socket and memory, so they are counted and bounded: TCP connections in all (capListener), the
// WebSockets of one address before their Hello and of one address's customers, of one
// conversation's customer and of one account (conn.go), and a WebSocket that goes silent and does
// not answer a ping is closed (sweepIdle).

// DefaultMaxConns is how many TCP connections the hub holds at once when Config.MaxConns is 0.
const DefaultMaxConns = 20_000

// capListener closes the connections accepted past Config.MaxConns at once, counting them.
func (s *Server) capListener(ln net.Listener) net.Listener {
	return &capListener{Listener: ln, s: s, sem: make(chan struct{}, s.cfg.MaxConns)}
}

type capListener struct {
	net.Listener
	s   *Server
	sem chan struct{}
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.sem <- struct{}{}:
			l.s.metrics.tcpConns.Inc()
			return &cappedConn{Conn: c, release: func() { <-l.sem; l.s.metrics.tcpConns.Dec() }}, nil
		default:
			l.s.metrics.connsRefused.WithLabelValues("tcp_cap").Inc()
			l.s.log.Warn("connection refused: the hub holds its maximum", "max", l.s.cfg.MaxConns, "client", c.RemoteAddr())
			_ = c.Close()
		}
	}
}

// cappedConn gives its place back when closed.
type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// sweepIdle pings the WebSockets that have sent nothing for Limits.IdleTimeout and closes those
// that do not answer within as long again: a vanished laptop or a half-open socket must not hold
// its place (and, for an agent, look online) forever. The web clients ping every 20 s; the Go
// client answers the hub's pings while it reads.
func (s *Server) sweepIdle() {
	idle := s.cfg.Limits.IdleTimeout
	if idle <= 0 {
		return
	}
	t := time.NewTicker(max(idle/2, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		var conns []*conn
		_ = s.router.call(func() error {
			conns = make([]*conn, 0, len(s.router.conns))
			for c := range s.router.conns {
				conns = append(conns, c)
			}
			return nil
		})
		now := time.Now()
		for _, c := range conns {
			if now.Sub(time.Unix(0, c.lastRead.Load())) < idle || !c.pinging.CompareAndSwap(false, true) {
				continue
			}
			go c.checkAlive(idle)
		}
	}
}

// checkAlive pings c and closes it if no answer comes within d.
func (c *conn) checkAlive(d time.Duration) {
	defer c.pinging.Store(false)
	ctx, cancel := context.WithTimeout(c.s.ctx, d)
	defer cancel()
	if err := c.ws.Ping(ctx); err != nil {
		select {
		case <-c.gone:
			return // it went by itself
		default:
		}
		c.s.metrics.idleClosed.Inc()
		c.log.Info("connection silent and not answering pings; closed", "idle", d)
		c.kill()
		return
	}
	c.lastRead.Store(time.Now().UnixNano())
}
