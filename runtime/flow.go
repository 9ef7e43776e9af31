package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
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

// Defaults for Options.
const (
	DefaultMaxBody  = 1 << 20
	DefaultDeadline = 30 * time.Second
)

// Options configure a loaded flow.
type Options struct {
	Env         map[string]string
	Datasources map[string]string
	Logger      *slog.Logger
	LogLevel    string        // the least important node log line written: debug (default), info, warn, error
	MaxBody     int64         // request body limit; DefaultMaxBody when 0
	Deadline    time.Duration // per-request deadline; DefaultDeadline when 0
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
	route       route
	maxBody     int64
	deadline    time.Duration
	draining    atomic.Bool
	closers     []func()
}

// New readies prog to serve requests.
func New(m Manifest, prog Program, o Options) (*Flow, error) {
	rt, err := parseRoute(m.Method, m.Path)
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
	return f, nil
}

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
	Trace    Trace
	Response *Response
	Spans    []Span
	Logs     []LogLine
}

// Serve runs the flow for r. With detail, spans keep each node's input and
// output and the log lines are kept: that is the designer's test run.
func (f *Flow) Serve(r *http.Request, detail bool) *Result {
	tr, ok := ParseTraceparent(r.Header.Get("traceparent"))
	if !ok {
		tr = NewTrace()
	}
	res := &Result{Trace: tr}
	params, match := f.route.match(r.URL.EscapedPath())
	if !match {
		res.Response = errorResponse(http.StatusNotFound, tr, fmt.Sprintf("no endpoint at %s", r.URL.EscapedPath()))
		return res
	}
	method := r.Method
	switch {
	case method == f.route.method:
	case method == http.MethodHead && f.route.method == http.MethodGet:
		method = http.MethodGet
	case method == http.MethodOptions:
		res.Response = &Response{Status: http.StatusNoContent, Header: http.Header{"Allow": {f.route.allow()}}}
		return res
	default:
		res.Response = errorResponse(http.StatusMethodNotAllowed, tr, fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.EscapedPath()))
		res.Response.Header.Set("Allow", f.route.allow())
		return res
	}
	request, errResp := f.readRequest(r, method, params, tr)
	if errResp != nil {
		res.Response = errResp
		return res
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.deadline)
	defer cancel()
	x := newExec(ctx, f, tr, request, detail)
	f.prog.Run(x)
	res.Spans, res.Logs = x.Spans(), x.Logs()
	res.Response = x.Response()
	if res.Response == nil {
		res.Response = &Response{Status: http.StatusInternalServerError, Header: http.Header{}, HasBody: true,
			Body: map[string]any{"error": "flow ended without a response", "trace_id": tr.ID}}
	}
	return res
}

func errorResponse(status int, tr Trace, msg string) *Response {
	return &Response{Status: status, Header: http.Header{}, HasBody: true,
		Body: map[string]any{"error": msg, "trace_id": tr.ID}}
}
