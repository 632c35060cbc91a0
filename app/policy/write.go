package policy

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write validates p and writes it to path atomically (a temporary file renamed over the old one),
// creating the folder where needed with permissions that let only administrators change it.
// Installers use it, through parley-policy, to turn their parameters into the policy file.
func Write(path string, p Policy) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	data, err := p.MarshalJSON()
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := makeAdminDir(dir); err != nil {
		return fmt.Errorf("policy: creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".policy-*.json")
	if err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("policy: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("policy: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	return nil
}
