package engine

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/contract"
)

// benchExprs are ordinary expressions from the conformance cases, the
// workload the expression budget must not slow down.
var benchExprs = []struct{ name, src string }{
	{"concat", `env.UPSTREAM + "/users/" + request.params.id`},
	{"hello", `{"message": "hello " + (request.query.name ?? "world")}`},
	{"sum", `sum(request.body.items, .qty * .price)`},
	{"mapFilter", `map(filter(request.body.items, .price > 10), ({"sku": .sku, "qty": .qty}))`},
	{"object", `{"id": request.params.id, "tag": upper(request.params.tag), "path": request.path}`},
	{"cond", `int(request.query.score) >= 90`},
}

// BenchmarkEval evaluates each expression against a request like
// conformance case 03's through Exec.Eval, as every target does
// ("guarded"), and the way Eval ran before expressions had a budget:
// compiled by expr.Compile, run by the VM without a meter ("unguarded").
// The two run side by side, so that their difference is the budget's cost
// on a machine whose load changes between runs.
func BenchmarkEval(b *testing.B) {
	var body any
	if err := json.Unmarshal([]byte(`{"customer": "c1", "items": [{"sku": "a", "qty": 2, "price": 12.5}, {"sku": "b", "qty": 1, "price": 5}, {"sku": "c", "qty": 10, "price": 9}]}`), &body); err != nil {
		b.Fatal(err)
	}
	f, err := New(Manifest{Flow: "bench", Method: "POST", Path: "/orders"}, ProgramFunc(func(*Exec) {}), Options{Env: map[string]string{"UPSTREAM": "http://127.0.0.1:1"}})
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]any{"request": map[string]any{}, "nodes": map[string]any{}, "env": map[string]any{}, "trace": map[string]any{}}
	for _, e := range benchExprs {
		guarded := MustCompile(e.src)
		unguarded, err := expr.Compile(e.src, expr.Env(env))
		if err != nil {
			b.Fatal(err)
		}
		x := newExec(f, contract.NewTrace(), false)
		x.start(context.Background(), map[string]any{
			"method": "POST", "path": "/orders/a", "body": body,
			"params":  map[string]any{"id": "7", "tag": "x"},
			"query":   map[string]any{"name": "ann", "score": "91"},
			"headers": map[string]any{},
		})
		b.Run(e.name+"/guarded", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Eval(guarded); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(e.name+"/unguarded", func(b *testing.B) {
			var machine vm.VM
			b.ReportAllocs()
			for b.Loop() {
				v, err := machine.Run(unguarded, x.env)
				if err != nil {
					b.Fatal(err)
				}
				_ = Normalize(v)
			}
		})
	}
}
