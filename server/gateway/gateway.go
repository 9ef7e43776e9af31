// Package gateway serves the published endpoints: it matches a request to
// a route (method and trigger path), and proxies it to one of the ready
// instances of the route's deployment, round-robin. It runs on a listener
// of its own (see NewServer); the server keeps its route table current with
// SetRoutes.
//
// Every response carries X-Trace-Id. A request's valid W3C traceparent is
// passed on; otherwise the gateway starts a trace and sends the instance a
// traceparent, so the instance logs under the same id the client sees.
// Errors of the gateway itself are JSON, {"error": ..., "trace_id": ...},
// like the instances' own.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowline/flowline/contract"
)

// DefaultMaxBodyBytes is the default request body limit (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// defaultDeadline is the request deadline of a route that sets none; it
// matches deploy.DefaultDeadline.
const defaultDeadline = 30 * time.Second

// Grace periods on top of a route's deadline: the instance answers 504
// itself at its deadline, so the gateway waits a little longer before it
// gives up on it, and gives a slow client longer still to read the answer.
const (
	upstreamGrace = 5 * time.Second
	writeGrace    = 30 * time.Second
)

// Config configures a Gateway. Zero fields take the defaults given.
type Config struct {
	// Logger receives one line per failed request (default: discard).
	Logger *slog.Logger
	// Registerer gets the gateway's metrics; nil means no metrics. Pass
	// the server's own registry, not the global one.
	Registerer prometheus.Registerer
	// MaxBodyBytes limits request bodies (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Transport carries proxied requests (NewTransport()).
	Transport http.RoundTripper
	// RetryAfter is the Retry-After of 503 answers (1s).
	RetryAfter time.Duration
}

// Gateway is the http.Handler of published endpoints. It is safe for
// concurrent use; SetRoutes may be called while it serves.
type Gateway struct {
	log        *slog.Logger
	maxBody    int64
	retryAfter string
	proxy      *httputil.ReverseProxy
	metrics    *metrics
	table      atomic.Pointer[table]
	access     atomic.Pointer[accessTable]
	accessMu   sync.Mutex // serialises SetAccess
}

// New returns a gateway with an empty route table.
func New(cfg Config) (*Gateway, error) {
	g := &Gateway{
		log:        cfg.Logger,
		maxBody:    cfg.MaxBodyBytes,
		retryAfter: "1",
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	if cfg.RetryAfter > 0 {
		g.retryAfter = strconv.Itoa(int((cfg.RetryAfter + time.Second - 1) / time.Second))
	}
	transport := cfg.Transport
	if transport == nil {
		transport = NewTransport()
	}
	if cfg.Registerer != nil {
		m, err := newMetrics(cfg.Registerer)
		if err != nil {
			return nil, fmt.Errorf("gateway metrics: %w", err)
		}
		g.metrics = m
	}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      &retryTransport{base: transport, log: g.log},
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	t, _ := newTable(nil)
	g.table.Store(t)
	return g, nil
}

// SetRoutes replaces the route table. The new table is built and checked
// first; if it is refused (an invalid route, two routes with the same
// method and path shape, a route without Backends), the error says why and
// the old table keeps serving. Requests in flight finish on the table they
// started with.
func (g *Gateway) SetRoutes(routes []Route) error {
	t, err := newTable(routes)
	if err != nil {
		return fmt.Errorf("gateway routes: %w", err)
	}
	g.table.Store(t)
	return nil
}

// Routes returns the routes being served.
func (g *Gateway) Routes() []Route {
	return append([]Route(nil), g.table.Load().routes...)
}

// proxyState travels with a proxied request in its context.
type proxyState struct {
	route    *Route
	backends []string
	first    int // index of the backend tried first
	trace    traceContext
	// backend is the backend of the last attempt (for logs).
	backend atomic.Pointer[string]
}

type stateKey struct{}

// ServeHTTP serves a request to a published endpoint.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	tc := requestTrace(r.Header)
	sw.Header().Set("X-Trace-Id", tc.traceID)
	flow := ""
	if g.metrics != nil {
		defer func() { g.metrics.observe(flow, sw.code(), time.Since(start)) }()
	}

	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		g.writeError(sw, r, http.StatusNotFound, tc.traceID, "no endpoint at "+path)
		return
	}
	segs := contract.SplitPath(path)
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
		// A CORS preflight asks about the method it names.
		if ep, _, _ := g.table.Load().lookup(segs, r.Header.Get("Access-Control-Request-Method")); ep != nil {
			flow = ep.route.Flow
			g.accessOf(ep.route.FlowID).preflight(sw, r)
			return
		}
	}
	ep, allowed, matched := g.table.Load().lookup(segs, r.Method)
	if ep == nil {
		switch {
		case !matched:
			g.writeError(sw, r, http.StatusNotFound, tc.traceID, "no endpoint at "+path)
		case r.Method == http.MethodOptions:
			sw.Header().Set("Allow", allowHeader(allowed))
			sw.WriteHeader(http.StatusNoContent)
		default:
			sw.Header().Set("Allow", allowHeader(allowed))
			g.writeError(sw, r, http.StatusMethodNotAllowed, tc.traceID,
				fmt.Sprintf("method %s not allowed on %s", r.Method, path))
		}
		return
	}
	route := &ep.route
	flow = route.Flow
	acc := g.accessOf(route.FlowID)
	if origin := r.Header.Get("Origin"); origin != "" && acc != nil {
		acc.cors(sw.Header(), origin)
	}
	if status, msg := acc.admit(sw.Header(), r); status != 0 {
		g.writeError(sw, r, status, tc.traceID, msg)
		return
	}

	// Read the whole body before choosing an instance: a request that is
	// too large is never proxied, and a buffered body can be sent again
	// when an instance refuses the connection.
	tooLarge := fmt.Sprintf("request body larger than %d bytes", g.maxBody)
	if r.ContentLength > g.maxBody {
		sw.Header().Set("Connection", "close")
		g.writeError(sw, r, http.StatusRequestEntityTooLarge, tc.traceID, tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			g.writeError(sw, r, http.StatusRequestEntityTooLarge, tc.traceID, tooLarge)
			return
		}
		g.log.Info("gateway: could not read request body", "flow", flow, "trace_id", tc.traceID, "error", err)
		sw.Header().Set("Connection", "close")
		g.writeError(sw, r, http.StatusBadRequest, tc.traceID, "could not read the request body")
		return
	}
	// The request is in. From here on the time is the instance's: clear
	// the server's read deadline (it would cancel the request when it
	// passes) and allow the answer its deadline to be written.
	deadline := route.Deadline
	if deadline <= 0 {
		deadline = defaultDeadline
	}
	rc := http.NewResponseController(sw)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(deadline + upstreamGrace + writeGrace))

	backends := route.Backends()
	if len(backends) == 0 {
		g.log.Warn("gateway: no ready instance", "flow", flow, "deployment", route.DeploymentID, "trace_id", tc.traceID)
		sw.Header().Set("Retry-After", g.retryAfter)
		g.writeError(sw, r, http.StatusServiceUnavailable, tc.traceID, "no ready instance for "+path+"; try again shortly")
		return
	}
	st := &proxyState{
		route:    route,
		backends: backends,
		first:    int((ep.next.Add(1) - 1) % uint64(len(backends))),
		trace:    tc,
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), stateKey{}, st), deadline+upstreamGrace)
	defer cancel()
	out := r.WithContext(ctx)
	out.ContentLength = int64(len(body))
	out.TransferEncoding = nil
	if len(body) == 0 {
		out.Body, out.GetBody = http.NoBody, nil
	} else {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	g.proxy.ServeHTTP(sw, out)
}

// rewrite directs the outgoing request to the chosen instance.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(stateKey{}).(*proxyState)
	backend := st.backends[st.first]
	st.backend.Store(&backend)
	pr.SetURL(backendURL(backend))
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	pr.Out.Header.Set("Traceparent", st.trace.traceparent)
	pr.Out.Header.Del(KeyHeader) // the gateway's business, never the flow's
	if !st.trace.kept {
		// A tracestate belongs to the traceparent it came with.
		pr.Out.Header.Del("Tracestate")
	}
}

// backendURL makes a URL of a backend given as host:port or as a URL.
func backendURL(b string) *url.URL {
	if strings.HasPrefix(b, "http://") || strings.HasPrefix(b, "https://") {
		if u, err := url.Parse(b); err == nil {
			return &url.URL{Scheme: u.Scheme, Host: u.Host}
		}
	}
	return &url.URL{Scheme: "http", Host: b}
}

// modifyResponse drops the instance's X-Trace-Id: the gateway set its own
// (the same id) before proxying, and ReverseProxy adds headers.
func (g *Gateway) modifyResponse(res *http.Response) error {
	res.Header.Del("X-Trace-Id")
	return nil
}

// proxyError answers a request that could not be proxied.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := r.Context().Value(stateKey{}).(*proxyState)
	backend := ""
	if b := st.backend.Load(); b != nil {
		backend = *b
	}
	args := []any{"flow", st.route.Flow, "deployment", st.route.DeploymentID, "backend", backend, "trace_id", st.trace.traceID, "error", err}
	switch {
	case errors.Is(r.Context().Err(), context.Canceled):
		// The client went away; there is nobody to answer.
		g.log.Debug("gateway: client gone", args...)
		w.WriteHeader(499)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(r.Context().Err(), context.DeadlineExceeded):
		g.log.Warn("gateway: instance did not answer in time", args...)
		g.writeError(w, r, http.StatusGatewayTimeout, st.trace.traceID, "the instance did not answer in time")
	default:
		g.log.Warn("gateway: proxy failed", args...)
		g.writeError(w, r, http.StatusBadGateway, st.trace.traceID, "the instance could not be reached or failed to answer")
	}
}

// writeError writes a JSON error answer.
func (g *Gateway) writeError(w http.ResponseWriter, r *http.Request, status int, traceID, msg string) {
	body, _ := json.Marshal(struct {
		Error   string `json:"error"`
		TraceID string `json:"trace_id"`
	}{msg, traceID})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// retryTransport sends a request that an instance refused to connect to
// once more, to the next ready instance. Nothing reached the refusing
// instance, and the body is buffered (GetBody), so this is safe for any
// method.
type retryTransport struct {
	base http.RoundTripper
	log  *slog.Logger
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		return resp, nil
	}
	st, _ := req.Context().Value(stateKey{}).(*proxyState)
	if st == nil || len(st.backends) < 2 || !isDialError(err) || req.Context().Err() != nil {
		return nil, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return nil, err
	}
	next := st.backends[(st.first+1)%len(st.backends)]
	retry := req.Clone(req.Context())
	retry.URL.Host = backendURL(next).Host
	retry.URL.Scheme = backendURL(next).Scheme
	if req.GetBody != nil {
		body, berr := req.GetBody()
		if berr != nil {
			return nil, err
		}
		retry.Body = body
	}
	t.log.Info("gateway: instance refused the connection; retrying on another", "flow", st.route.Flow,
		"backend", req.URL.Host, "retry", next, "trace_id", st.trace.traceID, "error", err)
	st.backend.Store(&next)
	return t.base.RoundTrip(retry)
}

// isDialError reports an error that happened before anything was sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// statusWriter records the status code of the answer for metrics. Unwrap
// gives http.ResponseController (and ReverseProxy's flushing) the
// underlying writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
