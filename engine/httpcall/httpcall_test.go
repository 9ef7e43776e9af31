package httpcall_test

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
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/httpcall"
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

func httpCall(t testing.TB, s httpcall.Spec) *httpcall.Call {
	t.Helper()
	c, err := httpcall.New(s)
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
			call := httpCall(t, httpcall.Spec{Method: "POST"})
			headers := append([][2]any{{"X-Num", 7.0}, {"X-Bool", true}, {"X-Nil", nil}, {"Host", "api.example"}}, tc.headers...)
			r := enginetest.RunNode(t, allowLoopback, "", "", func(x *engine.Exec) (any, error) {
				return call.Do(x, srv.URL+"/x?q=1", headers, tc.body)
			})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			out := r.Out.(map[string]any)
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
			if !strings.HasPrefix(tp, "00-"+r.Res.Trace.ID+"-") {
				t.Errorf("traceparent %q does not carry trace %s", tp, r.Res.Trace.ID)
			}
			for _, sp := range r.Res.Spans {
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
	get := httpCall(t, httpcall.Spec{Method: "GET"})
	do := func(o engine.Options, path string) enginetest.NodeRun {
		return enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return get.Do(x, srv.URL+path, nil, nil) })
	}
	if r := do(allowLoopback, "/text"); r.Err != nil || r.Out.(map[string]any)["body"] != "plain" {
		t.Errorf("text: %v %v", r.Out, r.Err)
	}
	if r := do(allowLoopback, "/problem"); r.Err != nil || r.Out.(map[string]any)["status"] != 404 ||
		r.Out.(map[string]any)["body"].(map[string]any)["title"] != "missing" {
		t.Errorf("a 404 is an output: %v %v", r.Out, r.Err)
	}
	if r := do(allowLoopback, "/empty"); r.Err != nil || r.Out.(map[string]any)["body"] != nil {
		t.Errorf("empty: %v %v", r.Out, r.Err)
	}
	r := do(allowLoopback, "/badjson")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "declares JSON") || r.Res.Response.Status != 502 {
		t.Errorf("bad JSON: %v, status %d", r.Err, r.Res.Response.Status)
	}
	for _, path := range []string{"/big?n=2000", "/big?n=2000&chunked=1"} {
		r := do(engine.Options{MaxUpstreamBody: 1000, Egress: loopback}, path)
		if r.Err == nil || !strings.Contains(r.Err.Error(), "over the limit") || r.Res.Response.Status != 502 {
			t.Errorf("%s: %v, status %d", path, r.Err, r.Res.Response.Status)
		}
		if strings.Contains(r.Err.Error(), "n=2000") {
			t.Errorf("the message shows the query: %v", r.Err)
		}
	}
	if r := do(engine.Options{MaxUpstreamBody: 1000, Egress: loopback}, "/big?n=1000&chunked=1"); r.Err != nil {
		t.Errorf("a body at the limit: %v", r.Err)
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
	run := func(s httpcall.Spec, o engine.Options, url string) enginetest.NodeRun {
		hits.Store(0)
		call := httpCall(t, s)
		return enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return call.Do(x, url, nil, nil) })
	}
	if r := run(httpcall.Spec{Method: "GET", Retries: 2}, allowLoopback, srv.URL+"/flaky"); r.Err != nil || r.Out.(map[string]any)["status"] != 200 || hits.Load() != 3 {
		t.Errorf("flaky: %v %v after %d attempts", r.Out, r.Err, hits.Load())
	}
	if r := run(httpcall.Spec{Method: "GET", Retries: 1}, allowLoopback, srv.URL+"/flaky"); r.Err != nil || r.Out.(map[string]any)["status"] != 503 || hits.Load() != 2 {
		t.Errorf("exhausted: %v %v after %d attempts", r.Out, r.Err, hits.Load())
	}
	if r := run(httpcall.Spec{Method: "PUT", Retries: 3}, allowLoopback, srv.URL+"/400"); r.Err != nil || hits.Load() != 1 {
		t.Errorf("a 400 is not retried: %d attempts", hits.Load())
	}
	if r := run(httpcall.Spec{Method: "GET", TimeoutMS: 100, Retries: 1}, allowLoopback, srv.URL+"/slow"); r.Err != nil || hits.Load() != 2 {
		t.Errorf("a timeout is retried: %v after %d attempts", r.Err, hits.Load())
	}
	if r := run(httpcall.Spec{Method: "POST"}, allowLoopback, srv.URL+"/always"); r.Err != nil || hits.Load() != 1 {
		t.Errorf("POST: %d attempts", hits.Load())
	}
	// A network error: nothing listens.
	start := time.Now()
	r := run(httpcall.Spec{Method: "GET", Retries: 3}, allowLoopback, "http://"+closedPort(t)+"/x?token=secret")
	var ne *engine.NodeError
	if r.Err == nil || !errors.As(r.Err, &ne) || ne.Kind != engine.KindUpstream || r.Res.Response.Status != 502 {
		t.Fatalf("refused: %v, status %d", r.Err, r.Res.Response.Status)
	}
	if strings.Contains(r.Err.Error(), "secret") {
		t.Errorf("the message shows the query: %v", r.Err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("3 retries took %v; they should back off", d)
	}
	// Retries never wait past the request's deadline.
	start = time.Now()
	r = run(httpcall.Spec{Method: "GET", Retries: 10}, engine.Options{Deadline: 300 * time.Millisecond, Egress: loopback}, srv.URL+"/always")
	if d := time.Since(start); d > 300*time.Millisecond || r.Err != nil || r.Out.(map[string]any)["status"] != 502 {
		t.Errorf("retries before a 300ms deadline took %v and gave %v, %v; want the last 502 in time", d, r.Out, r.Err)
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
	call := httpCall(t, httpcall.Spec{Method: "GET", TimeoutMS: 100})
	r := enginetest.RunNode(t, allowLoopback, "", "", func(x *engine.Exec) (any, error) { return call.Do(x, srv.URL, nil, nil) })
	if r.Err == nil || !strings.Contains(r.Err.Error(), "timed out after 100ms") || r.Res.Response.Status != 502 {
		t.Errorf("timeout: %v, status %d", r.Err, r.Res.Response.Status)
	}
	slow := httpCall(t, httpcall.Spec{Method: "GET"})
	r = enginetest.RunNode(t, engine.Options{Deadline: 100 * time.Millisecond, Egress: loopback}, "", "", func(x *engine.Exec) (any, error) { return slow.Do(x, srv.URL, nil, nil) })
	if r.Res.Response.Status != 504 {
		t.Errorf("deadline: %v, status %d", r.Err, r.Res.Response.Status)
	}
}

func TestHTTPRequestRefusesBadInput(t *testing.T) {
	call := httpCall(t, httpcall.Spec{Method: "GET"})
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
		r := enginetest.RunNode(t, engine.Options{}, "", "", func(x *engine.Exec) (any, error) { return call.Do(x, c.url, c.headers, c.body) })
		if r.Err == nil || r.Res.Response.Status != 500 {
			t.Errorf("%s: %v, status %d; want a 500", name, r.Err, r.Res.Response.Status)
		}
	}
}

func TestHTTPSpecCheck(t *testing.T) {
	for _, s := range []httpcall.Spec{
		{Method: "get"}, {Method: "TRACE"}, {Method: "GET", TimeoutMS: -1}, {Method: "GET", TimeoutMS: httpcall.MaxTimeoutMS + 1},
		{Method: "GET", Retries: -1}, {Method: "GET", Retries: httpcall.MaxRetries + 1},
	} {
		if _, err := httpcall.New(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	for _, m := range httpcall.RetryMethods {
		if _, err := httpcall.New(httpcall.Spec{Method: m, Retries: 3, TimeoutMS: 5}); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
	// Retries on a method that is never retried are allowed, with no
	// effect; validation warns about them (docs/palette.md).
	for _, s := range []httpcall.Spec{{Method: "POST", Retries: 1}, {Method: "PATCH", Retries: 2}} {
		if _, err := httpcall.New(s); err != nil {
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
	call := httpCall(t, httpcall.Spec{Method: "GET"})
	prog := engine.ProgramFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("calc")
		out, err := call.Do(x, srv.URL, nil, nil)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.Begin("done")
		x.Respond(200, nil, out)
	})
	f := enginetest.NewFlow(t, "GET", "/t", prog, allowLoopback)
	for i := 0; i < 5; i++ {
		if resp, _ := enginetest.Do(t, f, "GET", "/t", ""); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential calls, want 1", n)
	}
	f.Close()
}
