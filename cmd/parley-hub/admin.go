package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/wire"
)

// The subcommands: parley-hub init | org ... | user ... work on the hub's database directly, the
// way IT scripts them. Each takes -db (PARLEY_DB) and -public-url (PARLEY_PUBLIC_URL), prints a
// sentence (or JSON with --json) on stdout, and exits with a code that says what went wrong.

// Exit codes of the subcommands.
const (
	exitOK       = 0
	exitFailed   = 1 // the database or the machine failed
	exitUsage    = 2 // unknown subcommand or flag, missing argument
	exitRefused  = 3 // bad input: a bad name, a weak password, a value out of range
	exitConflict = 4 // already exists, or not possible now (the last admin, a used link)
	exitNotFound = 5 // no such organisation or member
)

// envFile is the hub service's environment file. Subcommands read it when it exists, so they work
// on the service's database with its settings; variables already set win.
var envFile = "/etc/default/parley-hub"

const adminUsage = `Usage:
  parley-hub [flags]                        run the hub (parley-hub -h lists the flags)
  parley-hub init --org ID --name NAME --admin USER [--email E] [--region R] [--calls C] [--language L]
  parley-hub org list
  parley-hub org create ID --name NAME [--region R] [--calls C] [--language L]
  parley-hub org rename ID NAME
  parley-hub org set ID [--region R] [--calls C] [--language L] [--password-signin=true|false]
  parley-hub user add --org ID USER [--name NAME] [--role agent|supervisor|admin] [--capacity N] [--email E]
  parley-hub user list --org ID [--search TEXT] [--role ROLE]
  parley-hub user set --org ID USER [--name NAME] [--role ROLE] [--capacity N] [--email E]
  parley-hub user disable --org ID USER
  parley-hub user enable --org ID USER
  parley-hub user reset --org ID USER
  parley-hub user token --org ID USER [--ttl 24h]
  parley-hub queue list|set|delete|member|prechat --org ID ...   (parley-hub queue lists them)

init creates an organisation and its first admin, and prints a one-time setup link where the
admin chooses a password (no password is ever given on the command line). user add and user
reset print such a link too; links expire after 72 hours and work once. user token prints a
session token for automation (parley-agent -token): treat it as a password.

Every subcommand takes:
  -db DB            the hub's database: a SQLite file or postgres://... (PARLEY_DB; default parley.db)
  -db-file FILE     a file holding -db, e.g. a PostgreSQL address with its password (PARLEY_DB_FILE)
  -public-url URL   the address people reach the hub at, for the links (PARLEY_PUBLIC_URL)
  --json            print JSON instead of sentences (errors too, on stderr)
They read the service's environment file, /etc/default/parley-hub, when it exists (variables
already set win). Run as root, they act as the owner of the database's folder (the service's
user), so the files they write stay readable by the service. A running hub applies the changes
within two seconds (a disabled member's sessions end, their conversations go back to the queue).

Exit codes: 0 done; 1 failed (database, machine); 2 usage; 3 refused (bad name, weak password,
bad value); 4 conflict (exists already, the last admin); 5 not found.
`

// isSubcommand says whether args start with a subcommand rather than the server's flags.
func isSubcommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "init", "org", "user", "queue", "help":
		return true
	}
	return false
}

// admin is one run of a subcommand.
type admin struct {
	stdout, stderr io.Writer
	json           bool
	db, publicURL  string
	// baseURL is the public URL the links use, worked out on first use.
	baseURL string
	m       *hub.Manager
}

// runAdmin runs a subcommand and returns the process's exit code.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &admin{stdout: stdout, stderr: stderr}
	if args[0] == "help" {
		fmt.Fprint(stdout, adminUsage+"\n"+dataUsage)
		return exitOK
	}
	loadEnvFile(envFile)
	if args[0] == "queue" {
		return runQueue(ctx, a, args[1:])
	}
	cmd := args[0]
	if cmd != "init" {
		if len(args) < 2 {
			fmt.Fprint(stderr, adminUsage)
			return exitUsage
		}
		cmd += " " + args[1]
		args = args[1:]
	}
	fs := flag.NewFlagSet("parley-hub "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	fs.StringVar(&a.db, "db", envOr("PARLEY_DB", "parley.db"), "the hub's database (PARLEY_DB)")
	dbFile := fs.String("db-file", os.Getenv("PARLEY_DB_FILE"), "a file holding -db (PARLEY_DB_FILE)")
	fs.StringVar(&a.publicURL, "public-url", os.Getenv("PARLEY_PUBLIC_URL"), "the address people reach the hub at (PARLEY_PUBLIC_URL)")
	fs.BoolVar(&a.json, "json", false, "print JSON")
	var (
		org, name, adminUser, email, region, calls, language, role, search, password string
		capacity                                                                     int
		ttl                                                                          time.Duration
	)
	fs.StringVar(&org, "org", "", "organisation id")
	fs.StringVar(&name, "name", "", "name")
	fs.StringVar(&adminUser, "admin", "", "username of the first admin")
	fs.StringVar(&email, "email", "", "email address")
	fs.StringVar(&region, "region", "", "region: na, eu, gcc...")
	fs.StringVar(&calls, "calls", "", "calls: voice_video, voice or none")
	fs.StringVar(&language, "language", "", "default language: en or es")
	fs.StringVar(&role, "role", "", "role: agent, supervisor or admin")
	fs.StringVar(&search, "search", "", "search usernames, names and emails")
	fs.StringVar(&password, "password-signin", "", "allow password sign-in: true or false")
	fs.IntVar(&capacity, "capacity", 0, "chat capacity, 1 to 20")
	fs.DurationVar(&ttl, "ttl", 24*time.Hour, "the token's lifetime")
	pos, set, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	want := func(n int, what string) bool {
		if len(pos) != n {
			fmt.Fprintf(stderr, "parley-hub %s: %s\n", cmd, what)
			return false
		}
		return true
	}
	needOrg := func() bool {
		if org == "" {
			fmt.Fprintf(stderr, "parley-hub %s: --org is required\n", cmd)
			return false
		}
		return true
	}
	// Validate the command line before touching the database.
	switch cmd {
	case "init":
		if !want(0, "takes no arguments") || !needOrg() {
			return exitUsage
		}
		if name == "" || adminUser == "" {
			fmt.Fprintln(stderr, "parley-hub init: --name and --admin are required")
			return exitUsage
		}
	case "org list":
		if !want(0, "takes no arguments") {
			return exitUsage
		}
	case "org create":
		if !want(1, "needs the organisation id: org create ID --name NAME") {
			return exitUsage
		}
		if name == "" {
			fmt.Fprintln(stderr, "parley-hub org create: --name is required")
			return exitUsage
		}
	case "org rename":
		if !want(2, "needs the organisation id and its new name: org rename ID NAME") {
			return exitUsage
		}
	case "org set":
		if !want(1, "needs the organisation id: org set ID [--region R] [--calls C] [--language L] [--password-signin=B]") {
			return exitUsage
		}
		if password != "" && password != "true" && password != "false" {
			fmt.Fprintln(stderr, "parley-hub org set: --password-signin must be true or false")
			return exitUsage
		}
	case "user list":
		if !want(0, "takes no arguments") || !needOrg() {
			return exitUsage
		}
	case "user add", "user set", "user disable", "user enable", "user reset", "user token":
		if !want(1, "needs the username: "+cmd+" --org ID USER") || !needOrg() {
			return exitUsage
		}
	default:
		fmt.Fprintf(stderr, "parley-hub: unknown subcommand %q\n\n%s", cmd, adminUsage)
		return exitUsage
	}
	if a.db, err = readDB(a.db, *dbFile); err != nil {
		return a.fail(err)
	}
	if err := dropToOwner(a.db); err != nil {
		return a.fail(err)
	}
	a.m, err = hub.OpenManager(ctx, hub.Config{DB: a.db, Accounts: hub.Accounts{PublicURL: a.publicURL}})
	if err != nil {
		return a.fail(err)
	}
	defer a.m.Close()
	base := a.base
	by := hub.CommandLine
	oid := wire.OrgID(org)
	switch cmd {
	case "init":
		o, inv, err := a.m.CreateOrganisation(ctx, by, hub.NewOrg{ID: oid, Name: name, Region: region, Calls: wire.CallsAllowed(calls), Language: language},
			&hub.NewMember{Username: adminUser, Email: email, DisplayName: adminUser}, base())
		if err != nil {
			return a.fail(err)
		}
		return a.print(map[string]any{"org": orgJSON(o), "admin": hub.MemberView(inv.Member), "setup_link": inv.URL, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)},
			fmt.Sprintf("Organisation %s (%s) created, with its admin %s.\n%s\nThen sign in to the admin console: %s/admin/%s\n",
				o.ID, o.Name, inv.Member.Username, linkText(*inv), base(), o.ID))
	case "org list":
		orgs, err := a.m.Orgs(ctx)
		if err != nil {
			return a.fail(err)
		}
		out := make([]map[string]any, 0, len(orgs))
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tREGION\tCALLS\tLANGUAGE")
		for _, o := range orgs {
			out = append(out, orgJSON(o))
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Name, o.Region, o.Calls, o.Language)
		}
		tw.Flush()
		return a.print(map[string]any{"orgs": out}, b.String())
	case "org create":
		o, _, err := a.m.CreateOrganisation(ctx, by, hub.NewOrg{ID: wire.OrgID(pos[0]), Name: name, Region: region, Calls: wire.CallsAllowed(calls), Language: language}, nil, "")
		if err != nil {
			return a.fail(err)
		}
		return a.print(map[string]any{"org": orgJSON(o)}, fmt.Sprintf("Organisation %s (%s) created. Add its first admin: parley-hub user add --org %s USER --role admin\n", o.ID, o.Name, o.ID))
	case "org rename", "org set":
		o, err := a.m.Org(ctx, wire.OrgID(pos[0]))
		if err != nil {
			return a.fail(err)
		}
		st := wire.OrgSettings{ID: o.ID, Name: o.Name, Region: o.Region, Calls: o.Calls, Language: o.Language}
		if cmd == "org rename" {
			st.Name = pos[1]
		}
		if set["region"] {
			st.Region = region
		}
		if set["calls"] {
			st.Calls = wire.CallsAllowed(calls)
		}
		if set["language"] {
			st.Language = language
		}
		if o, err = a.m.UpdateOrganisation(ctx, by, st); err != nil {
			return a.fail(err)
		}
		if password != "" {
			if err := a.m.SetPasswordSignIn(ctx, by, o.ID, password == "true"); err != nil {
				return a.fail(err)
			}
		}
		return a.print(map[string]any{"org": orgJSON(o)}, fmt.Sprintf("Organisation %s: %s, region %s, calls %s, language %s.\n", o.ID, o.Name, o.Region, o.Calls, o.Language))
	case "user add":
		inv, err := a.m.InviteMember(ctx, by, oid, hub.NewMember{Username: pos[0], DisplayName: name, Email: email, Role: wire.Role(role), Capacity: capacity}, base())
		if err != nil {
			return a.fail(err)
		}
		return a.print(map[string]any{"member": hub.MemberView(inv.Member), "setup_link": inv.URL, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)},
			fmt.Sprintf("%s (%s) added to %s as %s.\n%s", inv.Member.Username, inv.Member.DisplayName, org, inv.Member.Role, linkText(inv)))
	case "user list":
		list, err := a.m.Members(ctx, oid, store.UserQuery{Search: search, Role: wire.Role(role)})
		if err != nil {
			return a.fail(err)
		}
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tCAPACITY\tSTATE")
		for _, u := range list.Members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", u.Username, u.DisplayName, u.Role, u.Capacity, memberState(u))
		}
		tw.Flush()
		return a.print(list, b.String())
	case "user set":
		var p wire.MemberPatch
		if set["name"] {
			p.DisplayName = &name
		}
		if set["email"] {
			p.Email = &email
		}
		if set["role"] {
			r := wire.Role(role)
			p.Role = &r
		}
		if set["capacity"] {
			p.Capacity = &capacity
		}
		u, err := a.m.UpdateMember(ctx, by, oid, pos[0], p)
		if err != nil {
			return a.fail(err)
		}
		v := hub.MemberView(u)
		return a.print(map[string]any{"member": v}, fmt.Sprintf("%s: %s, %s, capacity %d.\n", v.Username, v.DisplayName, v.Role, v.Capacity))
	case "user disable", "user enable":
		f := a.m.DisableMember
		if cmd == "user enable" {
			f = a.m.EnableMember
		}
		u, err := f(ctx, by, oid, pos[0])
		if err != nil {
			return a.fail(err)
		}
		v := hub.MemberView(u)
		msg := fmt.Sprintf("%s is enabled and can sign in.\n", v.Username)
		if v.Disabled {
			msg = fmt.Sprintf("%s is disabled: their sessions are ended and their conversations go back to the queue.\n", v.Username)
		}
		return a.print(map[string]any{"member": v}, msg)
	case "user reset":
		inv, err := a.m.ResetMember(ctx, by, oid, pos[0], base())
		if err != nil {
			return a.fail(err)
		}
		return a.print(map[string]any{"member": hub.MemberView(inv.Member), "setup_link": inv.URL, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)},
			fmt.Sprintf("%s's password is cleared and their sessions are ended.\n%s", inv.Member.Username, linkText(inv)))
	case "user token":
		login, err := a.m.IssueToken(ctx, by, oid, pos[0], ttl)
		if err != nil {
			return a.fail(err)
		}
		exp := time.UnixMilli(login.ExpiresAt).UTC().Format(time.RFC3339)
		return a.print(map[string]any{"token": login.Token, "expires_at": exp, "member": login.User}, login.Token+"\n")
	}
	return exitUsage
}

func memberState(m wire.Member) string {
	switch {
	case m.Disabled:
		return "disabled"
	case !m.PasswordSet && !m.SSO:
		return "invited"
	}
	return "active"
}

func orgJSON(o store.Org) map[string]any {
	return map[string]any{"id": o.ID, "name": o.Name, "region": o.Region, "calls": o.Calls, "language": o.Language}
}

func linkText(inv hub.Invite) string {
	return fmt.Sprintf("Open this link before %s to set %s's password (it works once):\n\n  %s\n",
		inv.ExpiresAt.Local().Format("Mon 2 Jan 15:04 MST"), inv.Member.Username, inv.URL)
}

// base is the hub's public URL for links: -public-url, else the service's listen address.
func (a *admin) base() string {
	if a.baseURL == "" {
		a.baseURL = a.findBase()
	}
	return a.baseURL
}

func (a *admin) findBase() string {
	if a.publicURL != "" {
		return strings.TrimRight(a.publicURL, "/")
	}
	addr := envOr("PARLEY_ADDR", "127.0.0.1:8080")
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	if !a.json {
		fmt.Fprintf(a.stderr, "parley-hub: note: links use http://%s; set PARLEY_PUBLIC_URL (or -public-url) to the address people reach the hub at\n", net.JoinHostPort(host, port))
	}
	return "http://" + net.JoinHostPort(host, port)
}

// print writes v as JSON with --json, else text.
func (a *admin) print(v any, text string) int {
	if a.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return exitFailed
		}
		return exitOK
	}
	fmt.Fprint(a.stdout, text)
	return exitOK
}

// fail reports err and returns its exit code.
func (a *admin) fail(err error) int {
	code := wire.ErrorCode(err)
	msg := wire.ErrorMessage(err)
	if code == wire.EINTERNAL {
		msg = err.Error() // the operator's own machine: say what failed
	}
	if a.json {
		_ = json.NewEncoder(a.stderr).Encode(map[string]any{"error": wire.Error{Code: code, Message: msg}})
	} else {
		fmt.Fprintf(a.stderr, "parley-hub: %s\n", msg)
	}
	switch code {
	case wire.EINVALID, wire.ETOOLARGE, wire.EWEAKPASSWORD, wire.EFORBIDDEN, wire.EDISABLED:
		return exitRefused
	case wire.ECONFLICT, wire.ELASTADMIN, wire.ELINKUSED, wire.ELINKEXPIRED:
		return exitConflict
	case wire.ENOTFOUND:
		return exitNotFound
	}
	return exitFailed
}

// parseInterspersed parses flags that may come before, between or after the positional
// arguments, and returns those and the names of the flags given.
func parseInterspersed(fs *flag.FlagSet, args []string) (pos []string, set map[string]bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		args = fs.Args()
		if len(args) > 0 && args[0] == "--" {
			pos, args = append(pos, args[1:]...), nil
		}
		if len(args) == 0 {
			set = map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			return pos, set, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadEnvFile sets the variables of a KEY=VALUE file (comments and blank lines skipped) that are
// not set yet. A missing file is not an error.
func loadEnvFile(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}
