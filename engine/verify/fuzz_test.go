package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzSecret and fuzzStandardSecret sign the seeds in
// testdata/fuzz/FuzzVerify (valid requests of every type at fuzzNow, so that
// the fuzzer starts from requests that pass and mutates them).
const (
	fuzzSecret         = "fuzz-secret"
	fuzzStandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

var fuzzNow = time.Unix(1700000000, 0)

// fuzzConfigs are indexed by the fuzzer's kind byte.
var fuzzConfigs = []Config{
	{Type: TypeGitHub, Secrets: []string{"old", fuzzSecret}},
	{Type: TypeShopify, Secrets: []string{fuzzSecret}},
	{Type: TypeStripe, Secrets: []string{fuzzSecret, "whsec_old"}},
	{Type: TypeSlack, Secrets: []string{fuzzSecret}},
	{Type: TypeStandard, Secrets: []string{fuzzStandardSecret}},
	{Type: TypeHMAC, Secrets: []string{fuzzSecret}, Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "sha512="},
	{Type: TypeToken, Secrets: []string{fuzzSecret}, Header: "X-Token"},
}

func fuzzHeaders(text string) headers {
	h := headers{}
	for _, line := range strings.Split(text, "\n") {
		name, value, _ := strings.Cut(line, ":")
		h[strings.ToLower(name)] = value
	}
	return h
}

// TestFuzzSeedsValid keeps the seeds named *-valid honest: each one passes,
// so the fuzzer mutates requests that reach the HMAC comparison.
func TestFuzzSeedsValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/fuzz/FuzzVerify/seed-*-valid")
	if err != nil || len(files) < 7 {
		t.Fatalf("seeds: %v %v", files, err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		// go test fuzz v1, then uint8(k), string(q), []byte(q), int64(n).
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 5 {
			t.Fatalf("%s: %d lines", file, len(lines))
		}
		arg := func(i int, typ string) string {
			return strings.TrimSuffix(strings.TrimPrefix(lines[i], typ+"("), ")")
		}
		kind, err1 := strconv.Atoi(arg(1, "uint8"))
		text, err2 := strconv.Unquote(arg(2, "string"))
		body, err3 := strconv.Unquote(arg(3, "[]byte"))
		offset, err4 := strconv.ParseInt(arg(4, "int64"), 10, 64)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		v, err := New(&fuzzConfigs[kind%len(fuzzConfigs)])
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(fuzzHeaders(text), []byte(body), fuzzNow.Add(time.Duration(offset))); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// FuzzVerify feeds arbitrary headers ("Name: value" lines), bodies and clock
// offsets to every type: Verify never panics and returns nil or an *Error
// with a known reason and a message that names no secret.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), "X-Hub-Signature-256: sha256=", []byte("{}"), int64(0))
	var verifiers []*Verifier
	for i := range fuzzConfigs {
		v, err := New(&fuzzConfigs[i])
		if err != nil {
			f.Fatal(err)
		}
		verifiers = append(verifiers, v)
	}
	f.Fuzz(func(t *testing.T, kind uint8, headerText string, body []byte, offset int64) {
		v := verifiers[int(kind)%len(verifiers)]
		err := v.Verify(fuzzHeaders(headerText), body, fuzzNow.Add(time.Duration(offset)))
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Verify = %v (%T), want *Error", err, err)
		}
		switch e.Reason {
		case ReasonMissingHeader, ReasonMalformed, ReasonTimestamp, ReasonMismatch:
		default:
			t.Fatalf("unknown reason %q", e.Reason)
		}
		if e.Message == "" || strings.Contains(e.Message, fuzzSecret) || strings.Contains(e.Message, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
			t.Fatalf("bad message %q", e.Message)
		}
	})
}
