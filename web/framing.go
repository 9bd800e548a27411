package web

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// requestFraming refuses requests whose body length two HTTP parties could
// read differently (request smuggling, RFC 9112 §6.3), before any handler
// sees them, and closes the connection after the reply: whatever follows
// on it cannot be trusted to be a request of its own.
//
// fasthttp (since v1.5x) already refuses two Content-Length headers and a
// Transfer-Encoding other than chunked while it parses; it lets chunked win
// over a Content-Length sent beside it, and reads an HTTP/1.0 POST without
// Content-Length as having no body. Both are refused here: a proxy in
// front may have framed the first by its Content-Length, and the second
// silently loses the body a sender believes delivered.
func requestFraming() fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := &c.Request().Header
		lengths, encodings := framingHeaders(h.RawHeaders())
		var err error
		switch {
		case lengths > 1:
			err = engine.Errorf(engine.EINVALID, "more than one Content-Length header: send exactly one")
		case lengths > 0 && encodings > 0:
			err = engine.Errorf(engine.EINVALID, "both Content-Length and Transfer-Encoding: send one of them")
		case lengths == 0 && encodings == 0 && !h.IsHTTP11() && bodyMethod(c.Method()):
			// HTTP/1.0 has no chunked encoding: RFC 1945 §7.2.2 requires
			// Content-Length on a request with a body.
			err = fiber.NewError(fiber.StatusLengthRequired, "an HTTP/1.0 "+c.Method()+" needs a Content-Length header")
		}
		if err != nil {
			c.Context().SetConnectionClose()
			return err
		}
		return c.Next()
	}
}

// framingHeaders counts the Content-Length and Transfer-Encoding fields of
// a raw header block (the request line excluded).
func framingHeaders(raw []byte) (lengths, encodings int) {
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		switch {
		case bytes.EqualFold(name, []byte(fiber.HeaderContentLength)):
			lengths++
		case bytes.EqualFold(name, []byte(fiber.HeaderTransferEncoding)):
			encodings++
		}
	}
	return lengths, encodings
}

// bodyMethod reports whether requests of method carry a body by nature.
func bodyMethod(method string) bool {
	switch method {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch:
		return true
	}
	return false
}
