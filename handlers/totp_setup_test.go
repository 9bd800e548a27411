package handlers_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/engine"
)

// Two-factor setup shows a QR code made on the server, and the code used
// at setup, typed again to sign in, is refused as already used, not as
// wrong (issue 12, point 16).
func TestTOTPSetupQRAndUsedCode(t *testing.T) {
	t.Parallel()
	srv := newUIServer(t)
	s := signIn(t, srv.app)
	secret := totpSetup(t, srv.app, s)
	_, body := s.get(t, srv.app, "/account?totp=setup")
	src, _ := accountAttr(t, body, "totp-qr", "src")
	data, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR src %.40q", src)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("QR image: %v %v", err, img)
	}
	if alt, _ := accountAttr(t, body, "totp-qr", "alt"); alt == "" {
		t.Error("QR code without alt text")
	}

	code, err := engine.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// (The setup page of this request shows a new secret: enable the one
	// totpSetup read.)
	res, _ := doForm(t, srv.app, s, "/account/totp", url.Values{"secret": {secret}, "code": {code}, "password": {testPassword}}, formOpts{})
	wantStatus(t, res, http.StatusSeeOther)

	res, body = signInAttempt(t, srv.app, testEmail, testPassword, "", "")
	st := wantCodeStep(t, res, body)
	res, body = sendCode(t, srv.app, st, code)
	wantStatus(t, res, http.StatusUnauthorized)
	if got := textOf(element(t, body, "signin-error")); !strings.HasPrefix(got, "This code was already used. Wait for the next code in your app") {
		t.Errorf("error %q", got)
	}
	// A wrong code is still "wrong".
	st = wantCodeStep(t, res, body)
	res, body = sendCode(t, srv.app, st, wrongCode(t, secret))
	if got := textOf(element(t, body, "signin-error")); !strings.HasPrefix(got, "Wrong code") || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong code: %d %q", res.StatusCode, got)
	}
}
