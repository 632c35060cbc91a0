package keychain_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/app/keychain"
	"github.com/zalando/go-keyring"
)

// stuck is a keyring whose calls block until released, as a locked Secret Service does while its
// unlock prompt waits for nobody.
type stuck struct{ release chan struct{} }

func (s stuck) Get(string, string) (string, error) { <-s.release; return "", keyring.ErrNotFound }
func (s stuck) Set(string, string, string) error   { <-s.release; return nil }
func (s stuck) Delete(string, string) error        { <-s.release; return nil }

func TestStuckKeychainIsLocked(t *testing.T) {
	b := stuck{release: make(chan struct{})}
	defer close(b.release)
	k := keychain.NewOS(b, 50*time.Millisecond)
	if err := k.Set("parley", "agent", "pw"); !errors.Is(err, keychain.ErrLocked) {
		t.Fatalf("Set on a stuck keychain = %v; want ErrLocked", err)
	}
	// The first call is still stuck: the next ones give up too instead of piling up.
	if _, err := k.Get("parley", "agent"); !errors.Is(err, keychain.ErrLocked) {
		t.Fatalf("Get behind a stuck call = %v; want ErrLocked", err)
	}
}

type failing struct{ err error }

func (f failing) Get(string, string) (string, error) { return "", f.err }
func (f failing) Set(string, string, string) error   { return f.err }
func (f failing) Delete(string, string) error        { return f.err }

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		backend error
		want    error
	}{
		{keyring.ErrNotFound, keychain.ErrNotFound},
		{keyring.ErrSetDataTooBig, keychain.ErrTooBig},
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files"), keychain.ErrUnavailable},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), keychain.ErrLocked},
	} {
		k := keychain.NewOS(failing{tc.backend}, time.Second)
		if _, err := k.Get("parley", "a"); !errors.Is(err, tc.want) {
			t.Errorf("Get with backend error %q = %v; want %v", tc.backend, err, tc.want)
		}
	}
	k := keychain.NewOS(failing{keyring.ErrNotFound}, time.Second)
	if err := k.Delete("parley", "a"); err != nil {
		t.Errorf("Delete of a missing secret = %v; want nil", err)
	}
	if err := k.Set("parley", "a", strings.Repeat("x", 3000)); !errors.Is(err, keychain.ErrTooBig) {
		t.Errorf("Set of 3000 bytes = %v; want ErrTooBig", err)
	}
}

func TestSession(t *testing.T) {
	s := keychain.NewSession()
	if _, err := s.Get("p", "a"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get of nothing = %v", err)
	}
	_ = s.Set("p", "a", "pw")
	if v, err := s.Get("p", "a"); v != "pw" || err != nil {
		t.Fatalf("Get = %q, %v; want pw", v, err)
	}
	_ = s.Delete("p", "a")
	if _, err := s.Get("p", "a"); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
}

// TestRealGnomeKeyring stores, reads and deletes a secret in a real gnome-keyring, then locks the
// keyring and checks a call reports ErrLocked within the timeout instead of hanging. It needs a
// private session bus with an unlocked gnome-keyring: `make test-keychain` provides one (never run
// it against your desktop's keyring: it locks it). Without PARLEY_KEYCHAIN_TEST=1 it skips.
func TestRealGnomeKeyring(t *testing.T) {
	if os.Getenv("PARLEY_KEYCHAIN_TEST") != "1" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("needs a private session bus with gnome-keyring: make test-keychain")
	}
	k := keychain.NewOS(nil, 3*time.Second)
	const svc, acct = "parley-test", "agent1@acme"
	if err := k.Set(svc, acct, "s3cret"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	// Another client (libsecret's secret-tool) sees it: it is in the real keyring.
	out, err := exec.Command("secret-tool", "lookup", "service", svc, "username", acct).Output()
	if err != nil || string(out) != "s3cret" {
		t.Fatalf("secret-tool lookup = %q, %v; want s3cret", out, err)
	}
	if v, err := k.Get(svc, acct); v != "s3cret" || err != nil {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := k.Delete(svc, acct); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(svc, acct); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get after Delete = %v; want ErrNotFound", err)
	}
	if err := k.Set(svc, acct, "again"); err != nil {
		t.Fatalf("Set: %v", err)
	}

	// Lock the keyring: go-keyring now asks for an unlock prompt that nobody answers.
	lock := exec.Command("gdbus", "call", "--session", "--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
		"--method", "org.freedesktop.Secret.Service.Lock", "['/org/freedesktop/secrets/collection/login']")
	if out, err := lock.CombinedOutput(); err != nil {
		t.Fatalf("locking the keyring: %v: %s", err, out)
	}
	locked := keychain.NewOS(nil, time.Second)
	start := time.Now()
	_, err = locked.Get(svc, acct)
	took := time.Since(start)
	if !errors.Is(err, keychain.ErrLocked) {
		t.Fatalf("Get from a locked keyring = %v; want ErrLocked", err)
	}
	if took > 3*time.Second {
		t.Fatalf("Get from a locked keyring took %v; want about the 1 s timeout", took)
	}
	t.Logf("locked keyring: %v after %v", err, took.Round(time.Millisecond))
	if err := locked.Set(svc, acct, "x"); !errors.Is(err, keychain.ErrLocked) {
		t.Fatalf("Set into a locked keyring = %v; want ErrLocked", err)
	}
}
