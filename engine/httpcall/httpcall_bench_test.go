package httpcall_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/httpcall"
)

// fanoutStub answers the two GETs of workload W3 (conformance case 08)
// with small JSON documents, as the bench's stub upstream does.
func fanoutStub(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/users/1":
			_, _ = io.WriteString(w, `{"id": 1, "name": "Ann", "email": "ann@example.com"}`)
		default:
			_, _ = io.WriteString(w, `[{"id": 10, "total": 25.5}, {"id": 11, "total": 4}]`)
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkHTTPRequestFanout is workload W3's http.request work through
// Flow.ServeHTTP: two GETs to a local stub per request.
func BenchmarkHTTPRequestFanout(b *testing.B) {
	srv := fanoutStub(b)
	get := httpCall(b, httpcall.Spec{Method: "GET", TimeoutMS: 5000})
	hdrs := [][2]any{{"Accept", "application/json"}}
	m := engine.Manifest{Flow: "fanout", Version: 1, Target: "go", Method: "GET", Path: "/fanout",
		Nodes: []engine.NodeInfo{
			{ID: "start", Type: "trigger.http"},
			{ID: "user", Type: "http.request", Inputs: []string{"start"}},
			{ID: "orders", Type: "http.request", Inputs: []string{"user"}},
			{ID: "done", Type: "response", Inputs: []string{"orders"}},
		}}
	prog := engine.ProgramFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("user")
		u, err := get.Do(x, srv.URL+"/users/1", hdrs, nil)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.End(u, "out")
		x.Begin("orders")
		o, err := get.Do(x, srv.URL+"/users/1/orders", hdrs, nil)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.End(o, "out")
		x.Begin("done")
		x.Respond(200, nil, map[string]any{"user": u["body"], "orders": o["body"]})
	})
	// The stub listens on 127.0.0.1, which only an allow-list opens.
	enginetest.BenchServe(b, allowLoopback, m, engine.ProgramFunc(prog), "GET", "http://h/fanout", "")
}
