package policy

// DefaultPath is where the machine's policy file lives:
// /Library/Application Support/Parley/policy.json.
func DefaultPath() (string, error) {
	return "/Library/Application Support/Parley/policy.json", nil
}
