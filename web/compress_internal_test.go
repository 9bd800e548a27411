package web

import "testing"

func TestAcceptedEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		offers []string
		want   string
	}{
		{"", []string{"br", "gzip"}, ""},
		{"gzip, deflate, br, zstd", []string{"br", "gzip"}, "br"},
		{"gzip, deflate, br, zstd", []string{"gzip", "br"}, "gzip"},
		{"gzip", []string{"br", "gzip"}, "gzip"},
		{"BR;Q=1", []string{"br", "gzip"}, "br"},
		{"br;q=0, gzip", []string{"br", "gzip"}, "gzip"},         // refused outright
		{"br;q=0.5, gzip;q=0.8", []string{"br", "gzip"}, "gzip"}, // the heavier weight wins
		{"br;q=0.8, gzip;q=0.8", []string{"br", "gzip"}, "br"},   // a tie: the server's order
		{"*", []string{"br", "gzip"}, "br"},
		{"*;q=0, gzip", []string{"br", "gzip"}, "gzip"},
		{"identity", []string{"br", "gzip"}, ""},
		{"gzip;q=x, br;q=2", []string{"br", "gzip"}, ""}, // bad weights count as 0
		{" , ;q=1, deflate", []string{"br", "gzip"}, ""},
	} {
		if got := acceptedEncoding(tc.header, tc.offers...); got != tc.want {
			t.Errorf("acceptedEncoding(%q, %v) = %q, want %q", tc.header, tc.offers, got, tc.want)
		}
	}
}

func TestETagMatches(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		`"abc-br"`: true, `W/"abc-br"`: true, `"x", "abc-br"`: true, `*`: true,
		`"abc"`: false, `"abc-gzip"`: false, ``: false,
	} {
		if got := etagMatches(header, "abc-br"); got != want {
			t.Errorf("etagMatches(%q) = %v, want %v", header, got, want)
		}
	}
}
