package handlers

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// sendJSON sends bytes that are already JSON.
func sendJSON(c *fiber.Ctx, b []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}

// requireJSON refuses request bodies that are not declared as JSON.
func requireJSON(c *fiber.Ctx) error {
	if !engine.IsJSONContentType(c.Get(fiber.HeaderContentType)) {
		return engine.Errorf(engine.EUNSUPPORTED, "Content-Type must be application/json")
	}
	return nil
}

// requestID returns the id the request-id middleware assigned.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("request_id").(string)
	return id
}
