package engine

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// rfc6238Secret is the SHA-1 seed of RFC 6238 appendix B, "12345678901234567890".
var rfc6238Secret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))

// The RFC 6238 appendix B SHA-1 vectors; the RFC gives 8 digits, and the
// 6-digit codes are their last 6 digits.
var rfc6238Vectors = []struct {
	unix  int64
	code8 string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestTOTPCodeRFC6238(t *testing.T) {
	t.Parallel()
	for _, v := range rfc6238Vectors {
		got, err := TOTPCode(rfc6238Secret, time.Unix(v.unix, 0))
		if err != nil {
			t.Fatal(err)
		}
		if want := v.code8[2:]; got != want {
			t.Errorf("T=%d: code %s, want %s", v.unix, got, want)
		}
	}
	if _, err := TOTPCode("not base32!", time.Now()); ErrorCode(err) != EINVALID {
		t.Errorf("bad secret: %v", err)
	}
	// Lower case and spaces, as typed, are the same secret.
	got, _ := TOTPCode(strings.ToLower(rfc6238Secret[:8])+" "+rfc6238Secret[8:], time.Unix(59, 0))
	if got != "287082" {
		t.Errorf("lower-case secret: %s", got)
	}
}

func TestCheckTOTP(t *testing.T) {
	t.Parallel()
	now := time.Unix(1111111111, 0) // step 37037037
	step := now.Unix() / 30
	code, _ := TOTPCode(rfc6238Secret, now)
	if s, ok := CheckTOTP(rfc6238Secret, code, now, 0); !ok || s != step {
		t.Fatalf("current code: %d, %v", s, ok)
	}
	// One step of drift either way is accepted, two are not.
	for _, d := range []int64{-1, 1} {
		c, _ := TOTPCode(rfc6238Secret, now.Add(time.Duration(d)*30*time.Second))
		if s, ok := CheckTOTP(rfc6238Secret, c, now, 0); !ok || s != step+d {
			t.Errorf("drift %d: %d, %v", d, s, ok)
		}
	}
	for _, d := range []int64{-2, 2} {
		c, _ := TOTPCode(rfc6238Secret, now.Add(time.Duration(d)*30*time.Second))
		if _, ok := CheckTOTP(rfc6238Secret, c, now, 0); ok {
			t.Errorf("drift %d accepted", d)
		}
	}
	// A used step is refused (replay), and so is any earlier one.
	if _, ok := CheckTOTP(rfc6238Secret, code, now, step); ok {
		t.Error("replayed code accepted")
	}
	prev, _ := TOTPCode(rfc6238Secret, now.Add(-30*time.Second))
	if _, ok := CheckTOTP(rfc6238Secret, prev, now, step); ok {
		t.Error("code older than the last used step accepted")
	}
	// Spaces are forgiven; wrong, short or non-numeric codes are not.
	if _, ok := CheckTOTP(rfc6238Secret, code[:3]+" "+code[3:], now, 0); !ok {
		t.Error("code with a space refused")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef", "000000"} {
		if bad == code {
			continue
		}
		if _, ok := CheckTOTP(rfc6238Secret, bad, now, 0); ok {
			t.Errorf("code %q accepted", bad)
		}
	}
	if _, ok := CheckTOTP("!!", code, now, 0); ok {
		t.Error("bad secret accepted")
	}
}

func TestNewTOTPSecretAndURI(t *testing.T) {
	t.Parallel()
	a, b := NewTOTPSecret(), NewTOTPSecret()
	if a == b || len(a) != 32 || strings.Contains(a, "=") {
		t.Errorf("secrets %q %q", a, b)
	}
	if _, err := TOTPCode(a, time.Now()); err != nil {
		t.Error(err)
	}
	got := TOTPURI("JBSWY3DPEHPK3PXP", "ops+x@example.com")
	want := "otpauth://totp/Hookflow:ops+x@example.com?issuer=Hookflow&secret=JBSWY3DPEHPK3PXP"
	if got != want {
		t.Errorf("URI %q, want %q", got, want)
	}
}
