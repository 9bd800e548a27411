package web

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Compression (issue 15, point 8). Static assets are sent in the variant
// the static package keeps for the best encoding the client accepts
// (brotli, then gzip, each made once at its best level). HTML pages and
// fragments are compressed as they go out, with gzip at its default level:
// measured on the executions page, brotli at a level as quick (4) saves
// nothing more, and the next level (5) a tenth more for five times the
// CPU. Webhook replies are never compressed here (the flow decides what
// they are), nor the API's JSON (scripts on the operator's network; the
// CPU would not pay).

// minCompress is the smallest HTML body worth compressing: below it the
// framing eats the gain.
const minCompress = 1024

// acceptedEncoding returns the first of offers (best first) that the
// Accept-Encoding header value accepts with a weight above zero, "" for
// none (send the bytes as they are). A missing weight is 1; "*" stands
// for every encoding the header does not name.
func acceptedEncoding(header string, offers ...string) string {
	if header == "" {
		return ""
	}
	weights := map[string]float64{}
	star := -1.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if name == "*" {
			star = q
		} else {
			weights[name] = q
		}
	}
	best, bestQ := "", 0.0
	for _, o := range offers {
		q, named := weights[o]
		if !named {
			q = max(star, 0)
		}
		if q > bestQ {
			best, bestQ = o, q
		}
	}
	return best
}

// compressHTML compresses the UI's HTML replies for clients that accept
// it. Replies under /api/ (the webhook endpoint, whose reply the flow
// decides, and the admin API) and replies of any other type pass as they
// are; an error passes on to the ErrorHandler untouched.
func compressHTML() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if strings.HasPrefix(c.Path(), "/api/") || strings.HasPrefix(string(c.Request().URI().PathOriginal()), "/api/") {
			return c.Next()
		}
		if err := c.Next(); err != nil {
			return err
		}
		res := c.Response()
		if !strings.HasPrefix(string(res.Header.ContentType()), "text/html") || len(res.Header.ContentEncoding()) > 0 {
			return nil
		}
		c.Vary(fiber.HeaderAcceptEncoding)
		body := res.Body()
		if len(body) < minCompress {
			return nil
		}
		var out []byte
		enc := acceptedEncoding(c.Get(fiber.HeaderAcceptEncoding), "gzip", "br")
		switch enc {
		case "gzip":
			out = fasthttp.AppendGzipBytesLevel(nil, body, fasthttp.CompressDefaultCompression)
		case "br":
			out = fasthttp.AppendBrotliBytesLevel(nil, body, fasthttp.CompressBrotliDefaultCompression)
		default:
			return nil
		}
		res.SetBodyRaw(out)
		res.Header.SetContentEncoding(enc)
		return nil
	}
}
