package hub_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/letsencrypt/challtestsrv"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/parleyhq/parley/hub"
)

// The hub gets its certificate over ACME from a real certificate authority: Let's Encrypt's
// pebble (its CA, validation authority and ACME front end, in-process), which checks the
// TLS-ALPN-01 challenge by connecting to the hub's HTTPS port. A browser-like client then
// verifies the hub's certificate against pebble's root.
func TestACMECertificateFromARealCA(t *testing.T) {
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	// The validation authority must know the hub's HTTPS port before the hub starts.
	port, dnsPort := freeTCPPort(t), freeTCPPort(t)
	logger := log.New(io.Discard, "", 0)
	// The CA's DNS: every name is 127.0.0.1 (pebble's challtestsrv).
	dns, err := challtestsrv.New(challtestsrv.Config{DNSAddrs: []string{"127.0.0.1:" + strconv.Itoa(dnsPort)}, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	dns.SetDefaultDNSIPv4("127.0.0.1")
	dns.SetDefaultDNSIPv6("")
	go dns.Run()
	defer dns.Shutdown()
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, 0, port, false, "127.0.0.1:"+strconv.Itoa(dnsPort), store)
	front := wfe.New(logger, store, validator, authority, nil, false, false, 0, 0)
	acmeServer := httptest.NewTLSServer(front.Handler())
	defer acmeServer.Close()
	mgmt := httptest.NewTLSServer(front.ManagementHandler())
	defer mgmt.Close()

	s := startHub(t, func(c *hub.Config) {
		c.Addr = "127.0.0.1:" + strconv.Itoa(port)
		c.TLS = hub.TLSSettings{ACMEDomains: []string{"hub.parley.test"}, ACMECache: t.TempDir(), ACMEDirectory: acmeServer.URL + "/dir",
			ACMEClient: acmeServer.Client()}
	})

	// pebble's root, which issued the hub's certificate.
	res, err := mgmt.Client().Get(mgmt.URL + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(res.Body)
	res.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble's root: %q", rootPEM)
	}
	hc := &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "hub.parley.test"},
		DialContext:     (&net.Dialer{}).DialContext,
	}}
	// The first handshake waits for the order: account, challenge, validation, certificate.
	res, err = hc.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz over a certificate from ACME: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || len(res.TLS.PeerCertificates) == 0 {
		t.Fatalf("GET /healthz = %s", res.Status)
	}
	leaf := res.TLS.PeerCertificates[0]
	if err := leaf.VerifyHostname("hub.parley.test"); err != nil || time.Until(leaf.NotAfter) < 24*time.Hour {
		t.Errorf("certificate for %v until %s: %v", leaf.DNSNames, leaf.NotAfter, err)
	}
	// A name the hub was not told to serve gets no certificate.
	_, err = tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port), &tls.Config{RootCAs: roots, ServerName: "other.example"})
	if err == nil {
		t.Error("a handshake for a name outside -acme-domains succeeded")
	}
}

// freeTCPPort returns a loopback port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
