package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/flow"
)

// Exec is one request's run of a flow. Generated code drives it node by
// node: Begin, then End with the node's output and port, or Fail. It is used
// by one goroutine at a time.
type Exec struct {
	ctx     context.Context
	flow    *Flow
	Trace   contract.Trace
	request map[string]any
	nodes   map[string]any
	env     map[string]any // what expressions see
	detail  bool           // keep inputs, outputs and log lines (test runs)

	spans []Span
	cur   int // index in spans of the running node, -1 between nodes
	logs  []LogLine
	resp  *Response

	// What a run reuses when its Exec is recycled (ServeHTTP does, once
	// the answer is written): the expression VM, its meter and the maps.
	machine vm.VM
	meter   flow.Meter // in env under flow.MeterKey
	trace   map[string]any
	req     map[string]any
	query   map[string]any
	headers map[string]any
	answer  Response
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
	// Pinned says the node did not run: its output is the pinned one.
	Pinned bool `json:"pinned,omitempty"`

	bits uint64 // the span id, formatted into SpanID when it is needed
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

// execPool recycles the Execs of ServeHTTP, with their maps and VM.
var execPool sync.Pool

// newExec returns an Exec for one run of f; start sets its request.
func newExec(f *Flow, tr contract.Trace, detail bool) *Exec {
	x, _ := execPool.Get().(*Exec)
	if x == nil {
		x = &Exec{
			nodes:   make(map[string]any, len(f.Manifest.Nodes)),
			spans:   make([]Span, 0, len(f.Manifest.Nodes)),
			env:     make(map[string]any, 4),
			trace:   make(map[string]any, 1),
			req:     make(map[string]any, 6),
			query:   map[string]any{},
			headers: map[string]any{},
		}
	}
	x.flow, x.Trace, x.detail, x.cur = f, tr, detail, -1
	x.trace["id"] = tr.ID
	x.env["nodes"] = x.nodes
	x.env["env"] = f.env
	x.env["trace"] = x.trace
	x.env[flow.MeterKey] = &x.meter
	return x
}

// start sets the request the run serves and its context.
func (x *Exec) start(ctx context.Context, request map[string]any) {
	x.ctx, x.request = ctx, request
	x.env["request"] = request
}

// release recycles x. Nothing of the run may be used afterwards: the
// answer has been written.
func (x *Exec) release() {
	if len(x.spans) > 64 || len(x.nodes) > 64 {
		return // an unusual flow; let the collector have it
	}
	clear(x.nodes)
	clear(x.req)
	clear(x.query)
	clear(x.headers)
	clear(x.spans)
	clear(x.machine.Variables)
	x.spans = x.spans[:0]
	x.ctx, x.flow, x.request, x.logs, x.resp = nil, nil, nil, nil, nil
	x.meter.Reset(nil, 0, 0) // let go of the request's context
	x.env["request"], x.env["env"], x.trace["id"] = nil, nil, nil
	x.answer = Response{}
	execPool.Put(x)
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
	sp := Span{ID: id, bits: spanBits(), Start: time.Now()}
	if x.flow.opts.Pins != nil {
		_, sp.Pinned = x.flow.opts.Pins[id]
	}
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
		return contract.NewSpanID()
	}
	return x.spanID(x.cur)
}

// spanID formats span i's id the first time it is asked for: most runs
// never need one.
func (x *Exec) spanID(i int) string {
	sp := &x.spans[i]
	if sp.SpanID == "" {
		sp.SpanID = formatHex(sp.bits, 16)
	}
	return sp.SpanID
}

// spanBits is a random span id, never zero.
func spanBits() uint64 {
	for {
		if u := rand.Uint64(); u != 0 {
			return u
		}
	}
}

// formatHex writes the digits/2 low-order bytes of u as lower-case hex,
// least significant byte first (the layout of newID).
func formatHex(u uint64, digits int) string {
	var b [16]byte
	for i := 0; i < digits/2; i++ {
		c := byte(u >> (8 * i))
		b[2*i], b[2*i+1] = hexDigits[c>>4], hexDigits[c&0xF]
	}
	return string(b[:digits])
}

// NodeID is the running node's id.
func (x *Exec) NodeID() string {
	if x.cur < 0 {
		return ""
	}
	return x.spans[x.cur].ID
}

// Pinned reports whether the running node is pinned (Options.Pins): it
// does not run. Its expressions give nil, its calls are not made, it logs
// nothing, and End gives its pinned output and port whatever it is given.
func (x *Exec) Pinned() bool { return x.cur >= 0 && x.spans[x.cur].Pinned }

// End finishes the running node with its output and the port it leaves by.
// The output is normalized (see Normalize): the JS host's outputs come
// back from JavaScript that way, so both targets keep the same value.
func (x *Exec) End(out any, port string) string {
	if x.cur < 0 {
		return port
	}
	sp := &x.spans[x.cur]
	if sp.Pinned {
		pin := x.flow.opts.Pins[sp.ID]
		out, port = pin.Output, pin.Port
	}
	out = Normalize(out)
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
	msg := x.flow.redact.String(err.Error()) // secrets: see Options.Secrets
	sp.Error = msg
	x.cur = -1
	if hasErrorPort && kind != KindDeadline {
		out := map[string]any{"error": msg}
		x.nodes[sp.ID] = out
		sp.Port = "error"
		if x.detail {
			sp.Output = out
		}
		x.logAt(slog.LevelWarn, sp.ID, x.spanIndex(sp), "node failed, taking its error port: "+msg)
		return "error", true
	}
	status := http.StatusInternalServerError
	switch kind {
	case KindUpstream:
		status = http.StatusBadGateway
	case KindDeadline:
		status = http.StatusGatewayTimeout
	}
	x.logAt(slog.LevelError, sp.ID, x.spanIndex(sp), "node failed: "+msg)
	x.resp = &Response{Status: status, Header: http.Header{}, HasBody: true,
		Body: map[string]any{"error": msg, "node": sp.ID, "trace_id": x.Trace.ID}}
	return "", false
}

// Responded reports whether a node has answered the request.
func (x *Exec) Responded() bool { return x.resp != nil }

// Eval runs a compiled expression against this request, on the budget of
// Options.ExprMemory and ExprSteps and until the request's deadline. Its
// result is normalized (see Normalize), so both targets keep and send the
// same values.
func (x *Exec) Eval(p *vm.Program) (any, error) {
	if p == nil {
		return nil, errors.New("program is nil")
	}
	if x.Pinned() {
		return nil, nil
	}
	x.meter.Reset(x.ctx, x.flow.opts.ExprMemory, x.flow.opts.ExprSteps)
	v, err := x.meter.Eval(&x.machine, p, x.env)
	if err != nil {
		return nil, err
	}
	return Normalize(v), nil
}

// Cond runs an expression that must give a bool.
func (x *Exec) Cond(p *vm.Program) (bool, error) {
	if x.Pinned() {
		return false, nil
	}
	v, err := x.Eval(p)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %s, not a bool", Describe(v))
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
	if x.Pinned() {
		return
	}
	id := ""
	if x.cur >= 0 {
		id = x.spans[x.cur].ID
	}
	x.logAt(l, id, x.cur, msg)
}

// spanIndex is the index in x.spans of sp.
func (x *Exec) spanIndex(sp *Span) int {
	for i := range x.spans {
		if &x.spans[i] == sp {
			return i
		}
	}
	return -1
}

// logAt logs a line of node (whose span is x.spans[span], or none when
// span is -1).
func (x *Exec) logAt(l slog.Level, node string, span int, msg string) {
	if x.detail {
		x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: levelName(l), Node: node, Message: msg, TraceID: x.Trace.ID})
	}
	lg := x.flow.logger
	if l < x.flow.logLevel || !lg.Enabled(x.ctx, l) {
		return
	}
	if node == "" {
		lg.LogAttrs(x.ctx, l, msg, slog.String(contract.LogTraceID, x.Trace.ID))
		return
	}
	spanID := ""
	if span >= 0 {
		spanID = x.spanID(span)
	}
	lg.LogAttrs(x.ctx, l, msg, slog.String(contract.LogTraceID, x.Trace.ID), slog.String(contract.LogNode, node), slog.String(contract.LogSpanID, spanID))
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

// Respond answers the request from the running (response) node. A nil
// header sends none of the flow's own.
func (x *Exec) Respond(status int, header http.Header, body any) {
	x.answer = Response{Status: status, Header: header, Body: body, HasBody: body != nil}
	x.resp = &x.answer
	if x.cur >= 0 {
		// Nothing runs after a response, so its output is only ever
		// seen in a detailed run's span.
		var out any
		if x.detail {
			out = map[string]any{"status": status, "body": body}
		}
		x.End(out, "")
	}
}

// Spans are the node spans of this run, in the order the nodes ran.
func (x *Exec) Spans() []Span {
	for i := range x.spans {
		x.spans[i].DurationMS = float64(x.spans[i].Duration.Microseconds()) / 1000
		x.spanID(i)
	}
	return x.spans
}

// Logs are the lines logged during this run (kept for detailed runs only).
func (x *Exec) Logs() []LogLine { return x.logs }

// Response is the answer, or nil when no node responded.
func (x *Exec) Response() *Response { return x.resp }

// PortInvalid is the port a validate node takes when the value does not
// match its schema.
const PortInvalid = "invalid"

// Refuse ends the running node by port with out, and answers the request
// with status and {"error": msg, "details": details, "trace_id"}: what a
// node that checks the request (validate, a signature check) does when
// its port for a failed check has no edge. A nil details is left out.
func (x *Exec) Refuse(out any, port string, status int, msg string, details any) {
	x.Log("warn", "request refused: "+msg)
	x.End(out, port)
	body := map[string]any{"error": msg, "trace_id": x.Trace.ID}
	if details != nil {
		body["details"] = details
	}
	x.resp = &Response{Status: status, Header: http.Header{}, HasBody: true, Body: body}
}
