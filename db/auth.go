package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
)

var _ engine.AuthStore = (*DB)(nil)

// CountUsers implements engine.AuthStore.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr("count users", err)
}

// AnySignIn implements engine.AuthStore.
func (d *DB) AnySignIn(ctx context.Context) (bool, error) {
	var any bool
	err := d.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE signed_in_at IS NOT NULL)`).Scan(&any)
	return any, mapErr("any sign-in", err)
}

// CreateUser implements engine.AuthStore.
func (d *DB) CreateUser(ctx context.Context, u *engine.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		res, err := tx.Exec(`INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)`, u.Email, u.PasswordHash, ms(u.CreatedAt))
		if err != nil {
			return err
		}
		u.ID, err = res.LastInsertId()
		return err
	})
	return mapErr("create user", err)
}

// GetUserByEmail implements engine.AuthStore.
func (d *DB) GetUserByEmail(ctx context.Context, email string) (*engine.User, error) {
	var u engine.User
	var at int64
	var sealed []byte
	err := d.read.QueryRowContext(ctx, `SELECT id, email, password_hash, created_at, totp_secret, totp_last_step FROM users WHERE email = ?`, email).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &at, &sealed, &u.TOTPLastStep)
	if err != nil {
		return nil, mapErr("user", err)
	}
	u.CreatedAt = fromMS(at)
	if u.TOTPSecret, err = d.box.Open(sealed); err != nil {
		return nil, fmt.Errorf("user %d: two-factor %w", u.ID, err)
	}
	return &u, nil
}

// SetTOTP implements engine.AuthStore. The secret is encrypted like webhook
// passwords; turning two-factor off or on again resets the last used step.
func (d *DB) SetTOTP(ctx context.Context, userID int64, secret string) error {
	return d.execOne(ctx, "set two-factor secret", fmt.Sprintf("user %d", userID),
		`UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?`, d.box.Seal(secret), userID)
}

// UseTOTPStep implements engine.AuthStore: a single conditional UPDATE, so
// two sign-ins racing with the same code cannot both succeed.
func (d *DB) UseTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	n, err := d.execCount(ctx, "use two-factor step", `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, userID, step)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// UpdatePassword implements engine.AuthStore.
func (d *DB) UpdatePassword(ctx context.Context, userID int64, hash string) error {
	return d.execOne(ctx, "update password", fmt.Sprintf("user %d", userID), `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
}

// CreateSession implements engine.AuthStore.
func (d *DB) CreateSession(ctx context.Context, s *engine.Session) error {
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		if _, err := tx.Exec(`INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.UserID, s.CSRFToken, ms(s.CreatedAt), ms(s.ExpiresAt), ms(s.SeenAt)); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE users SET signed_in_at = ? WHERE id = ?`, ms(s.CreatedAt), s.UserID)
		return err
	})
	return mapErr("create session", err)
}

// GetSession implements engine.AuthStore.
func (d *DB) GetSession(ctx context.Context, tokenHash string, now time.Time) (*engine.Session, error) {
	var s engine.Session
	var cre, exp, seen int64
	err := d.read.QueryRowContext(ctx, `SELECT s.token_hash, s.user_id, u.email, s.csrf_token, s.created_at, s.expires_at, s.seen_at
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, ms(now)).
		Scan(&s.TokenHash, &s.UserID, &s.Email, &s.CSRFToken, &cre, &exp, &seen)
	if err != nil {
		return nil, mapErr("session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.SeenAt = fromMS(cre), fromMS(exp), fromMS(seen)
	return &s, nil
}

// TouchSession implements engine.AuthStore.
func (d *DB) TouchSession(ctx context.Context, tokenHash string, seen time.Time) error {
	return d.execOne(ctx, "touch session", "session", `UPDATE sessions SET seen_at = ? WHERE token_hash = ?`, ms(seen), tokenHash)
}

// DeleteSession implements engine.AuthStore.
func (d *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := d.execCount(ctx, "delete session", `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}

// DeleteSessionsOfUser implements engine.AuthStore.
func (d *DB) DeleteSessionsOfUser(ctx context.Context, userID int64, except string) error {
	_, err := d.execCount(ctx, "delete sessions of user", `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, except)
	return err
}

// DeleteExpiredSessions implements engine.AuthStore.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return d.execCount(ctx, "delete expired sessions", `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
}

// CreateAPIToken implements engine.AuthStore.
func (d *DB) CreateAPIToken(ctx context.Context, t *engine.APIToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	err := d.w.do(ctx, func(b *batch) error {
		tx := b.tx
		res, err := tx.Exec(`INSERT INTO api_tokens (name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?)`, t.Name, t.TokenHash, t.Prefix, ms(t.CreatedAt))
		if err != nil {
			return err
		}
		t.ID, err = res.LastInsertId()
		return err
	})
	return mapErr("create API token", err)
}

// GetAPIToken implements engine.AuthStore. The last-use time is updated at
// most once a minute per token, so API calls do not each cost a write.
func (d *DB) GetAPIToken(ctx context.Context, tokenHash string) (*engine.APIToken, error) {
	var t engine.APIToken
	var cre int64
	var used sql.NullInt64
	err := d.read.QueryRowContext(ctx, `SELECT id, name, token_hash, prefix, created_at, last_used_at FROM api_tokens WHERE token_hash = ?`, tokenHash).
		Scan(&t.ID, &t.Name, &t.TokenHash, &t.Prefix, &cre, &used)
	if err != nil {
		return nil, mapErr("API token", err)
	}
	t.CreatedAt, t.LastUsedAt = fromMS(cre), fromNullMS(used)
	now := time.Now()
	if now.Sub(t.LastUsedAt) > time.Minute {
		_ = d.w.do(ctx, func(b *batch) error {
			tx := b.tx
			_, err := tx.Exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(now), t.ID)
			return err
		})
	}
	return &t, nil
}

// ListAPITokens implements engine.AuthStore.
func (d *DB) ListAPITokens(ctx context.Context) ([]engine.APIToken, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, name, token_hash, prefix, created_at, last_used_at FROM api_tokens ORDER BY id DESC`)
	if err != nil {
		return nil, mapErr("list API tokens", err)
	}
	defer rows.Close()
	var out []engine.APIToken
	for rows.Next() {
		var t engine.APIToken
		var cre int64
		var used sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.TokenHash, &t.Prefix, &cre, &used); err != nil {
			return nil, mapErr("list API tokens", err)
		}
		t.CreatedAt, t.LastUsedAt = fromMS(cre), fromNullMS(used)
		out = append(out, t)
	}
	return out, mapErr("list API tokens", rows.Err())
}

// DeleteAPIToken implements engine.AuthStore.
func (d *DB) DeleteAPIToken(ctx context.Context, id int64) error {
	return d.execOne(ctx, "delete API token", fmt.Sprintf("API token %d", id), `DELETE FROM api_tokens WHERE id = ?`, id)
}
