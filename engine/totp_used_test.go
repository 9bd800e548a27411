package engine

import (
	"testing"
	"time"
)

func TestTOTPCodeUsed(t *testing.T) {
	t.Parallel()
	secret := NewTOTPSecret()
	now := time.Now()
	code, _ := TOTPCode(secret, now)
	step, ok := CheckTOTP(secret, code, now, 0)
	if !ok {
		t.Fatal("fresh code refused")
	}
	if TOTPCodeUsed(secret, code, now, 0) {
		t.Error("a fresh code reported used")
	}
	if _, ok := CheckTOTP(secret, code, now, step); ok || !TOTPCodeUsed(secret, code, now, step) {
		t.Error("a used code is not reported as used")
	}
	if TOTPCodeUsed(secret, "000000x", now, step) || TOTPCodeUsed("not base32!", code, now, step) {
		t.Error("garbage reported as used")
	}
}
