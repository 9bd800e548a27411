package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// Health answers 200 when the server is up and its database answers.
func (h *Handlers) Health(c *fiber.Ctx) error {
	if err := h.Ping(c.UserContext()); err != nil {
		h.Log.Error("health check", "error", err)
		return engine.Errorf(engine.EUNAVAILABLE, "database unavailable")
	}
	return c.JSON(fiber.Map{"status": "ok"})
}
