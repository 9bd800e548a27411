// Package pgtest gives tests a PostgreSQL schema of their own, on the
// server that HOOKFLOW_TEST_DATABASE names (a URL of a server where tests
// may create and drop schemas). Without it, tests that need PostgreSQL skip
// with a message saying how to run them, unless HOOKFLOW_REQUIRE_POSTGRES is
// set (as .ci/run sets it), when they fail instead: CI never skips them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL and EnvRequire are the environment variables read.
const (
	EnvURL     = "HOOKFLOW_TEST_DATABASE"
	EnvRequire = "HOOKFLOW_REQUIRE_POSTGRES"
)

// ServerURL returns the test server's URL, skipping the test (or failing
// it, when PostgreSQL is required) if none is set.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv(EnvRequire) != "" {
			tb.Fatalf("%s is set but %s is not: the PostgreSQL tests must run here", EnvRequire, EnvURL)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s to a server URL where tests may create schemas (.ci/postgres start DIR prints one)", EnvURL)
	}
	return u
}

// Schema creates an empty schema for the test, dropped when it ends, and
// returns a URL whose connections use it (search_path).
func Schema(tb testing.TB) string {
	tb.Helper()
	base := ServerURL(tb)
	b := make([]byte, 6)
	rand.Read(b)
	name := "hf_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return WithSchema(tb, base, name)
}

// WithSchema returns url with its connections' search_path set to schema.
func WithSchema(tb testing.TB, raw, schema string) string {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
