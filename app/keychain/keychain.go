// Package keychain keeps the agent's provider credentials in the operating system's keychain
// (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows) through
// zalando/go-keyring, with a timeout on every call because a locked keyring can block forever,
// and an in-memory store for credentials the agent chooses to keep for this session only.
package keychain

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Store keeps secrets by service and account.
type Store interface {
	// Get returns the secret, or ErrNotFound.
	Get(service, account string) (string, error)
	// Set stores the secret, replacing any.
	Set(service, account, secret string) error
	// Delete removes the secret; deleting a missing one is not an error.
	Delete(service, account string) error
}

// Backend is the keyring the OS store calls; go-keyring's package functions by default.
type Backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (goKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// DefaultTimeout bounds one keychain call.
const DefaultTimeout = 3 * time.Second

// maxSecretBytes is the smallest platform limit (Windows' Credential Manager), so a secret that
// works on one platform works on all.
const maxSecretBytes = 2560

// OS is the operating system's keychain. Calls run one at a time, each bounded by a timeout: a
// call that does not return in time reports ErrLocked, and while it stays stuck the next calls
// report ErrLocked too (after waiting the timeout for it), so stuck calls never pile up.
type OS struct {
	backend Backend
	timeout time.Duration
	// turn holds one token; a call takes it to run and its goroutine gives it back on return.
	turn chan struct{}
}

// NewOS returns the OS keychain with a timeout per call (DefaultTimeout when 0). backend nil
// means go-keyring.
func NewOS(backend Backend, timeout time.Duration) *OS {
	if backend == nil {
		backend = goKeyring{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	k := &OS{backend: backend, timeout: timeout, turn: make(chan struct{}, 1)}
	k.turn <- struct{}{}
	return k
}

// do runs f on its own goroutine and waits at most the timeout for it.
func (k *OS) do(f func() error) error {
	deadline := time.NewTimer(k.timeout)
	defer deadline.Stop()
	select {
	case <-k.turn:
	case <-deadline.C:
		return ErrLocked // the previous call is still stuck
	}
	done := make(chan error, 1)
	go func() {
		err := f()
		k.turn <- struct{}{}
		done <- err
	}()
	select {
	case err := <-done:
		return classify(err)
	case <-deadline.C:
		return ErrLocked
	}
}

// classify maps go-keyring's errors to this package's. Other errors say the keychain refused or
// is missing; their text never holds the secret.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return ErrTooBig
	case strings.Contains(err.Error(), "failed to unlock"):
		// The keyring is locked and its unlock prompt could not be shown (no display).
		return errors.Join(ErrLocked, err)
	default:
		return errors.Join(ErrUnavailable, err)
	}
}

// Get implements Store.
func (k *OS) Get(service, account string) (string, error) {
	var secret string
	err := k.do(func() error {
		var err error
		secret, err = k.backend.Get(service, account)
		return err
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Set implements Store.
func (k *OS) Set(service, account, secret string) error {
	if len(service)+len(account)+len(secret) > maxSecretBytes {
		return ErrTooBig
	}
	return k.do(func() error { return k.backend.Set(service, account, secret) })
}

// Delete implements Store.
func (k *OS) Delete(service, account string) error {
	err := k.do(func() error { return k.backend.Delete(service, account) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Session keeps secrets in memory until the app quits: the agent's choice when the keychain is
// locked or missing.
type Session struct {
	mu sync.Mutex
	m  map[[2]string]string
}

// NewSession returns an empty session store.
func NewSession() *Session { return &Session{m: map[[2]string]string{}} }

// Get implements Store.
func (s *Session) Get(service, account string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[[2]string{service, account}]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

// Set implements Store.
func (s *Session) Set(service, account, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[[2]string{service, account}] = secret
	return nil
}

// Delete implements Store.
func (s *Session) Delete(service, account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, [2]string{service, account})
	return nil
}
