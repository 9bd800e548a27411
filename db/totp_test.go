package db

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/hookflow/hookflow/engine"
)

func TestTOTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTest(t)
	u := &engine.User{Email: "a@example.com", PasswordHash: fakeHash}
	other := &engine.User{Email: "b@example.com", PasswordHash: fakeHash}
	for _, x := range []*engine.User{u, other} {
		if err := d.CreateUser(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
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
	if err := rawDB(t, d.path).QueryRow(`SELECT totp_secret FROM users WHERE id = ?`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) == 0 || bytes.Contains(stored, []byte(secret)) {
		t.Errorf("stored secret %q is empty or the plaintext", stored)
	}
	// Another key cannot read it.
	d.Close()
	wrong := reopen(t, d.path, "another key, 20 bytes long")
	if _, err := wrong.GetUserByEmail(ctx, u.Email); err == nil {
		t.Error("read with the wrong key")
	}
	wrong.Close()
	d.DB = reopen(t, d.path, testKey)

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
