package multipartbody

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics; it returns an *Error, ErrTooLarge, or parts
// whose texts are valid UTF-8, whose names are not empty, and whose contents
// add up to no more than the body and the limit. Seeds are in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(chromeBody), chromeCT, uint16(0))
	f.Fuzz(func(t *testing.T, body []byte, contentType string, limit uint16) {
		parts, err := Parse(body, contentType, int(limit))
		if err != nil {
			var e *Error
			if !errors.Is(err, ErrTooLarge) && (!errors.As(err, &e) || e.Msg == "") {
				t.Fatalf("Parse error %v (%T) is neither *Error nor ErrTooLarge", err, err)
			}
			if parts != nil {
				t.Fatalf("Parse returned parts with an error")
			}
			return
		}
		if len(parts) > MaxParts {
			t.Fatalf("%d parts", len(parts))
		}
		var total int64
		for _, p := range parts {
			if p.Name == "" || !utf8.ValidString(p.Name) || !utf8.ValidString(p.Value) {
				t.Fatalf("part %q=%q", p.Name, p.Value)
			}
			total += int64(len(p.Value))
			if p.File != nil {
				if p.Value != "" || p.File.Size < 0 || !utf8.ValidString(p.File.Filename) || !utf8.ValidString(p.File.ContentType) {
					t.Fatalf("file part %q: %+v, value %q", p.Name, *p.File, p.Value)
				}
				total += p.File.Size
			}
		}
		if total > int64(len(body)) || limit > 0 && total > int64(limit) {
			t.Fatalf("%d bytes of content from a %d-byte body, limit %d", total, len(body), limit)
		}
	})
}
