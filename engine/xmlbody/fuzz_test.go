package xmlbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics; it returns an *Error, ErrTooLarge exactly
// when the full output is over the limit, or JSON that is valid UTF-8, an
// object with at most one key, no duplicate keys anywhere, and only strings
// as leaves. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`<order id="1"><item>a</item><item>b</item></order>`), uint16(0))
	f.Fuzz(func(t *testing.T, body []byte, limit uint16) {
		full, err := Parse(body, 0)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("Parse error %v (%T) is not an *Error", err, err)
			}
			return
		}
		if !utf8.Valid(full) {
			t.Fatalf("output is not UTF-8: %q", full)
		}
		if err := checkJSON(full); err != nil {
			t.Fatalf("output %s: %v", full, err)
		}
		// The size accounting is exact: the bound refuses exactly the
		// outputs longer than it.
		if limit == 0 {
			return
		}
		out, err := Parse(body, int(limit))
		switch {
		case len(full) > int(limit) && !errors.Is(err, ErrTooLarge):
			t.Fatalf("%d-byte output under limit %d: err %v", len(full), limit, err)
		case len(full) <= int(limit) && (err != nil || !bytes.Equal(out, full)):
			t.Fatalf("%d-byte output under limit %d: %s, %v", len(full), limit, out, err)
		}
	})
}

// checkJSON checks the shape Parse promises.
func checkJSON(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not an object: %v %v", tok, err)
	}
	keys := 0
	for d.More() {
		if keys++; keys > 1 {
			return errors.New("more than one top-level key")
		}
		if _, err := d.Token(); err != nil {
			return err
		}
		if err := checkValue(d, 1, false); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("trailing data: %v", err)
	}
	return nil
}

func checkValue(d *json.Decoder, depth int, inArray bool) error {
	if depth > MaxDepth+1 {
		return errors.New("deeper than MaxDepth")
	}
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return err
			}
			if seen[k.(string)] {
				return fmt.Errorf("duplicate key %q", k)
			}
			seen[k.(string)] = true
			if err := checkValue(d, depth+1, false); err != nil {
				return err
			}
		}
		_, err = d.Token()
		return err
	case json.Delim('['):
		if inArray {
			return errors.New("an array in an array")
		}
		n := 0
		for d.More() {
			n++
			if err := checkValue(d, depth+1, true); err != nil {
				return err
			}
		}
		if n < 2 {
			return errors.New("an array of fewer than two values")
		}
		_, err = d.Token()
		return err
	}
	if _, ok := tok.(string); !ok {
		return fmt.Errorf("leaf %v (%T) is not a string", tok, tok)
	}
	return nil
}
