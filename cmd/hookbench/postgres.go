package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL scenarios (issue 14, group p): the async accept and the
// sync example of the main table, with one and then two instances of
// Hookflow sharing one PostgreSQL database, on the same machine as the
// baseline and the load generator. They run when --postgres (or
// HOOKFLOW_TEST_DATABASE) names a server where hookbench may create a
// schema; the schema is dropped at the end.

// pgBench is the PostgreSQL part of a run.
type pgBench struct {
	server, url, schema string
	// postmaster is the PostgreSQL server's process when it runs on this
	// machine (0 otherwise), to measure its CPU.
	postmaster        int
	nodes             []*proc
	token             string
	syncKey, asyncKey string
}

// benchSecretKey is HOOKFLOW_SECRET_KEY of the instances: they must share
// one.
const benchSecretKey = "hookbench-secret-key-0123456789"

func (b *bench) postgresEnv(p *pgBench) []string {
	return append(b.hookflowEnv(), "HOOKFLOW_DATABASE="+p.url, "HOOKFLOW_SECRET_KEY="+benchSecretKey)
}

// postgres measures group p.
func (b *bench) postgres(ctx context.Context, paid []byte, plain, basic []header) error {
	p := &pgBench{server: b.cfg.postgres}
	raw := make([]byte, 4)
	rand.Read(raw)
	p.schema = "hookbench_" + hex.EncodeToString(raw)
	conn, err := pgx.Connect(ctx, p.server)
	if err != nil {
		return fmt.Errorf("--postgres: %w", err)
	}
	defer conn.Close(context.Background())
	var settings string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', shared_buffers ' || current_setting('shared_buffers')`).Scan(&settings); err != nil {
		return fmt.Errorf("--postgres: %w", err)
	}
	var backend int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err == nil {
		p.postmaster = parentPID(backend)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+p.schema); err != nil {
		return fmt.Errorf("--postgres: create schema: %w", err)
	}
	defer func() {
		for _, n := range p.nodes {
			n.stop()
		}
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA `+p.schema+` CASCADE`); err != nil {
			b.note("PostgreSQL: could not drop schema %s: %v", p.schema, err)
		}
	}()
	u, err := url.Parse(p.server)
	if err != nil {
		return fmt.Errorf("--postgres: %w", err)
	}
	q := u.Query()
	q.Set("search_path", p.schema)
	u.RawQuery = q.Encode()
	p.url = u.String()
	b.note("PostgreSQL %s, on this machine; the instances share its %d cores with it and the load generator", settings, runtime.NumCPU())

	if err := b.pgToken(ctx, p); err != nil {
		return err
	}
	for range 2 {
		port, err := freePort()
		if err != nil {
			return err
		}
		addr := "127.0.0.1:" + port
		n, err := startProc(ctx, fmt.Sprintf("hookflow on PostgreSQL %d", len(p.nodes)+1), b.cfg.hookflow,
			[]string{"serve", "--addr", addr, "--log-level", "warn"}, b.postgresEnv(p), addr, b.log)
		if err != nil {
			return err
		}
		p.nodes = append(p.nodes, n)
	}
	var s, a created
	if err := b.pgAPI(ctx, p, "/api/v1/workflows", []byte(syncDoc), &s); err != nil {
		return fmt.Errorf("create the §9 workflow on PostgreSQL: %w", err)
	}
	if err := b.pgAPI(ctx, p, "/api/v1/workflows", []byte(fmt.Sprintf(asyncDoc, "bench async")), &a); err != nil {
		return fmt.Errorf("create the async workflow on PostgreSQL: %w", err)
	}
	p.syncKey, p.asyncKey = s.Key, a.Key
	conns := b.cfg.conns
	for _, n := range []int{1, 2} {
		if _, err := b.measurePG(ctx, p, fmt.Sprintf("(p) PostgreSQL, %d instance%s: async accept", n, plural(n)), n, syncPath(p.asyncKey), conns, paid, plain); err != nil {
			return err
		}
		if _, err := b.measurePG(ctx, p, fmt.Sprintf("(p) PostgreSQL, %d instance%s: sync §9 example", n, plural(n)), n, syncPath(p.syncKey), conns, paid, basic); err != nil {
			return err
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (b *bench) pgToken(ctx context.Context, p *pgBench) error {
	saved := b.token
	defer func() { p.token, b.token = b.token, saved }()
	return b.createTokenEnv(ctx, b.postgresEnv(p))
}

// pgAPI posts to the admin API of the first instance.
func (b *bench) pgAPI(ctx context.Context, p *pgBench, path string, body []byte, out any) error {
	hf, token := b.hf, b.token
	b.hf, b.token = p.nodes[0], p.token
	defer func() { b.hf, b.token = hf, token }()
	return b.api(ctx, "POST", path, body, out)
}

// measurePG measures the first n instances at once: the connections are
// shared out among them (a load balancer's round robin), and the server
// columns add up the instances (PostgreSQL's own CPU is not in them: it is
// among the other processes of the log line).
func (b *bench) measurePG(ctx context.Context, p *pgBench, name string, n int, path string, conns int, body []byte, headers []header) (*loadResult, error) {
	b.logf("%s, %d connections", name, conns)
	cfgs := make([]loadConfig, n)
	for i := range cfgs {
		cfgs[i] = loadConfig{URLs: []string{p.nodes[i].url(path)}, Body: body, Headers: headers, Connections: max(1, conns/n), Timeout: 10 * time.Second}
	}
	if b.cfg.warmup > 0 {
		if _, err := runLoads(ctx, cfgs, b.cfg.warmup); err != nil {
			return nil, err
		}
	}
	stored, err := b.pgCount(ctx, p, `SELECT COUNT(*) FROM executions`)
	if err != nil {
		return nil, err
	}
	pg0 := postgresCPU(p.postmaster)
	samplers := make([]*sampler, n)
	for i := range samplers {
		samplers[i] = startSampler(p.nodes[i].pid())
	}
	res, err := runLoads(ctx, cfgs, b.cfg.duration)
	var rss int64
	var cpu, rest time.Duration // all instances; all but the first
	for i, s := range samplers {
		r, c := s.finish()
		rss, cpu = rss+r, cpu+c
		if i > 0 {
			rest += c
		}
	}
	pgCPU := postgresCPU(p.postmaster) - pg0
	if err != nil {
		return nil, err
	}
	// The first sampler counts the other instances and PostgreSQL among
	// the machine's other processes: what is left is the rest.
	others := max(0, samplers[0].others-(rest+pgCPU).Seconds()/res.DurationSeconds)
	b.busyCheck(name, others)
	r := row{Scenario: name, Conns: conns, RPS: res.RPS, P50: res.p50(), P99: res.p99(), Errors: res.Errors, RSS: rss, Stored: stored}
	if res.hist.n > 0 {
		r.CPUPerReq = cpu / time.Duration(res.hist.n)
	}
	if base := b.baseByCon[conns]; base > 0 {
		r.Ratio = res.RPS / base
	}
	if res.FirstError != "" || res.Errors > 0 {
		b.note("%s: %d errors, statuses %v, first transport error %q", name, res.Errors, res.Status, res.FirstError)
	}
	b.logf("  %.0f req/s, p50 %s, p99 %s, errors %d; CPU cores used: Hookflow %.2f, PostgreSQL %.2f, hookbench %.2f, other processes %.2f",
		res.RPS, fmtLatency(r.P50), fmtLatency(r.P99), res.Errors, cpu.Seconds()/res.DurationSeconds, pgCPU.Seconds()/res.DurationSeconds, res.ClientCPUs/res.DurationSeconds, others)
	if p.postmaster > 0 && res.hist.n > 0 {
		b.note("%s: PostgreSQL used %.2f cores, %s of CPU per request (Hookflow: %s)", name, pgCPU.Seconds()/res.DurationSeconds,
			fmtMicros(pgCPU/time.Duration(res.hist.n)), fmtMicros(r.CPUPerReq))
	}
	b.rows = append(b.rows, r)
	if left, err := b.pgCount(ctx, p, `SELECT COUNT(*) FROM executions WHERE status IN ('queued', 'running', 'waiting')`); err == nil && left > 0 {
		deadline := time.Now().Add(60 * time.Second)
		for left > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			if left, err = b.pgCount(ctx, p, `SELECT COUNT(*) FROM executions WHERE status IN ('queued', 'running', 'waiting')`); err != nil {
				break
			}
		}
	}
	return res, nil
}

func (b *bench) pgCount(ctx context.Context, p *pgBench, query string) (int64, error) {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int64
	err = conn.QueryRow(ctx, query).Scan(&n)
	return n, err
}

// runLoads runs several loads at once for d and merges their results, as
// one load generator spread over several instances.
func runLoads(ctx context.Context, cfgs []loadConfig, d time.Duration) (*loadResult, error) {
	results := make([]*loadResult, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	for i, c := range cfgs {
		c.Duration = d
		wg.Go(func() { results[i], errs[i] = runLoad(ctx, c) })
	}
	wg.Wait()
	out := &loadResult{Status: map[string]int64{}, hist: &histogram{}, URLs: len(cfgs)}
	for i, r := range results {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out.URL = strings.Join([]string{out.URL, r.URL}, " ")
		out.Connections += r.Connections
		out.DurationSeconds = max(out.DurationSeconds, r.DurationSeconds)
		out.Requests += r.Requests
		out.Errors += r.Errors
		out.TransportErrors += r.TransportErrors
		out.RPS += r.RPS
		out.ClientCPUs = max(out.ClientCPUs, r.ClientCPUs) // one process: each saw all of it
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
		for k, v := range r.Status {
			out.Status[k] += v
		}
		out.hist.merge(r.hist)
	}
	return out, nil
}

func fmtMicros(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

// parentPID returns the parent of a process (0 if unknown).
func parentPID(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(f[1]))
	return ppid
}

// statFields returns the fields of /proc/PID/stat after the command name:
// state, ppid, ...
func statFields(pid int) [][]byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return bytes.Fields(b[i+1:])
}

// postgresCPU is the CPU time of a local PostgreSQL server: its postmaster
// with the children it reaped, and its live processes (backends, WAL
// writer, checkpointer...).
func postgresCPU(postmaster int) time.Duration {
	if postmaster <= 0 {
		return 0
	}
	tick := func(f [][]byte, i int) int64 { v, _ := strconv.ParseInt(string(f[i]), 10, 64); return v }
	f := statFields(postmaster)
	if len(f) < 15 {
		return 0
	}
	ticks := tick(f, 11) + tick(f, 12) + tick(f, 13) + tick(f, 14)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == postmaster {
			continue
		}
		if c := statFields(pid); len(c) >= 13 && string(c[1]) == strconv.Itoa(postmaster) {
			ticks += tick(c, 11) + tick(c, 12)
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
