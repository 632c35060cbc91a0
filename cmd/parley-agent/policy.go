package main

import (
	"fmt"
	"os"

	"github.com/parleyhq/parley/app/policy"
)

// The -policy flag: which policy file the agent obeys, as the desktop app obeys the machine's.
const (
	// policyMachine is this machine's policy file (policy.DefaultPath: /etc/parley/policy.json,
	// %ProgramData%\Parley\policy.json, /Library/Application Support/Parley/policy.json).
	policyMachine = "machine"
	// policyNone ignores any policy file (load tests on a managed machine).
	policyNone = "none"
)

// loadPolicy reads the policy -policy names, as the desktop app reads the machine's at start:
// a managed machine locks the hub the same way for both, and a refused file refuses sign-in
// (the services return EPOLICY). It returns the policy, its path and why it was refused.
func (m *Main) loadPolicy() (p policy.Policy, path string, err error) {
	switch m.PolicyFile {
	case policyNone:
		return policy.Policy{}, "", nil
	case policyMachine, "":
		if path, err = policy.DefaultPath(); err != nil {
			return policy.Policy{}, "", err
		}
		p, err = policy.LoadMachine()
	default:
		path = m.PolicyFile
		p, err = policy.Load(path)
	}
	switch {
	case err != nil:
		m.log.Error("policy file refused; sign-in is refused until it is fixed", "path", path, "err", err)
	case p.Managed():
		m.log.Info("managed by policy", "path", p.Path, "hub_url", p.HubURL, "hub_locked", p.IsLocked(policy.SettingHubURL))
	}
	return p, path, err
}

// checkPolicyFlag refuses a -policy file that is not there: a typo must not run unmanaged.
func checkPolicyFlag(v string) error {
	if v == policyMachine || v == policyNone {
		return nil
	}
	if _, err := os.Stat(v); err != nil {
		return fmt.Errorf("-policy %s: %w", v, err)
	}
	return nil
}
