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
	"net/http"
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
	"github.com/hookflow/hookflow/engine/metrics"
	"github.com/hookflow/hookflow/engine/outbound"
	"github.com/hookflow/hookflow/handlers"
	"github.com/hookflow/hookflow/web"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

const usage = `Usage: hookflow [command] [flags] [arguments]

Commands:
  serve                 run the server (the default)
  token create --name N create an admin API token and print it once
  admin password --email E
                        set an admin's password (from HOOKFLOW_ADMIN_PASSWORD
                        or the first line of standard input), sign them out
                        and turn their two-factor sign-in off
  workflow list         list the workflows
  workflow export ID [--secrets]
                        print a workflow's document (product.md §9)
  workflow import FILE [--id ID]
                        create a workflow from a document, or with --id
                        save it as a new revision of that workflow
  backup FILE           write a consistent copy of the SQLite database to FILE
  migrate               apply database migrations and exit (--database for
                        PostgreSQL)
  version               print the version

Run 'hookflow <command> --help' for the flags of a command; flags may come
before or after the arguments. Most flags have an environment fallback,
named in their help: --data-dir is HOOKFLOW_DATA_DIR, and so on. With
--database postgres://... (HOOKFLOW_DATABASE), several instances share one
PostgreSQL database instead of the SQLite file; they need the same
HOOKFLOW_SECRET_KEY.
`

// run is the program: args without the program name, getenv for the
// environment, stdout for command output, stderr for logs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (isHelp(args[0]) || !strings.HasPrefix(args[0], "-")) {
		cmd, args = args[0], args[1:]
	}
	// sub returns the subcommand of a command with several ("token
	// create"), or prints the command's usage for help or none.
	sub := func(name string, subs ...string) (string, error) {
		synopsis := "hookflow " + name + " " + strings.Join(subs, "|") + " ..."
		if len(args) == 0 {
			return "", fmt.Errorf("usage: %s", synopsis)
		}
		if isHelp(args[0]) {
			fmt.Fprintf(stdout, "Usage: %s\n\nRun 'hookflow %s <subcommand> --help' for its flags.\n", synopsis, name)
			return "", errHelpShown
		}
		for _, s := range subs {
			if args[0] == s {
				args = args[1:]
				return s, nil
			}
		}
		return "", fmt.Errorf("unknown subcommand %q (usage: %s)", args[0], synopsis)
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "token":
		if _, err := sub("token", "create"); err != nil {
			if !errors.Is(err, errHelpShown) && len(args) == 0 {
				return fmt.Errorf("usage: hookflow token create --name NAME")
			}
			return err
		}
		return tokenCreate(ctx, args, getenv, stdout, stderr)
	case "admin":
		if _, err := sub("admin", "password"); err != nil {
			if !errors.Is(err, errHelpShown) && len(args) == 0 {
				return fmt.Errorf("usage: hookflow admin password --email EMAIL (new password from HOOKFLOW_ADMIN_PASSWORD or standard input)")
			}
			return err
		}
		return adminPassword(ctx, args, getenv, os.Stdin, stdout, stderr)
	case "workflow":
		s, err := sub("workflow", "list", "export", "import")
		if err != nil {
			return err
		}
		switch s {
		case "list":
			return workflowList(ctx, args, getenv, stdout, stderr)
		case "export":
			return workflowExport(ctx, args, getenv, stdout, stderr)
		}
		return workflowImport(ctx, args, getenv, stdout, stderr)
	case "backup":
		return backup(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "version":
		fs := newCmdFlags("hookflow version", "Print the version.", 0, stderr)
		if _, err := parseFlags(fs, args, stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "hookflow", buildVersion())
		return nil
	case "help", "-h", "-help", "--help":
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
	metricsAddr string
	dataDir     string
	database    string
	publicURL   string
	bodyLimit   int
	logLevel    string
	logFormat   string
	secretKey   string
	adminEmail  string
	// storeObserver, when set, receives the SQLite store's measurements.
	storeObserver engine.StoreObserver
	adminPass     string
	workers       int
	lease         time.Duration
	readTimeout   time.Duration
	// shutdownTimeout bounds the drain at SIGTERM: requests in flight and
	// runs finishing.
	shutdownTimeout time.Duration
	sessionIdle     time.Duration

	retentionAge   time.Duration
	retentionCount int
	outboundDeny   outbound.Policy
	trustedProxies []netip.Prefix
}

// newCmdFlags returns the flag set of a command: synopsis and about are
// what --help prints, nargs how many positional arguments it takes (-1:
// any number).
func newCmdFlags(synopsis, about string, nargs int, stderr io.Writer) *cmdFlags {
	fs := flag.NewFlagSet(synopsis, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &cmdFlags{FlagSet: fs, synopsis: synopsis, about: about, args: nargs}
}

// newFlagSet returns the flag set of a command that opens the data
// directory, with the flags every such command shares.
func newFlagSet(synopsis, about string, nargs int, getenv func(string) string, stderr io.Writer) (*cmdFlags, *config) {
	fs := newCmdFlags(synopsis, about, nargs, stderr)
	c := &config{secretKey: getenv("HOOKFLOW_SECRET_KEY"), adminEmail: getenv("HOOKFLOW_ADMIN_EMAIL"), adminPass: getenv("HOOKFLOW_ADMIN_PASSWORD")}
	fs.StringVar(&c.dataDir, "data-dir", envOr(getenv, "HOOKFLOW_DATA_DIR", "./data"), "directory of the SQLite database and key file (HOOKFLOW_DATA_DIR)")
	fs.StringVar(&c.database, "database", envOr(getenv, "HOOKFLOW_DATABASE", ""), "postgres://user:pass@host/db to share one PostgreSQL database between instances instead of the SQLite file; needs HOOKFLOW_SECRET_KEY (HOOKFLOW_DATABASE)")
	fs.StringVar(&c.logLevel, "log-level", envOr(getenv, "HOOKFLOW_LOG_LEVEL", "info"), "debug, info, warn or error (HOOKFLOW_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", envOr(getenv, "HOOKFLOW_LOG_FORMAT", "text"), "text or json (HOOKFLOW_LOG_FORMAT)")
	return fs, c
}

// envOr is the environment fallback of a flag: the value of k, or def
// when k is unset or empty.
func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
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
	fs, c := newFlagSet("hookflow [serve] [flags]", "Run the server: the webhook endpoint, the admin UI and API, and the workers.", 0, getenv, stderr)
	fs.StringVar(&c.addr, "addr", envOr(getenv, "HOOKFLOW_ADDR", ":13000"), "listen address (HOOKFLOW_ADDR)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", envOr(getenv, "HOOKFLOW_METRICS_ADDR", ""), "serve /metrics on this address of its own, without a token, and not on --addr (HOOKFLOW_METRICS_ADDR); default: on --addr, with an API token")
	fs.StringVar(&c.publicURL, "public-url", envOr(getenv, "HOOKFLOW_PUBLIC_URL", ""), "base of the URLs shown, e.g. https://hooks.example.com (HOOKFLOW_PUBLIC_URL)")
	bodyLimit := fs.String("body-limit", envOr(getenv, "HOOKFLOW_BODY_LIMIT", "10MiB"), "largest request body accepted (HOOKFLOW_BODY_LIMIT)")
	fs.IntVar(&c.workers, "workers", 0, "executions run at once in the background (default: 32 per CPU)")
	lease := fs.String("lease", envOr(getenv, "HOOKFLOW_LEASE", "30s"), "how long a claimed execution is held before another instance may take it over, renewed every third of it while it runs (HOOKFLOW_LEASE)")
	fs.DurationVar(&c.readTimeout, "read-timeout", 15*time.Second, "time allowed to read one request")
	shutdownTimeout := fs.String("shutdown-timeout", envOr(getenv, "HOOKFLOW_SHUTDOWN_TIMEOUT", "30s"), "at SIGTERM, how long requests in flight and running executions may take to finish (HOOKFLOW_SHUTDOWN_TIMEOUT)")
	sessionIdle := fs.String("session-idle", envOr(getenv, "HOOKFLOW_SESSION_IDLE", handlers.DefaultSessionIdle.String()),
		"sign an admin out after this long without a request, at most "+handlers.SessionLifetime.String()+" (HOOKFLOW_SESSION_IDLE)")
	retentionAge := fs.String("retention-age", envOr(getenv, "HOOKFLOW_RETENTION_AGE", "720h"), "delete executions older than this; 0 keeps them (HOOKFLOW_RETENTION_AGE)")
	retentionCount := fs.String("retention-count", envOr(getenv, "HOOKFLOW_RETENTION_COUNT", strconv.Itoa(engine.DefaultRetentionCount)), "keep at most this many executions per workflow; 0 for no limit (HOOKFLOW_RETENTION_COUNT)")
	outboundDeny := fs.String("outbound-deny", envOr(getenv, "HOOKFLOW_OUTBOUND_DENY", "metadata"), "addresses request nodes may not call: metadata (cloud metadata), private (also loopback and private ranges) or none (HOOKFLOW_OUTBOUND_DENY)")
	trustedProxies := fs.String("trusted-proxies", envOr(getenv, "HOOKFLOW_TRUSTED_PROXIES", ""), "comma-separated address ranges of the reverse proxies in front of Hookflow, such as 10.0.0.0/8,::1; the client address is then read from their X-Forwarded-For (HOOKFLOW_TRUSTED_PROXIES)")
	if _, err := parseFlags(fs, args, stdout); err != nil {
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
	if c.shutdownTimeout, err = time.ParseDuration(*shutdownTimeout); err != nil || c.shutdownTimeout < time.Second {
		return fmt.Errorf("--shutdown-timeout: %q is not a duration of at least 1s, such as 30s", *shutdownTimeout)
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
	// Metrics are always on. HOOKFLOW_METRICS_OBSERVER=off leaves the
	// engine and the store unobserved (only the Go runtime and process
	// metrics remain): make bench measures the hot path's cost with it.
	m := metrics.New(buildVersion())
	observe := getenv("HOOKFLOW_METRICS_OBSERVER") != "off"
	if observe {
		c.storeObserver = m
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
	if observe {
		svc.UseObserver(m)
		if pc, ok := store.(engine.PendingCounter); ok {
			m.WatchPending(pc)
		}
	}
	metricsHandler := promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{ErrorLog: promLog{log}})
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
	// Edits made by another process (hookflow workflow import) on the
	// SQLite file are live within a second; PostgreSQL instances hear of
	// them through their cluster listener.
	watched := make(chan struct{})
	if wv, ok := store.(engine.WorkflowVersions); ok {
		go func() { defer close(watched); svc.WatchWorkflows(pruneCtx, wv, time.Second) }()
	} else {
		close(watched)
	}
	defer func() { stopPruning(); <-watched }()

	// /readyz: a write through the store where it can make one, else a read.
	check := store.Ping
	if w, ok := store.(interface{ CheckWrite(context.Context) error }); ok {
		check = w.CheckWrite
	}
	readiness := handlers.NewReadiness(check, time.Second)
	h := &handlers.Handlers{
		Svc: svc, Auth: store, Log: log, PublicURL: c.publicURL, Ping: store.Ping,
		TrustedProxies: c.trustedProxies,
		SecureCookies:  strings.HasPrefix(c.publicURL, "https://"),
		SessionIdle:    c.sessionIdle,
		Throttle:       throttle,
		Readiness:      readiness,
		AdminFromEnv:   c.adminEmail != "" && c.adminPass != "",
		FirstRun: func(fc *fiber.Ctx) bool {
			any, err := store.AnySignIn(fc.UserContext())
			return err == nil && !any
		},
	}
	webCfg := web.Config{BodyLimit: c.bodyLimit, ReadTimeout: c.readTimeout}
	if c.metricsAddr == "" {
		webCfg.Metrics = metricsHandler
	}
	app := web.New(webCfg, h, log)
	// With --metrics-addr, /metrics has a listener of its own, meant for a
	// private network, and the main listener (the public one, for webhooks)
	// does not serve it at all.
	var metricsSrv *http.Server
	metricsDone := make(chan struct{})
	if c.metricsAddr != "" {
		mln, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			runner.Stop(context.Background())
			return fmt.Errorf("--metrics-addr: listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			defer close(metricsDone)
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener", "error", err)
			}
		}()
		c.metricsAddr = mln.Addr().String()
	} else {
		close(metricsDone)
	}
	stopMetrics := func() {
		if metricsSrv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			metricsSrv.Shutdown(sctx)
		}
		<-metricsDone
	}
	defer stopMetrics()
	rawLn, err := net.Listen("tcp", c.addr)
	if err != nil {
		runner.Stop(context.Background())
		return fmt.Errorf("--addr: listen: %w", err)
	}
	ln := web.NewListener(rawLn)
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	started := []any{"addr", ln.Addr().String(), "url", browseURL(c.publicURL, ln.Addr().String())}
	if instance >= 0 {
		started = append(started, "database", "postgres", "instance", instance)
	} else {
		started = append(started, "data_dir", c.dataDir)
	}
	if c.metricsAddr != "" {
		started = append(started, "metrics_addr", c.metricsAddr)
	}
	log.Info("hookflow started", append(started, "version", buildVersion())...)

	select {
	case <-ctx.Done():
	case err := <-served:
		runner.Stop(context.Background())
		return fmt.Errorf("serve: %w", err)
	}

	// Ordered shutdown (README, "Stopping"): /readyz says 503 at once; the
	// listener closes and the requests in flight finish; the runs in flight
	// finish, and what is still running when shutdownTimeout has passed is
	// cancelled and released (it resumes at the next start, at the node
	// that was running); then the database takes its queued writes,
	// checkpoints and closes. At most shutdownTimeout, plus up to 5 s to
	// release leases, plus the final checkpoint.
	log.Info("shutting down", "timeout", c.shutdownTimeout.String())
	readiness.Drain()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- app.ShutdownWithContext(shutdownCtx) }()
	// Connections that never sent a request would hold the shutdown until
	// the read timeout; once the listener is closed, close them.
	time.Sleep(20 * time.Millisecond)
	ln.CloseSilent()
	if err := <-httpDone; err != nil {
		log.Error("http shutdown: requests still in flight were cut off", "error", err)
	}
	if err := runner.Stop(shutdownCtx); err != nil {
		log.Warn("workers cancelled; their executions run again at next start", "error", err)
	}
	stopPruning()
	<-pruned
	<-watched
	leave()
	leave = func() {}
	// The metrics answer until here: a scrape during the drain shows it.
	stopMetrics()
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
	fs, c := newFlagSet("hookflow token create --name NAME [flags]",
		"Create an admin API token and print it alone on one line. It is shown this once; only its hash is stored.", 0, getenv, stderr)
	name := fs.String("name", "", "what the token is for (required)")
	if _, err := parseFlags(fs, args, stdout); err != nil {
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
	fs, c := newFlagSet("hookflow admin password --email EMAIL [flags]",
		"Set an admin's password, from HOOKFLOW_ADMIN_PASSWORD or the first line of standard input; sign that admin out everywhere and turn their two-factor sign-in off.", 0, getenv, stderr)
	email := fs.String("email", "", "the admin account (required)")
	if _, err := parseFlags(fs, args, stdout); err != nil {
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
	fs, c := newFlagSet("hookflow backup [--data-dir DIR] FILE",
		"Write a consistent copy of the database to FILE (which must not exist), safe while the server runs.", 1, getenv, stderr)
	pos, err := parseFlags(fs, args, stdout)
	if err != nil {
		return err
	}
	if c.database != "" {
		return fmt.Errorf("backup: copies the SQLite file; back up a PostgreSQL database with pg_dump or your provider's snapshots")
	}
	dest := pos[0]
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
	fs, c := newFlagSet("hookflow migrate [flags]", "Apply the pending database migrations, print the schema version and exit.", 0, getenv, stderr)
	if _, err := parseFlags(fs, args, stdout); err != nil {
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

// promLog passes the /metrics handler's errors (a collector failing) to
// the log.
type promLog struct{ log *slog.Logger }

func (p promLog) Println(v ...any) { p.log.Warn("metrics", "error", fmt.Sprint(v...)) }
