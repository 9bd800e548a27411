package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/engine"
	"github.com/jackc/pgx/v5"
)

var _ engine.AuthStore = (*DB)(nil)

// CountUsers implements engine.AuthStore.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr("count users", err)
}

// AnySignIn implements engine.AuthStore.
func (d *DB) AnySignIn(ctx context.Context) (bool, error) {
	var any bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE signed_in_at IS NOT NULL)`).Scan(&any)
	return any, mapErr("any sign-in", err)
}

// CreateUser implements engine.AuthStore.
func (d *DB) CreateUser(ctx context.Context, u *engine.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	err := d.pool.QueryRow(ctx, `INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		text(u.Email), u.PasswordHash, ms(u.CreatedAt)).Scan(&u.ID)
	return mapErr("create user", err)
}

// GetUserByEmail implements engine.AuthStore; emails match without regard
// to case.
func (d *DB) GetUserByEmail(ctx context.Context, email string) (*engine.User, error) {
	var u engine.User
	var at int64
	var sealed []byte
	err := d.pool.QueryRow(ctx, `SELECT id, email, password_hash, created_at, totp_secret, totp_last_step FROM users WHERE lower(email) = lower($1)`, text(email)).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &at, &sealed, &u.TOTPLastStep)
	if err != nil {
		return nil, mapErr("user", err)
	}
	u.CreatedAt = fromMS(at)
	if u.TOTPSecret, err = d.box.Open(sealed); err != nil {
		return nil, fmt.Errorf("postgres: user %d: two-factor %w", u.ID, err)
	}
	return &u, nil
}

// execOne runs a statement that must change a row; ENOTFOUND when none.
func (d *DB) execOne(ctx context.Context, op, what string, q string, args ...any) error {
	tag, err := d.pool.Exec(ctx, q, args...)
	if err != nil {
		return mapErr(op, err)
	}
	if tag.RowsAffected() == 0 {
		return engine.Errorf(engine.ENOTFOUND, "%s not found", what)
	}
	return nil
}

// SetTOTP implements engine.AuthStore. Turning two-factor off or on again
// resets the last used step.
func (d *DB) SetTOTP(ctx context.Context, userID int64, secret string) error {
	return d.execOne(ctx, "set two-factor secret", fmt.Sprintf("user %d", userID),
		`UPDATE users SET totp_secret = $1, totp_last_step = 0 WHERE id = $2`, d.box.Seal(secret), userID)
}

// UseTOTPStep implements engine.AuthStore: a single conditional UPDATE, so
// two sign-ins racing with the same code, on any instances, cannot both
// succeed.
func (d *DB) UseTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	tag, err := d.pool.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, userID)
	if err != nil {
		return false, mapErr("use two-factor step", err)
	}
	return tag.RowsAffected() == 1, nil
}

// UpdatePassword implements engine.AuthStore.
func (d *DB) UpdatePassword(ctx context.Context, userID int64, hash string) error {
	return d.execOne(ctx, "update password", fmt.Sprintf("user %d", userID), `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
}

// CreateSession implements engine.AuthStore.
func (d *DB) CreateSession(ctx context.Context, s *engine.Session) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, seen_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			s.TokenHash, s.UserID, s.CSRFToken, ms(s.CreatedAt), ms(s.ExpiresAt), ms(s.SeenAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE users SET signed_in_at = $1 WHERE id = $2`, ms(s.CreatedAt), s.UserID)
		return err
	})
	return mapErr("create session", err)
}

// GetSession implements engine.AuthStore.
func (d *DB) GetSession(ctx context.Context, tokenHash string, now time.Time) (*engine.Session, error) {
	var s engine.Session
	var cre, exp, seen int64
	err := d.pool.QueryRow(ctx, `SELECT s.token_hash, s.user_id, u.email, s.csrf_token, s.created_at, s.expires_at, s.seen_at
FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2`, text(tokenHash), ms(now)).
		Scan(&s.TokenHash, &s.UserID, &s.Email, &s.CSRFToken, &cre, &exp, &seen)
	if err != nil {
		return nil, mapErr("session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.SeenAt = fromMS(cre), fromMS(exp), fromMS(seen)
	return &s, nil
}

// TouchSession implements engine.AuthStore.
func (d *DB) TouchSession(ctx context.Context, tokenHash string, seen time.Time) error {
	return d.execOne(ctx, "touch session", "session", `UPDATE sessions SET seen_at = $1 WHERE token_hash = $2`, ms(seen), text(tokenHash))
}

// DeleteSession implements engine.AuthStore.
func (d *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, text(tokenHash))
	return mapErr("delete session", err)
}

// DeleteSessionsOfUser implements engine.AuthStore.
func (d *DB) DeleteSessionsOfUser(ctx context.Context, userID int64, except string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, text(except))
	return mapErr("delete sessions of user", err)
}

// DeleteExpiredSessions implements engine.AuthStore.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ms(now))
	if err != nil {
		return 0, mapErr("delete expired sessions", err)
	}
	return tag.RowsAffected(), nil
}

// CreateAPIToken implements engine.AuthStore.
func (d *DB) CreateAPIToken(ctx context.Context, t *engine.APIToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	err := d.pool.QueryRow(ctx, `INSERT INTO api_tokens (name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		text(t.Name), t.TokenHash, t.Prefix, ms(t.CreatedAt)).Scan(&t.ID)
	return mapErr("create API token", err)
}

// GetAPIToken implements engine.AuthStore. The last-use time is updated at
// most once a minute per token, so API calls do not each cost a write.
func (d *DB) GetAPIToken(ctx context.Context, tokenHash string) (*engine.APIToken, error) {
	var t engine.APIToken
	var cre int64
	var used *int64
	err := d.pool.QueryRow(ctx, `SELECT id, name, token_hash, prefix, created_at, last_used_at FROM api_tokens WHERE token_hash = $1`, text(tokenHash)).
		Scan(&t.ID, &t.Name, &t.TokenHash, &t.Prefix, &cre, &used)
	if err != nil {
		return nil, mapErr("API token", err)
	}
	t.CreatedAt, t.LastUsedAt = fromMS(cre), fromNullMS(used)
	if now := time.Now(); now.Sub(t.LastUsedAt) > time.Minute {
		// Best effort: a failed bookkeeping write does not refuse the call.
		_, _ = d.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, ms(now), t.ID)
	}
	return &t, nil
}

// ListAPITokens implements engine.AuthStore.
func (d *DB) ListAPITokens(ctx context.Context) ([]engine.APIToken, error) {
	rows, err := d.pool.Query(ctx, `SELECT id, name, token_hash, prefix, created_at, last_used_at FROM api_tokens ORDER BY id DESC`)
	if err != nil {
		return nil, mapErr("list API tokens", err)
	}
	defer rows.Close()
	var out []engine.APIToken
	for rows.Next() {
		var t engine.APIToken
		var cre int64
		var used *int64
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
	return d.execOne(ctx, "delete API token", fmt.Sprintf("API token %d", id), `DELETE FROM api_tokens WHERE id = $1`, id)
}
