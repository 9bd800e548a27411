package handlers

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// testPost is the body of a test run (§17); every part is optional.
type testPost struct {
	Request *struct {
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
		Query   string            `json:"query"`
		Body    string            `json:"body"`
	} `json:"request"`
	ExecutionID int64 `json:"executionId"`
}

// testDetail is a test run's reply: the execution in the shape of
// GET /api/v1/executions/{id}, marked test, with the reply the caller
// would have got.
type testDetail struct {
	executionDetail
	Test     bool            `json:"test"`
	Response *responseDetail `json:"response"`
}

// WorkflowTestAPI is POST /api/v1/workflows/{id}/test: a test run of the
// current revision on a request, a stored execution's request, or the
// trigger's samples; 200 with the execution, which is not stored.
func (h *Handlers) WorkflowTestAPI(c *fiber.Ctx) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var p testPost
	if body := bytes.TrimSpace(c.Body()); len(body) > 0 {
		if err := requireJSON(c); err != nil {
			return err
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return engine.Errorf(engine.EINVALID, `body: %s (expected {"request": {"method", "headers", "query", "body"}}, {"executionId": n} or {})`, strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	in := engine.TestInput{ExecutionID: p.ExecutionID}
	if r := p.Request; r != nil {
		in.Request = &engine.TestRequest{Method: r.Method, Headers: r.Headers, Query: r.Query, Body: r.Body}
	}
	res, err := h.Svc.Test(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(newTestDetail(res))
}

func newTestDetail(res *engine.TestResult) testDetail {
	d := testDetail{executionDetail: newExecutionDetail(res.Execution), Test: true}
	if r := res.Response; r != nil {
		hs := r.Headers
		if hs == nil {
			hs = []engine.HeaderValue{}
		}
		d.Response = &responseDetail{Status: r.Status, Headers: hs, ContentType: r.ContentType, Body: string(r.Body)}
	}
	return d
}

// TemplateListAPI is GET /api/v1/templates: the workflow templates to start
// from (§17), each a complete document with samples.
func (h *Handlers) TemplateListAPI(c *fiber.Ctx) error {
	items := make([]templateItem, 0)
	for _, t := range engine.Templates() {
		items = append(items, templateItem{Name: t.Name, Title: t.Title, Description: t.Description, Document: t.Document})
	}
	return c.JSON(fiber.Map{"items": items})
}

type templateItem struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Document    json.RawMessage `json:"document"`
}
