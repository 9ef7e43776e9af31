package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Exec is one request's run of a flow. Generated code drives it node by
// node: Begin, then End with the node's output and port, or Fail. It is used
// by one goroutine at a time.
type Exec struct {
	ctx     context.Context
	flow    *Flow
	Trace   Trace
	request map[string]any
	nodes   map[string]any
	env     map[string]any // what expressions see
	detail  bool           // keep inputs, outputs and log lines (test runs)

	spans   []Span
	cur     int // index in spans of the running node, -1 between nodes
	logs    []LogLine
	resp    *Response
	lastErr error // the error a host call is failing with, for the JS host
}

// Span is one node's run.
type Span struct {
	ID       string         `json:"id"`
	SpanID   string         `json:"span_id"`
	Type     string         `json:"type"`
	Port     string         `json:"port,omitempty"`
	Input    map[string]any `json:"input,omitempty"`
	Output   any            `json:"output,omitempty"`
	Error    string         `json:"error,omitempty"`
	Start    time.Time      `json:"start"`
	Duration time.Duration  `json:"-"`
	// DurationMS is Duration for JSON readers.
	DurationMS float64 `json:"duration_ms"`
}

// LogLine is a line logged by a node.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Node    string    `json:"node,omitempty"`
	Message string    `json:"message"`
	TraceID string    `json:"trace_id"`
}

// Response is what the flow answers.
type Response struct {
	Status int
	Header http.Header
	Body   any
	// HasBody is false when the body is nil: no body is sent.
	HasBody bool
}

// Kind says how an unhandled node failure answers (rule 5).
type Kind int

// Failure kinds.
const (
	KindNode     Kind = iota // 500
	KindUpstream             // 502: an http.request failed
	KindDeadline             // 504: the request's deadline passed
)

// NodeError is a node failure of a given kind.
type NodeError struct {
	Kind Kind
	Err  error
}

func (e *NodeError) Error() string { return e.Err.Error() }
func (e *NodeError) Unwrap() error { return e.Err }

// Upstream marks err as a failure talking to an upstream (502 when unhandled).
func Upstream(err error) error { return &NodeError{Kind: KindUpstream, Err: err} }

func newExec(ctx context.Context, f *Flow, tr Trace, request map[string]any, detail bool) *Exec {
	x := &Exec{
		ctx:     ctx,
		flow:    f,
		Trace:   tr,
		request: request,
		nodes:   make(map[string]any, len(f.Manifest.Nodes)),
		detail:  detail,
		cur:     -1,
		spans:   make([]Span, 0, len(f.Manifest.Nodes)),
	}
	x.env = map[string]any{
		"request": request,
		"nodes":   x.nodes,
		"env":     f.env,
		"trace":   map[string]any{"id": tr.ID},
	}
	return x
}

// Context is the request's context; it ends at the request's deadline.
func (x *Exec) Context() context.Context { return x.ctx }

// Request is the request object, the trigger's output.
func (x *Exec) Request() map[string]any { return x.request }

// Nodes holds the outputs of the nodes that ran.
func (x *Exec) Nodes() map[string]any { return x.nodes }

// Env is the flow's environment variables as expressions see them.
func (x *Exec) Env() map[string]any { return x.flow.env }

// Flow is the loaded flow this run belongs to.
func (x *Exec) Flow() *Flow { return x.flow }

// Begin starts node id's span.
func (x *Exec) Begin(id string) {
	sp := Span{ID: id, SpanID: NewSpanID(), Start: time.Now()}
	if info, ok := x.flow.nodes[id]; ok {
		sp.Type = info.Type
		if x.detail && len(info.Inputs) > 0 {
			sp.Input = map[string]any{}
			for _, in := range info.Inputs {
				if v, ran := x.nodes[in]; ran {
					sp.Input[in] = v
				}
			}
		}
	}
	x.spans = append(x.spans, sp)
	x.cur = len(x.spans) - 1
}

// SpanID is the running node's span id, for the traceparent of its calls.
func (x *Exec) SpanID() string {
	if x.cur < 0 {
		return NewSpanID()
	}
	return x.spans[x.cur].SpanID
}

// NodeID is the running node's id.
func (x *Exec) NodeID() string {
	if x.cur < 0 {
		return ""
	}
	return x.spans[x.cur].ID
}

// End finishes the running node with its output and the port it leaves by.
func (x *Exec) End(out any, port string) string {
	if x.cur < 0 {
		return port
	}
	sp := &x.spans[x.cur]
	x.nodes[sp.ID] = out
	sp.Port = port
	sp.Duration = time.Since(sp.Start)
	if x.detail {
		sp.Output = out
	}
	x.cur = -1
	return port
}

// Trigger runs the trigger node: its output is the request.
func (x *Exec) Trigger(id string) string {
	x.Begin(id)
	return x.End(x.request, "out")
}

// Fail records the running node's failure. With an error edge it takes the
// error port ("error", true); otherwise, or when the deadline has passed,
// the request fails and ok is false: the generated code must stop.
func (x *Exec) Fail(err error, hasErrorPort bool) (port string, ok bool) {
	if x.cur < 0 {
		x.Begin("")
	}
	sp := &x.spans[x.cur]
	sp.Duration = time.Since(sp.Start)
	kind := KindNode
	var ne *NodeError
	if errors.As(err, &ne) {
		kind = ne.Kind
	}
	if x.ctx.Err() != nil || kind == KindDeadline {
		kind = KindDeadline
		err = fmt.Errorf("request deadline passed while node %s was running", sp.ID)
	}
	msg := err.Error()
	sp.Error = msg
	x.cur = -1
	if hasErrorPort && kind != KindDeadline {
		out := map[string]any{"error": msg}
		x.nodes[sp.ID] = out
		sp.Port = "error"
		if x.detail {
			sp.Output = out
		}
		x.logAt(slog.LevelWarn, sp.ID, sp.SpanID, "node failed, taking its error port: "+msg)
		return "error", true
	}
	status := http.StatusInternalServerError
	switch kind {
	case KindUpstream:
		status = http.StatusBadGateway
	case KindDeadline:
		status = http.StatusGatewayTimeout
	}
	x.logAt(slog.LevelError, sp.ID, sp.SpanID, "node failed: "+msg)
	x.resp = &Response{Status: status, Header: http.Header{}, HasBody: true,
		Body: map[string]any{"error": msg, "node": sp.ID, "trace_id": x.Trace.ID}}
	return "", false
}

// Responded reports whether a node has answered the request.
func (x *Exec) Responded() bool { return x.resp != nil }

// Eval runs a compiled expression against this request.
func (x *Exec) Eval(p *vm.Program) (any, error) {
	v, err := vm.Run(p, x.env)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Cond runs an expression that must give a bool.
func (x *Exec) Cond(p *vm.Program) (bool, error) {
	v, err := x.Eval(p)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %s, not a bool", describe(v))
	}
	return b, nil
}

// Log writes a node's log line: to the process log with the trace and node
// ids, and to the trace kept for test runs.
func (x *Exec) Log(level, msg string) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	id, span := "", ""
	if x.cur >= 0 {
		id, span = x.spans[x.cur].ID, x.spans[x.cur].SpanID
	}
	x.logAt(l, id, span, msg)
}

func (x *Exec) logAt(l slog.Level, node, span, msg string) {
	if x.detail {
		x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: levelName(l), Node: node, Message: msg, TraceID: x.Trace.ID})
	}
	lg := x.flow.logger
	if l < x.flow.logLevel || !lg.Enabled(x.ctx, l) {
		return
	}
	attrs := []slog.Attr{slog.String("trace_id", x.Trace.ID)}
	if node != "" {
		attrs = append(attrs, slog.String("node", node), slog.String("span_id", span))
	}
	lg.LogAttrs(x.ctx, l, msg, attrs...)
}

func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// Respond answers the request from the running (response) node.
func (x *Exec) Respond(status int, header http.Header, body any) {
	if header == nil {
		header = http.Header{}
	}
	x.resp = &Response{Status: status, Header: header, Body: body, HasBody: body != nil}
	if x.cur >= 0 {
		x.End(map[string]any{"status": status, "body": body}, "")
	}
}

// Spans are the node spans of this run, in the order the nodes ran.
func (x *Exec) Spans() []Span {
	for i := range x.spans {
		x.spans[i].DurationMS = float64(x.spans[i].Duration.Microseconds()) / 1000
	}
	return x.spans
}

// Logs are the lines logged during this run (kept for detailed runs only).
func (x *Exec) Logs() []LogLine { return x.logs }

// Response is the answer, or nil when no node responded.
func (x *Exec) Response() *Response { return x.resp }
