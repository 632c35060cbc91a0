//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// dropToOwner makes a subcommand run as root act as the owner of the database's folder (the
// hub service's user), so the database files it creates or grows stay the service's.
func dropToOwner(db string) error {
	if os.Geteuid() != 0 || strings.Contains(db, "://") {
		return nil // not root, or not a file: a database server
	}
	dir := filepath.Dir(db)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil // the database will say what is wrong
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("acting as the owner of %s: %w", dir, err)
	}
	if err := syscall.Setgid(int(st.Gid)); err != nil {
		return fmt.Errorf("acting as the owner of %s: %w", dir, err)
	}
	if err := syscall.Setuid(int(st.Uid)); err != nil {
		return fmt.Errorf("acting as the owner of %s: %w", dir, err)
	}
	return nil
}
