package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/flowline/flowline/contract"
)

var traceIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// backend is an instance stand-in that records what it received.
type backend struct {
	name string
	srv  *httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	last *http.Request
	body []byte
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.hits.Add(1)
		b.mu.Lock()
		b.last, b.body = r, body
		b.mu.Unlock()
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(d)
		}
		// Instances set X-Trace-Id themselves; the gateway must not
		// send it twice.
		if tp := r.Header.Get("Traceparent"); len(tp) == 55 {
			w.Header().Set("X-Trace-Id", tp[3:35])
		}
		w.Header().Set("X-Backend", name)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"backend":%q,"uri":%q,"len":%d}`, name, r.RequestURI, len(body))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.srv.URL, "http://") }

func (b *backend) lastRequest() (*http.Request, []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last, b.body
}

func static(addrs ...string) func() []string { return func() []string { return addrs } }

func newGateway(t *testing.T, cfg Config, routes ...Route) (*Gateway, *httptest.Server) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetRoutes(routes); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func do(t *testing.T, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	checkTraceID(t, resp)
	return resp, b
}

func checkTraceID(t *testing.T, resp *http.Response) {
	t.Helper()
	ids := resp.Header.Values("X-Trace-Id")
	if len(ids) != 1 || !traceIDPattern.MatchString(ids[0]) {
		t.Errorf("%s %s: X-Trace-Id %q, want one id of 32 lower-case hex digits", resp.Request.Method, resp.Request.URL, ids)
	}
}

type errorBody struct {
	Error   string `json:"error"`
	TraceID string `json:"trace_id"`
}

func decodeError(t *testing.T, resp *http.Response, body []byte) errorBody {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.TraceID != resp.Header.Get("X-Trace-Id") {
		t.Errorf("trace_id %q, X-Trace-Id %q: want the same", e.TraceID, resp.Header.Get("X-Trace-Id"))
	}
	return e
}

func TestLookup(t *testing.T) {
	routes := []Route{
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/hello"},
		{Method: "GET", Path: "/orders/:shop"},
		{Method: "POST", Path: "/orders/:shop"},
		{Method: "GET", Path: "/orders/special"},
		{Method: "GET", Path: "/users/:id/profile"},
		{Method: "GET", Path: "/users/me/:tab"},
		{Method: "GET", Path: "/a/b/c"},
		{Method: "GET", Path: "/a/:x/d"},
		{Method: "PUT", Path: "/items/:id/"},
	}
	for i := range routes {
		routes[i].Backends = static()
	}
	tab, err := newTable(routes)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		want         string // route path, or "404", or "405 <Allow>"
	}{
		{"GET", "/", "/"},
		{"GET", "/hello", "/hello"},
		{"GET", "/hello/", "/hello"},
		{"HEAD", "/hello", "/hello"},
		{"GET", "/Hello", "404"},
		{"GET", "/hello/x", "404"},
		{"GET", "//hello", "404"},
		{"GET", "/orders/abc", "/orders/:shop"},
		{"POST", "/orders/abc", "/orders/:shop"},
		{"GET", "/orders/special", "/orders/special"},
		{"GET", "/orders/special/", "/orders/special"},
		{"POST", "/orders/special", "/orders/:shop"}, // the static route has no POST
		{"GET", "/orders", "404"},
		{"GET", "/orders/", "404"},
		{"GET", "/orders/..", "404"},
		{"GET", "/orders/a%20b", "/orders/:shop"},
		{"GET", "/users/a%2Fb/profile", "/users/:id/profile"},
		{"GET", "/users/me/profile", "/users/me/:tab"}, // static beats param, from the left
		{"GET", "/users/you/profile", "/users/:id/profile"},
		{"GET", "/a/b/c", "/a/b/c"},
		{"GET", "/a/b/d", "/a/:x/d"}, // the static branch dead-ends
		{"PUT", "/items/7", "/items/:id/"},
		{"DELETE", "/hello", "405 GET, HEAD, OPTIONS"},
		{"OPTIONS", "/orders/abc", "405 GET, HEAD, POST, OPTIONS"},
		{"DELETE", "/orders/special", "405 GET, HEAD, POST, OPTIONS"},
	}
	for _, tt := range tests {
		ep, allowed, matched := tab.lookup(contract.SplitPath(tt.path), tt.method)
		var got string
		switch {
		case ep != nil:
			got = ep.route.Path
		case matched:
			got = "405 " + allowHeader(allowed)
		default:
			got = "404"
		}
		if got != tt.want {
			t.Errorf("%s %s: got %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestSetRoutesRefusesBadTables(t *testing.T) {
	a := newBackend(t, "a")
	g, srv := newGateway(t, Config{}, Route{Flow: "hello", Method: "GET", Path: "/hello", Backends: static(a.addr())})
	bad := [][]Route{
		{{Method: "GET", Path: "/x/:a", Backends: static()}, {Method: "GET", Path: "/x/:b/", Backends: static()}},
		{{Method: "GET", Path: "no-slash", Backends: static()}},
		{{Method: "get", Path: "/x", Backends: static()}},
		{{Method: "GET", Path: "/x/:", Backends: static()}},
		{{Method: "GET", Path: "/x//y", Backends: static()}},
		{{Method: "GET", Path: "/a b", Backends: static()}},
		{{Method: "GET", Path: "/x"}},
	}
	for _, routes := range bad {
		if err := g.SetRoutes(routes); err == nil {
			t.Errorf("SetRoutes(%v): no error", routes)
		}
	}
	if resp, _ := do(t, "GET", srv.URL+"/hello", nil); resp.StatusCode != 200 {
		t.Fatalf("old table not serving after refused updates: %d", resp.StatusCode)
	}
	if err := ValidateRoute("GET", "/orders/:shop"); err != nil {
		t.Errorf("ValidateRoute: %v", err)
	}
	if err := ValidateRoute("GET", "/orders/%zz"); err == nil {
		t.Errorf("ValidateRoute accepted a bad escape")
	}
}

func TestErrors(t *testing.T) {
	a := newBackend(t, "a")
	_, srv := newGateway(t, Config{},
		Route{Flow: "hello", Method: "GET", Path: "/hello", Backends: static(a.addr())},
		Route{Flow: "orders", Method: "POST", Path: "/orders/:shop", Backends: static(a.addr())},
		Route{Flow: "down", Method: "GET", Path: "/down", Backends: static()},
		Route{Flow: "dead", Method: "GET", Path: "/dead", Backends: static(deadAddr(t))},
	)

	resp, body := do(t, "GET", srv.URL+"/nowhere", nil)
	if resp.StatusCode != 404 || decodeError(t, resp, body).Error != "no endpoint at /nowhere" {
		t.Errorf("404: %d %s", resp.StatusCode, body)
	}

	resp, body = do(t, "DELETE", srv.URL+"/hello", nil)
	if resp.StatusCode != 405 || decodeError(t, resp, body).Error != "method DELETE not allowed on /hello" {
		t.Errorf("405: %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Allow"); got != "GET, HEAD, OPTIONS" {
		t.Errorf("405 Allow %q", got)
	}

	resp, body = do(t, "OPTIONS", srv.URL+"/orders/x", nil)
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Errorf("OPTIONS: %d %q", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Allow"); got != "POST, OPTIONS" {
		t.Errorf("OPTIONS Allow %q", got)
	}

	resp, body = do(t, "GET", srv.URL+"/down", nil)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("no backend: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	decodeError(t, resp, body)

	resp, body = do(t, "GET", srv.URL+"/dead", nil)
	if resp.StatusCode != 502 {
		t.Errorf("refused backend: %d %s", resp.StatusCode, body)
	}
	decodeError(t, resp, body)

	resp, body = do(t, "HEAD", srv.URL+"/nowhere", nil)
	if resp.StatusCode != 404 || len(body) != 0 {
		t.Errorf("HEAD 404: %d %q", resp.StatusCode, body)
	}
	if a.hits.Load() != 0 {
		t.Errorf("backend hit %d times by requests that should not reach it", a.hits.Load())
	}
}

// deadAddr is an address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestProxy(t *testing.T) {
	a := newBackend(t, "a")
	_, srv := newGateway(t, Config{},
		Route{Flow: "hello", Method: "GET", Path: "/hello", Backends: static(a.addr())},
		Route{Flow: "users", Method: "GET", Path: "/users/:id", Backends: static(a.addr())},
		Route{Flow: "orders", Method: "POST", Path: "/orders/:shop", Backends: static(a.addr())},
	)

	// The path goes on as sent, escapes and query included.
	resp, body := do(t, "GET", srv.URL+"/users/a%2Fb%20c?q=a+b", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Backend") != "a" {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	r, _ := a.lastRequest()
	if r.RequestURI != "/users/a%2Fb%20c?q=a+b" {
		t.Errorf("backend saw %q", r.RequestURI)
	}
	if r.Header.Get("X-Forwarded-For") != "127.0.0.1" || r.Header.Get("X-Forwarded-Proto") != "http" {
		t.Errorf("X-Forwarded-For %q, X-Forwarded-Proto %q", r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"))
	}

	// HEAD is served by the GET route, without a body.
	resp, body = do(t, "HEAD", srv.URL+"/hello", nil)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD: %d %q", resp.StatusCode, body)
	}
	if r, _ := a.lastRequest(); r.Method != "HEAD" {
		t.Errorf("backend got %s for HEAD", r.Method)
	}

	// A chunked body within the limit arrives whole, with a length.
	resp, body = do(t, "POST", srv.URL+"/orders/x", io.MultiReader(strings.NewReader(`{"a":`), strings.NewReader(`1}`)))
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	r, got := a.lastRequest()
	if string(got) != `{"a":1}` || r.ContentLength != 7 {
		t.Errorf("backend got body %q, length %d", got, r.ContentLength)
	}
}

func TestBodyLimit(t *testing.T) {
	a := newBackend(t, "a")
	_, srv := newGateway(t, Config{},
		Route{Flow: "orders", Method: "POST", Path: "/orders", Backends: static(a.addr())})
	const want = "request body larger than 1048576 bytes"

	// By Content-Length.
	resp, body := do(t, "POST", srv.URL+"/orders", strings.NewReader(strings.Repeat("x", DefaultMaxBodyBytes+1)))
	if resp.StatusCode != 413 || decodeError(t, resp, body).Error != want {
		t.Errorf("Content-Length: %d %s", resp.StatusCode, body)
	}
	// Chunked: no length announced.
	resp, body = do(t, "POST", srv.URL+"/orders", io.MultiReader(strings.NewReader(strings.Repeat("x", DefaultMaxBodyBytes)), strings.NewReader("y")))
	if resp.StatusCode != 413 || decodeError(t, resp, body).Error != want {
		t.Errorf("chunked: %d %s", resp.StatusCode, body)
	}
	if a.hits.Load() != 0 {
		t.Fatalf("an oversized body was proxied")
	}
	// Exactly the limit passes.
	resp, body = do(t, "POST", srv.URL+"/orders", strings.NewReader(strings.Repeat("x", DefaultMaxBodyBytes)))
	if resp.StatusCode != 200 {
		t.Errorf("body at the limit: %d %s", resp.StatusCode, body)
	}

	_, small := newGateway(t, Config{MaxBodyBytes: 10},
		Route{Flow: "orders", Method: "POST", Path: "/orders", Backends: static(a.addr())})
	resp, body = do(t, "POST", small.URL+"/orders", strings.NewReader("01234567890"))
	if resp.StatusCode != 413 || decodeError(t, resp, body).Error != "request body larger than 10 bytes" {
		t.Errorf("configured limit: %d %s", resp.StatusCode, body)
	}
}

func TestTraceparent(t *testing.T) {
	a := newBackend(t, "a")
	_, srv := newGateway(t, Config{},
		Route{Flow: "hello", Method: "GET", Path: "/hello", Backends: static(a.addr())})

	valid := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	resp, _ := do(t, "GET", srv.URL+"/hello", nil, "Traceparent", valid, "Tracestate", "k=v")
	if got := resp.Header.Get("X-Trace-Id"); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("X-Trace-Id %q, want the client's trace id", got)
	}
	r, _ := a.lastRequest()
	if r.Header.Get("Traceparent") != valid || r.Header.Get("Tracestate") != "k=v" {
		t.Errorf("backend got traceparent %q tracestate %q", r.Header.Get("Traceparent"), r.Header.Get("Tracestate"))
	}

	made := regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)
	for _, bad := range []string{
		"",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
		"garbage",
	} {
		resp, _ := do(t, "GET", srv.URL+"/hello", nil, "Traceparent", bad, "Tracestate", "k=v")
		id := resp.Header.Get("X-Trace-Id")
		if strings.Contains(bad, id) {
			t.Errorf("traceparent %q: kept an invalid trace id", bad)
		}
		r, _ := a.lastRequest()
		m := made.FindStringSubmatch(r.Header.Get("Traceparent"))
		if m == nil || m[1] != id || m[2] == "0000000000000000" {
			t.Errorf("traceparent %q: backend got %q, X-Trace-Id %q", bad, r.Header.Get("Traceparent"), id)
		}
		if r.Header.Get("Tracestate") != "" {
			t.Errorf("traceparent %q: tracestate passed on without its traceparent", bad)
		}
	}
	// Gateway-made errors use the client's trace id too.
	resp, body := do(t, "GET", srv.URL+"/nowhere", nil, "Traceparent", valid)
	if e := decodeError(t, resp, body); e.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("404 trace_id %q", e.TraceID)
	}
}

func TestRoundRobinAndRetry(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	_, srv := newGateway(t, Config{},
		Route{Flow: "hello", Method: "GET", Path: "/hello", Backends: static(a.addr(), b.addr())},
		Route{Flow: "post", Method: "POST", Path: "/post", Backends: static(deadAddr(t), b.addr())},
	)
	for range 10 {
		if resp, body := do(t, "GET", srv.URL+"/hello", nil); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if a.hits.Load() != 5 || b.hits.Load() != 5 {
		t.Errorf("round robin: a %d, b %d; want 5 and 5", a.hits.Load(), b.hits.Load())
	}

	// A refused connection is retried on the other instance, body and all.
	for i := range 4 {
		payload := fmt.Sprintf(`{"n":%d}`, i)
		resp, body := do(t, "POST", srv.URL+"/post", strings.NewReader(payload))
		if resp.StatusCode != 200 {
			t.Fatalf("POST with one dead instance: %d %s", resp.StatusCode, body)
		}
		if _, got := b.lastRequest(); string(got) != payload {
			t.Errorf("retried body %q, want %q", got, payload)
		}
	}
}

func TestSwapUnderLoad(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	tableA := []Route{{Flow: "x", Method: "GET", Path: "/x", Backends: static(a.addr())}}
	tableB := []Route{
		{Flow: "x", Method: "GET", Path: "/x/", Backends: static(b.addr())},
		{Flow: "y", Method: "GET", Path: "/y/:id", Backends: static(b.addr())},
	}
	g, srv := newGateway(t, Config{}, tableA...)

	stop := make(chan struct{})
	var swaps sync.WaitGroup
	swaps.Add(1)
	go func() {
		defer swaps.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tab := tableA
			if i%2 == 1 {
				tab = tableB
			}
			if err := g.SetRoutes(tab); err != nil {
				t.Error(err)
				return
			}
			_ = g.Routes()
		}
	}()
	var clients sync.WaitGroup
	for range 8 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for range 50 {
				resp, err := http.Get(srv.URL + "/x")
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d during swaps", resp.StatusCode)
				}
			}
		}()
	}
	clients.Wait()
	close(stop)
	swaps.Wait()
	if a.hits.Load()+b.hits.Load() != 400 {
		t.Errorf("hits %d + %d, want 400", a.hits.Load(), b.hits.Load())
	}
}

func TestMetrics(t *testing.T) {
	a := newBackend(t, "a")
	reg := prometheus.NewRegistry()
	_, srv := newGateway(t, Config{Registerer: reg},
		Route{Flow: "hello", Method: "GET", Path: "/hello", Backends: static(a.addr())})
	do(t, "GET", srv.URL+"/hello", nil)
	do(t, "GET", srv.URL+"/hello", nil)
	do(t, "GET", srv.URL+"/nowhere", nil)
	if n, err := testutil.GatherAndCount(reg, "flowline_gateway_requests_total"); err != nil || n != 2 {
		t.Errorf("request series: %d, %v", n, err)
	}
	want := `
# HELP flowline_gateway_requests_total Requests to published endpoints, by flow and status code.
# TYPE flowline_gateway_requests_total counter
flowline_gateway_requests_total{code="200",flow="hello"} 2
flowline_gateway_requests_total{code="404",flow=""} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "flowline_gateway_requests_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "flowline_gateway_request_duration_seconds"); err != nil || n != 2 {
		t.Errorf("latency series: %d, %v", n, err)
	}
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Errorf("registering the metrics twice gave no error")
	}
}

// A slow instance outlasts the server's ReadTimeout: the request must
// not be cancelled when that deadline passes.
func TestSlowInstanceOutlastsReadTimeout(t *testing.T) {
	a := newBackend(t, "a")
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetRoutes([]Route{{Flow: "slow", Method: "POST", Path: "/slow", Backends: static(a.addr())}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(g)
	srv.Config = NewServer("", g)
	srv.Config.ReadTimeout = 50 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, body := do(t, "POST", srv.URL+"/slow?sleep=300ms", strings.NewReader("{}"))
	if resp.StatusCode != 200 {
		t.Errorf("slow instance: %d %s", resp.StatusCode, body)
	}
}
