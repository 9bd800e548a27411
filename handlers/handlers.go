package handlers

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hookflow/hookflow/engine"
)

// Service is what handlers need of the engine.
type Service interface {
	CreateWorkflow(ctx context.Context, raw []byte) (*engine.Workflow, error)
	UpdateWorkflow(ctx context.Context, id int64, raw []byte) (*engine.Workflow, error)
	ReplaceWorkflow(ctx context.Context, id int64, raw []byte) (*engine.Workflow, error)
	SetWorkflowEnabled(ctx context.Context, id int64, enabled bool) (*engine.Workflow, error)
	RestoreRevision(ctx context.Context, id int64, rev int) (*engine.Workflow, error)
	DeleteWorkflow(ctx context.Context, id int64) error
	GetWorkflow(ctx context.Context, id int64) (*engine.Workflow, error)
	GetRevision(ctx context.Context, id int64, rev int) (*engine.Workflow, error)
	ListRevisions(ctx context.Context, id int64) ([]engine.RevisionInfo, error)
	ListWorkflows(ctx context.Context) ([]engine.WorkflowSummary, error)
	GetExecution(ctx context.Context, id int64) (*engine.Execution, error)
	ListExecutions(ctx context.Context, f engine.ExecutionFilter) ([]*engine.Execution, error)
	Trigger(ctx context.Context, key string, creds engine.Credentials, req *engine.Request) (*engine.TriggerResult, error)
	RecordRejection(ctx context.Context, key string, client netip.Addr, reason engine.RejectReason, status int, message string)
	ListRejections(ctx context.Context, workflowID int64) ([]engine.Rejection, error)
	Activity(ctx context.Context, workflowID int64, span time.Duration, from, to time.Time) ([]engine.ActivityBucket, error)
	RecentActivity(ctx context.Context, from time.Time) (map[int64][]engine.ActivityBucket, error)
	ReplayExecution(ctx context.Context, id int64) (*engine.Execution, error)
	RetryExecution(ctx context.Context, id int64) (*engine.Execution, error)
	CancelExecution(ctx context.Context, id int64) (*engine.Execution, error)
	ReplayExecutions(ctx context.Context, f engine.ReplayFilter) (int, error)
	Test(ctx context.Context, workflowID int64, in engine.TestInput) (*engine.TestResult, error)
	// WebhookRecorder feeds the metrics of refused requests.
	WebhookRecorder(key string) engine.WebhookRecorder
}

// Handlers holds the dependencies of every handler.
type Handlers struct {
	Svc  Service
	Auth engine.AuthStore
	Log  *slog.Logger
	// PublicURL is the configured base of the URLs shown ("" derives it
	// from the request).
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-For gives the client
	// address (see ClientAddr); empty: the peer is the client.
	TrustedProxies []netip.Prefix
	// Ping checks the database for /healthz.
	Ping func(ctx context.Context) error
	// Readiness answers /readyz (nil: always ready).
	Readiness *Readiness
	// SecureCookies marks cookies Secure (behind https).
	SecureCookies bool
	// SessionIdle signs a session out after this long without a request
	// (0: DefaultSessionIdle); SessionLifetime bounds it in any case.
	SessionIdle time.Duration
	// Throttle limits failed sign-ins.
	Throttle *Throttle
	// FirstRun reports whether nobody has signed in yet, to show where the
	// admin password comes from.
	FirstRun func(c *fiber.Ctx) bool
	// AdminFromEnv says the first admin came from HOOKFLOW_ADMIN_*.
	AdminFromEnv bool

	// pending holds the sign-ins waiting for their two-factor code.
	pendingOnce sync.Once
	pending     *pendingSignIns

	// captures holds the trigger panels' listens for a request (made on
	// first use, so that every way of building Handlers has one).
	capturesOnce sync.Once
	captures     *engine.Captures
}

// captureHub returns the listens of "Listen for a request".
func (h *Handlers) captureHub() *engine.Captures {
	h.capturesOnce.Do(func() { h.captures = engine.NewCaptures() })
	return h.captures
}

// TriggerPath is the path of a workflow's webhook URL.
func TriggerPath(key string) string { return "/api/webhook:trigger/" + key }

// BaseURL returns the public base URL: the configured one, else the
// request's scheme and host.
func (h *Handlers) BaseURL(c *fiber.Ctx) string {
	if h.PublicURL != "" {
		return strings.TrimRight(h.PublicURL, "/")
	}
	return c.Protocol() + "://" + c.Hostname()
}

// WebhookURL is the full public URL of a workflow.
func (h *Handlers) WebhookURL(c *fiber.Ctx, key string) string {
	return h.BaseURL(c) + TriggerPath(key)
}

// workflowParam loads the current revision of the workflow named by the
// :id route parameter.
func (h *Handlers) workflowParam(c *fiber.Ctx) (*engine.Workflow, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.Svc.GetWorkflow(c.UserContext(), id)
}

// paramID parses a numeric route parameter; a bad one is a 404 like a
// missing row.
func paramID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Errorf(engine.ENOTFOUND, "not found")
	}
	return id, nil
}
