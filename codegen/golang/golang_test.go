package golang_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowline/flowline/codegen/build"
	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// skipReason names the node types of c that this build cannot generate Go
// for: not registered yet, or without a Go emitter yet.
func skipReason(reg *flow.Registry, c conformance.Case) string {
	if missing := c.Missing(reg); len(missing) > 0 {
		return fmt.Sprintf("node types not built yet: %v", missing)
	}
	var noGo []string
	for _, typ := range c.NodeTypes() {
		t, _ := reg.Lookup(typ)
		if _, ok := t.(golang.Emitter); !ok && typ != flow.TriggerType && !slices.Contains(noGo, typ) {
			noGo = append(noGo, typ)
		}
	}
	if len(noGo) > 0 {
		return fmt.Sprintf("node types without a Go emitter yet: %v", noGo)
	}
	return ""
}

func cases(t testing.TB) []conformance.Case {
	t.Helper()
	dir, err := conformance.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := conformance.LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	own, err := conformance.OwnDir()
	if err != nil {
		t.Fatal(err)
	}
	more, err := conformance.LoadCases(own)
	if err != nil {
		t.Fatal(err)
	}
	return append(cs, more...)
}

// TestGolden generates every case's flow and compares it with
// testdata/<case>/main.go. Generation must be deterministic, and the output
// must parse and be gofmt-clean.
func TestGolden(t *testing.T) {
	reg := nodes.Registry()
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if why := skipReason(reg, c); why != "" {
				t.Skip(why)
			}
			d, err := flow.Parse(c.Flow)
			if err != nil {
				t.Fatal(err)
			}
			files, err := golang.Generate(d, reg, 1)
			if err != nil {
				t.Fatal(err)
			}
			got := files[golang.MainFile]
			path := filepath.Join("testdata", c.Name, golang.MainFile)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./codegen/golang -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; run go test ./codegen/golang -update and review the diff", path)
			}
			if _, err := parser.ParseFile(token.NewFileSet(), path, want, parser.ParseComments); err != nil {
				t.Errorf("golden %s does not parse: %v", path, err)
			}
			again, err := golang.Generate(d, reg, 1)
			if err != nil || !bytes.Equal(again[golang.MainFile], got) {
				t.Error("generation is not deterministic")
			}
			var m map[string]any
			if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m["target"] != "go" {
				t.Errorf("manifest %s: %v", files["manifest.json"], err)
			}
		})
	}
}

// TestConformanceBuilt builds every golden file into a binary (one go
// command for all of them) and serves each case's requests through it, as
// an instance runs: the binary itself, with the instance environment.
// Cases that need a database are built but run by the server's tests.
func TestConformanceBuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries; skipped with -short")
	}
	reg := nodes.Registry()
	b := testBuilder(t)
	mains := map[string][]byte{}
	for _, c := range cases(t) {
		if skipReason(reg, c) != "" {
			continue // reported as skipped by the subtests below
		}
		src, err := os.ReadFile(filepath.Join("testdata", c.Name, golang.MainFile))
		if err != nil {
			t.Fatalf("%v (run go test ./codegen/golang -update)", err)
		}
		mains[c.Name] = src
	}
	bin := filepath.Join(t.TempDir(), "bin")
	if len(mains) > 0 {
		start := time.Now()
		var log bytes.Buffer
		if err := b.BuildAll(context.Background(), mains, bin, &log); err != nil {
			t.Fatalf("build: %v\n%s", err, log.String())
		}
		t.Logf("built %d bundles in %s", len(mains), time.Since(start).Round(time.Millisecond))
	}

	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if why := skipReason(reg, c); why != "" {
				t.Skip(why)
			}
			if len(c.SetupSQL) > 0 {
				t.Skip("needs a database; run by the server's conformance tests")
			}
			t.Parallel()
			stub := conformance.NewStub()
			defer stub.Close()
			env := c.EnvWith(stub.URL)
			inst := startInstance(t, filepath.Join(bin, c.Name), env, c.EgressWith(stub.URL))
			for i, ex := range c.Requests {
				got, err := conformance.Send(inst.url, ex.Request)
				if err != nil {
					t.Fatal(err)
				}
				var diffs []string
				deadline := time.Now().Add(5 * time.Second)
				for {
					diffs = conformance.Check(ex.Expect, got, inst.logs())
					if len(diffs) == 0 || len(ex.Expect.Logs) == 0 || time.Now().After(deadline) {
						break
					}
					time.Sleep(20 * time.Millisecond) // log lines are read from the pipe
				}
				if len(diffs) > 0 {
					t.Errorf("request %d (%s %s):\n  %s", i, ex.Request.Method, ex.Request.Path, strings.Join(diffs, "\n  "))
				}
			}
		})
	}
}

// testBuilder is a builder on a fresh directory. Without a go command it
// skips the test, except in CI.
func testBuilder(t testing.TB) *build.Builder {
	t.Helper()
	b := build.New(build.Config{Dir: filepath.Join(t.TempDir(), "gobuild")})
	if err := b.Available(context.Background()); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return b
}

// instance is a running bundle binary.
type instance struct {
	url string
	mu  sync.Mutex
	log []conformance.LogLine
}

func (in *instance) logs() []conformance.LogLine {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]conformance.LogLine(nil), in.log...)
}

// startInstance runs a bundle binary with the instance environment and
// waits for its listening line. allow is its egress allow-list.
func startInstance(t testing.TB, bin string, env map[string]string, allow []string) *instance {
	t.Helper()
	flowEnv, _ := json.Marshal(env)
	egressAllow, _ := json.Marshal(append([]string{}, allow...))
	cmd := exec.Command(bin)
	cmd.Env = []string{"FLOWLINE_LISTEN=127.0.0.1:0", "FLOWLINE_FLOW_ENV=" + string(flowEnv), "FLOWLINE_INSTANCE=test-1",
		"FLOWLINE_EGRESS_ALLOW=" + string(egressAllow)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{}
	addr := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var l struct {
				Msg     string `json:"msg"`
				Addr    string `json:"addr"`
				Level   string `json:"level"`
				Node    string `json:"node"`
				TraceID string `json:"trace_id"`
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			if l.Msg == "listening" && l.Addr != "" {
				addr <- l.Addr
				continue
			}
			if l.TraceID != "" {
				in.mu.Lock()
				in.log = append(in.log, conformance.LogLine{Level: strings.ToLower(l.Level), Message: l.Msg, Node: l.Node, TraceID: l.TraceID})
				in.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if err := cmd.Wait(); err != nil {
			t.Errorf("instance exited with %v: %s", err, stderr.String())
		}
	})
	select {
	case a := <-addr:
		in.url = "http://" + a
	case <-done:
		t.Fatalf("instance exited before listening: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("instance did not listen within 30s")
	}
	return in
}

func TestNames(t *testing.T) {
	d, err := flow.Parse([]byte(`{"version": 1, "name": "names", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/n"}},
	 {"id": "user_id", "type": "set", "config": {"fields": [{"name": "url", "value": "1"}, {"name": "node", "value": "2"}, {"name": "日本", "value": "3"}]}},
	 {"id": "func", "type": "set", "config": {"fields": [{"name": "x", "value": "4"}]}},
	 {"id": "Func", "type": "set", "config": {"fields": [{"name": "x", "value": "5"}]}},
	 {"id": "_", "type": "response", "config": {"body": "nodes"}}],
	 "edges": [{"from": "start", "to": "user_id"}, {"from": "user_id", "to": "func"}, {"from": "func", "to": "Func"}, {"from": "Func", "to": "_"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	files, err := golang.Generate(d, nodes.Registry(), 1)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Join(strings.Fields(string(files[golang.MainFile])), " ")
	for _, want := range []string{
		"func userIDNode(", "userIDURL = ", "userIDNode2 = ", "userIDField2 = ",
		"func funcNode(", "func funcNode2(", "funcX = ", "funcX2 = ", "func nodeNode(",
		"var userIDPort, funcPort, funcPort2 string",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("generated code lacks %q:\n%s", want, files[golang.MainFile])
		}
	}
}
