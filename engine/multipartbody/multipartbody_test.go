package multipartbody

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/textproto"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// A form as Chrome posts it: a text field, a repeated field, a file, and a
// file input left empty (filename="", no content).
const chromeCT = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW"

const chromeBody = "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" +
	"Content-Disposition: form-data; name=\"title\"\r\n" +
	"\r\n" +
	"Hello, \"world\"\r\n" +
	"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" +
	"Content-Disposition: form-data; name=\"tags[]\"\r\n" +
	"\r\n" +
	"a\r\n" +
	"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" +
	"Content-Disposition: form-data; name=\"tags[]\"\r\n" +
	"\r\n" +
	"b\r\n" +
	"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" +
	"Content-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\n" +
	"Content-Type: image/png\r\n" +
	"\r\n" +
	"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n" +
	"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" +
	"Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"\r\n" +
	"\r\n" +
	"------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n" +
	"Content-Disposition: form-data; name=\"note\"\r\n" +
	"\r\n" +
	"\r\n" +
	"------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n"

func TestParseBrowserForm(t *testing.T) {
	t.Parallel()
	got, err := Parse([]byte(chromeBody), chromeCT, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{
		{Name: "title", Value: `Hello, "world"`},
		{Name: "tags[]", Value: "a"},
		{Name: "tags[]", Value: "b"},
		{Name: "avatar", File: &File{Filename: "me.png", ContentType: "image/png", Size: 16}},
		{Name: "empty", File: &File{Filename: "", ContentType: "application/octet-stream", Size: 0}},
		{Name: "note", Value: ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse =\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func dump(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Quote(p.Name) + "=" + strconv.Quote(p.Value))
		if p.File != nil {
			b.WriteString(" file " + strconv.Quote(p.File.Filename) + " " + strconv.Quote(p.File.ContentType) + " " + strconv.FormatInt(p.File.Size, 10))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestParseVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ct, body string
		want           []Part
	}{
		{"empty body", "multipart/form-data; boundary=X", "", nil},
		{"blank body", "multipart/form-data; boundary=X", "\r\n", nil},
		{"no parts", "multipart/form-data; boundary=X", "--X--\r\n", nil},
		{"LF line ends, preamble and epilogue, quoted boundary, media type in capitals", `Multipart/Form-Data; boundary="a b"`,
			"preamble\n--a b\nContent-Disposition: form-data; name=\"a\"\n\n1\n--a b--\nepilogue",
			[]Part{{Name: "a", Value: "1"}}},
		{"no closing CRLF", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--X--",
			[]Part{{Name: "a", Value: "1"}}},
		{"unicode name, RFC 5987 filename, no content type", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"prénom\"\r\n\r\nZoë\r\n" +
				"--X\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\n\r\n%PDF\r\n--X--\r\n",
			[]Part{{Name: "prénom", Value: "Zoë"}, {Name: "f", File: &File{Filename: "résumé.pdf", Size: 4}}}},
		{"filename with a path kept as sent", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"C:\\\\Users\\\\me\\\\a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--X--\r\n",
			[]Part{{Name: "f", File: &File{Filename: `C:\Users\me\a.txt`, ContentType: "text/plain", Size: 2}}}},
		{"quoted-printable decoded", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"q\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n--X--\r\n",
			[]Part{{Name: "q", Value: "café"}}},
		{"invalid UTF-8 replaced", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"a\xff\"\r\n\r\nx\xc0y\r\n--X--\r\n",
			[]Part{{Name: "a\ufffd", Value: "x\ufffdy"}}},
		{"parts without a form-data name skipped", "multipart/form-data; boundary=X",
			"--X\r\n\r\nno headers\r\n--X\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n" +
				"--X\r\nContent-Disposition: form-data\r\n\r\n2\r\n--X\r\nContent-Disposition: form-data; name=\"b\r\n\r\n3\r\n" +
				"--X\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n4\r\n--X--\r\n",
			[]Part{{Name: "c", Value: "4"}}},
		{"value looking like a boundary", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--Xnot\r\n-X--\r\n--X--\r\n",
			[]Part{{Name: "a", Value: "--Xnot\r\n-X--"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tc.body), tc.ct, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse =\n%s\nwant\n%s", dump(got), dump(tc.want))
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const ct = "multipart/form-data; boundary=X"
	part := "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
	for _, tc := range []struct{ name, ct, body, msg string }{
		{"not multipart", "application/json", "{}", `Content-Type "application/json" is not multipart/form-data`},
		{"multipart but not a form", "multipart/mixed; boundary=X", part + "--X--", `Content-Type "multipart/mixed" is not multipart/form-data`},
		{"no content type", "", part, "malformed Content-Type header"},
		{"malformed content type", "multipart/form-data; boundary", part, "malformed Content-Type header"},
		{"missing boundary", "multipart/form-data", part, "missing boundary parameter in the Content-Type header"},
		{"empty boundary", `multipart/form-data; boundary=""`, part, "missing boundary parameter in the Content-Type header"},
		{"other boundary", "multipart/form-data; boundary=Y", part + "--X--", "no boundary line found (does the body use the boundary of the Content-Type header?)"},
		{"not multipart at all", ct, "a=1&b=2", "no boundary line found (does the body use the boundary of the Content-Type header?)"},
		{"truncated in a value", ct, "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n12", `truncated: the body ends inside part "a"`},
		{"truncated after a value", ct, part, `truncated: the body ends inside part "a"`},
		{"truncated in headers", ct, "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n", "truncated: the closing boundary --X-- is missing"},
		{"truncated after a boundary", ct, part + "--X\r\n", "truncated: the closing boundary --X-- is missing"},
		{"truncated in a file", ct, "--X\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nabc", `truncated: the body ends inside part "f"`},
		{"malformed part header", ct, "--X\r\nno colon here\r\n\r\n1\r\n--X--\r\n", `part 1: malformed MIME header: missing colon: "no colon here"`},
		{"too many parts", ct, strings.Repeat(part, MaxParts+1) + "--X--", "more than 1000 parts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tc.body), tc.ct, 0)
			var e *Error
			if !errors.As(err, &e) || e.Msg != tc.msg {
				t.Fatalf("Parse = %s, %v; want *Error %q", dump(got), err, tc.msg)
			}
			if err.Error() != "invalid multipart body: "+tc.msg {
				t.Fatalf("message %q", err)
			}
		})
	}
	// Exactly MaxParts parts are fine.
	parts, err := Parse([]byte(strings.Repeat(part, MaxParts)+"--X--"), ct, 0)
	if err != nil || len(parts) != MaxParts {
		t.Fatalf("MaxParts parts: %d, %v", len(parts), err)
	}
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("a", "12345"); err != nil {
		t.Fatal(err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="f"; filename="f.bin"`)
	fw, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte{0}, 100))
	w.Close()
	ct := w.FormDataContentType()
	if parts, err := Parse(buf.Bytes(), ct, 105); err != nil || len(parts) != 2 || parts[1].File.Size != 100 {
		t.Fatalf("at the limit: %s, %v", dump(parts), err)
	}
	if _, err := Parse(buf.Bytes(), ct, 104); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("file over the limit: %v", err)
	}
	if _, err := Parse(buf.Bytes(), ct, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("value over the limit: %v", err)
	}
}

// TestParseWritesNothing: a file bigger than ReadForm's in-memory threshold
// (10 MiB in net/http) is counted, and no temporary file appears.
func TestParseWritesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("big", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	const size = 12 << 20
	fw.Write(bytes.Repeat([]byte("0123456789abcdef"), size/16))
	w.Close()
	parts, err := Parse(buf.Bytes(), w.FormDataContentType(), 0)
	if err != nil || len(parts) != 1 || parts[0].File.Size != size || parts[0].File.ContentType != "application/octet-stream" {
		t.Fatalf("Parse = %s, %v", dump(parts), err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil || len(entries) != 0 {
		t.Fatalf("temporary directory holds %v (%v)", entries, err)
	}
}

func BenchmarkParse(b *testing.B) {
	body := []byte(chromeBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body, chromeCT, 0); err != nil {
			b.Fatal(err)
		}
	}
}
