//go:build !linux

package pgtest

import "syscall"

// serverAttr runs the postmaster as cred in its own process group. Without Linux's Pdeathsig, a
// killed test binary can leave the server running; Close stops it otherwise.
func serverAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
