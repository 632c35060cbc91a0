package pgtest

import "syscall"

// serverAttr runs the postmaster as cred in its own process group, and has the kernel send it
// SIGQUIT if the thread that started it dies (Linux's Pdeathsig), so a killed test binary leaves
// no server behind.
func serverAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
}
