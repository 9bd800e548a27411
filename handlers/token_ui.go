package handlers

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/views"
)

// TokenListPage is GET /tokens: the API tokens and the form to create one.
func (h *Handlers) TokenListPage(c *fiber.Ctx) error {
	return h.renderTokens(c, fiber.StatusOK, views.TokenListView{})
}

func (h *Handlers) renderTokens(c *fiber.Ctx, status int, v views.TokenListView) error {
	list, err := h.Auth.ListAPITokens(c.UserContext())
	if err != nil {
		return err
	}
	v.Tokens, v.APIBase, v.Now = list, h.BaseURL(c), time.Now()
	return render(c, status, views.TokenListPage(h.meta(c, "API tokens", "tokens"), v))
}

// TokenCreate is POST /tokens. The reply is the page itself with the new
// token in it, shown this once: it never goes into a cookie, a flash or a
// URL, and only its hash is stored.
func (h *Handlers) TokenCreate(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	tok, rec, err := engine.NewAPIToken(name)
	if err != nil {
		if engine.ErrorCode(err) != engine.EINVALID {
			return err
		}
		_, msg := splitFieldError(engine.ErrorMessage(err), "name")
		return h.renderTokens(c, fiber.StatusUnprocessableEntity, views.TokenListView{Name: name, NameError: msg})
	}
	if err := h.Auth.CreateAPIToken(c.UserContext(), rec); err != nil {
		return err
	}
	h.Log.Info("API token created", "token_id", rec.ID, "request_id", requestID(c))
	return h.renderTokens(c, fiber.StatusOK, views.TokenListView{Created: tok, CreatedName: rec.Name})
}

// TokenRevoke is POST /tokens/:id/delete: the token stops working at once.
func (h *Handlers) TokenRevoke(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	list, err := h.Auth.ListAPITokens(c.UserContext())
	if err != nil {
		return err
	}
	name := ""
	for _, t := range list {
		if t.ID == id {
			name = t.Name
		}
	}
	if err := h.Auth.DeleteAPIToken(c.UserContext(), id); err != nil {
		return err
	}
	h.Log.Info("API token revoked", "token_id", id, "request_id", requestID(c))
	h.flash(c, "success", "Revoked “"+name+"”: requests with it now get 401.")
	return redirect(c, "/tokens")
}
