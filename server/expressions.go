package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// previewTimeout bounds one preview; the meter bounds its memory and steps
// as a deployment's would.
const previewTimeout = time.Second

// previewRequest is an expression and the data of a test run to evaluate
// it against.
type previewRequest struct {
	Expr    string         `json:"expr"`
	Request any            `json:"request"`
	Nodes   map[string]any `json:"nodes"`
	Env     map[string]any `json:"env"`
	TraceID string         `json:"trace_id"`
}

// previewExpression answers the value an expression gives against the data
// of the last test run: the designer shows it beside the expression as it
// is typed. The answer is 200 either way; an expression that fails
// answers its error in words.
func previewExpression(c *gin.Context) {
	var req previewRequest
	if err := decodeJSON(c, maxDocument+engine.DefaultMaxBody, &req); err != nil {
		fail(c, err)
		return
	}
	if strings.TrimSpace(req.Expr) == "" {
		fail(c, errStatus(http.StatusBadRequest, "expr is empty"))
		return
	}
	p, err := flow.CompileExpr(req.Expr, false)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			c.PureJSON(http.StatusOK, gin.H{"error": fe.Message})
			return
		}
		c.PureJSON(http.StatusOK, gin.H{"error": err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(c, previewTimeout)
	defer cancel()
	var m flow.Meter
	m.Reset(ctx, 0, 0)
	env := map[string]any{
		"request":     req.Request,
		"nodes":       emptyIfNil(req.Nodes),
		"env":         emptyIfNil(req.Env),
		"trace":       map[string]any{"id": req.TraceID},
		flow.MeterKey: &m,
	}
	v, err := m.Eval(&vm.VM{}, p, env)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "\n"); i > 0 {
			msg = msg[:i] // expr's snippet and caret: the designer underlines instead
		}
		c.PureJSON(http.StatusOK, gin.H{"error": msg})
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"value": engine.Normalize(v)})
}

func emptyIfNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
