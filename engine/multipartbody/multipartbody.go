// Package multipartbody reads the fields of a multipart/form-data request
// body for $context.body (product.md §3): text fields with their values, and
// file parts as metadata (filename, content type, size) whose bytes stay in
// the raw body. Nothing is written to disk: mime/multipart's ReadForm spills
// large files to temporary files, so Parse walks the parts with NextPart and
// only counts a file's bytes.
//
// The package is a leaf: it imports only the standard library.
package multipartbody

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
)

// MaxParts bounds the parts of one body, as net/http's ReadForm does by
// default: each part costs a header map however small its content.
const MaxParts = 1000

// ErrTooLarge is returned when the parts' contents exceed Parse's limit.
var ErrTooLarge = errors.New("multipartbody: the parts of the multipart body are over the size limit")

// Error is a body or Content-Type that cannot be read as multipart/form-data.
// Its message is safe to show and never contains a field value.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return "invalid multipart body: " + e.Msg }

// Part is one form field, in body order. A field sent several times gives
// several Parts; the caller groups them (the qs bracket rules).
type Part struct {
	Name  string
	Value string // the text of a field; "" for a file
	File  *File  // nil for a text field
}

// File describes a file part: a part whose Content-Disposition has a
// filename parameter (even an empty one, as browsers send for a file input
// left empty).
type File struct {
	Filename    string // as sent (not reduced to a base name: it is only shown)
	ContentType string // the part's Content-Type as sent; "" when absent
	Size        int64  // bytes of content, after any Content-Transfer-Encoding
}

// Parse returns the fields of a multipart/form-data body. contentType is the
// request's Content-Type header, which carries the boundary. limit bounds
// the total bytes of part contents read, values and files alike (<= 0: only
// the body's own length); over it, Parse returns ErrTooLarge. An empty body
// has no parts. Parts without a form-data name are skipped, as Go's and
// PHP's form parsers do. Names, values, filenames and content types are made
// valid UTF-8 (invalid bytes become U+FFFD).
func Parse(body []byte, contentType string, limit int) ([]Part, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, &Error{Msg: "malformed Content-Type header"}
	}
	if media != "multipart/form-data" {
		return nil, &Error{Msg: "Content-Type " + strconv.Quote(media) + " is not multipart/form-data"}
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, &Error{Msg: "missing boundary parameter in the Content-Type header"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	remaining := int64(len(body))
	if limit > 0 && int64(limit) < remaining {
		remaining = int64(limit)
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var parts []Part
	for n := 0; ; n++ {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nextPartError(err, n)
		}
		if n == MaxParts {
			return nil, &Error{Msg: "more than " + strconv.Itoa(MaxParts) + " parts"}
		}
		disposition, dparams, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		name := dparams["name"]
		if err != nil || disposition != "form-data" || name == "" {
			continue // NextPart skips its content
		}
		part := Part{Name: strings.ToValidUTF8(name, "\ufffd")}
		if filename, ok := dparams["filename"]; ok {
			size, err := io.Copy(io.Discard, io.LimitReader(p, remaining+1))
			if err != nil {
				return nil, partError(err, part.Name)
			}
			if size > remaining {
				return nil, ErrTooLarge
			}
			remaining -= size
			part.File = &File{
				Filename:    strings.ToValidUTF8(filename, "\ufffd"),
				ContentType: strings.ToValidUTF8(p.Header.Get("Content-Type"), "\ufffd"),
				Size:        size,
			}
		} else {
			value, err := io.ReadAll(io.LimitReader(p, remaining+1))
			if err != nil {
				return nil, partError(err, part.Name)
			}
			if int64(len(value)) > remaining {
				return nil, ErrTooLarge
			}
			remaining -= int64(len(value))
			part.Value = strings.ToValidUTF8(string(value), "\ufffd")
		}
		parts = append(parts, part)
	}
	// mime/multipart ends quietly when the body stops after a boundary
	// line or inside a part's headers; a complete body has its closing
	// boundary.
	if !hasClosingBoundary(body, boundary) {
		return nil, &Error{Msg: "truncated: the closing boundary --" + boundary + "-- is missing"}
	}
	return parts, nil
}

// nextPartError explains an error of NextPart before part n.
func nextPartError(err error, n int) *Error {
	msg := err.Error()
	if strings.HasSuffix(msg, "EOF") {
		if n == 0 {
			return &Error{Msg: "no boundary line found (does the body use the boundary of the Content-Type header?)"}
		}
		return &Error{Msg: "truncated: the body ends inside a part"}
	}
	return &Error{Msg: "part " + strconv.Itoa(n+1) + ": " + strings.TrimPrefix(msg, "multipart: ")}
}

// partError explains an error reading the content of the part named name.
func partError(err error, name string) *Error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Msg: "truncated: the body ends inside part " + strconv.Quote(name)}
	}
	return &Error{Msg: "part " + strconv.Quote(name) + ": " + strings.TrimPrefix(err.Error(), "multipart: ")}
}

// hasClosingBoundary reports whether body has a line starting with the close
// delimiter "--boundary--", at its start or after a line feed (mime/multipart
// accepts LF as well as CRLF line ends).
func hasClosingBoundary(body []byte, boundary string) bool {
	delim := []byte("--" + boundary + "--")
	if bytes.HasPrefix(body, delim) {
		return true
	}
	return bytes.Contains(body, append([]byte("\n"), delim...))
}
