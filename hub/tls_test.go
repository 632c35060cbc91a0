package hub_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/relay"
	"github.com/parleyhq/parley/wire"
	"github.com/pion/turn/v5"
	"golang.org/x/crypto/bcrypt"
)

// testCA is a certificate authority made in the test, and the files of a certificate it signed
// for the hub.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Parley test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

// issue writes a certificate for names (and 127.0.0.1) to certFile and keyFile.
func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string, names ...string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// servedSerial is the serial number of the certificate a new TLS connection to addr gets.
func servedSerial(t *testing.T, addr, name string, pool *x509.CertPool) int64 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: name, RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestHTTPSReloadsOnRequest(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	certFile, keyFile := dir+"/hub.pem", dir+"/hub.key"
	ca.issue(t, 100, certFile, keyFile, "hub.parley.test")
	s := startHub(t, func(c *hub.Config) {
		c.TLS = hub.TLSSettings{CertFile: certFile, KeyFile: keyFile}
	})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %s; want https", s.URL())
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}}
	res, err := hc.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.Proto != "HTTP/1.1" {
		t.Errorf("GET /healthz over TLS = %s %s", res.Status, res.Proto)
	}
	// Sign in and connect over wss:// with the certificate verified.
	res, err = hc.Post(s.URL()+"/api/v1/login", "application/json", strings.NewReader(`{"org":"demo","username":"agent1","password":"demo"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login wire.LoginResponse
	if err := json.NewDecoder(res.Body).Decode(&login); err != nil || login.Token == "" {
		t.Fatalf("login over TLS: %v", err)
	}
	res.Body.Close()
	c, err := client.Dial(ctx(t), s.URL(), login.Token, client.Options{HTTPClient: hc})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	if c.Welcome().Role != wire.RoleAgent {
		t.Errorf("welcome over wss = %+v", c.Welcome())
	}
	c.Close()
	addr := strings.TrimPrefix(s.URL(), "https://")
	if got := servedSerial(t, addr, "hub.parley.test", ca.pool); got != 100 {
		t.Fatalf("served serial %d; want 100", got)
	}
	// A renewed certificate is served after a reload, without a restart.
	ca.issue(t, 200, certFile, keyFile, "hub.parley.test")
	if err := s.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, "hub.parley.test", ca.pool); got != 200 {
		t.Errorf("served serial after reload %d; want 200", got)
	}
	// A broken file keeps the old certificate.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.ReloadTLS(); err == nil {
		t.Error("reloading a broken certificate: no error")
	}
	if got := servedSerial(t, addr, "hub.parley.test", ca.pool); got != 200 {
		t.Errorf("served serial after a broken reload %d; want 200", got)
	}
}

func TestHTTPSRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	for _, tls := range []hub.TLSSettings{
		{CertFile: dir + "/missing.pem", KeyFile: dir + "/missing.key"},
		{CertFile: dir + "/a.pem"},
		{CertFile: dir + "/a.pem", KeyFile: dir + "/a.key", ACMEDomains: []string{"x.example"}},
		{ACMEDomains: []string{"x.example"}},
		{TURNTLS: "127.0.0.1:0"},
	} {
		_, err := hub.Open(context.Background(), hub.Config{DB: dir + "/h.db", TLS: tls, BcryptCost: bcrypt.MinCost})
		if err == nil {
			t.Errorf("Open with %+v: no error", tls)
		}
	}
}

func TestTURNOverTLSWithTheHubsCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	ca.issue(t, 7, dir+"/hub.pem", dir+"/hub.key", "hub.parley.test")
	const secret = "turn-test-secret"
	s := startHub(t, func(c *hub.Config) {
		c.TLS = hub.TLSSettings{CertFile: dir + "/hub.pem", KeyFile: dir + "/hub.key", TURNTLS: "127.0.0.1:0"}
		c.PublicURL = "https://hub.parley.test"
		c.TURNSecret = secret
		c.TURNUDP = "127.0.0.1:0"
	})
	var turns string
	for _, u := range s.RelayURLs() {
		if strings.HasPrefix(u, "turns:") {
			turns = u
		}
	}
	port := s.TURN().TLSAddr().Port
	if want := "turns:hub.parley.test:" + itoa(port) + "?transport=tcp"; turns != want {
		t.Fatalf("TURN over TLS URL = %q; want %q (the certificate's name)", turns, want)
	}
	// A client that checks the certificate against that name allocates a relay through it.
	conn, err := tls.Dial("tcp", s.TURN().TLSAddr().String(), &tls.Config{ServerName: "hub.parley.test", RootCAs: ca.pool})
	if err != nil {
		t.Fatal(err)
	}
	user := relay.Username(time.Now().Add(time.Hour), "call/test")
	cl, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: conn.RemoteAddr().String(), TURNServerAddr: conn.RemoteAddr().String(),
		Conn: turn.NewSTUNConn(conn), Username: user, Password: relay.Password(secret, user), RTO: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := cl.Allocate()
	if err != nil {
		t.Fatalf("allocate over TLS: %v", err)
	}
	relayed.Close()
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }
