package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine/egress"
	"github.com/flowline/flowline/engine/redact"
	"github.com/flowline/flowline/flow"
)

// Manifest describes a bundle: which flow and version it is, where it
// answers, and its nodes (for traces; the code never interprets it).
type Manifest struct {
	Flow    string     `json:"flow"`
	Version int        `json:"version"`
	Target  string     `json:"target"`
	Method  string     `json:"method"`
	Path    string     `json:"path"`
	Nodes   []NodeInfo `json:"nodes"`
}

// NodeInfo is a node as traces show it.
type NodeInfo struct {
	ID     string   `json:"id"`
	Type   string   `json:"type"`
	Inputs []string `json:"inputs,omitempty"` // nodes with edges into this one
}

// Program is a compiled flow: generated Go code, or a JS bundle in the host.
type Program interface {
	Run(x *Exec)
}

// ProgramFunc adapts a function to Program: a Go bundle's handler.
type ProgramFunc func(x *Exec)

// Run calls f(x).
func (f ProgramFunc) Run(x *Exec) { f(x) }

// MustCompile compiles an expression of a Go bundle when it starts, through
// the same compiler as the validator and the JS host. Publishing validated
// it, so a failure is a bundle built against another version of Flowline:
// it panics with the expression and the error.
func MustCompile(src string) *vm.Program {
	p, err := flow.CompileExpr(src, false)
	if err != nil {
		panic(fmt.Sprintf("compile expression %q: %v", src, err))
	}
	return p
}

// Must returns v, or panics with err: a Go bundle prepares its nodes'
// settings with it when it starts (engine.Must(engine.NewHTTPCall(...))).
// Publishing validated them, so a failure is a bundle built against
// another version of Flowline.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Defaults for Options.
const (
	DefaultMaxBody         = 1 << 20
	DefaultDeadline        = 30 * time.Second
	DefaultMaxUpstreamBody = 10 << 20 // 10 MiB
	DefaultCodeMemory      = 64 << 20
)

// Options configure a loaded flow.
type Options struct {
	Env         map[string]string
	Datasources map[string]string
	Logger      *slog.Logger
	LogLevel    string        // the least important node log line written: debug (default), info, warn, error
	MaxBody     int64         // request body limit; DefaultMaxBody when 0
	Deadline    time.Duration // per-request deadline; DefaultDeadline when 0
	// MaxUpstreamBody limits an http.request's response body;
	// DefaultMaxUpstreamBody when 0.
	MaxUpstreamBody int64
	// Egress is the policy every http.request connection passes: nil
	// refuses loopback, private, link-local and other internal
	// destinations; egress.Parse makes one with an allow-list.
	Egress *egress.Policy
	// CodeMemory is how far the heap may grow while a code.js run is
	// active before it is interrupted; DefaultCodeMemory when 0. goja has
	// no allocation limit of its own, so a watchdog samples the Go heap
	// while any run is active (engine/sandbox). The heap is the
	// process's: a run is charged for what other requests allocate while
	// it runs, which a collection before judging keeps to what is live.
	CodeMemory uint64
	// ExprMemory and ExprSteps are the budget of one evaluation of an
	// expression; flow.DefaultExprMemory and flow.DefaultExprSteps when 0.
	ExprMemory, ExprSteps uint64
	// Resolver and Dial stand in for DNS and the network in tests, so
	// that the egress policy can meet any address without a packet
	// leaving the loopback interface; nil in every flow that serves.
	Resolver egress.Resolver
	Dial     func(ctx context.Context, network, address string) (net.Conn, error)
	// Secrets are values nobody may read back: the deployment's secret
	// variables (which are also in Env). They, the Datasources' URLs and
	// those URLs' passwords are replaced by "[redacted]" in the flow's log
	// lines, in node error messages (spans, logs and the 500/502/504
	// answers) and in everything a detailed Serve (a test run) returns.
	// Values shorter than redact.MinLen are left alone.
	Secrets []string
	// Pins are node outputs a test run uses instead of running those
	// nodes (sample data pinned in the designer); nil in every flow that
	// serves. See Exec.Pinned.
	Pins map[string]Pin
}

// Pin is the output and port a pinned node gives without running.
type Pin struct {
	Output any    `json:"output"`
	Port   string `json:"port"`
}

// Redactor hides o's secrets, its datasource URLs and their passwords.
func (o Options) Redactor() *redact.Redactor {
	values := slices.Clone(o.Secrets)
	for _, u := range o.Datasources {
		values = append(values, redact.URLSecrets(u)...)
	}
	return redact.New(values...)
}

// Flow is a program ready to serve: its route, environment and logger.
type Flow struct {
	Manifest    Manifest
	prog        Program
	nodes       map[string]NodeInfo
	env         map[string]any
	datasources map[string]string
	logger      *slog.Logger
	logLevel    slog.Level
	route       contract.Route
	maxBody     int64
	deadline    time.Duration
	draining    atomic.Bool
	closers     []func()
	opts        Options
	res         resources        // what the nodes keep between requests (Resource)
	redact      *redact.Redactor // the secrets of Options.Secrets and the datasources; nil for none
}

// New readies prog to serve requests.
func New(m Manifest, prog Program, o Options) (*Flow, error) {
	rt, err := contract.ParseRoute(m.Method, m.Path)
	if err != nil {
		return nil, fmt.Errorf("load flow %s: %w", m.Flow, err)
	}
	f := &Flow{
		Manifest:    m,
		prog:        prog,
		nodes:       make(map[string]NodeInfo, len(m.Nodes)),
		env:         make(map[string]any, len(o.Env)),
		datasources: o.Datasources,
		logger:      o.Logger,
		logLevel:    slog.LevelDebug,
		route:       rt,
		maxBody:     o.MaxBody,
		deadline:    o.Deadline,
	}
	for _, n := range m.Nodes {
		f.nodes[n.ID] = n
	}
	for k, v := range o.Env {
		f.env[k] = v
	}
	if f.logger == nil {
		f.logger = slog.New(slog.DiscardHandler)
	}
	// Secrets are redacted where lines are written, so no log reader
	// (the debug console, a log shipper) ever sees them.
	if f.redact = o.Redactor(); f.redact != nil {
		f.logger = slog.New(f.redact.Handler(f.logger.Handler()))
	}
	if o.LogLevel != "" {
		if err := f.logLevel.UnmarshalText([]byte(o.LogLevel)); err != nil {
			return nil, fmt.Errorf("load flow %s: log level: %w", m.Flow, err)
		}
	}
	if f.maxBody <= 0 {
		f.maxBody = DefaultMaxBody
	}
	if f.deadline <= 0 {
		f.deadline = DefaultDeadline
	}
	if o.MaxUpstreamBody <= 0 {
		o.MaxUpstreamBody = DefaultMaxUpstreamBody
	}
	if o.CodeMemory == 0 {
		o.CodeMemory = DefaultCodeMemory
	}
	if o.ExprMemory == 0 {
		o.ExprMemory = flow.DefaultExprMemory
	}
	if o.ExprSteps == 0 {
		o.ExprSteps = flow.DefaultExprSteps
	}
	f.opts = o
	f.OnClose(f.res.close)
	return f, nil
}

// Options are the options the flow was loaded with, defaults filled in.
func (f *Flow) Options() Options { return f.opts }

// Logger is the flow's logger.
func (f *Flow) Logger() *slog.Logger { return f.logger }

// Datasource returns the URL of the named datasource.
func (f *Flow) Datasource(name string) (string, bool) {
	u, ok := f.datasources[name]
	return u, ok
}

// OnClose registers cleanup to run when the flow is closed.
func (f *Flow) OnClose(fn func()) { f.closers = append(f.closers, fn) }

// Close releases what the flow's nodes hold (pools, connections).
func (f *Flow) Close() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
	f.closers = nil
}

// Result is one served request, with its trace.
type Result struct {
	Trace    contract.Trace
	Response *Response
	Spans    []Span
	Logs     []LogLine
}

// Serve runs the flow for r. With detail, spans keep each node's input and
// output and the log lines are kept: that is the designer's test run.
// A detailed run's spans, logs and response have their secrets redacted:
// it is shown to the designer's users.
func (f *Flow) Serve(r *http.Request, detail bool) *Result {
	res := &Result{}
	if x := f.run(r, detail, res); x != nil {
		res.Spans, res.Logs = x.Spans(), x.Logs()
	}
	if detail && f.redact != nil {
		f.redactResult(res)
	}
	return res
}

// redactResult replaces the secrets in what a detailed run shows. Values
// are copied where they hold a secret, never changed in place: spans share
// them with each other and with the response.
func (f *Flow) redactResult(res *Result) {
	r := f.redact
	for i := range res.Spans {
		sp := &res.Spans[i]
		if sp.Input != nil {
			sp.Input, _ = r.Value(sp.Input).(map[string]any)
		}
		sp.Output = r.Value(sp.Output)
		sp.Error = r.String(sp.Error)
	}
	for i := range res.Logs {
		res.Logs[i].Message = r.String(res.Logs[i].Message)
	}
	if resp := res.Response; resp != nil {
		red := *resp
		red.Body = r.Value(resp.Body)
		if len(resp.Header) > 0 {
			red.Header = make(http.Header, len(resp.Header))
			for k, vs := range resp.Header {
				red.Header[k] = r.Value(vs).([]string)
			}
		}
		res.Response = &red
	}
}

// run serves r into res and returns the run's Exec, or nil when no node
// ran (no route, a bad body). The Exec stays valid until released.
func (f *Flow) run(r *http.Request, detail bool, res *Result) *Exec {
	tr, ok := contract.ParseTraceparent(r.Header.Get(contract.TraceparentHeader))
	if !ok {
		tr = contract.NewTrace()
	}
	res.Trace = tr
	params, match := f.route.Match(r.URL.EscapedPath())
	if !match {
		res.Response = errorResponse(http.StatusNotFound, tr, fmt.Sprintf("no endpoint at %s", r.URL.EscapedPath()))
		return nil
	}
	method := r.Method
	switch {
	case method == f.route.Method:
	case method == http.MethodHead && f.route.Method == http.MethodGet:
		method = http.MethodGet
	case method == http.MethodOptions:
		res.Response = &Response{Status: http.StatusNoContent, Header: http.Header{"Allow": {f.route.Allow()}}}
		return nil
	default:
		res.Response = errorResponse(http.StatusMethodNotAllowed, tr, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.EscapedPath()))
		res.Response.Header.Set("Allow", f.route.Allow())
		return nil
	}
	x := newExec(f, tr, detail)
	request, errResp := f.readRequest(r, method, params, tr, x)
	if errResp != nil {
		res.Response = errResp
		x.release()
		return nil
	}
	ctx := newDeadlineCtx(r.Context(), f.deadline)
	defer ctx.cancel(context.Canceled)
	x.start(ctx, request)
	f.prog.Run(x)
	res.Response = x.Response()
	if res.Response == nil {
		res.Response = &Response{Status: http.StatusInternalServerError, Header: http.Header{}, HasBody: true,
			Body: map[string]any{"error": "flow ended without a response", "trace_id": tr.ID}}
	}
	return x
}

func errorResponse(status int, tr contract.Trace, msg string) *Response {
	return &Response{Status: status, Header: http.Header{}, HasBody: true,
		Body: map[string]any{"error": msg, "trace_id": tr.ID}}
}

// deadlineCtx is a request's context with its deadline, like
// context.WithTimeout, but without a timer or a registration with its
// parent until something waits on it (Done, AfterFunc, a child context).
// Most runs of a flow never do: they only ask Err when a node fails.
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu         sync.Mutex
	done       chan struct{} // made by the first Done
	err        error
	timer      *time.Timer
	stopParent func() bool
	funcs      []*afterFunc
}

type afterFunc struct{ f func() }

func newDeadlineCtx(parent context.Context, timeout time.Duration) *deadlineCtx {
	d := time.Now().Add(timeout)
	if pd, ok := parent.Deadline(); ok && pd.Before(d) {
		d = pd
	}
	return &deadlineCtx{parent: parent, deadline: d}
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Value(key any) any { return c.parent.Value(key) }

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *deadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watchLocked()
	return c.done
}

// watchLocked makes the done channel and starts watching the deadline and
// the parent, once.
func (c *deadlineCtx) watchLocked() {
	if c.done != nil {
		return
	}
	c.done = make(chan struct{})
	if c.err != nil {
		close(c.done)
		return
	}
	if err := c.parent.Err(); err != nil {
		c.err = err
		close(c.done)
		return
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.cancel(context.DeadlineExceeded) })
	c.stopParent = context.AfterFunc(c.parent, func() { c.cancel(c.parent.Err()) })
}

// AfterFunc lets context.AfterFunc and child contexts register with c
// instead of waiting on Done in a goroutine of their own.
func (c *deadlineCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	c.watchLocked()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f: f}
	c.funcs = append(c.funcs, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.funcs {
			if x == a {
				c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel ends c with err (the first cancel wins), stops watching and runs
// the registered functions.
func (c *deadlineCtx) cancel(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	if err == nil {
		err = context.Canceled
	}
	if err == context.Canceled && c.done == nil && !time.Now().Before(c.deadline) {
		err = context.DeadlineExceeded // the deadline passed first, unwatched
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	stop, funcs := c.stopParent, c.funcs
	c.funcs = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	for _, a := range funcs {
		go a.f()
	}
}

func (c *deadlineCtx) String() string { return "flowline request deadline" }
