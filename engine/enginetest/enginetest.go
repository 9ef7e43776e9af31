// Package enginetest runs a node's call inside a one-node flow, for the
// tests of the engine and of the node runtimes beside it.
package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
)

// NodeRun is what RunNode gives: fn's output and error, and the run's result.
type NodeRun struct {
	Out any
	Err error
	Res *engine.Result
}

// RunNode runs fn as node "calc" of a one-node flow, for a request to
// target with body, and returns what fn returned and the run's trace.
func RunNode(t testing.TB, o engine.Options, target, body string, fn func(x *engine.Exec) (any, error)) NodeRun {
	t.Helper()
	var nr NodeRun
	prog := engine.ProgramFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("calc")
		nr.Out, nr.Err = fn(x)
		if nr.Err != nil {
			x.Fail(nr.Err, false)
			return
		}
		x.End(nr.Out, "out")
		x.Begin("done")
		x.Respond(200, nil, nr.Out)
	})
	m := engine.Manifest{Flow: "t", Version: 1, Target: "js", Method: "POST", Path: "/t",
		Nodes: []engine.NodeInfo{{ID: "start", Type: "trigger.http"}, {ID: "calc", Type: "x", Inputs: []string{"start"}}, {ID: "done", Type: "response"}}}
	f, err := engine.New(m, prog, o)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if target == "" {
		target = "/t"
	}
	req := httptest.NewRequest("POST", target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	nr.Res = f.Serve(req, true)
	return nr
}

// WithTimeout fails t when fn does not return within d.
func WithTimeout(t testing.TB, d time.Duration, fn func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("did not finish within %v", d)
	}
}

// DiscardWriter is a ResponseWriter that keeps only the status.
type DiscardWriter struct {
	h      http.Header
	Status int
}

// NewDiscardWriter returns a DiscardWriter.
func NewDiscardWriter() *DiscardWriter { return &DiscardWriter{h: http.Header{}} }

func (w *DiscardWriter) Header() http.Header         { return w.h }
func (w *DiscardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *DiscardWriter) WriteHeader(s int)           { w.Status = s }

// BenchServe measures f.ServeHTTP of a flow of m and p, with options o,
// for requests to target, in parallel.
func BenchServe(b *testing.B, o engine.Options, m engine.Manifest, p engine.ProgramFunc, method, target, body string) {
	o.Logger, o.LogLevel = slog.New(slog.DiscardHandler), "warn"
	f, err := engine.New(m, p, o)
	if err != nil {
		b.Fatal(err)
	}
	BenchFlow(b, f, method, target, body)
}

// BenchFlow measures f.ServeHTTP for requests to target, in parallel.
func BenchFlow(b *testing.B, f *engine.Flow, method, target, body string) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := NewDiscardWriter()
		for pb.Next() {
			var r *http.Request
			if body != "" {
				r, _ = http.NewRequest(method, target, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
			} else {
				r, _ = http.NewRequest(method, target, nil)
			}
			r.Header.Set("User-Agent", "wrk")
			clear(w.h)
			f.ServeHTTP(w, r)
			if w.Status != 200 {
				b.Fatalf("status %d", w.Status)
			}
		}
	})
}

// NewFlow loads p as a flow of one trigger and one response, serving method
// and path.
func NewFlow(t *testing.T, method, path string, p engine.Program, o engine.Options) *engine.Flow {
	t.Helper()
	m := engine.Manifest{Flow: "t", Version: 1, Target: "js", Method: method, Path: path,
		Nodes: []engine.NodeInfo{{ID: "start", Type: "trigger.http"}, {ID: "done", Type: "response", Inputs: []string{"start"}}}}
	f, err := engine.New(m, p, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// Do serves one request through h and decodes its JSON answer.
func Do(t *testing.T, h http.Handler, method, target string, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return resp, out
}

// AssertNoSecret fails t when v, as JSON, shows any of secrets.
func AssertNoSecret(t testing.TB, what string, v any, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s shows the secret %q: %s", what, s, b)
		}
	}
}
