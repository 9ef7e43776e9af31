package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/internal/conformance"
	"github.com/flowline/flowline/server"
	"github.com/flowline/flowline/store/storetest"
)

// needGo skips a test that builds Go bundles when there is no go command,
// except in CI, which provides one.
func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide the Go toolchain: %v", err)
		}
		t.Skipf("target go needs the Go toolchain: %v", err)
	}
}

// noGoEmitter names the node types of c that have no Go emitter yet.
func noGoEmitter(reg *flow.Registry, c conformance.Case) []string {
	var out []string
	for _, typ := range c.NodeTypes() {
		t, ok := reg.Lookup(typ)
		if _, gen := t.(golang.Emitter); ok && !gen && typ != flow.TriggerType && !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	return out
}

// startWith runs a server on SQLite with its config changed by edit.
func startWith(t *testing.T, edit func(*server.Config)) *testServer {
	t.Helper()
	url, dir := storetest.Database(t, "sqlite")
	return startOn(t, url, dir, edit)
}

const helloGoFlow = `{"version": 1, "name": "hello-go", "nodes": [
 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/hello-go"}},
 {"id": "say", "type": "log", "config": {"level": "info", "message": "\"hi \" + (request.query.name ?? \"world\")"}},
 {"id": "done", "type": "response", "config": {"body": "{\"message\": nodes.say}"}}],
 "edges": [{"from": "start", "to": "say"}, {"from": "say", "to": "done"}]}`

// TestPublishGoStream publishes with target go as server-sent events: the
// build's lines, then the version; the stored version holds the binary,
// main.go and manifest.json, and deploys as its own instance.
func TestPublishGoStream(t *testing.T) {
	needGo(t)
	ts := start(t, "sqlite")
	ts.must(201, "POST", "/api/v1/flows", helloGoFlow, nil)

	req := ts.apiRequest(context.Background(), "POST", "/api/v1/flows/hello-go/versions", `{"target": "go"}`)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var events []string
	var done string
	sc := bufio.NewScanner(resp.Body)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: ") && event == "done":
			done = strings.TrimPrefix(line, "data: ")
		case strings.HasPrefix(line, "data: ") && event == "error":
			t.Fatalf("publish failed: %s", line)
		}
	}
	if len(events) < 2 || events[0] != "log" || events[len(events)-1] != "done" {
		t.Fatalf("events %v, want log lines then done", events)
	}
	var v struct {
		Version int    `json:"version"`
		Target  string `json:"target"`
	}
	if err := json.Unmarshal([]byte(done), &v); err != nil || v.Version != 1 || v.Target != "go" {
		t.Fatalf("done event %s: %v", done, err)
	}

	var got struct {
		Files    map[string]string `json:"files"`
		Binaries map[string]int    `json:"binaries"`
	}
	ts.must(200, "GET", "/api/v1/flows/hello-go/versions/1", nil, &got)
	if !strings.Contains(got.Files["main.go"], "DO NOT EDIT") || got.Files["manifest.json"] == "" || got.Binaries["flow"] < 1<<20 {
		t.Fatalf("version files %v, binaries %v", keys(got.Files), got.Binaries)
	}

	var d deployment
	ts.must(201, "POST", "/api/v1/flows/hello-go/deployments", `{}`, &d)
	ts.waitRunning(d.ID)
	ts.waitServes("GET", "/hello-go")
	if body := get(t, ts.gateway+"/hello-go?name=go"); !strings.Contains(body, `"hi go"`) {
		t.Fatalf("gateway answered %s", body)
	}
	var st struct {
		Instances []struct {
			PID int `json:"pid"`
		} `json:"instances"`
	}
	ts.must(200, "GET", "/api/v1/deployments/"+d.ID, nil, &st)
	if len(st.Instances) == 0 {
		t.Fatal("no instance")
	}
	// The instance is the bundle's binary, not the JS host.
	exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(st.Instances[0].PID), "exe"))
	if err == nil && filepath.Base(exe) != "flow" {
		t.Errorf("instance runs %s, want the bundle's binary", exe)
	}
}

type bundleTarget struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
}

// bundleTargets is what /api/v1/info says of the publish targets.
func (ts *testServer) bundleTargets() []bundleTarget {
	var info struct {
		BundleTargets []bundleTarget `json:"bundle_targets"`
	}
	ts.must(200, "GET", "/api/v1/info", nil, &info)
	return info.BundleTargets
}

// TestPublishGoWithoutToolchain refuses target go clearly when there is no
// go command: /info says so before anyone publishes, and a publish is a
// 422 that names what is missing, as JSON and as a stream.
func TestPublishGoWithoutToolchain(t *testing.T) {
	ts := startWith(t, func(c *server.Config) { c.GoCommand = filepath.Join(t.TempDir(), "no-such-go") })
	ts.must(201, "POST", "/api/v1/flows", helloGoFlow, nil)
	targets := ts.bundleTargets()
	if len(targets) != 2 || !targets[0].Available || targets[1].Name != "go" ||
		targets[1].Available || !strings.Contains(targets[1].Reason, "not installed") {
		t.Fatalf("bundle targets %+v, want js available and go not, with why", targets)
	}
	var e struct {
		Error string `json:"error"`
	}
	for _, accept := range []string{"application/json", "text/event-stream"} {
		ts.must(422, "POST", "/api/v1/flows/hello-go/versions", `{"target": "go"}`, &e, "Accept", accept)
		if !strings.Contains(e.Error, "Go toolchain") || !strings.Contains(e.Error, "FLOWLINE_GO") {
			t.Fatalf("error %q does not say what is missing", e.Error)
		}
	}
	var vs []any
	ts.must(200, "GET", "/api/v1/flows/hello-go/versions", nil, &vs)
	if len(vs) != 0 {
		t.Fatalf("a failed publish stored %d versions", len(vs))
	}
}

// TestPublishGoBuildFailure reports a failed build with the compiler's
// output and the generated source, as JSON and as a stream.
func TestPublishGoBuildFailure(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "go")
	// A go command that is recent enough but whose builds fail.
	script := "#!/bin/sh\nif [ \"$1\" = env ]; then echo go1.99.0; exit 0; fi\necho 'main.go:1:1: something broke' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := startWith(t, func(c *server.Config) { c.GoCommand = fake })
	ts.must(201, "POST", "/api/v1/flows", helloGoFlow, nil)
	var e struct {
		Error    string `json:"error"`
		BuildLog string `json:"build_log"`
		Source   string `json:"source"`
	}
	ts.must(500, "POST", "/api/v1/flows/hello-go/versions", `{"target": "go"}`, &e)
	if !strings.Contains(e.BuildLog, "something broke") || !strings.Contains(e.Source, "package main") || !strings.Contains(e.Error, "hello-go") {
		t.Fatalf("error %+v", e)
	}

	req := ts.apiRequest(context.Background(), "POST", "/api/v1/flows/hello-go/versions", `{"target": "go"}`)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var last, data string
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			last = ev
		} else if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = d
		}
	}
	var body map[string]any
	if last != "error" || json.Unmarshal([]byte(data), &body) != nil || body["status"] != float64(500) || body["build_log"] == nil {
		t.Fatalf("last event %s: %s", last, data)
	}
}

// TestPublishInvalidStream answers an invalid flow with an error event
// carrying status 422 and the problems.
func TestPublishInvalidStream(t *testing.T) {
	ts := start(t, "sqlite")
	ts.must(201, "POST", "/api/v1/flows", `{"version": 1, "name": "broken", "nodes": [], "edges": []}`, nil)
	ts.must(422, "POST", "/api/v1/flows/broken/versions", `{"target": "go"}`, nil)
	req := ts.apiRequest(context.Background(), "POST", "/api/v1/flows/broken/versions", `{"target": "go"}`)
	req.Header.Set("Accept", "text/event-stream")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var events []string
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "event: ") || strings.HasPrefix(sc.Text(), "data: ") {
			events = append(events, sc.Text())
		}
	}
	if len(events) != 2 || events[0] != "event: error" || !strings.Contains(events[1], `"status":422`) {
		t.Fatalf("events %q", events)
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestGoRolloutAndRestart moves a flow from a JS bundle to a Go bundle
// without a gap, and brings the Go deployment back after a restart, its
// binary written again from the store.
func TestGoRolloutAndRestart(t *testing.T) {
	needGo(t)
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := start(t, kind)
			ts.must(201, "POST", "/api/v1/flows", hello("greet", "/greet", 1), nil)
			ts.must(201, "POST", "/api/v1/flows/greet/versions", `{"target": "js"}`, nil)
			var d deployment
			ts.must(201, "POST", "/api/v1/flows/greet/deployments", `{}`, &d)
			ts.waitRunning(d.ID)
			ts.waitServes("GET", "/greet")

			ts.must(200, "PUT", "/api/v1/flows/greet", hello("greet", "/greet", 2), nil, "If-Match", "1")
			ts.must(201, "POST", "/api/v1/flows/greet/versions", `{"target": "go"}`, nil)
			var d2 deployment
			ts.must(201, "POST", "/api/v1/flows/greet/deployments", `{}`, &d2)
			ts.waitRunning(d2.ID)
			waitFor(t, func() bool { return strings.Contains(get(t, ts.gateway+"/greet"), `"v":2`) })
			ts.stop()

			ts2 := startOn(t, ts.url, ts.dataDir)
			ts2.waitServes("GET", "/greet")
			if body := get(t, ts2.GatewayURL()+"/greet?name=again"); !strings.Contains(body, "hello again") || !strings.Contains(body, `"v":2`) {
				t.Fatalf("after restart: %s", body)
			}
		})
	}
}
