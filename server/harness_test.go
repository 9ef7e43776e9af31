package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/server"
	"github.com/flowline/flowline/store/storetest"
)

// The test binary doubles as the JS host: the local target starts real
// instance processes from it.
const hostEnv = "FLOWLINE_TEST_AS_HOST"

// crashTestRunEnv makes a test-run process die as one that ran out of
// memory does.
const crashTestRunEnv = "FLOWLINE_TEST_CRASH_TESTRUN"

func TestMain(m *testing.M) {
	if os.Getenv(hostEnv) == "1" {
		if os.Getenv(crashTestRunEnv) == "1" && os.Getenv(contract.EnvHostMode) == contract.HostModeTestRun {
			// What the Go runtime prints when an allocation fails.
			os.Stderr.WriteString("fatal error: out of memory\n\ngoroutine 1 [running]:\n")
			os.Exit(2)
		}
		os.Exit(jshost.Main(os.Stdout, os.Getenv, nodes.Bindings()))
	}
	os.Exit(m.Run())
}

// testToken is the admin API token test servers are configured with.
const testToken = "test-admin-token-0123456789"

type testServer struct {
	*server.Server // nil for a server run as a process of its own
	t              *testing.T
	api            string
	gateway        string // the gateway's base URL
	token          string // sent as a bearer token unless a call sets Authorization itself
	url            string // database URL
	dataDir        string
	once           sync.Once
}

// start runs a server on a fresh database of the given kind.
func start(t *testing.T, kind string) *testServer {
	t.Helper()
	url, dir := storetest.Database(t, kind)
	if dir == "" {
		dir = t.TempDir() // bundles live on disk whatever the store
	}
	return startOn(t, url, dir)
}

// startOn runs a server on an existing database and data directory, with
// its configuration changed by edits.
func startOn(t *testing.T, url, dir string, edits ...func(*server.Config)) *testServer {
	t.Helper()
	cfg := server.Defaults()
	cfg.Addr, cfg.GatewayAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DatabaseURL, cfg.DataDir = url, dir
	cfg.HostCommand = []string{os.Args[0]}
	cfg.HostEnv = []string{hostEnv + "=1"}
	cfg.APIToken = testToken
	for _, edit := range edits {
		edit(&cfg)
	}
	ctx := context.Background()
	s, err := server.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: s, t: t, api: "http://" + s.APIAddr(), gateway: s.GatewayURL(), token: cfg.APIToken, url: url, dataDir: dir}
	t.Cleanup(ts.stop)
	return ts
}

// stop closes the server once; a test may stop it early to restart it.
func (ts *testServer) stop() {
	ts.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := ts.Close(ctx); err != nil {
			ts.t.Errorf("close server: %v", err)
		}
	})
}

// call sends a JSON request to the API and decodes the answer into out
// (when not nil). It returns the status and the raw body.
func (ts *testServer) call(method, path string, body any, out any, header ...string) (int, []byte) {
	ts.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case json.RawMessage:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.api+path, r)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if ts.token != "" {
		req.Header.Set("Authorization", "Bearer "+ts.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i]) // a call without it
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			ts.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, data
}

// apiRequest is a request to the API with the test server's token, for
// calls that read the answer as a stream.
func (ts *testServer) apiRequest(ctx context.Context, method, path, body string) *http.Request {
	ts.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, ts.api+path, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ts.token)
	return req
}

// must is call that fails the test unless the status is want.
func (ts *testServer) must(want int, method, path string, body any, out any, header ...string) []byte {
	ts.t.Helper()
	status, data := ts.call(method, path, body, out, header...)
	if status != want {
		ts.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	return data
}

type deployment struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	URL    string `json:"url"`
}

// waitRunning polls a deployment until it is running.
func (ts *testServer) waitRunning(id string) deployment {
	ts.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var d deployment
	for time.Now().Before(deadline) {
		ts.must(200, "GET", "/api/v1/deployments/"+id, nil, &d)
		if d.Status == "running" {
			return d
		}
		if d.Status == "failed" {
			ts.t.Fatalf("deployment %s failed: %s", id, ts.must(200, "GET", "/api/v1/deployments/"+id, nil, nil))
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.t.Fatalf("deployment %s not running in time (status %s)", id, d.Status)
	return d
}

// waitServes polls the gateway until path answers something else than 404/503.
func (ts *testServer) waitServes(method, path string) {
	ts.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(method, ts.gateway+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 404 && resp.StatusCode != 503 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.t.Fatalf("gateway never served %s %s", method, path)
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("condition not met in time")
}

// get fetches url and returns the body, or "" on a transport error.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
