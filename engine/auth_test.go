package engine

import (
	"strings"
	"testing"
)

func TestHashPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password, wantErr string
	}{
		{"eleven characters", "abcdefghijk", "at least 12 characters"},
		{"twelve characters", "abcdefghijkl", ""},
		{"characters, not bytes", "密码密码密码密码密码密", "at least 12 characters"},
		{"twelve multibyte characters", "密码密码密码密码密码密码", ""},
		{"over 72 bytes", strings.Repeat("x", 73), "at most 72 bytes"},
		{"common password", "Unbelievable", "most common passwords"},
		{"common password with symbols", "films+pic+galeries", "most common passwords"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hash, err := HashPassword(tc.password)
			if tc.wantErr == "" {
				if err != nil || !CheckPassword(hash, tc.password) || CheckPassword(hash, tc.password+"x") {
					t.Fatalf("HashPassword(%q): %v", tc.password, err)
				}
				return
			}
			if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("HashPassword(%q) error %v, want EINVALID containing %q", tc.password, err, tc.wantErr)
			}
		})
	}
}
