// Command hookflow runs the Hookflow webhook workflow engine and its admin
// tools. main only wires signals; run is the one place that builds the
// concrete types and connects them.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/db"
	"github.com/hookflow/hookflow/db/postgres"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/outbound"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "hookflow:", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage: hookflow [command] [flags]

Commands:
  serve                 run the server (the default)
  token create --name N create an admin API token and print it once
  admin password --email E
                        set an admin's password (from HOOKFLOW_ADMIN_PASSWORD
                        or the first line of standard input), sign them out
                        and turn their two-factor sign-in off
  backup FILE           write a consistent copy of the SQLite database to FILE
  migrate               apply database migrations and exit (--database for
                        PostgreSQL)
  version               print the version

Run 'hookflow <command> -h' for the flags of a command. Every flag has an
environment fallback: --data-dir is HOOKFLOW_DATA_DIR, and so on. With
--database postgres://... (HOOKFLOW_DATABASE), several instances share one
PostgreSQL database instead of the SQLite file; they need the same
HOOKFLOW_SECRET_KEY.
`

// run is the program: args without the program name, getenv for the
// environment, stdout for command output, stderr for logs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "token":
		if len(args) == 0 || args[0] != "create" {
			return fmt.Errorf("usage: hookflow token create --name NAME")
		}
		return tokenCreate(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		if len(args) == 0 || args[0] != "password" {
			return fmt.Errorf("usage: hookflow admin password --email EMAIL (new password from HOOKFLOW_ADMIN_PASSWORD or standard input)")
		}
		return adminPassword(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "hookflow", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// config is every setting, parsed once at start from flags with
// environment fallbacks.
type config struct {
	addr        string
	dataDir     string
	database    string
	publicURL   string
	bodyLimit   int
	logLevel    string
	logFormat   string
	secretKey   string
	adminEmail  string
	adminPass   string
	workers     int
	lease       time.Duration
	readTimeout time.Duration
	sessionIdle time.Duration

	retentionAge   time.Duration
	retentionCount int
	outboundDeny   outbound.Policy
	trustedProxies []netip.Prefix
}

func newFlagSet(name string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *config) {
	fs := flag.NewFlagSet("hookflow "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{secretKey: getenv("HOOKFLOW_SECRET_KEY"), adminEmail: getenv("HOOKFLOW_ADMIN_EMAIL"), adminPass: getenv("HOOKFLOW_ADMIN_PASSWORD")}
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.dataDir, "data-dir", env("HOOKFLOW_DATA_DIR", "./data"), "directory of the SQLite database and key file (HOOKFLOW_DATA_DIR)")
	fs.StringVar(&c.database, "database", env("HOOKFLOW_DATABASE", ""), "postgres://user:pass@host/db to share one PostgreSQL database between instances instead of the SQLite file; needs HOOKFLOW_SECRET_KEY (HOOKFLOW_DATABASE)")
	fs.StringVar(&c.logLevel, "log-level", env("HOOKFLOW_LOG_LEVEL", "info"), "debug, info, warn or error (HOOKFLOW_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("HOOKFLOW_LOG_FORMAT", "text"), "text or json (HOOKFLOW_LOG_FORMAT)")
	return fs, c
}

func newLogger(c *config, stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is not text or json", c.logFormat)
}

// openDB opens the database in the data directory, creating both.
func openDB(ctx context.Context, c *config, opts ...db.Option) (*db.DB, error) {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	box, err := db.LoadSecretBox(c.secretKey, c.dataDir)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return db.Open(ctx, filepath.Join(c.dataDir, db.FileName), box, opts...)
}

func parseSize(s string) (int, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > (1<<30)/mult {
		return 0, fmt.Errorf("%q is not a size such as 10MiB or 1048576", s)
	}
	return n * mult, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("serve", getenv, stderr)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.addr, "addr", env("HOOKFLOW_ADDR", ":13000"), "listen address (HOOKFLOW_ADDR)")
	fs.StringVar(&c.publicURL, "public-url", env("HOOKFLOW_PUBLIC_URL", ""), "base of the URLs shown, e.g. https://hooks.example.com (HOOKFLOW_PUBLIC_URL)")
	bodyLimit := fs.String("body-limit", env("HOOKFLOW_BODY_LIMIT", "10MiB"), "largest request body accepted (HOOKFLOW_BODY_LIMIT)")
	fs.IntVar(&c.workers, "workers", 0, "async worker loops (default: number of CPUs)")
	lease := fs.String("lease", env("HOOKFLOW_LEASE", "30s"), "how long a claimed execution is held before another instance may take it over, renewed every third of it while it runs (HOOKFLOW_LEASE)")
	fs.DurationVar(&c.readTimeout, "read-timeout", 15*time.Second, "time allowed to read one request")
	sessionIdle := fs.String("session-idle", env("HOOKFLOW_SESSION_IDLE", handlers.DefaultSessionIdle.String()),
		"sign an admin out after this long without a request, at most "+handlers.SessionLifetime.String()+" (HOOKFLOW_SESSION_IDLE)")
	retentionAge := fs.String("retention-age", env("HOOKFLOW_RETENTION_AGE", "720h"), "delete executions older than this; 0 keeps them (HOOKFLOW_RETENTION_AGE)")
	retentionCount := fs.String("retention-count", env("HOOKFLOW_RETENTION_COUNT", strconv.Itoa(engine.DefaultRetentionCount)), "keep at most this many executions per workflow; 0 for no limit (HOOKFLOW_RETENTION_COUNT)")
	outboundDeny := fs.String("outbound-deny", env("HOOKFLOW_OUTBOUND_DENY", "metadata"), "addresses request nodes may not call: metadata (cloud metadata), private (also loopback and private ranges) or none (HOOKFLOW_OUTBOUND_DENY)")
	trustedProxies := fs.String("trusted-proxies", env("HOOKFLOW_TRUSTED_PROXIES", ""), "comma-separated address ranges of the reverse proxies in front of Hookflow, such as 10.0.0.0/8,::1; the client address is then read from their X-Forwarded-For (HOOKFLOW_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if c.trustedProxies, err = parseTrustedProxies(*trustedProxies); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.outboundDeny, err = outbound.ParsePolicy(*outboundDeny); err != nil {
		return fmt.Errorf("--outbound-deny: %q is not metadata, private or none", *outboundDeny)
	}
	if c.retentionAge, err = time.ParseDuration(*retentionAge); err != nil || c.retentionAge < 0 {
		return fmt.Errorf("--retention-age: %q is not a duration such as 720h", *retentionAge)
	}
	if c.retentionCount, err = strconv.Atoi(*retentionCount); err != nil || c.retentionCount < 0 {
		return fmt.Errorf("--retention-count: %q is not a whole number", *retentionCount)
	}
	if c.sessionIdle, err = time.ParseDuration(*sessionIdle); err != nil || c.sessionIdle < time.Minute || c.sessionIdle > handlers.SessionLifetime {
		return fmt.Errorf("--session-idle: %q is not a duration from 1m to %s, such as 2h or 30m", *sessionIdle, handlers.SessionLifetime)
	}
	if c.lease, err = time.ParseDuration(*lease); err != nil || c.lease < time.Second || c.lease > time.Hour {
		return fmt.Errorf("--lease: %q is not a duration from 1s to 1h, such as 30s", *lease)
	}
	if c.bodyLimit, err = parseSize(*bodyLimit); err != nil {
		return fmt.Errorf("--body-limit: %w", err)
	}
	if c.publicURL != "" && !strings.HasPrefix(c.publicURL, "http://") && !strings.HasPrefix(c.publicURL, "https://") {
		return fmt.Errorf("--public-url: %q must start with http:// or https://", c.publicURL)
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := ensureAdmin(ctx, store, c, log); err != nil {
		return err
	}

	svc := engine.NewService(store, store, log)
	client, err := outbound.New(outbound.Config{Deny: c.outboundDeny})
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	svc.UseOutbound(client, "Hookflow/"+buildVersion())
	throttle := handlers.NewThrottle()
	// leave stops hearing the other instances; it runs after the runner
	// stopped.
	leave := func() {}
	instance := -1
	switch st := store.(type) {
	case *db.DB:
		// One process owns a SQLite database: executions its predecessor
		// left running resume at once instead of when their leases expire.
		unlock, err := lockDataDir(c.dataDir)
		if err != nil {
			return err
		}
		defer unlock()
		if n, err := st.ExpireLeases(ctx); err != nil {
			return err
		} else if n > 0 {
			log.Info("resuming executions left running", "count", n)
		}
	case *postgres.DB:
		// Several instances share the database: no lease is expired at
		// start (that would take work from live instances); a dead
		// instance's leases expire on their own. This instance leases a
		// number for its execution ids and hears the others.
		member, err := st.Join(ctx)
		if err != nil {
			return err
		}
		instance = member.Instance()
		svc.SetInstance(instance)
		listenCtx, stopListening := context.WithCancel(context.Background())
		listened := make(chan struct{})
		go func() { defer close(listened); member.Run(listenCtx, svc.ClusterListener()) }()
		leave = func() { stopListening(); <-listened; member.Close() }
		defer func() { leave(); leave = func() {} }()
		throttle.Store = st
	}
	// Seeded after the instance number is held: ids made before by the
	// instance that held it are in the table, and later ids exceed them.
	maxID, err := store.MaxExecutionID(ctx)
	if err != nil {
		return err
	}
	svc.SeedIDs(maxID)
	runner := svc.NewRunner(engine.RunnerConfig{Workers: c.workers, Lease: c.lease})
	runner.Start()
	pruneCtx, stopPruning := context.WithCancel(context.Background())
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		swept := make(chan struct{})
		go func() { defer close(swept); sweepSessions(pruneCtx, store, log) }()
		(&engine.Retention{Store: store, Log: log, MaxAge: c.retentionAge, MaxCount: c.retentionCount}).Run(pruneCtx)
		<-swept
	}()
	defer func() { stopPruning(); <-pruned }()

	h := &handlers.Handlers{
		Svc: svc, Auth: store, Log: log, PublicURL: c.publicURL, Ping: store.Ping,
		TrustedProxies: c.trustedProxies,
		SecureCookies:  strings.HasPrefix(c.publicURL, "https://"),
		SessionIdle:    c.sessionIdle,
		Throttle:       throttle,
		AdminFromEnv:   c.adminEmail != "" && c.adminPass != "",
		FirstRun: func(fc *fiber.Ctx) bool {
			any, err := store.AnySignIn(fc.UserContext())
			return err == nil && !any
		},
	}
	app := web.New(web.Config{BodyLimit: c.bodyLimit, ReadTimeout: c.readTimeout}, h, log)
	rawLn, err := net.Listen("tcp", c.addr)
	if err != nil {
		runner.Stop(context.Background())
		return fmt.Errorf("listen: %w", err)
	}
	ln := web.NewListener(rawLn)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	if instance >= 0 {
		log.Info("hookflow started", "addr", ln.Addr().String(), "url", browseURL(c.publicURL, ln.Addr().String()), "database", "postgres", "instance", instance, "version", buildVersion())
	} else {
		log.Info("hookflow started", "addr", ln.Addr().String(), "url", browseURL(c.publicURL, ln.Addr().String()), "data_dir", c.dataDir, "version", buildVersion())
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		runner.Stop(context.Background())
		return fmt.Errorf("serve: %w", err)
	}

	// Ordered shutdown: stop taking requests and finish those in flight,
	// then let the workers finish their batches, then close the database
	// (which flushes queued writes).
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- app.ShutdownWithContext(shutdownCtx) }()
	// Connections that never sent a request would hold the shutdown until
	// the read timeout; once the listener is closed, close them.
	time.Sleep(20 * time.Millisecond)
	ln.CloseSilent()
	if err := <-httpDone; err != nil {
		log.Error("http shutdown", "error", err)
	}
	if err := runner.Stop(shutdownCtx); err != nil {
		log.Warn("workers cancelled; their executions run again at next start", "error", err)
	}
	stopPruning()
	<-pruned
	leave()
	leave = func() {}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	log.Info("stopped")
	return nil
}

// parseTrustedProxies reads --trusted-proxies: address ranges or single
// addresses, separated by commas or spaces.
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	list := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	ps, err := engine.ParsePrefixes(list)
	if err != nil {
		return nil, errors.New(engine.ErrorMessage(err))
	}
	return ps, nil
}

// browseURL is where to open the admin UI: the public URL when set, else
// the listening address, with "localhost" for an all-interfaces listener.
func browseURL(public, addr string) string {
	if public != "" {
		return strings.TrimRight(public, "/")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// sweepSessions deletes expired sessions every ten minutes. Expired ones are
// refused anyway; this keeps the table small.
func sweepSessions(ctx context.Context, store engine.AuthStore, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := store.DeleteExpiredSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Error("delete expired sessions", "error", err)
			}
		}
	}
}

// ensureAdmin creates the first admin account on an empty database, from
// HOOKFLOW_ADMIN_EMAIL / HOOKFLOW_ADMIN_PASSWORD or with a random password
// printed once to the log.
func ensureAdmin(ctx context.Context, store engine.AuthStore, c *config, log *slog.Logger) error {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	email := strings.TrimSpace(c.adminEmail)
	if email == "" {
		email = "admin@example.com"
	}
	pass, generated := c.adminPass, false
	if pass == "" {
		pass, generated = engine.RandomToken(15), true
	}
	hash, err := engine.HashPassword(pass, email)
	if err != nil {
		return fmt.Errorf("HOOKFLOW_ADMIN_PASSWORD: %s", engine.ErrorMessage(err))
	}
	if err := store.CreateUser(ctx, &engine.User{Email: email, PasswordHash: hash}); err != nil {
		if engine.ErrorCode(err) == engine.ECONFLICT {
			// Instances starting together on an empty shared database:
			// another one created the account first.
			log.Info("admin account created by another instance", "email", email)
			return nil
		}
		return err
	}
	if generated {
		log.Warn("admin account created with a generated password; it is shown only this once", "email", email, "password", pass)
	} else {
		log.Info("admin account created", "email", email)
	}
	return nil
}

func tokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("token create", getenv, stderr)
	name := fs.String("name", "", "what the token is for (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tok, rec, err := engine.NewAPIToken(*name)
	if err != nil {
		return fmt.Errorf("--name: %s", strings.TrimPrefix(engine.ErrorMessage(err), "name: "))
	}
	store, err := openStore(ctx, c, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CreateAPIToken(ctx, rec); err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// adminPassword sets a new password for an admin account, for when it is
// lost, ends that admin's sessions and turns their two-factor sign-in off
// (for when the phone is lost).
func adminPassword(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("admin password", getenv, stderr)
	email := fs.String("email", "", "the admin account (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return fmt.Errorf("--email: required")
	}
	pass := c.adminPass
	if pass == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no new password: set HOOKFLOW_ADMIN_PASSWORD or write it on standard input")
		}
		pass = strings.TrimRight(line, "\r\n")
	}
	hash, err := engine.HashPassword(pass, strings.TrimSpace(*email))
	if err != nil {
		return fmt.Errorf("new %s", engine.ErrorMessage(err))
	}
	store, err := openStore(ctx, c, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.GetUserByEmail(ctx, strings.TrimSpace(*email))
	if err != nil {
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return fmt.Errorf("no admin account with email %q", *email)
		}
		return err
	}
	if err := store.UpdatePassword(ctx, u.ID, hash); err != nil {
		return err
	}
	if err := store.DeleteSessionsOfUser(ctx, u.ID, ""); err != nil {
		return err
	}
	// The recovery path when the phone with the authenticator app is lost.
	if err := store.SetTOTP(ctx, u.ID, ""); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "password changed for", u.Email)
	if u.TOTPSecret != "" {
		fmt.Fprintln(stdout, "two-factor sign-in turned off for", u.Email, "(turn it on again on the Account page)")
	}
	return nil
}

func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("backup", getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: hookflow backup [--data-dir DIR] FILE")
	}
	if c.database != "" {
		return fmt.Errorf("backup: copies the SQLite file; back up a PostgreSQL database with pg_dump or your provider's snapshots")
	}
	dest := fs.Arg(0)
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists", dest)
	}
	store, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, dest); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "backup written to", dest)
	return nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs, c := newFlagSet("migrate", getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Opening migrates, under an advisory lock on PostgreSQL: instances
	// starting meanwhile wait, then find the schema current.
	store, err := openStore(ctx, c, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	v, err := store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if c.database != "" {
		fmt.Fprintln(stdout, "database schema at version", v, "(PostgreSQL)")
		return nil
	}
	fmt.Fprintln(stdout, "database schema at version", v)
	return nil
}
