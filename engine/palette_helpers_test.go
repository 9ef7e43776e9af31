package engine_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
)

// nodeRun runs fn as node "calc" of a one-node flow, for a request to
// target with body, and returns what fn returned and the run's trace.
type nodeRun struct {
	out any
	err error
	res *engine.Result
}

func runNode(t testing.TB, o engine.Options, target, body string, fn func(x *engine.Exec) (any, error)) nodeRun {
	t.Helper()
	var nr nodeRun
	prog := programFunc(func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("calc")
		nr.out, nr.err = fn(x)
		if nr.err != nil {
			x.Fail(nr.err, false)
			return
		}
		x.End(nr.out, "out")
		x.Begin("done")
		x.Respond(200, nil, nr.out)
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
	nr.res = f.Serve(req, true)
	return nr
}

// runCode compiles src and runs it as node calc.
func runCode(t testing.TB, src string, timeoutMS int, body string) nodeRun {
	t.Helper()
	code, err := engine.CompileCode(engine.CodeSpec{Source: src, TimeoutMS: timeoutMS})
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return runNode(t, engine.Options{}, "", body, func(x *engine.Exec) (any, error) { return x.RunCode(code) })
}

func withTimeout(t testing.TB, d time.Duration, fn func()) {
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
