package hub

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strconv"

	"github.com/parleyhq/parley/wire"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Who may read /metrics (and, with Config.Debug, /debug/pprof/): they say how busy each
// organisation is, who is connected and what was refused, so not anyone on the Internet. With
// Config.MetricsToken, a request needs "Authorization: Bearer <token>"; without one, only a
// client on this machine connected directly. A reverse proxy forwards strangers, so a request
// that came through one is refused: one naming a forwarded client, and any from a trusted
// proxy's address (a proxy that forwards without X-Forwarded-For looks like a local client).
// Config.MetricsAddr serves them on an address of their own (a private interface for the
// scraper, or a loopback port the proxy does not forward) instead of the hub's.

// ErrMetricsRefused refuses /metrics to a request that may not read it.
var ErrMetricsRefused = &wire.Error{Code: wire.EFORBIDDEN, Message: "metrics are for this machine (not through a proxy), -metrics-addr or -metrics-token-file"}

// opsHandler serves /metrics and, with Config.Debug, the profiler.
func (s *Server) opsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	if s.cfg.Debug {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mayReadMetrics(r) {
			if s.cfg.MetricsToken != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="parley metrics"`)
				writeError(w, ErrTokenInvalid)
				return
			}
			writeError(w, ErrMetricsRefused)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) mayReadMetrics(r *http.Request) bool {
	if s.cfg.MetricsToken != "" {
		got := bearer(r)
		return subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.MetricsToken)) == 1
	}
	if s.cfg.MetricsAddr != "" {
		return true // its own listener, on an address the operator chose for the scraper
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			return false
		}
	}
	return addr.IsLoopback() && r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == ""
}

// startOps serves /metrics on Config.MetricsAddr, when set.
func (s *Server) startOps() error {
	if s.cfg.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return err
	}
	s.ops = &http.Server{Handler: s.opsHandler(), ReadHeaderTimeout: s.cfg.Limits.HelloTimeout, IdleTimeout: 2 * s.cfg.Limits.IdleTimeout}
	s.opsLn = ln
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := s.ops.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics stopped serving", "err", err)
		}
	}()
	return nil
}

// MetricsURL returns the URL of /metrics on Config.MetricsAddr once started, or "".
func (s *Server) MetricsURL() string {
	if s.opsLn == nil {
		return ""
	}
	addr := s.opsLn.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)) + "/metrics"
}
