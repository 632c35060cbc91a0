//go:build !windows

package policy

import "os"

// makeAdminDir creates dir (0755: readable by all, writable by its owner, root when installers
// run it).
func makeAdminDir(dir string) error { return os.MkdirAll(dir, 0o755) }
