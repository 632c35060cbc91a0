package hub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// HTTPS served by the hub itself: from a certificate and key on disk (read again on ReloadTLS,
// which parley-hub calls on SIGHUP), or from certificates it gets and renews over ACME
// (TLS-ALPN-01 on the HTTPS port, HTTP-01 on ACMEHTTP when set). The embedded TURN server offers
// TURN over TLS with the same certificate (turns: on TURNTLS).

// TLSSettings configures the hub's own HTTPS. Zero means plain HTTP (behind a TLS proxy).
type TLSSettings struct {
	// CertFile and KeyFile are a PEM certificate (with its chain) and its private key.
	CertFile, KeyFile string
	// ACMEDomains, when set, are the names the hub gets certificates for over ACME, renewing them
	// before they expire. Not with CertFile.
	ACMEDomains []string
	// ACMECache is the directory certificates and the ACME account key are kept in (required
	// with ACMEDomains).
	ACMECache string
	// ACMEEmail is the contact address given to the certificate authority (optional).
	ACMEEmail string
	// ACMEDirectory is the ACME directory URL; empty means Let's Encrypt's.
	ACMEDirectory string
	// ACMEHTTP is the address of a plain HTTP listener for HTTP-01 challenges that redirects
	// everything else to HTTPS, e.g. ":80"; empty for TLS-ALPN-01 only.
	ACMEHTTP string
	// ACMEClient talks to the ACME directory; nil means http.DefaultClient (tests hand one that
	// trusts their certificate authority).
	ACMEClient *http.Client
	// TURNTLS is the address the embedded TURN server takes TURN over TLS on, e.g. ":5349",
	// with the hub's certificate; empty for none.
	TURNTLS string
	// TURNName is the name clients reach the embedded TURN server by over TLS (it must be on the
	// certificate); empty means the first ACME domain, else Config.PublicURL's host.
	TURNName string
}

// enabled says whether the hub serves HTTPS.
func (t TLSSettings) enabled() bool { return t.CertFile != "" || len(t.ACMEDomains) > 0 }

// certFiles is a certificate read from disk, swapped whole on reload.
type certFiles struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

func (c *certFiles) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("hub: TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("hub: TLS certificate %s: %w", c.certFile, err)
	}
	cert.Leaf = leaf
	c.cur.Store(&cert)
	return nil
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cur.Load(), nil }

// setupTLS checks the settings, loads the certificate, and makes the TLS configuration both
// HTTPS and TURN over TLS use. It runs in Open, so a bad certificate stops the hub at start.
func (s *Server) setupTLS() error {
	t := s.cfg.TLS
	if !t.enabled() {
		if t.TURNTLS != "" {
			return errors.New("hub: TURN over TLS needs the hub's certificate (-tls-cert and -tls-key, or -acme-domains)")
		}
		return nil
	}
	// WebSocket needs HTTP/1.1 (browsers would try WebSocket over HTTP/2 only where a server
	// offers it, and this one does not).
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	switch {
	case t.CertFile != "" && len(t.ACMEDomains) > 0:
		return errors.New("hub: give -tls-cert and -tls-key, or -acme-domains, not both")
	case t.CertFile != "":
		if t.KeyFile == "" {
			return errors.New("hub: -tls-cert needs -tls-key")
		}
		s.certs = &certFiles{certFile: t.CertFile, keyFile: t.KeyFile}
		if err := s.certs.load(); err != nil {
			return err
		}
		base.GetCertificate = s.certs.get
	default:
		if t.ACMECache == "" {
			return errors.New("hub: -acme-domains needs -acme-cache, a directory for the certificates")
		}
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, Cache: autocert.DirCache(t.ACMECache), HostPolicy: autocert.HostWhitelist(t.ACMEDomains...),
			Email: t.ACMEEmail, Client: &acme.Client{DirectoryURL: t.ACMEDirectory, HTTPClient: t.ACMEClient}}
		if t.ACMEDirectory == "" {
			m.Client.DirectoryURL = autocert.DefaultACMEDirectory
		}
		s.acme = m
		base.GetCertificate = m.GetCertificate
		base.NextProtos = append(base.NextProtos, acme.ALPNProto)
	}
	s.tlsConf = base
	return nil
}

// ReloadTLS reads the certificate and key files again (parley-hub does on SIGHUP): new
// connections get the new certificate, open ones keep theirs. On an error the old certificate
// stays.
func (s *Server) ReloadTLS() error {
	if s.certs == nil {
		return errors.New("hub: no certificate files to reload (HTTPS is off or uses ACME)")
	}
	if err := s.certs.load(); err != nil {
		s.log.Error("TLS certificate not reloaded; the old one stays", "err", err)
		return err
	}
	leaf := s.certs.cur.Load().Leaf
	s.log.Info("TLS certificate reloaded", "names", leaf.DNSNames, "not_after", leaf.NotAfter.Format(time.RFC3339))
	return nil
}

// listenTLS wraps the hub's listener in TLS and starts the ACME HTTP-01 listener when asked.
func (s *Server) listenTLS(ln net.Listener) (net.Listener, error) {
	if s.tlsConf == nil {
		return ln, nil
	}
	if s.acme != nil && s.cfg.TLS.ACMEHTTP != "" {
		hl, err := net.Listen("tcp", s.cfg.TLS.ACMEHTTP)
		if err != nil {
			return nil, fmt.Errorf("hub: ACME HTTP listener: %w", err)
		}
		s.acmeHTTP = &http.Server{Handler: s.acme.HTTPHandler(nil), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.acmeHTTP.Serve(hl) }()
		s.log.Info("ACME HTTP-01 listener (and redirect to HTTPS)", "addr", hl.Addr().String())
	}
	return tls.NewListener(ln, s.tlsConf), nil
}

// turnName is the name clients reach the embedded TURN server by over TLS.
func (s *Server) turnName() string {
	t := s.cfg.TLS
	switch {
	case t.TURNName != "":
		return t.TURNName
	case len(t.ACMEDomains) > 0:
		return t.ACMEDomains[0]
	}
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	if s.certs != nil {
		if leaf := s.certs.cur.Load().Leaf; len(leaf.DNSNames) > 0 {
			return leaf.DNSNames[0]
		}
	}
	return ""
}

// withTURNName puts the TLS name into the embedded relay's turns: URLs: a client checks the
// certificate against the name it dials.
func (s *Server) withTURNName(urls []string) []string {
	name := s.turnName()
	if name == "" {
		return urls
	}
	out := make([]string, 0, len(urls))
	for _, u := range urls {
		if rest, ok := strings.CutPrefix(u, "turns:"); ok {
			hostport, query, _ := strings.Cut(rest, "?")
			if _, port, err := net.SplitHostPort(hostport); err == nil {
				u = "turns:" + net.JoinHostPort(name, port)
				if query != "" {
					u += "?" + query
				}
			}
		}
		out = append(out, u)
	}
	return out
}
