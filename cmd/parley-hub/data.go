package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/parleyhq/parley/hub"
	"github.com/parleyhq/parley/hub/postgres"
	"github.com/parleyhq/parley/hub/store"
)

// The database subcommands: migrate brings a database's schema up to this version (what a hub
// does when it starts, done ahead of a rolling upgrade); export, import and copy move a hub's
// database from one engine to another (SQLite to PostgreSQL, or back).

const dataUsage = `Database subcommands:
  parley-hub migrate [-db DB] [--status]     bring the schema up to date (--status: only say where it is)
  parley-hub export [-db DB] [-o FILE]       write every table as JSON lines (to stdout without -o)
  parley-hub import -db DB [-i FILE]         read an export into a new, empty database (from stdin without -i)
  parley-hub copy -from DB -to DB            move a database into a new, empty one directly

DB is a SQLite file or a PostgreSQL address (postgres://user@host/db; -db-file FILE reads it from
a file, so the password is in no command line). import and copy write everything in one
transaction, and refuse a target that already holds an organisation; a cut export file leaves
the target as it was. Stop the hub before export or copy, so nothing is written meanwhile.
Moving an SQLite hub into PostgreSQL:
  systemctl stop parley-hub
  parley-hub copy -from /var/lib/parley-hub/parley.db -to-file /etc/parley-hub/db-dsn
Run as root, they read -db-file first, then act as the owner of a SQLite file's folder.
`

// isDataSubcommand says whether args start with a database subcommand.
func isDataSubcommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "migrate", "export", "import", "copy":
		return true
	}
	return false
}

// dataStdin is what import reads without -i; tests replace it.
var dataStdin io.Reader = os.Stdin

// runData runs a database subcommand and returns the process's exit code.
func runData(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	loadEnvFile(envFile)
	cmd := args[0]
	fs := flag.NewFlagSet("parley-hub "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dataUsage) }
	var db, from, to dbFlag
	if cmd != "copy" {
		db.register(fs, "db", "the hub's database")
	}
	var status, asJSON bool
	var outFile, inFile string
	switch cmd {
	case "migrate":
		fs.BoolVar(&status, "status", false, "say which schema version the database has, change nothing")
	case "export":
		fs.StringVar(&outFile, "o", "", "write the export to this file (default stdout)")
	case "import":
		fs.StringVar(&inFile, "i", "", "read the export from this file (default stdin)")
	case "copy":
		from.register(fs, "from", "the database to copy")
		to.register(fs, "to", "the new, empty database to copy into")
	}
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parley-hub %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		if asJSON {
			_ = json.NewEncoder(stderr).Encode(map[string]any{"error": map[string]string{"message": err.Error()}})
		} else {
			fmt.Fprintf(stderr, "parley-hub %s: %v\n", cmd, err)
		}
		if errors.Is(err, store.ErrNotEmpty) {
			return exitConflict
		}
		return exitFailed
	}
	// Names are read first (a -db-file may be root's alone), then a subcommand run as root acts
	// as the owner of the SQLite file's folder, so the files it writes stay the service's.
	var names []string
	for _, f := range []*dbFlag{&db, &from, &to} {
		if f.name == "" {
			continue
		}
		name, err := f.value()
		if err != nil {
			return fail(fmt.Errorf("-%s: %w", f.name, err))
		}
		f.db, f.file = name, ""
		names = append(names, name)
	}
	for _, name := range names {
		if !postgres.IsDSN(name) {
			if err := dropToOwner(name); err != nil {
				return fail(err)
			}
			break
		}
	}
	// open opens a database; a source must exist (SQLite would make a new, empty file).
	open := func(f dbFlag, what string) (store.Mover, func(), error) {
		name, err := f.value()
		if err != nil {
			return nil, nil, err
		}
		if what == "source" && !postgres.IsDSN(name) {
			if _, err := os.Stat(name); err != nil {
				return nil, nil, fmt.Errorf("no database at %s", name)
			}
		}
		s, err := hub.OpenStore(ctx, name, nil)
		if err != nil {
			return nil, nil, err
		}
		m, ok := s.(store.Mover)
		if !ok {
			s.Close()
			return nil, nil, fmt.Errorf("the %s database cannot be moved", what)
		}
		return m, func() { s.Close() }, nil
	}
	switch cmd {
	case "migrate":
		name, _ := db.value()
		have, want, err := hub.SchemaVersion(ctx, name)
		if err != nil {
			return fail(err)
		}
		if status {
			msg := fmt.Sprintf("%s: schema version %d; this parley-hub's is %d.\n", display(name), have, want)
			if have < want {
				msg += "parley-hub migrate (or starting the hub) brings it up to date.\n"
			}
			return printData(stdout, asJSON, map[string]any{"db": display(name), "schema": have, "latest": want}, msg)
		}
		m, closeDB, err := open(db, "")
		if err != nil {
			return fail(err)
		}
		defer closeDB()
		now, _, err := m.SchemaVersion(ctx)
		if err != nil {
			return fail(err)
		}
		msg := fmt.Sprintf("%s: schema version %d, up to date.\n", display(name), now)
		if have < now {
			msg = fmt.Sprintf("%s: schema version %d → %d, up to date.\n", display(name), have, now)
		}
		return printData(stdout, asJSON, map[string]any{"db": display(name), "schema": now, "was": have}, msg)
	case "export":
		m, closeDB, err := open(db, "source")
		if err != nil {
			return fail(err)
		}
		defer closeDB()
		w := stdout
		if outFile != "" {
			f, err := os.OpenFile(outFile, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fail(err)
			}
			defer f.Close()
			w = f
		}
		counts, err := store.Export(ctx, m, w)
		if err != nil {
			return fail(err)
		}
		if outFile != "" {
			if err := w.(*os.File).Sync(); err != nil {
				return fail(err)
			}
		}
		fmt.Fprintf(stderr, "parley-hub export: %s.\n", summary(counts))
		return exitOK
	case "import":
		r := dataStdin
		if inFile != "" {
			f, err := os.Open(inFile)
			if err != nil {
				return fail(err)
			}
			defer f.Close()
			r = f
		}
		m, closeDB, err := open(db, "")
		if err != nil {
			return fail(err)
		}
		defer closeDB()
		counts, err := store.Import(ctx, m, r)
		if err != nil {
			return fail(err)
		}
		name, _ := db.value()
		return printData(stdout, asJSON, map[string]any{"db": display(name), "rows": counts},
			fmt.Sprintf("Imported into %s: %s.\n", display(name), summary(counts)))
	case "copy":
		src, _ := from.value()
		dst, _ := to.value()
		if src == dst {
			return fail(errors.New("-from and -to name the same database"))
		}
		s, closeSrc, err := open(from, "source")
		if err != nil {
			return fail(err)
		}
		defer closeSrc()
		d, closeDst, err := open(to, "target")
		if err != nil {
			return fail(err)
		}
		defer closeDst()
		counts, err := store.Copy(ctx, s, d)
		if err != nil {
			return fail(err)
		}
		return printData(stdout, asJSON, map[string]any{"from": display(src), "to": display(dst), "rows": counts},
			fmt.Sprintf("Copied %s into %s: %s.\n", display(src), display(dst), summary(counts)))
	}
	return exitUsage
}

// display names a database for output: a PostgreSQL address without its password.
func display(db string) string {
	if postgres.IsDSN(db) {
		return postgres.Redact(db)
	}
	return db
}

// summary says how many rows each table has, the ones people count first.
func summary(counts map[string]int) string {
	first := []struct{ table, what string }{
		{"orgs", "organisations"}, {"users", "members"}, {"conversations", "conversations"}, {"messages", "messages"},
		{"calls", "calls"}, {"org_settings", "settings"}, {"audit", "audit entries"},
	}
	var parts []string
	seen := map[string]bool{}
	for _, f := range first {
		parts = append(parts, fmt.Sprintf("%d %s", counts[f.table], f.what))
		seen[f.table] = true
	}
	var rest []string
	for t := range counts {
		if !seen[t] {
			rest = append(rest, t)
		}
	}
	sort.Strings(rest)
	for _, t := range rest {
		parts = append(parts, fmt.Sprintf("%d %s", counts[t], strings.ReplaceAll(t, "_", " ")))
	}
	return strings.Join(parts, ", ")
}

func printData(w io.Writer, asJSON bool, v any, text string) int {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return exitFailed
		}
		return exitOK
	}
	fmt.Fprint(w, text)
	return exitOK
}

// dbFlag is a database given as -NAME (a SQLite file or a PostgreSQL address) or -NAME-file (a
// file holding it, for addresses with a password).
type dbFlag struct {
	name, db, file string
}

// register adds -name and -name-file to fs. -db takes PARLEY_DB and PARLEY_DB_FILE as defaults.
func (d *dbFlag) register(fs *flag.FlagSet, name, usage string) {
	d.name = name
	def, defFile := "", ""
	if name == "db" {
		def, defFile = envOr("PARLEY_DB", "parley.db"), os.Getenv("PARLEY_DB_FILE")
	}
	fs.StringVar(&d.db, name, def, usage+": a SQLite file or postgres://user@host/db")
	fs.StringVar(&d.file, name+"-file", defFile, "a file holding -"+name+" (wins over it)")
}

// value is the database to open.
func (d dbFlag) value() (string, error) { return readDB(d.db, d.file) }

// readDB returns db, or the first line of file when one is given.
func readDB(db, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if db = strings.TrimSpace(line); db == "" {
			return "", fmt.Errorf("%s is empty", file)
		}
	}
	if db == "" {
		return "", errors.New("no database given")
	}
	return db, nil
}
