package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Auth runs the auth store suite: admins, sessions, API tokens and
// two-factor sign-in.
func Auth(t *testing.T, open OpenDB) {
	runAll(t, open, []namedTest{
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"UpdatePassword", testUpdatePassword},
		{"DeleteSessionsOfUser", testDeleteSessionsOfUser},
		{"TOTP", testTOTP},
	})
}

// fakeHash stands in for a bcrypt hash: the store keeps it as given, and
// hashing for real would only slow the tests down.
const fakeHash = "$2a$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01"

func createUsers(t *testing.T, s Store, emails ...string) []*engine.User {
	t.Helper()
	var out []*engine.User
	for _, email := range emails {
		u := &engine.User{Email: email, PasswordHash: fakeHash}
		if err := s.CreateUser(context.Background(), u); err != nil {
			t.Fatalf("CreateUser(%s): %v", email, err)
		}
		out = append(out, u)
	}
	return out
}

func testUsers(t *testing.T, d *DB) {
	ctx := context.Background()
	if n, err := d.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
	u := &engine.User{Email: "Admin@Example.com", PasswordHash: fakeHash}
	if err := d.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.ID <= 0 || u.CreatedAt.IsZero() {
		t.Errorf("created %+v", u)
	}
	for _, email := range []string{"Admin@Example.com", "admin@example.com"} {
		got, err := d.GetUserByEmail(ctx, email)
		if err != nil || got.ID != u.ID || got.PasswordHash != fakeHash || got.Email != "Admin@Example.com" {
			t.Errorf("GetUserByEmail(%q) = %+v, %v", email, got, err)
		}
	}
	if _, err := d.GetUserByEmail(ctx, "nobody@example.com"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("GetUserByEmail(nobody): %v", err)
	}
	for _, email := range []string{"Admin@Example.com", "ADMIN@example.COM"} {
		if err := d.CreateUser(ctx, &engine.User{Email: email, PasswordHash: fakeHash}); engine.ErrorCode(err) != engine.ECONFLICT {
			t.Errorf("duplicate %q: %v, want %s", email, err, engine.ECONFLICT)
		}
	}
	if n, err := d.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
}

func testSessions(t *testing.T, d *DB) {
	ctx := context.Background()
	u := createUsers(t, d, "a@example.com")[0]
	if any, err := d.AnySignIn(ctx); err != nil || any {
		t.Errorf("AnySignIn before any session = %v, %v", any, err)
	}
	now := time.Now().Truncate(time.Millisecond)
	live := &engine.Session{TokenHash: engine.HashToken("live"), UserID: u.ID, CSRFToken: "csrf1", CreatedAt: now, ExpiresAt: now.Add(time.Hour), SeenAt: now}
	old := &engine.Session{TokenHash: engine.HashToken("old"), UserID: u.ID, CSRFToken: "csrf2", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour), SeenAt: now}
	for _, s := range []*engine.Session{live, old} {
		if err := d.CreateSession(ctx, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	if any, err := d.AnySignIn(ctx); err != nil || !any {
		t.Errorf("AnySignIn after a session = %v, %v", any, err)
	}
	got, err := d.GetSession(ctx, live.TokenHash, now)
	if err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if got.UserID != u.ID || got.Email != u.Email || got.CSRFToken != "csrf1" || !got.ExpiresAt.Equal(live.ExpiresAt) || !got.CreatedAt.Equal(now) {
		t.Errorf("session %+v", got)
	}
	// Touching a session moves its idle expiry.
	seen := now.Add(10 * time.Minute)
	if err := d.TouchSession(ctx, live.TokenHash, seen); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	if got, err := d.GetSession(ctx, live.TokenHash, now); err != nil || !got.SeenAt.Equal(seen) {
		t.Errorf("after TouchSession: %+v, %v", got, err)
	}
	if err := d.TouchSession(ctx, engine.HashToken("nope"), seen); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("TouchSession of an unknown session: %v", err)
	}
	// Expired sessions are not found, then deleted.
	if _, err := d.GetSession(ctx, old.TokenHash, now); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("expired session: %v", err)
	}
	if _, err := d.GetSession(ctx, live.TokenHash, now.Add(2*time.Hour)); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("session after its expiry: %v", err)
	}
	if _, err := d.GetSession(ctx, engine.HashToken("nope"), now); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("unknown session: %v", err)
	}
	if n, err := d.DeleteExpiredSessions(ctx, now); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM sessions`); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
	if err := d.DeleteSession(ctx, live.TokenHash); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetSession(ctx, live.TokenHash, now); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("deleted session: %v", err)
	}
	if err := d.CreateSession(ctx, &engine.Session{TokenHash: "x", UserID: u.ID + 1, CreatedAt: now, ExpiresAt: now, SeenAt: now}); err == nil {
		t.Error("session for a missing user stored")
	}
}

func testAPITokens(t *testing.T, d *DB) {
	ctx := context.Background()
	tok, rec, err := engine.NewAPIToken(" ci ")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateAPIToken(ctx, rec); err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	// Only the hash is stored.
	if n := count(t, d, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = ? AND name = 'ci'`, engine.HashToken(tok)); n != 1 {
		t.Errorf("token row by hash: %d", n)
	}
	if n := count(t, d, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = ? OR prefix = ? OR name = ?`, tok, tok, tok); n != 0 {
		t.Errorf("the token itself is stored")
	}
	got, err := d.GetAPIToken(ctx, engine.HashToken(tok))
	if err != nil || got.ID != rec.ID || got.Name != "ci" || got.Prefix != tok[:9] || got.CreatedAt.IsZero() {
		t.Fatalf("GetAPIToken = %+v, %v", got, err)
	}
	// The first use is recorded.
	got, err = d.GetAPIToken(ctx, engine.HashToken(tok))
	if err != nil || got.LastUsedAt.IsZero() {
		t.Errorf("last use not recorded: %+v, %v", got, err)
	}
	if _, err := d.GetAPIToken(ctx, engine.HashToken(tok+"x")); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := d.GetAPIToken(ctx, tok); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("token looked up unhashed: %v", err)
	}
	_, rec2, _ := engine.NewAPIToken("second")
	if err := d.CreateAPIToken(ctx, rec2); err != nil {
		t.Fatal(err)
	}
	list, err := d.ListAPITokens(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "second" || list[1].Name != "ci" {
		t.Errorf("ListAPITokens = %+v, %v", list, err)
	}
	if err := d.DeleteAPIToken(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetAPIToken(ctx, engine.HashToken(tok)); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("deleted token still works: %v", err)
	}
	if err := d.DeleteAPIToken(ctx, rec.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("second delete: %v", err)
	}
	dup := &engine.APIToken{Name: "dup", TokenHash: rec2.TokenHash, Prefix: "hf_"}
	if err := d.CreateAPIToken(ctx, dup); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Errorf("duplicate token hash: %v", err)
	}
}

func testUpdatePassword(t *testing.T, d *DB) {
	ctx := context.Background()
	users := createUsers(t, d, "a@example.com", "b@example.com")
	u, other := users[0], users[1]
	const newHash = "$2a$12$0123456789012345678901uuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
	if err := d.UpdatePassword(ctx, u.ID, newHash); err != nil {
		t.Fatalf("UpdatePassword: %v", err)
	}
	if got, err := d.GetUserByEmail(ctx, u.Email); err != nil || got.PasswordHash != newHash {
		t.Errorf("after UpdatePassword: %+v, %v", got, err)
	}
	// Only that user changes.
	if got, err := d.GetUserByEmail(ctx, other.Email); err != nil || got.PasswordHash != fakeHash {
		t.Errorf("other user changed: %+v, %v", got, err)
	}
	// The same hash again is no error.
	if err := d.UpdatePassword(ctx, u.ID, newHash); err != nil {
		t.Errorf("UpdatePassword (same hash): %v", err)
	}
	if err := d.UpdatePassword(ctx, other.ID+100, newHash); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("UpdatePassword of a missing user: %v, want %s", err, engine.ENOTFOUND)
	}
}

func testDeleteSessionsOfUser(t *testing.T, d *DB) {
	ctx := context.Background()
	users := createUsers(t, d, "a@example.com", "b@example.com")
	u, other := users[0], users[1]
	now := time.Now().Truncate(time.Millisecond)
	newSession := func(tok string, userID int64) string {
		t.Helper()
		s := &engine.Session{TokenHash: engine.HashToken(tok), UserID: userID, CSRFToken: "csrf-" + tok, CreatedAt: now, ExpiresAt: now.Add(time.Hour), SeenAt: now}
		if err := d.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s.TokenHash
	}
	keep := newSession("keep", u.ID)
	gone1 := newSession("gone1", u.ID)
	gone2 := newSession("gone2", u.ID)
	theirs := newSession("theirs", other.ID)
	if err := d.DeleteSessionsOfUser(ctx, u.ID, keep); err != nil {
		t.Fatalf("DeleteSessionsOfUser: %v", err)
	}
	for _, h := range []string{gone1, gone2} {
		if _, err := d.GetSession(ctx, h, now); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("other session of the user survived: %v", err)
		}
	}
	for _, h := range []string{keep, theirs} {
		if _, err := d.GetSession(ctx, h, now); err != nil {
			t.Errorf("session deleted that should stay: %v", err)
		}
	}
	// Nothing left to delete: no error. Without an exception, all go.
	if err := d.DeleteSessionsOfUser(ctx, u.ID, keep); err != nil {
		t.Errorf("second DeleteSessionsOfUser: %v", err)
	}
	if err := d.DeleteSessionsOfUser(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetSession(ctx, keep, now); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("session kept without exception: %v", err)
	}
	if _, err := d.GetSession(ctx, theirs, now); err != nil {
		t.Errorf("another user's session deleted: %v", err)
	}
}

func testTOTP(t *testing.T, d *DB) {
	ctx := context.Background()
	users := createUsers(t, d, "a@example.com", "b@example.com")
	u, other := users[0], users[1]
	if got, err := d.GetUserByEmail(ctx, u.Email); err != nil || got.TOTPSecret != "" || got.TOTPLastStep != 0 {
		t.Fatalf("new user: %+v, %v", got, err)
	}
	secret := engine.NewTOTPSecret()
	if err := d.SetTOTP(ctx, u.ID, secret); err != nil {
		t.Fatalf("SetTOTP: %v", err)
	}
	if got, err := d.GetUserByEmail(ctx, u.Email); err != nil || got.TOTPSecret != secret {
		t.Fatalf("after SetTOTP: %+v, %v", got, err)
	}
	if got, _ := d.GetUserByEmail(ctx, other.Email); got.TOTPSecret != "" {
		t.Error("other user got a secret")
	}
	// Stored encrypted, not as the plaintext.
	var stored []byte
	if err := d.Raw.QueryRow(`SELECT totp_secret FROM users WHERE id = ?`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) == 0 || bytes.Contains(stored, []byte(secret)) {
		t.Errorf("stored secret %q is empty or the plaintext", stored)
	}
	// Another key cannot read it.
	if _, err := d.Reopen(t, "another key, 20 bytes long").GetUserByEmail(ctx, u.Email); err == nil {
		t.Error("read with the wrong key")
	}

	// Steps only go forward: a used step (replay) or an older one is refused.
	for _, tc := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		ok, err := d.UseTOTPStep(ctx, u.ID, tc.step)
		if err != nil || ok != tc.want {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
	}
	if got, _ := d.GetUserByEmail(ctx, u.Email); got.TOTPLastStep != 101 {
		t.Errorf("TOTPLastStep = %d, want 101", got.TOTPLastStep)
	}
	// Racing uses of one step: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			if ok, err := d.UseTOTPStep(ctx, u.ID, 200); err == nil && ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent uses of one step succeeded, want 1", wins)
	}
	// Disable: the secret goes and the step resets.
	if err := d.SetTOTP(ctx, u.ID, ""); err != nil {
		t.Fatalf("SetTOTP(\"\"): %v", err)
	}
	if got, err := d.GetUserByEmail(ctx, u.Email); err != nil || got.TOTPSecret != "" || got.TOTPLastStep != 0 {
		t.Errorf("after disable: %+v, %v", got, err)
	}
	if err := d.SetTOTP(ctx, other.ID+100, secret); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("SetTOTP of a missing user: %v", err)
	}
}
