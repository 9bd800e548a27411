package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

func TestAdminPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	env := func(k string) string {
		if k == "HOOKFLOW_ADMIN_PASSWORD" {
			return "a brand new passphrase"
		}
		return ""
	}
	// Create the database with one admin, as a first start would.
	store := openDataDir(t, dir)
	hash, err := engine.HashPassword("the old password!", "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u := &engine.User{Email: "ops@example.com", PasswordHash: hash}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	// The admin had two-factor sign-in on and lost the phone.
	if err := store.SetTOTP(ctx, u.ID, engine.NewTOTPSecret()); err != nil {
		t.Fatal(err)
	}
	store.Close()

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"admin", "password", "--email", "ops@example.com", "--data-dir", dir}, env, &out, &errOut); err != nil {
		t.Fatalf("admin password: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "password changed for ops@example.com") ||
		!strings.Contains(out.String(), "two-factor sign-in turned off for ops@example.com") {
		t.Errorf("output %q", out.String())
	}
	store = openDataDir(t, dir)
	defer store.Close()
	got, err := store.GetUserByEmail(ctx, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !engine.CheckPassword(got.PasswordHash, "a brand new passphrase") || engine.CheckPassword(got.PasswordHash, "the old password!") {
		t.Error("the stored hash is not the new password's")
	}
	if got.TOTPSecret != "" {
		t.Error("two-factor sign-in still on")
	}

	for _, tc := range []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"no email", []string{"admin", "password", "--data-dir", dir}, env, "--email: required"},
		{"unknown account", []string{"admin", "password", "--email", "nobody@example.com", "--data-dir", dir}, env, "no admin account"},
		{"short password", []string{"admin", "password", "--email", "ops@example.com", "--data-dir", dir},
			func(k string) string {
				if k == "HOOKFLOW_ADMIN_PASSWORD" {
					return "short"
				}
				return ""
			}, "at least 12"},
		{"no subcommand", []string{"admin"}, env, "usage"},
	} {
		err := run(ctx, tc.args, tc.env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestBrowseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ public, addr, want string }{
		{"", "[::]:13000", "http://localhost:13000"},
		{"", "0.0.0.0:13000", "http://localhost:13000"},
		{"", "127.0.0.1:4321", "http://127.0.0.1:4321"},
		{"", "[::1]:80", "http://[::1]:80"},
		{"https://hooks.example.com/", "[::]:13000", "https://hooks.example.com"},
	} {
		if got := browseURL(tc.public, tc.addr); got != tc.want {
			t.Errorf("browseURL(%q, %q) = %q, want %q", tc.public, tc.addr, got, tc.want)
		}
	}
}
