package engine_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/egress"
)

// loopback is the egress policy of these tests: their servers listen on
// 127.0.0.1, which the default policy refuses (egress_test.go).
var (
	loopback      = mustPolicy("127.0.0.0/8")
	allowLoopback = engine.Options{Egress: loopback}
)

func mustPolicy(allow ...string) *egress.Policy {
	p, err := egress.Parse(allow)
	if err != nil {
		panic(err)
	}
	return p
}

func httpCall(t testing.TB, s engine.HTTPSpec) *engine.HTTPCall {
	t.Helper()
	c, err := engine.NewHTTPCall(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// echoServer answers with what it received.
func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := map[string]string{}
		for k, v := range r.Header {
			h[strings.ToLower(k)] = v[0]
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "first")
		w.Header().Add("X-Multi", "second")
		_ = json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "host": r.Host, "headers": h, "body": string(body)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPRequestSends(t *testing.T) {
	srv := echoServer(t)
	for _, tc := range []struct {
		name     string
		headers  [][2]any
		body     any
		wantType string
		wantBody string
	}{
		{"string body", nil, "hello", "text/plain; charset=utf-8", "hello"},
		{"json body", nil, map[string]any{"a": 1.0}, "application/json", `{"a":1}`},
		{"list body", nil, []any{1.0, "x"}, "application/json", `[1,"x"]`},
		{"number body", nil, 7.0, "application/json", `7`},
		{"no body", nil, nil, "", ""},
		{"user content type kept", [][2]any{{"Content-Type", "application/vnd.api+json"}}, map[string]any{"a": "<&>"}, "application/vnd.api+json", `{"a":"<&>"}`},
		{"user type on text", [][2]any{{"content-type", "text/csv"}}, "a,b", "text/csv", "a,b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := httpCall(t, engine.HTTPSpec{Method: "POST"})
			headers := append([][2]any{{"X-Num", 7.0}, {"X-Bool", true}, {"X-Nil", nil}, {"Host", "api.example"}}, tc.headers...)
			r := runNode(t, allowLoopback, "", "", func(x *engine.Exec) (any, error) {
				return x.HTTPRequest(call, srv.URL+"/x?q=1", headers, tc.body)
			})
			if r.err != nil {
				t.Fatal(r.err)
			}
			out := r.out.(map[string]any)
			if out["status"] != 200 {
				t.Errorf("status %v", out["status"])
			}
			if out["headers"].(map[string]any)["x-multi"] != "first" {
				t.Errorf("headers %v", out["headers"])
			}
			got := out["body"].(map[string]any)
			sent := got["headers"].(map[string]any)
			if ct, _ := sent["content-type"].(string); ct != tc.wantType {
				t.Errorf("content-type %q, want %q", ct, tc.wantType)
			}
			if got["body"] != tc.wantBody {
				t.Errorf("body %q, want %q", got["body"], tc.wantBody)
			}
			if sent["x-num"] != "7" || sent["x-bool"] != "true" || sent["x-nil"] != nil || got["host"] != "api.example" {
				t.Errorf("headers sent %v, host %v", sent, got["host"])
			}
			tp, _ := sent["traceparent"].(string)
			if !strings.HasPrefix(tp, "00-"+r.res.Trace.ID+"-") {
				t.Errorf("traceparent %q does not carry trace %s", tp, r.res.Trace.ID)
			}
			for _, sp := range r.res.Spans {
				if sp.ID == "calc" && !strings.Contains(tp, sp.SpanID) {
					t.Errorf("traceparent %q does not carry the node's span %s", tp, sp.SpanID)
				}
			}
		})
	}
}

func TestHTTPRequestResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/text":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "plain")
		case "/badjson":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "{not json")
		case "/problem":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"title": "missing"}`)
		case "/empty":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(204)
		case "/big":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			if r.URL.Query().Get("chunked") == "" {
				w.Header().Set("Content-Length", strconv.Itoa(n))
			}
			_, _ = io.WriteString(w, strings.Repeat("x", n))
		}
	}))
	defer srv.Close()
	get := httpCall(t, engine.HTTPSpec{Method: "GET"})
	do := func(o engine.Options, path string) nodeRun {
		return runNode(t, o, "", "", func(x *engine.Exec) (any, error) { return x.HTTPRequest(get, srv.URL+path, nil, nil) })
	}
	if r := do(allowLoopback, "/text"); r.err != nil || r.out.(map[string]any)["body"] != "plain" {
		t.Errorf("text: %v %v", r.out, r.err)
	}
	if r := do(allowLoopback, "/problem"); r.err != nil || r.out.(map[string]any)["status"] != 404 ||
		r.out.(map[string]any)["body"].(map[string]any)["title"] != "missing" {
		t.Errorf("a 404 is an output: %v %v", r.out, r.err)
	}
	if r := do(allowLoopback, "/empty"); r.err != nil || r.out.(map[string]any)["body"] != nil {
		t.Errorf("empty: %v %v", r.out, r.err)
	}
	r := do(allowLoopback, "/badjson")
	if r.err == nil || !strings.Contains(r.err.Error(), "declares JSON") || r.res.Response.Status != 502 {
		t.Errorf("bad JSON: %v, status %d", r.err, r.res.Response.Status)
	}
	for _, path := range []string{"/big?n=2000", "/big?n=2000&chunked=1"} {
		r := do(engine.Options{MaxUpstreamBody: 1000, Egress: loopback}, path)
		if r.err == nil || !strings.Contains(r.err.Error(), "over the limit") || r.res.Response.Status != 502 {
			t.Errorf("%s: %v, status %d", path, r.err, r.res.Response.Status)
		}
		if strings.Contains(r.err.Error(), "n=2000") {
			t.Errorf("the message shows the query: %v", r.err)
		}
	}
	if r := do(engine.Options{MaxUpstreamBody: 1000, Egress: loopback}, "/big?n=1000&chunked=1"); r.err != nil {
		t.Errorf("a body at the limit: %v", r.err)
	}
}

// closedPort is an address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestHTTPRequestRetries(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch r.URL.Path {
		case "/flaky":
			if n <= 2 {
				w.WriteHeader(503)
				return
			}
			_, _ = io.WriteString(w, "ok")
		case "/slow":
			if n <= 1 {
				time.Sleep(300 * time.Millisecond)
			}
			_, _ = io.WriteString(w, "ok")
		case "/always":
			w.WriteHeader(502)
		case "/400":
			w.WriteHeader(400)
		}
	}))
	defer srv.Close()
	run := func(s engine.HTTPSpec, o engine.Options, url string) nodeRun {
		hits.Store(0)
		call := httpCall(t, s)
		return runNode(t, o, "", "", func(x *engine.Exec) (any, error) { return x.HTTPRequest(call, url, nil, nil) })
	}
	if r := run(engine.HTTPSpec{Method: "GET", Retries: 2}, allowLoopback, srv.URL+"/flaky"); r.err != nil || r.out.(map[string]any)["status"] != 200 || hits.Load() != 3 {
		t.Errorf("flaky: %v %v after %d attempts", r.out, r.err, hits.Load())
	}
	if r := run(engine.HTTPSpec{Method: "GET", Retries: 1}, allowLoopback, srv.URL+"/flaky"); r.err != nil || r.out.(map[string]any)["status"] != 503 || hits.Load() != 2 {
		t.Errorf("exhausted: %v %v after %d attempts", r.out, r.err, hits.Load())
	}
	if r := run(engine.HTTPSpec{Method: "PUT", Retries: 3}, allowLoopback, srv.URL+"/400"); r.err != nil || hits.Load() != 1 {
		t.Errorf("a 400 is not retried: %d attempts", hits.Load())
	}
	if r := run(engine.HTTPSpec{Method: "GET", TimeoutMS: 100, Retries: 1}, allowLoopback, srv.URL+"/slow"); r.err != nil || hits.Load() != 2 {
		t.Errorf("a timeout is retried: %v after %d attempts", r.err, hits.Load())
	}
	if r := run(engine.HTTPSpec{Method: "POST"}, allowLoopback, srv.URL+"/always"); r.err != nil || hits.Load() != 1 {
		t.Errorf("POST: %d attempts", hits.Load())
	}
	// A network error: nothing listens.
	start := time.Now()
	r := run(engine.HTTPSpec{Method: "GET", Retries: 3}, allowLoopback, "http://"+closedPort(t)+"/x?token=secret")
	var ne *engine.NodeError
	if r.err == nil || !errors.As(r.err, &ne) || ne.Kind != engine.KindUpstream || r.res.Response.Status != 502 {
		t.Fatalf("refused: %v, status %d", r.err, r.res.Response.Status)
	}
	if strings.Contains(r.err.Error(), "secret") {
		t.Errorf("the message shows the query: %v", r.err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("3 retries took %v; they should back off", d)
	}
	// Retries never wait past the request's deadline.
	start = time.Now()
	r = run(engine.HTTPSpec{Method: "GET", Retries: 10}, engine.Options{Deadline: 300 * time.Millisecond, Egress: loopback}, srv.URL+"/always")
	if d := time.Since(start); d > 300*time.Millisecond || r.err != nil || r.out.(map[string]any)["status"] != 502 {
		t.Errorf("retries before a 300ms deadline took %v and gave %v, %v; want the last 502 in time", d, r.out, r.err)
	}
}

func TestHTTPRequestTimeouts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	call := httpCall(t, engine.HTTPSpec{Method: "GET", TimeoutMS: 100})
	r := runNode(t, allowLoopback, "", "", func(x *engine.Exec) (any, error) { return x.HTTPRequest(call, srv.URL, nil, nil) })
	if r.err == nil || !strings.Contains(r.err.Error(), "timed out after 100ms") || r.res.Response.Status != 502 {
		t.Errorf("timeout: %v, status %d", r.err, r.res.Response.Status)
	}
	slow := httpCall(t, engine.HTTPSpec{Method: "GET"})
	r = runNode(t, engine.Options{Deadline: 100 * time.Millisecond, Egress: loopback}, "", "", func(x *engine.Exec) (any, error) { return x.HTTPRequest(slow, srv.URL, nil, nil) })
	if r.res.Response.Status != 504 {
		t.Errorf("deadline: %v, status %d", r.err, r.res.Response.Status)
	}
}

func TestHTTPRequestRefusesBadInput(t *testing.T) {
	call := httpCall(t, engine.HTTPSpec{Method: "GET"})
	for name, c := range map[string]struct {
		url     any
		headers [][2]any
		body    any
	}{
		"not a string":   {url: 7.0},
		"relative":       {url: "/x"},
		"other scheme":   {url: "file:///etc/passwd"},
		"malformed":      {url: "http://[::1"},
		"header newline": {url: "http://127.0.0.1/", headers: [][2]any{{"X-A", "a\r\nX-Injected: 1"}}},
		"unsendable":     {url: "http://127.0.0.1/", body: map[string]any{"f": func() {}}},
	} {
		r := runNode(t, engine.Options{}, "", "", func(x *engine.Exec) (any, error) { return x.HTTPRequest(call, c.url, c.headers, c.body) })
		if r.err == nil || r.res.Response.Status != 500 {
			t.Errorf("%s: %v, status %d; want a 500", name, r.err, r.res.Response.Status)
		}
	}
}

func TestHTTPSpecCheck(t *testing.T) {
	for _, s := range []engine.HTTPSpec{
		{Method: "get"}, {Method: "TRACE"}, {Method: "GET", TimeoutMS: -1}, {Method: "GET", TimeoutMS: engine.MaxHTTPTimeoutMS + 1},
		{Method: "GET", Retries: -1}, {Method: "GET", Retries: engine.MaxHTTPRetries + 1},
	} {
		if _, err := engine.NewHTTPCall(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	for _, m := range engine.RetryMethods {
		if _, err := engine.NewHTTPCall(engine.HTTPSpec{Method: m, Retries: 3, TimeoutMS: 5}); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	// Retries on a method that is never retried are allowed, with no
	// effect; validation warns about them (docs/palette.md).
	for _, s := range []engine.HTTPSpec{{Method: "POST", Retries: 1}, {Method: "PATCH", Retries: 2}} {
		if _, err := engine.NewHTTPCall(s); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}

// TestHTTPConnectionsPooled: calls of one flow reuse connections, and
// closing the flow closes them.
func TestHTTPConnectionsPooled(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	call := httpCall(t, engine.HTTPSpec{Method: "GET"})
	prog := programFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("calc")
		out, err := x.HTTPRequest(call, srv.URL, nil, nil)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.Begin("done")
		x.Respond(200, nil, out)
	})
	f := newFlow(t, "GET", "/t", prog, allowLoopback)
	for i := 0; i < 5; i++ {
		if resp, _ := do(t, f, "GET", "/t", ""); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential calls, want 1", n)
	}
	f.Close()
}
