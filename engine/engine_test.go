package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
)

// programFunc adapts a function to engine.Program, standing in for
// generated code.
type programFunc func(x *engine.Exec)

func (f programFunc) Run(x *engine.Exec) { f(x) }

// echo answers with the request object.
var echo = programFunc(func(x *engine.Exec) {
	x.Trigger("start")
	x.Begin("done")
	x.Respond(200, nil, x.Request())
})

func TestRouting(t *testing.T) {
	f := enginetest.NewFlow(t, "GET", "/users/:id/tags/:tag", echo, engine.Options{})
	resp, out := enginetest.Do(t, f, "GET", "/users/a%20b/tags/x%2Fy/?q=a+b&q=second", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	params := out["params"].(map[string]any)
	if params["id"] != "a b" || params["tag"] != "x/y" {
		t.Errorf("params %v", params)
	}
	if out["path"] != "/users/a%20b/tags/x%2Fy/" {
		t.Errorf("path %v: want it as sent", out["path"])
	}
	if q := out["query"].(map[string]any); q["q"] != "a b" {
		t.Errorf("query %v: want the first value, decoded", q)
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/users/1/tags", 404},
		{"GET", "/Users/1/tags/x", 404},
		{"GET", "/users//tags/x", 404},
		{"POST", "/users/1/tags/x", 405},
		{"HEAD", "/users/1/tags/x", 200},
		{"OPTIONS", "/users/1/tags/x", 204},
	} {
		resp, _ := enginetest.Do(t, f, c.method, c.path, "")
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
		if id := resp.Header.Get("X-Trace-Id"); len(id) != 32 {
			t.Errorf("%s %s: X-Trace-Id %q", c.method, c.path, id)
		}
		if c.status == 405 || c.status == 204 {
			if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
				t.Errorf("%s %s: Allow %q", c.method, c.path, allow)
			}
		}
	}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("HEAD", "/users/1/tags/x", nil))
	if rec.Body.Len() != 0 {
		t.Error("HEAD answered with a body")
	}
}

func TestBodies(t *testing.T) {
	f := enginetest.NewFlow(t, "POST", "/b", echo, engine.Options{MaxBody: 64})
	_, out := enginetest.Do(t, f, "POST", "/b", `{"a": [1, 2.5]}`, "Content-Type", "application/vnd.api+json; charset=utf-8")
	if b, _ := json.Marshal(out["body"]); string(b) != `{"a":[1,2.5]}` {
		t.Errorf("+json body %s", b)
	}
	_, out = enginetest.Do(t, f, "POST", "/b", `plain text`, "Content-Type", "text/plain")
	if out["body"] != "plain text" {
		t.Errorf("text body %v", out["body"])
	}
	_, out = enginetest.Do(t, f, "POST", "/b", ``, "Content-Type", "application/json")
	if out["body"] != nil {
		t.Errorf("empty body %v, want nil", out["body"])
	}
	for _, bad := range []string{`{"a": `, `{} {}`, `nul`} {
		resp, out := enginetest.Do(t, f, "POST", "/b", bad, "Content-Type", "application/json")
		if resp.StatusCode != 400 || !strings.HasPrefix(out["error"].(string), "invalid JSON body") || out["trace_id"] != resp.Header.Get("X-Trace-Id") {
			t.Errorf("%q: %d %v", bad, resp.StatusCode, out)
		}
	}
	resp, _ := enginetest.Do(t, f, "POST", "/b", strings.Repeat("x", 65), "Content-Type", "text/plain")
	if resp.StatusCode != 413 {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
}

func TestTraceparent(t *testing.T) {
	f := enginetest.NewFlow(t, "GET", "/t", echo, engine.Options{})
	resp, _ := enginetest.Do(t, f, "GET", "/t", "", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if got := resp.Header.Get("X-Trace-Id"); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id %s not taken from traceparent", got)
	}
	for _, bad := range []string{
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"garbage",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	} {
		resp, _ := enginetest.Do(t, f, "GET", "/t", "", "traceparent", bad)
		if got := resp.Header.Get("X-Trace-Id"); len(got) != 32 || strings.Contains(bad, got) {
			t.Errorf("%q: trace id %q, want a new one", bad, got)
		}
	}
}

func TestDeadlineAnswers504(t *testing.T) {
	slow := programFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("done")
		<-x.Context().Done()
		x.Fail(x.Context().Err(), true) // even with an error port, a passed deadline ends the request
	})
	f := enginetest.NewFlow(t, "GET", "/slow", slow, engine.Options{Deadline: 20 * time.Millisecond})
	resp, out := enginetest.Do(t, f, "GET", "/slow", "")
	if resp.StatusCode != 504 || out["node"] != "done" {
		t.Fatalf("%d %v", resp.StatusCode, out)
	}
}

func TestNoResponse(t *testing.T) {
	f := enginetest.NewFlow(t, "GET", "/n", programFunc(func(x *engine.Exec) { x.Trigger("start") }), engine.Options{})
	resp, out := enginetest.Do(t, f, "GET", "/n", "")
	if resp.StatusCode != 500 || out["error"] != "flow ended without a response" {
		t.Fatalf("%d %v", resp.StatusCode, out)
	}
}

func TestNodeLogsCarryTraceAndNode(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	lg := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	p := programFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("done")
		x.Log("warn", "hello")
		x.Respond(200, nil, "ok")
	})
	f := enginetest.NewFlow(t, "GET", "/l", p, engine.Options{Logger: lg})
	resp, _ := enginetest.Do(t, f, "GET", "/l", "")
	mu.Lock()
	defer mu.Unlock()
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["msg"] != "hello" || line["level"] != "WARN" || line["node"] != "done" || line["trace_id"] != resp.Header.Get("X-Trace-Id") || line["span_id"] == "" {
		t.Fatalf("log line %v", line)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestGracefulShutdown: once the instance is told to stop, /readyz fails,
// and a request in flight still finishes with its answer.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	p := programFunc(func(x *engine.Exec) {
		x.Trigger("start")
		close(started)
		<-release
		x.Begin("done")
		x.Respond(200, nil, "finished")
	})
	f := enginetest.NewFlow(t, "GET", "/work", p, engine.Options{})
	var logs bytes.Buffer
	var mu sync.Mutex
	lg := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.ServeInstance(ctx, f, "127.0.0.1:0", lg) }()
	var addr string
	for addr == "" {
		mu.Lock()
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "listening" {
				addr = m["addr"].(string)
			}
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz before stop: %v %v", resp, err)
	}
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/work")
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- string(b)
	}()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond) // let shutdown begin
	close(release)
	if got := <-answer; got != "finished" {
		t.Fatalf("in-flight request got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
