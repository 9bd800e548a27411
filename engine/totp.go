package engine

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Two-factor sign-in with time-based one-time passwords (RFC 6238, the
// codes of authenticator apps): HMAC-SHA-1, 30-second steps, 6 digits.
const (
	// TOTPPeriod is the length of a time step.
	TOTPPeriod = 30 * time.Second
	// TOTPDigits is the number of digits of a code.
	TOTPDigits = 6
	// TOTPIssuer names Hookflow in authenticator apps.
	TOTPIssuer = "Hookflow"
)

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a new random secret: 20 bytes (160 bits, the
// HMAC-SHA-1 key size RFC 4226 recommends), base32 without padding.
func NewTOTPSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return totpEncoding.EncodeToString(b)
}

// decodeTOTPSecret decodes a base32 secret, tolerating lower case, spaces
// and padding as people type or copy them.
func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(secret), ""))
	s = strings.TrimRight(s, "=")
	key, err := totpEncoding.DecodeString(s)
	if err != nil || len(key) == 0 {
		return nil, Errorf(EINVALID, "secret: not a base32 TOTP secret")
	}
	return key, nil
}

// totpStep is the RFC 6238 time step counter of t.
func totpStep(t time.Time) int64 {
	return t.Unix() / int64(TOTPPeriod/time.Second)
}

// hotp is RFC 4226's HOTP value of counter, as TOTPDigits digits.
func hotp(key []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", TOTPDigits, v%1_000_000)
}

// TOTPCode returns the code of secret at time t.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	return hotp(key, totpStep(t)), nil
}

// CheckTOTP reports whether code is the code of secret at t, or of the
// step just before or after (clock drift, typing time). Steps at or before
// lastStep — the last one accepted for this account — are refused, so that
// a code cannot be used twice. step is the step the code matched, to store
// as the new lastStep.
func CheckTOTP(secret, code string, t time.Time, lastStep int64) (step int64, ok bool) {
	totpMatches(secret, code, t, func(s int64) {
		if s > lastStep && !ok {
			step, ok = s, true
		}
	})
	return step, ok
}

// totpMatches calls match with each step, from the one before t's to the
// one after, whose code is code (spaces ignored). Every candidate is
// compared, in constant time, so the timing does not tell which step
// matched. A secret that does not decode, or a code of the wrong length,
// matches nothing.
func totpMatches(secret, code string, t time.Time, match func(step int64)) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return
	}
	code = strings.Join(strings.Fields(code), "")
	if len(code) != TOTPDigits {
		return
	}
	now := totpStep(t)
	for s := now - 1; s <= now+1; s++ {
		if subtle.ConstantTimeCompare([]byte(hotp(key, s)), []byte(code)) == 1 {
			match(s)
		}
	}
}

// TOTPURI is the otpauth:// URI authenticator apps read (as a QR code or
// typed in) to add the account.
func TOTPURI(secret, email string) string {
	label := url.PathEscape(TOTPIssuer + ":" + email)
	q := url.Values{"secret": {secret}, "issuer": {TOTPIssuer}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// TOTPCodeUsed reports whether code is the code of secret for a step
// around t that was already accepted (at or before lastStep): CheckTOTP
// refuses it so that a code works once, and the person typing it deserves
// to hear that rather than "wrong code".
func TOTPCodeUsed(secret, code string, t time.Time, lastStep int64) bool {
	used := false
	totpMatches(secret, code, t, func(s int64) { used = used || s <= lastStep })
	return used
}
