package engine

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowline/flowline/contract"
)

// ServeHTTP serves the flow's endpoint.
func (f *Flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, f.maxBody)
	}
	var res Result
	x := f.run(r, false, &res)
	WriteResponse(w, r.Method == http.MethodHead, res.Trace, res.Response)
	if x != nil {
		x.release() // the answer is written: nothing refers to the run any more
	}
}

// Header values WriteResponse sets; net/http only reads them.
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	appJSON   = []string{"application/json"}
)

// bodyBuffers hold JSON bodies while they are written.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// WriteResponse sends resp: a string body as text/plain, any other value as
// JSON, unless the flow set Content-Type itself. Every response carries
// X-Trace-Id.
func WriteResponse(w http.ResponseWriter, head bool, tr contract.Trace, resp *Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	h["X-Trace-Id"] = []string{tr.ID}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if !resp.HasBody {
		w.WriteHeader(status)
		return
	}
	if s, ok := resp.Body.(string); ok {
		if h.Get("Content-Type") == "" {
			h["Content-Type"] = textPlain
		}
		h["Content-Length"] = []string{strconv.Itoa(len(s))}
		w.WriteHeader(status)
		if !head && len(s) > 0 {
			_, _ = io.WriteString(w, s)
		}
		return
	}
	bp := bodyBuffers.Get().(*[]byte)
	body, err := AppendJSON((*bp)[:0], resp.Body)
	if err != nil {
		resp = errorResponse(http.StatusInternalServerError, tr, "response body is not JSON: "+err.Error())
		status = resp.Status
		body, _ = AppendJSON((*bp)[:0], resp.Body)
		h.Del("Content-Type")
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = appJSON
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if !head && len(body) > 0 {
		_, _ = w.Write(body)
	}
	if cap(body) <= 64<<10 {
		*bp = body[:0]
		bodyBuffers.Put(bp)
	}
}

// instrumented counts requests and their latency by status code, as
// promhttp's InstrumentHandlerCounter and InstrumentHandlerDuration do
// (same metrics, same labels), without their per-request label maps and
// writer wrappers: the children of each status code are looked up once.
type instrumented struct {
	h        http.Handler
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	byCode   [600]atomic.Pointer[codeMetrics]
}

type codeMetrics struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

func newInstrumented(requests *prometheus.CounterVec, latency *prometheus.HistogramVec, h http.Handler) *instrumented {
	return &instrumented{h: h, requests: requests, latency: latency}
}

func (i *instrumented) metrics(code int) *codeMetrics {
	if code >= 0 && code < len(i.byCode) {
		if m := i.byCode[code].Load(); m != nil {
			return m
		}
	}
	label := strconv.Itoa(code)
	m := &codeMetrics{count: i.requests.WithLabelValues(label), dur: i.latency.WithLabelValues(label)}
	if code >= 0 && code < len(i.byCode) {
		i.byCode[code].Store(m)
	}
	return m
}

var statusWriters = sync.Pool{New: func() any { return new(statusWriter) }}

func (i *instrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := statusWriters.Get().(*statusWriter)
	*sw = statusWriter{ResponseWriter: w}
	i.h.ServeHTTP(sw, r)
	m := i.metrics(sw.status)
	m.count.Inc()
	m.dur.Observe(time.Since(start).Seconds())
	*sw = statusWriter{}
	statusWriters.Put(sw)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) WriteString(str string) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return io.WriteString(s.ResponseWriter, str)
}

// Flush passes a flush on, for handlers that stream.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
