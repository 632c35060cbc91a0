// Package pgtest starts a throwaway PostgreSQL cluster for tests from Debian's postgresql
// package: initdb and postgres in a temporary directory, on a free loopback port, as the
// unprivileged user nobody when the tests run as root (PostgreSQL refuses to run as root), and
// stopped when the tests end. Nothing is downloaded and no container runtime is needed.
//
// A test package that uses it wraps its TestMain so the cluster stops with the tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and each test asks for a fresh, empty database:
//
//	dsn := pgtest.DSN(t)
//
// PARLEY_TEST_PG, when set to a DSN of a running server whose user may create databases, is used
// instead of starting a cluster.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// nobody is the user the cluster runs as when the tests run as root.
const nobody = 65534

// Cluster is a running PostgreSQL server the tests started (or were given).
type Cluster struct {
	// Dir holds the data directory and the server's log; empty for a given server.
	Dir string
	// Port is the loopback port the server listens on.
	Port int
	// admin is the DSN of the maintenance database, as the cluster's superuser.
	admin string
	// cmd is the postmaster; nil for a given server.
	cmd *exec.Cmd
	// exited is closed when the postmaster has exited.
	exited chan struct{}
	// once creates shared, the database DSN's schemas live in.
	once      sync.Once
	shared    string
	sharedErr error
}

// Bin finds the directory of PostgreSQL's server programs: PARLEY_PG_BIN, or the newest
// /usr/lib/postgresql/N/bin (Debian's layout).
func Bin() (string, error) {
	if d := os.Getenv("PARLEY_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	if len(dirs) == 0 {
		return "", errors.New("pgtest: PostgreSQL's server programs are not installed (apt-get install postgresql, which `make deps` does), or set PARLEY_PG_BIN")
	}
	return filepath.Dir(dirs[0]), nil
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// Start initialises a cluster in a new temporary directory and starts it on a free loopback
// port. The superuser is "parley", trusted on loopback only. Stop removes it all.
func Start(ctx context.Context) (*Cluster, error) { return start0(ctx, false) }

// StartDurable is Start with PostgreSQL's durability left on (fsync, synchronous commit, full
// page writes), as a production server runs: benchmarks use it, tests do not need it.
func StartDurable(ctx context.Context) (*Cluster, error) { return start0(ctx, true) }

func start0(ctx context.Context, durable bool) (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "parley-pg-")
	if err != nil {
		return nil, err
	}
	cred := asUnprivileged()
	if cred != nil {
		if err := reachable(filepath.Dir(dir)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "parley",
		"-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir // the caller's directory may be closed to nobody
	initdb.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	// A port picked free may be taken before the server binds it: try a few.
	for attempt := 0; ; attempt++ {
		c, err := start(ctx, bin, dir, cred, durable)
		if err == nil || attempt == 4 || ctx.Err() != nil {
			if err != nil {
				os.RemoveAll(dir)
			}
			return c, err
		}
	}
}

// asUnprivileged is the credential the server runs with: nobody's when the tests run as root.
func asUnprivileged() *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	return &syscall.Credential{Uid: nobody, Gid: nobody, NoSetGroups: false, Groups: []uint32{}}
}

// reachable checks that nobody can pass through dir and its parents to the cluster's directory
// (a TMPDIR under root's 0700 home cannot be).
func reachable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgtest: running as root, the cluster runs as nobody, who cannot enter %s (mode %v): set TMPDIR to a directory open to all, such as /tmp", d, st.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func start(ctx context.Context, bin, dir string, cred *syscall.Credential, durable bool) (*Cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Port: port, exited: make(chan struct{}),
		admin: fmt.Sprintf("postgres://parley@127.0.0.1:%d/postgres?sslmode=disable", port)}
	// The postmaster is this process's child, and dies with it (Pdeathsig): a test binary that
	// is killed leaves no server behind. Pdeathsig belongs to the thread that started the child,
	// so that thread stays locked to the goroutine that waits for it.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer close(c.exited)
		args := []string{"-D", filepath.Join(dir, "data"), "-h", "127.0.0.1", "-p", strconv.Itoa(port),
			"-c", "unix_socket_directories=", "-c", "max_connections=300", "-c", "log_min_messages=warning"}
		if !durable {
			args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
		}
		cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Dir = dir
		cmd.SysProcAttr = serverAttr(cred)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.cmd = cmd
		started <- nil
		_ = cmd.Wait()
		logf.Close()
	}()
	if err := <-started; err != nil {
		logf.Close()
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, c.admin)
		if err == nil {
			conn.Close(ctx)
			return c, nil
		}
		select {
		case <-c.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return nil, fmt.Errorf("pgtest: postgres exited at start:\n%s", lastLines(string(log), 20))
		case <-ctx.Done():
			c.kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.kill()
			return nil, fmt.Errorf("pgtest: postgres did not accept connections within 30 s: %w", err)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// kill stops the postmaster at once (an immediate shutdown) and waits for it.
func (c *Cluster) kill() {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// Stop stops the server and removes its directory.
func (c *Cluster) Stop() {
	if c.cmd == nil {
		return
	}
	c.kill()
	os.RemoveAll(c.Dir)
}

// PID is the postmaster's process id (0 for a given server); the backends are its children.
func (c *Cluster) PID() int {
	if c.cmd == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Log returns the end of the server's log, for a failing test's message.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "postgres.log"))
	return lastLines(string(b), 40)
}

// CreateDB creates an empty database and returns its DSN.
func (c *Cluster) CreateDB(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return c.dsn(name), nil
}

// DropDB drops a database, ending its sessions.
func (c *Cluster) DropDB(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// dsn is the DSN of database name on this server.
func (c *Cluster) dsn(name string) string {
	u := strings.Replace(c.admin, "/postgres?", "/"+name+"?", 1)
	return u
}

// given returns the server named by PARLEY_TEST_PG, if any.
func given() *Cluster {
	dsn := os.Getenv("PARLEY_TEST_PG")
	if dsn == "" {
		return nil
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return &Cluster{admin: dsn}
	}
	return &Cluster{admin: dsn, Port: int(cfg.Port)}
}

var (
	mu      sync.Mutex
	shared  *Cluster
	started bool
	failure error
)

// Shared returns the test binary's cluster, starting it on first use.
func Shared() (*Cluster, error) {
	mu.Lock()
	defer mu.Unlock()
	if started {
		return shared, failure
	}
	started = true
	if shared = given(); shared != nil {
		return shared, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shared, failure = Start(ctx)
	return shared, failure
}

// DSN returns the DSN of a new, empty schema in the test binary's cluster, dropped when the test
// ends: the DSN sets search_path, so everything the test creates lands there (a schema is made
// in a moment; a database takes seconds). A missing PostgreSQL fails the test (make deps
// installs it). Tests that need a whole database (LISTEN/NOTIFY channels are per database) use
// Database.
func DSN(t testing.TB) string {
	t.Helper()
	c, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dbDSN, err := c.sharedDB(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v\n%s", err, c.Log())
	}
	name := "t_" + randomHex(6)
	conn, err := pgx.Connect(ctx, dbDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbDSN)
		if err != nil {
			t.Logf("pgtest: dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Logf("pgtest: dropping schema %s: %v", name, err)
		}
	})
	return dbDSN + "&search_path=" + name
}

// sharedDB creates, once, the database DSN's schemas live in, and returns its DSN.
func (c *Cluster) sharedDB(ctx context.Context) (string, error) {
	c.once.Do(func() {
		c.shared, c.sharedErr = c.CreateDB(ctx, "parley_test_"+randomHex(4))
	})
	return c.shared, c.sharedErr
}

// Database returns the DSN of a new, empty database in the test binary's cluster, dropped when
// the test ends.
func Database(t testing.TB) string {
	t.Helper()
	c, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "t_" + randomHex(6)
	dsn, err := c.CreateDB(ctx, name)
	if err != nil {
		t.Fatalf("pgtest: creating a database: %v\n%s", err, c.Log())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DropDB(ctx, name); err != nil {
			t.Logf("pgtest: dropping %s: %v", name, err)
		}
	})
	return dsn
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// M is a testing.M whose Run stops the shared cluster after the tests (goleak.VerifyTestMain
// takes it as it takes a *testing.M).
type M struct{ m *testing.M }

// Wrap returns m with a Run that stops the shared cluster once the tests are done.
func Wrap(m *testing.M) M { return M{m} }

// Run runs the tests, then stops the shared cluster.
func (w M) Run() int {
	code := w.m.Run()
	StopShared()
	return code
}

// Main runs the tests and stops the shared cluster: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int { return Wrap(m).Run() }

// StopShared stops the test binary's cluster, if it started one.
func StopShared() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.Stop()
	}
	shared, started, failure = nil, false, nil
}
