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
		{"eleven characters", "kd8#mq2vLp0", "at least 12 characters"},
		{"twelve characters", "kd8#mq2vLp0z", ""},
		{"characters, not bytes", "密码是一二三四五六七", "at least 12 characters"},
		{"twelve multibyte characters", "密码是一二三四五六七八九", ""},
		{"over 72 bytes", strings.Repeat("xy1", 25), "at most 72 bytes"},
		{"a passphrase", "correct-horse-battery", ""},
		{"common password", "Unbelievable", "most common passwords"},
		{"common password with symbols", "films+pic+galeries", "most common passwords"},
		// Issue 12, point 8.
		{"one character", "aaaaaaaaaaaa", "repeated or sequential"},
		{"twelve spaces", "            ", "repeated or sequential"},
		{"digits in sequence", "123456789012", "repeated or sequential"},
		{"digits down", "987654321098", "repeated or sequential"},
		{"letters in sequence", "abcdefghijkl", "repeated or sequential"},
		{"letters down", "ZYXWVUTSRQPO", "repeated or sequential"},
		{"keyboard row", "qwertyuiop12", "repeated or sequential"},
		{"three runs", "aaaa1111bbbb", "repeated or sequential"},
		{"two sequences", "abcdef123456", "repeated or sequential"},
		{"short pattern repeated", "abcabcabcabc", "repeated or sequential"},
		{"pattern mostly repeated", "ab12ab12ab12!", "repeated or sequential"},
		{"pattern with a start", "!xyzxyzxyzxyz", "repeated or sequential"},
		{"a word repeated", "passwordpassword", "repeated or sequential"},
		{"multibyte pattern repeated", "密码密码密码密码密码密码", "repeated or sequential"},
		{"common with digits", "password1234", "most common passwords"},
		{"common with digits around", "2024dragon!!", "most common passwords"},
		{"common with symbols", "!!!monkey!!!", "most common passwords"},
		{"two common joined", "dragonmaster", "most common passwords"},
		{"common, case changed", "LetMeIn12345", "most common passwords"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hash, err := HashPassword(tc.password, "jane.doe@example.com")
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

func TestPasswordPolicyEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ password, email string }{
		{"jane.doe@example.com", "jane.doe@example.com"},
		{"Jane.Doe@Example.com", " jane.doe@example.com"},
		{"my jane.doe@example.com!", "jane.doe@example.com"},
		{"jane.doe.smith", "jane.doe.smith@example.com"},
		{"jane.doe.smith2024", "jane.doe.smith@example.com"},
		{"2024-operations!", "operations@example.com"},
	} {
		err := CheckPasswordPolicy(tc.password, tc.email)
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "email") {
			t.Errorf("%q for %s: %v, want refused as the email", tc.password, tc.email, err)
		}
	}
	// Another account's name is fine, and so is no email.
	for _, tc := range []struct{ password, email string }{
		{"jane.doe.smith2024", "ops@example.com"},
		{"jane.doe.smith2024", ""},
	} {
		if err := CheckPasswordPolicy(tc.password, tc.email); err != nil {
			t.Errorf("%q for %q: %v", tc.password, tc.email, err)
		}
	}
}

// TestCommonPasswordList: the embedded list is the whole real list, not
// only its long entries.
func TestCommonPasswordList(t *testing.T) {
	t.Parallel()
	set := commonPasswords()
	if len(set) < 9900 {
		t.Fatalf("%d common passwords, want the list of 10,000", len(set))
	}
	for _, p := range []string{"password", "123456", "qwerty", "letmein", "dragon", "unbelievable"} {
		if _, ok := set[p]; !ok {
			t.Errorf("%q not in the list", p)
		}
	}
}
