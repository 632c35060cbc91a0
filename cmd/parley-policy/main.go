// Command parley-policy checks and writes the agent app's per-machine policy file. IT runs
// "parley-policy check" before rolling a policy out; the Windows installers run "parley-policy
// set" to turn their silent-install parameters (HUBURL=...) into the policy file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleyhq/parley/app/policy"
	"github.com/parleyhq/parley/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  parley-policy check [FILE]          validate a policy file (default: this machine's)
  parley-policy set [flags]           write or update this machine's policy file
      -file FILE  -hub-url URL  -org ID  -region NAME  -provider NAME  -lock SETTING,...
  parley-policy install SOURCE [-file FILE]
                                      validate SOURCE and install it as the policy file
  parley-policy path                  print where this machine's policy file lives
  parley-policy --version
`

// run is the whole command, returning the exit status: 0 done, 1 refused, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	defPath, err := policy.DefaultPath()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch args[0] {
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, "parley-policy", version.Version)
		return 0
	case "path":
		fmt.Fprintln(stdout, defPath)
		return 0
	case "check":
		path := defPath
		if len(args) > 1 {
			path = args[1]
		}
		p, err := policy.Load(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := p.WriteSummary(stdout); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case "set":
		fs := flag.NewFlagSet("set", flag.ContinueOnError)
		fs.SetOutput(stderr)
		file := fs.String("file", defPath, "policy file to write")
		hub := fs.String("hub-url", "", "hub URL")
		org := fs.String("org", "", "organisation id")
		region := fs.String("region", "", "region")
		provider := fs.String("provider", "", "co-browse / screen-share provider")
		lock := fs.String("lock", "", "comma-separated settings to lock")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		// Update an existing policy rather than drop what IT put there by other means; a
		// malformed one is an error, never silently replaced.
		p, err := policy.Load(*file)
		if err != nil && !errors.Is(err, policy.ErrNoPolicy) {
			fmt.Fprintln(stderr, err)
			return 1
		}
		set := func(dst *string, v string) {
			if v = strings.TrimSpace(v); v != "" {
				*dst = v
			}
		}
		set(&p.HubURL, *hub)
		set(&p.Org, *org)
		set(&p.Region, *region)
		set(&p.Provider, *provider)
		for _, s := range strings.Split(*lock, ",") {
			if s = strings.TrimSpace(s); s != "" && !p.IsLocked(policy.Setting(s)) {
				p.Locked = append(p.Locked, policy.Setting(s))
			}
		}
		if err := policy.Write(*file, p); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, "wrote", *file)
		return 0
	case "install":
		fs := flag.NewFlagSet("install", flag.ContinueOnError)
		fs.SetOutput(stderr)
		file := fs.String("file", defPath, "policy file to write")
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			fmt.Fprint(stderr, usage)
			return 2
		}
		if err := fs.Parse(args[2:]); err != nil {
			return 2
		}
		p, err := policy.Load(args[1])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := policy.Write(*file, p); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, "wrote", *file)
		return 0
	}
	fmt.Fprint(stderr, usage)
	return 2
}
