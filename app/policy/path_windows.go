package policy

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// DefaultPath is where the machine's policy file lives: %ProgramData%\Parley\policy.json. The
// folder comes from the shell's known-folder API, not the PROGRAMDATA variable, which any user
// can set to point the app at a policy of their own.
func DefaultPath() (string, error) {
	dir, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil {
		return "", fmt.Errorf("policy: locating ProgramData: %w", err)
	}
	return filepath.Join(dir, "Parley", "policy.json"), nil
}
