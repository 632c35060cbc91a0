package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/parleyhq/parley/app"
	"github.com/parleyhq/parley/app/policy"
)

// machinePolicy loads this machine's policy at start-up. A refused file is logged and returned:
// the window shows it and sign-in is refused until IT fixes it, never a silent default.
func machinePolicy(log *slog.Logger) (p policy.Policy, path string, err error) {
	path, _ = policy.DefaultPath()
	if o := overridePolicy(); o != "" {
		path = o
		p, err = policy.Load(o)
		if errors.Is(err, policy.ErrNoPolicy) {
			p, err = policy.Policy{}, nil
		}
	} else {
		p, err = policy.LoadMachine()
	}
	switch {
	case err != nil:
		log.Error("policy file refused; sign-in is disabled until it is fixed", "err", err)
	case p.Managed():
		log.Info("managed by policy", "path", p.Path, "hub_locked", p.IsLocked(policy.SettingHubURL))
	}
	return p, path, err
}

// refuseHub explains why a hub named on the command line (flag) is not allowed by p.
func refuseHub(p policy.Policy, flag, hubURL string) error {
	err := app.HubAllowed(p, hubURL)
	if errors.Is(err, app.ErrHubLocked) {
		return fmt.Errorf("%s %s refused: the policy file %s locks the hub URL to %s", flag, hubURL, p.Path, p.HubURL)
	}
	return err
}

// singleWriteUsage makes -h print the usage in one write, so that `parley -h | grep -q ...`
// (scripts/dist/test-dist.sh, under pipefail) cannot kill the app with SIGPIPE halfway through.
func singleWriteUsage(fl *flag.FlagSet) {
	fl.Usage = func() {
		var b bytes.Buffer
		fl.SetOutput(&b)
		fmt.Fprintf(&b, "Usage of %s:\n", fl.Name())
		fl.PrintDefaults()
		fl.SetOutput(nil)
		_, _ = os.Stderr.Write(b.Bytes())
	}
}

// overridePolicy is the policy file a dev build was pointed at, or "".
func overridePolicy() string {
	if policyFileOverride == nil {
		return ""
	}
	return policyFileOverride()
}
