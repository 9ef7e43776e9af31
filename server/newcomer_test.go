package server_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
)

// TestNewcomer is a new user's first session: the real flowline binary,
// started as `make run` starts it (no flags, the relative ./data of a fresh
// working directory) on a machine that never built Flowline: an empty Go
// module cache, no module proxy and a home without caches. The README's
// orders flow is published as a Go bundle, deployed and called through the
// gateway; then every shared conformance case passes on the Go target.
func TestNewcomer(t *testing.T) {
	needGo(t)
	if testing.Short() {
		t.Skip("builds the runtime with an empty build cache")
	}
	ts := startProcess(t, flowlineBinary(t))

	doc := readmeFlow(t)
	ts.must(201, "POST", "/api/v1/flows", doc, nil)
	for _, bt := range ts.bundleTargets() {
		if !bt.Available {
			t.Fatalf("target %s unavailable on a machine with Go: %s", bt.Name, bt.Reason)
		}
	}
	start := time.Now()
	var v struct {
		Version  int `json:"version"`
		Revision int `json:"revision"`
	}
	ts.must(201, "POST", "/api/v1/flows/orders/versions", `{"target": "go", "revision": 1}`, &v)
	t.Logf("first Go publish on a fresh machine: %s", time.Since(start).Round(time.Millisecond))
	if v.Version != 1 || v.Revision != 1 {
		t.Fatalf("published %+v, want version 1 from revision 1", v)
	}
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/orders/deployments", `{"version": 1}`, &d)
	ts.waitRunning(d.ID)
	ts.waitServes("POST", "/orders")
	got, err := conformance.Send(ts.gateway, conformance.Request{Method: "POST", Path: "/orders",
		Body: json.RawMessage(`{"items": [{"qty": 3, "price": 40}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != 200 || string(got.Body) != `{"discount":12,"total":120}` {
		t.Fatalf("POST /orders: %d %s", got.Status, got.Body)
	}
	ts.must(204, "DELETE", "/api/v1/deployments/"+d.ID, nil, nil)

	// A relative data directory ends up under the working directory.
	if _, err := os.Stat(filepath.Join(ts.dataDir, "flowline.db")); err != nil {
		entries, _ := os.ReadDir(ts.dataDir)
		t.Fatalf("the SQLite store is not in ./data: %v (./data holds %v)", err, entries)
	}

	shared, err := conformance.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := conformance.LoadCases(shared)
	if err != nil {
		t.Fatal(err)
	}
	reg := nodes.Registry()
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			if missing := noGoEmitter(reg, c); len(missing) > 0 {
				t.Fatalf("node types without a Go emitter: %v", missing)
			}
			var f flowView
			ts.must(201, "POST", "/api/v1/flows", c.Flow, &f)
			gatewayRun(t, ts, f.Name, c, "go")
			ts.must(204, "DELETE", "/api/v1/flows/"+f.Name, nil, nil)
		})
	}
}

// flowlineBinary is the server binary under test: FLOWLINE_BIN (make test
// passes the one make build made), else one built now, as make build would.
func flowlineBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("FLOWLINE_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "flowline")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/flowline")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs `flowline serve` as make run does, in a fresh working
// directory, with the environment of a machine that never built Go code.
func startProcess(t *testing.T, bin string) *testServer {
	t.Helper()
	root := t.TempDir()
	work, home, modcache := filepath.Join(root, "work"), filepath.Join(root, "home"), filepath.Join(root, "modcache")
	for _, d := range []string{work, home, modcache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	api, gw := freeAddr(t), freeAddr(t)
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "FLOWLINE_") || strings.HasPrefix(name, "GO") || strings.HasPrefix(name, "XDG_") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "GOMODCACHE="+modcache, "GOPROXY=off", "FLOWLINE_API_TOKEN="+testToken,
		// Only the listeners differ from make run's defaults, so that
		// tests can run beside a server on :8080.
		"FLOWLINE_ADDR="+api, "FLOWLINE_GATEWAY_ADDR="+gw)
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Env = work, env
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
		if entries, _ := os.ReadDir(modcache); len(entries) > 0 {
			t.Errorf("the server wrote to the Go module cache: %v", entries)
		}
	})
	ts := &testServer{t: t, api: "http://" + api, gateway: "http://" + gw, token: testToken, dataDir: filepath.Join(work, "data")}
	waitFor(t, func() bool {
		resp, err := http.Get(ts.api + "/api/v1/info")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized // up, and refusing anonymous callers
	})
	return ts
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// readmeFlow is the orders flow of the README's curl walk-through, read
// from the README itself so that the walk-through stays true.
func readmeFlow(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "/api/v1/flows --json '")
	doc, _, ok2 := strings.Cut(rest, "'")
	if !ok || !ok2 || !json.Valid([]byte(doc)) {
		t.Fatal("the README has no flow document in a `curl .../api/v1/flows --json '...'` command")
	}
	return doc
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
