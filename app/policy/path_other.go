//go:build !windows && !darwin

package policy

// DefaultPath is where the machine's policy file lives: /etc/parley/policy.json.
func DefaultPath() (string, error) { return "/etc/parley/policy.json", nil }
