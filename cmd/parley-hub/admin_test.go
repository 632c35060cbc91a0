package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/hub/client"
	"github.com/parleyhq/parley/hub/store"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/wire"
)

// cli runs a subcommand in-process as a script would, and returns its exit code and output.
func cli(t *testing.T, db string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runAdmin(context.Background(), append(args, "-db", db, "-public-url", "https://chat.example.com"), &out, &errOut)
	return code, out.String(), errOut.String()
}

// cliCase is one subcommand of a script and what it answers.
type cliCase struct {
	args []string
	code int
	out  string // a substring of stdout, or of stderr on failure
}

// cliScript runs the cases against db in turn, as a script would, and reports each that answers
// with another exit code or without its text.
func cliScript(t *testing.T, db string, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		code, out, errOut := cli(t, db, tt.args...)
		got := out
		if code != exitOK {
			got = errOut
		}
		if code != tt.code || !strings.Contains(got, tt.out) {
			t.Errorf("%s = exit %d, stdout %q, stderr %q; want exit %d with %q", strings.Join(tt.args, " "), code, out, errOut, tt.code, tt.out)
		}
	}
}

var linkPattern = regexp.MustCompile(`https://chat\.example\.com/setup#([A-Za-z0-9_-]{43})`)

// The subcommands do the same on both engines: a SQLite file and PostgreSQL (a cluster the test
// starts, internal/pgtest).
func TestSubcommandsScripted(t *testing.T) {
	envFile = t.TempDir() + "/none" // not this machine's service file
	t.Run("sqlite", func(t *testing.T) { subcommandsScripted(t, t.TempDir()+"/hub.db") })
	t.Run("postgres", func(t *testing.T) { subcommandsScripted(t, pgtest.DSN(t)) })
}

func subcommandsScripted(t *testing.T, db string) {
	code, out, errOut := cli(t, db, "init", "--org", "acme", "--name", "Acme Support", "--admin", "boss", "--email", "boss@acme.test")
	if code != exitOK || !linkPattern.MatchString(out) || !strings.Contains(out, "https://chat.example.com/admin/acme") || errOut != "" {
		t.Fatalf("init = %d, %q, %q", code, out, errOut)
	}
	cliScript(t, db, []cliCase{
		{[]string{"init", "--org", "acme", "--name", "Again", "--admin", "x"}, exitConflict, "exists already"},
		{[]string{"init", "--org", "Bad Id", "--name", "X", "--admin", "x"}, exitRefused, "lower-case letters"},
		{[]string{"init", "--org", "acme2", "--name", "X"}, exitUsage, "--admin are required"},
		{[]string{"org", "create", "beta", "--name", "Beta Co", "--region", "eu", "--language", "es"}, exitOK, "Organisation beta (Beta Co) created"},
		{[]string{"org", "create", "gamma", "--name", "G", "--calls", "telepathy"}, exitRefused, "calls must be"},
		{[]string{"org", "rename", "beta", "Beta Company"}, exitOK, "Beta Company"},
		{[]string{"org", "rename", "nope", "X"}, exitNotFound, "no such organisation"},
		{[]string{"org", "set", "beta", "--password-signin=false"}, exitConflict, "no identity provider"},
		{[]string{"user", "add", "--org", "acme", "ann", "--role", "agent", "--name", "Ann Agent", "--capacity", "4"}, exitOK, "ann (Ann Agent) added to acme as agent"},
		{[]string{"user", "add", "ANN", "--org", "acme"}, exitConflict, "taken"},
		{[]string{"user", "add", "--org", "acme", "b@d name"}, exitRefused, "username"},
		{[]string{"user", "add", "--org", "acme", "carl", "--role", "owner"}, exitRefused, "role must be"},
		{[]string{"user", "add", "--org", "acme", "carl", "--capacity", "99"}, exitRefused, "capacity must be"},
		{[]string{"user", "add", "--org", "nope", "carl"}, exitNotFound, "no such organisation"},
		{[]string{"user", "add", "carl"}, exitUsage, "--org is required"},
		{[]string{"user", "set", "--org", "acme", "ann", "--role", "supervisor", "--capacity", "2"}, exitOK, "supervisor, capacity 2"},
		{[]string{"user", "set", "--org", "acme", "boss", "--role", "agent"}, exitConflict, "no active admin"},
		{[]string{"user", "disable", "--org", "acme", "boss"}, exitConflict, "no active admin"},
		{[]string{"user", "disable", "--org", "acme", "zed"}, exitNotFound, "no member"},
		{[]string{"user", "disable", "--org", "acme", "ann"}, exitOK, "ann is disabled"},
		{[]string{"user", "reset", "--org", "acme", "ann"}, exitRefused, "enable the member first"},
		{[]string{"user", "enable", "--org", "acme", "ann"}, exitOK, "ann is enabled"},
		{[]string{"user", "reset", "--org", "acme", "ann"}, exitOK, "https://chat.example.com/setup#"},
		{[]string{"user", "frob", "--org", "acme"}, exitUsage, "unknown subcommand"},
		{[]string{"user", "token", "--org", "acme", "ann", "--ttl", "9999h"}, exitRefused, "lifetime"},
	})
	// --json prints what scripts read.
	code, out, _ = cli(t, db, "user", "list", "--org", "acme", "--json")
	var list wire.MemberList
	if err := json.Unmarshal([]byte(out), &list); code != exitOK || err != nil || list.Total != 2 || list.Members[0].Username != "ann" ||
		list.Members[0].Role != wire.RoleSupervisor || list.Members[0].DisplayName != "Ann Agent" || list.Members[1].Email != "boss@acme.test" {
		t.Errorf("user list --json = %d %q (%v)", code, out, err)
	}
	code, out, _ = cli(t, db, "org", "list", "--json")
	var orgs struct {
		Orgs []struct{ ID, Name, Region, Language string }
	}
	if err := json.Unmarshal([]byte(out), &orgs); code != exitOK || err != nil || len(orgs.Orgs) != 2 || orgs.Orgs[1].Name != "Beta Company" || orgs.Orgs[1].Language != "es" {
		t.Errorf("org list --json = %d %q (%v)", code, out, err)
	}
	code, _, errOut = cli(t, db, "user", "add", "--org", "acme", "ann", "--json")
	var e struct{ Error wire.Error }
	if err := json.Unmarshal([]byte(errOut), &e); code != exitConflict || err != nil || e.Error.Code != wire.ECONFLICT {
		t.Errorf("a refused add with --json = %d, stderr %q; want a JSON error", code, errOut)
	}
	// The audit log has it all, by the command line.
	m, _ := run(t, "-addr", "127.0.0.1:0", "-db", db)
	defer m.Close()
	entries, err := m.Server.AuditLog(context.Background(), "acme", storeAll)
	if err != nil || len(entries) != 7 || entries[len(entries)-1].Action != "org.create" || entries[len(entries)-1].ActorName != "parley-hub" {
		t.Errorf("audit = %+v, %v", entries, err)
	}
}

func TestEnvFileAndPublicURL(t *testing.T) {
	dir := t.TempDir()
	envFile = dir + "/parley-hub"
	if err := os.WriteFile(envFile, []byte("# the service's\nPARLEY_DB="+dir+"/svc.db\nPARLEY_PUBLIC_URL=\"https://from-file.example\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARLEY_DB", "")
	os.Unsetenv("PARLEY_DB")
	os.Unsetenv("PARLEY_PUBLIC_URL")
	t.Cleanup(func() { os.Unsetenv("PARLEY_DB"); os.Unsetenv("PARLEY_PUBLIC_URL") })
	var out, errOut bytes.Buffer
	code := runAdmin(context.Background(), []string{"init", "--org", "acme", "--name", "Acme", "--admin", "boss"}, &out, &errOut)
	if code != exitOK || !strings.Contains(out.String(), "https://from-file.example/setup#") {
		t.Fatalf("init with the service's file = %d %q %q", code, out.String(), errOut.String())
	}
	if _, err := os.Stat(dir + "/svc.db"); err != nil {
		t.Errorf("the service's database was not used: %v", err)
	}
}

// TestInitThenSignInAndRunningHubApplies is the first run as IT does it: init, the admin's setup
// link, a member added from the command line while the hub runs, and a disable from the command
// line that ends the member's connection on the running hub.
func TestInitThenSignInAndRunningHubApplies(t *testing.T) {
	envFile = t.TempDir() + "/none"
	db := t.TempDir() + "/hub.db"
	code, out, _ := cli(t, db, "init", "--org", "acme", "--name", "Acme", "--admin", "boss")
	if code != exitOK {
		t.Fatal(out)
	}
	secret := linkPattern.FindStringSubmatch(out)[1]
	m, url := run(t, "-addr", "127.0.0.1:0", "-db", db)
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var done wire.SetupDone
	if err := client.API(ctx, url, http.MethodPost, "/api/v1/setup", "", wire.SetupRequest{Token: secret, Password: "tall grass by the river"}, &done); err != nil || done.Login == nil {
		t.Fatalf("setup = %+v, %v", done, err)
	}
	code, out, _ = cli(t, db, "user", "add", "--org", "acme", "ann", "--role", "agent")
	if code != exitOK {
		t.Fatal(out)
	}
	if err := client.API(ctx, url, http.MethodPost, "/api/v1/setup", "", wire.SetupRequest{Token: linkPattern.FindStringSubmatch(out)[1], Password: "quiet lamp 47 orbit"}, nil); err != nil {
		t.Fatal(err)
	}
	login, err := client.Login(ctx, url, "acme", "ann", "quiet lamp 47 orbit")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(ctx, url, login.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A token for automation works like a sign-in.
	code, out, _ = cli(t, db, "user", "token", "--org", "acme", "ann", "--ttl", "1h")
	if code != exitOK {
		t.Fatal(out)
	}
	if me, err := client.Me(ctx, url, strings.TrimSpace(out)); err != nil || me.User.Username != "ann" {
		t.Errorf("me with the CLI token = %+v, %v", me, err)
	}
	start := time.Now()
	if code, out, errOut := cli(t, db, "user", "disable", "--org", "acme", "ann"); code != exitOK {
		t.Fatal(out, errOut)
	}
	for range c.Events() {
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the running hub closed the disabled member's connection after %s", took)
	}
	if _, err := client.Login(ctx, url, "acme", "ann", "quiet lamp 47 orbit"); wire.ErrorCode(err) != wire.EDISABLED {
		t.Errorf("sign-in after disable = %v", err)
	}
}

// storeAll asks for every audit entry.
var storeAll = store.AuditQuery{}
