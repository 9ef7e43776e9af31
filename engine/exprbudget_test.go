package engine_test

import (
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
)

// exprNode is a flow of one response node whose body is src, written the
// way the Go target generates it; with an error port, the failure is
// answered 422 with the node's output.
func exprNode(src string, errorPort bool) programFunc {
	p := engine.MustCompile(src)
	return func(x *engine.Exec) {
		x.Trigger("start")
		x.Begin("done")
		body, err := x.Eval(p)
		if err != nil {
			if _, ok := x.Fail(err, errorPort); ok {
				x.Begin("handled")
				x.Respond(422, nil, x.Nodes()["done"])
			}
			return
		}
		x.Respond(200, nil, body)
	}
}

// TestExprBudgetFailsTheNode: an expression over its budget is a node
// failure, answered like any other (FLOW-FORMAT.md rule 5), and the
// process goes on serving.
func TestExprBudgetFailsTheNode(t *testing.T) {
	for _, src := range []string{
		`len(repeat(repeat("x",999999),999999))`,
		`reduce(1..40, #acc + #acc, "x")`,
		`len(1..1000000000)`,
	} {
		f := enginetest.NewFlow(t, "GET", "/x", exprNode(src, false), engine.Options{})
		resp, out := enginetest.Do(t, f, "GET", "/x", "")
		if resp.StatusCode != 500 || out["error"] != "expression exceeds its memory budget (64 MiB)" || out["node"] != "done" {
			t.Errorf("%s: %d %v", src, resp.StatusCode, out)
		}
		f = enginetest.NewFlow(t, "GET", "/x", exprNode(src, true), engine.Options{})
		resp, out = enginetest.Do(t, f, "GET", "/x", "")
		if resp.StatusCode != 422 || out["error"] != "expression exceeds its memory budget (64 MiB)" || len(out) != 1 {
			t.Errorf("%s with an error port: %d %v", src, resp.StatusCode, out)
		}
	}
	f := enginetest.NewFlow(t, "GET", "/x", exprNode(`{"ok": len(repeat("x", 1000))}`, false), engine.Options{})
	if resp, out := enginetest.Do(t, f, "GET", "/x", ""); resp.StatusCode != 200 || out["ok"] != 1000.0 {
		t.Errorf("an ordinary expression after them: %d %v", resp.StatusCode, out)
	}
}

// TestExprBudgetSettings: the budgets are the flow's Options.ExprMemory
// and ExprSteps.
func TestExprBudgetSettings(t *testing.T) {
	budget := engine.Options{ExprMemory: 1 << 20, ExprSteps: 1000}
	f := enginetest.NewFlow(t, "GET", "/x", exprNode(`len(repeat("x", 600000) + repeat("y", 600000))`, false), budget)
	if resp, out := enginetest.Do(t, f, "GET", "/x", ""); resp.StatusCode != 500 || out["error"] != "expression exceeds its memory budget (1 MiB)" {
		t.Errorf("memory: %d %v", resp.StatusCode, out)
	}
	f = enginetest.NewFlow(t, "GET", "/x", exprNode(`count(1..2000, # > 0)`, false), budget)
	if resp, out := enginetest.Do(t, f, "GET", "/x", ""); resp.StatusCode != 500 || out["error"] != "expression exceeds its step budget (1000 steps)" {
		t.Errorf("steps: %d %v", resp.StatusCode, out)
	}
}

// TestExprDeadline: an evaluation still running when the request's
// deadline passes stops, and the request is answered 504 naming the node,
// even in a node made only of expressions (the Go target's set, if, ...).
func TestExprDeadline(t *testing.T) {
	f := enginetest.NewFlow(t, "GET", "/x", exprNode(`let r = 1..50000; count(r, count(r, # > 1) == 49999)`, true),
		engine.Options{Deadline: 50 * time.Millisecond, ExprSteps: 1 << 62})
	start := time.Now()
	resp, out := enginetest.Do(t, f, "GET", "/x", "")
	if resp.StatusCode != 504 || out["node"] != "done" {
		t.Errorf("%d %v", resp.StatusCode, out)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("answered after %s", took)
	}
}

// TestExprMeterHidden: no expression sees the meter, even through $env.
func TestExprMeterHidden(t *testing.T) {
	f := enginetest.NewFlow(t, "GET", "/x", exprNode(`{"keys": sort(keys($env))}`, false), engine.Options{})
	resp, out := enginetest.Do(t, f, "GET", "/x", "")
	keys, _ := out["keys"].([]any)
	if resp.StatusCode != 200 || len(keys) != 4 {
		t.Errorf("%d %v", resp.StatusCode, out)
	}
}
