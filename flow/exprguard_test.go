package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/flow"
)

// evalEnv is a request like the conformance cases send, with m under
// flow.MeterKey as the runtime puts it.
func evalEnv(t testing.TB, m *flow.Meter) map[string]any {
	t.Helper()
	var body any
	if err := json.Unmarshal([]byte(`{"customer": "c1", "name": "ann", "tags": ["a", "b", "a"], "id": 7,
		"items": [{"sku": "a", "qty": 2, "price": 12.5}, {"sku": "b", "qty": 1, "price": 5}, {"sku": "c", "qty": 10, "price": 9}],
		"a": {"b": {"c": [1, 2.5, "x", null, true]}}}`), &body); err != nil {
		t.Fatal(err)
	}
	env := map[string]any{
		"request": map[string]any{
			"method": "POST", "path": "/orders/a", "body": body,
			"params":  map[string]any{"id": "7", "tag": "x"},
			"query":   map[string]any{"name": "ann", "score": "91", "ms": "10"},
			"headers": map[string]any{"x-name": "bob"},
		},
		"nodes": map[string]any{
			"calc":  map[string]any{"total": int64(120), "expensive": []any{map[string]any{"sku": "a", "qty": int64(2)}}},
			"rows":  []any{map[string]any{"n": int64(1)}, map[string]any{"n": int64(2)}},
			"boom":  map[string]any{"error": "plain error"},
			"upper": "UP",
		},
		"env":   map[string]any{"UPSTREAM": "http://127.0.0.1:9", "GREETING": "Hi"},
		"trace": map[string]any{"id": "0af7651916cd43dd8448eb211c80319c"},
	}
	if m != nil {
		env[flow.MeterKey] = m
	}
	return env
}

// ordinaryExprs are the conformance cases' expressions and a use of every
// guarded builtin and operator, well within the budget.
var ordinaryExprs = []string{
	`env.UPSTREAM + "/slow?ms=" + request.query.ms`,
	`{"fallback": true, "reason": nodes.boom.error}`,
	`"plain " + request.body.name`,
	`len(request.body.tags)`,
	`{"message": "hello " + (request.query.name ?? "world")}`,
	`{"id": request.params.id, "tag": upper(request.params.tag), "path": request.path}`,
	`sum(request.body.items, .qty * .price)`,
	`map(filter(request.body.items, .price > 10), ({"sku": .sku, "qty": .qty}))`,
	`nodes.calc.total > 100`,
	`nodes.calc.total * 0.1`,
	`int(request.query.score) >= 90`,
	`{"count": len(nodes.rows), "last": nodes.rows[len(nodes.rows) - 1].n}`,
	`"done " + string(len(request.query.name))`,
	`{"greeting": env.GREETING + ", " + request.query.name}`,
	`"plain " + request.method + " " + (request.headers["x-name"] ?? "none")`,
	`"/items/" + string(request.body.id)`,
	`request.body.a.b.c`,
	`"dig failed: " + nodes.boom.error`,
	`reduce(request.body.items, #acc + .sku, "")`,
	`reduce(1..10, #acc + #, 0)`, `reduce(1..100, [#acc], [])`, `reduce(request.body.items, concat(#acc, [#]), [])`, `reduce(1..3, ({"n": #acc.n + #}), {"n": 0})`,
	`repeat("ab", 3) + join(["x", "y"], "-") + join(request.body.tags)`,
	`split("a,b,,c", ",")`, `split("abc", "")`, `split("a,b,c", ",", 2)`, `splitAfter("a,b,c", ",")`,
	`replace("aXbXc", "X", "--")`, `replace("abc", "", "-")`,
	`upper("abc") + lower("DEF")`,
	`toJSON(request.body)`, `toJSON({"a": [1, 2, {"b": nil}], "c": "<&>"})`, `toJSON(1..5)`,
	`fromJSON("{\"a\": [1, 2, {\"b\": null}]}")`,
	`toBase64("hello") + fromBase64("aGVsbG8=")`,
	`string(request.body.a)`, `string(1..3)`, `string(nil)`, `string(2.5)`,
	`sort(keys(request.params))`, `sort(values(request.params))`, `len(toPairs(request.params))`, `fromPairs([["a", 1], ["b", 2]])`,
	`reverse(1..5)`, `sort([3, 1, 2], "desc")`, `concat([1], 2..3, ["x"])`, `flatten([1, [2, [3, [4]]]])`, `median([1, [5, 3]])`,
	`uniq(request.body.tags)`, `uniq([1, 2.5, 1, 2.5])`, `uniq([1, 1.0, "1", nil, nil, [1], [1]])`, `uniq(1..3)`, `uniq(concat(1..3, 2..4))`,
	`request.body.name matches "^a"`, `request.body.name matches ("^" + "a")`, `request.body.name matches request.params.tag`,
	`1 + 2`, `1.5 + 2`, `"a" + "b"`, `now() + duration("1h") > now()`,
	`all(request.body.items, .qty > 0) && any(request.body.items, .qty > 5) && one(request.body.items, .qty > 5) && none(request.body.items, .qty > 50)`,
	`count(request.body.items, .price > 6)`, `find(request.body.items, .sku == "b")`, `findIndex(request.body.items, .sku == "c")`,
	`groupBy(request.body.items, .sku > "a")[true]`, `sortBy(request.body.items, .price)`, `map(1..3, # * #index)`,
	`len(filter(1..100, # % 2 == 0))`, `sum(map(request.body.items, .qty))`, `first(request.body.items).sku`,
	`let xs = map(1..3, # * 2); xs[1:]`, `let i = 1; request.body.tags[i:i+1]`, `nodes.rows[len(nodes.rows) - 1].n`, `request.params[request.query.name == "ann" ? "id" : "tag"]`, `trim("  x ") + trimPrefix("ab", "a")`, `max(1..5) + min([3, 2])`, `mean(1..4)`,
	`len($env.request.body.tags)`, `sort(keys($env))`,
	`take(1..10, 3)`, `date("2024-01-02").Format("2006/01/02")`, `duration("90m").Hours()`, `date("2024-01-02").Add(duration("1h")).Hour()`, `get(request.params, "id")`, `type(request.body)`, `abs(-1) + ceil(1.2)`, `indexOf("abc", "c")`,
	`1..3 | map(# + 1) | filter(# > 2)`,
}

// failingExprs fail the same way guarded and unguarded: the guards keep
// expr's own errors.
var failingExprs = []string{
	`request.query.name + 1`,
	`repeat("x", -1)`,
	`join([1, 2])`,
	`fromJSON("{")`,
	`fromBase64("!")`,
	`request.body.name matches request.path + "("`,
	`uniq(request.params)`,
	`keys(request.body.tags)`,
	`reduce([], #acc)`,
	`nodes.missing[request.body.tags]`,
	`request.body.id[request.body.tags:]`,
	`fromPairs([[1, 2], [3]])`,
	`fromPairs(request.params)`,
	`int("x" + request.params.tag)`,
}

// plain compiles src as expr.Compile would, without the guard.
func plain(t *testing.T, src string) *vm.Program {
	t.Helper()
	p, err := expr.Compile(src, expr.Env(evalEnv(t, nil)))
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return p
}

func guarded(t testing.TB, src string) (any, error) {
	t.Helper()
	return guardedWith(t, src, 0, 0)
}

// guardedWith evaluates src on the given budgets (0: the default).
func guardedWith(t testing.TB, src string, maxBytes, maxSteps uint64) (any, error) {
	t.Helper()
	p, err := flow.CompileExpr(src, false)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	var m flow.Meter
	m.Reset(context.Background(), maxBytes, maxSteps)
	var machine vm.VM
	return m.Eval(&machine, p, evalEnv(t, &m))
}

// TestGuardKeepsMeaning evaluates ordinary expressions guarded and as
// expr-lang alone runs them: same values, same errors (less the source
// snippet expr-lang puts under its message).
func TestGuardKeepsMeaning(t *testing.T) {
	for _, src := range append(ordinaryExprs, failingExprs...) {
		want, wantErr := vm.Run(plain(t, src), evalEnv(t, nil))
		got, err := guarded(t, src)
		if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != strings.SplitN(wantErr.Error(), "\n", 2)[0]) {
			t.Errorf("%s: error %v, want %v", src, err, wantErr)
			continue
		}
		if strings.Contains(src, "now()") {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", src, got, want)
		}
	}
	for _, src := range failingExprs {
		if _, err := guarded(t, src); err == nil {
			t.Errorf("%s: no error", src)
		}
	}
}

// TestGuardValidation: the guard changes what runs, not what validates.
// Its functions cannot be called by name, and the meter cannot be read.
func TestGuardValidation(t *testing.T) {
	for _, src := range []string{`"a" + 1`, `flowline`, `$add(1, 2)`, `step(1, 2)`, `upper(1)`, `repeat("x")`} {
		if _, err := flow.CompileExpr(src, false); err == nil {
			t.Errorf("%s compiles", src)
		}
	}
	got, err := guarded(t, `filter(keys($env), # contains "meter")`)
	if err != nil || !reflect.DeepEqual(got, []any{}) {
		t.Errorf("the meter is in $env: %v, %v", got, err)
	}
}

// hostileExprs would each allocate gigabytes or run for ages without the
// guard, and must fail with the error they match.
var hostileExprs = []struct{ src, want string }{
	{`len(repeat(repeat("x",999999),999999))`, "memory budget"},
	{`reduce(1..40, #acc + #acc, "x")`, "memory budget"},
	{`len(1..1000000000)`, "memory budget"},
	{`len(map(1..100000000, #))`, "memory budget"},
	{`map(1..1000, map(1..1000, map(1..1000, #)))`, "memory budget|step budget"},
	{`let r = 1..5000; count(r, count(r, # > 1) == 4999)`, "step budget"},
	{`let r = 1..1000; sum(r, sum(r, sum(r, #)))`, "step budget"},
	{`join(map(1..100000, repeat("x", 1000)), ",")`, "memory budget"},
	{`len(split(repeat("x", 60000000), ""))`, "memory budget"},
	{`len(split(repeat("ab", 3000000), "a"))`, "memory budget"},
	{`len(replace(repeat("x", 100000), "x", repeat("y", 100000)))`, "memory budget"},
	{`len(replace(repeat("x", 1000000), "", repeat("y", 1000)))`, "memory budget"},
	{`let s = repeat("x", 1000000); len(toJSON(map(1..1000, s)))`, "memory budget"},
	{`let s = repeat("x", 1000000); len(string(map(1..1000, s)))`, "memory budget"},
	{`let s = repeat("x", 1000000); map(1..1000, s)`, "memory budget"},
	{`map(1..1000000, request.body)`, "memory budget"},
	{`let s = repeat("<", 20000000); len(toJSON(s))`, "memory budget"},
	{`len(toJSON(1..3000000))`, "memory budget"},
	{`reduce(1..100000, [#acc], [])`, "nests more than"},
	{`len(flatten(reduce(1..20000, [#acc], [])))`, "nests more than"},
	{`len(toJSON(reduce(1..20000, [#acc], [])))`, "memory budget|nests more than"},
	{`len(reduce(1..100000, #acc + "xxxxxxxxxx", ""))`, "memory budget"},
	{`len(map(1..100000, now().Format(repeat("2006", 250000))))`, "memory budget"},
	{`len(map(1..1000000, now().AppendFormat(b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "2006")))`, "memory budget"},
	// runtime.Equal recurses once per level: a million levels overflow
	// the stack, a fatal error.
	{`let a = reduce(1..1000000, [#acc], []); let b = reduce(1..1000000, [#acc], []); a == b`, "nests more than"},
	{`let a = reduce(1..1000000, [#acc], [1]); a in [reduce(1..1000000, [#acc], [2])]`, "nests more than"},
	{`len(uniq([reduce(1..1000000, [#acc], [1]), reduce(1..1000000, [#acc], [2])]))`, "nests more than"},
	{`let a = reduce(1..1000000, toPairs({"a": #acc})[0], 1); a == reduce(1..1000000, toPairs({"a": #acc})[0], 1)`, "nests more than|step budget"},
	{`reduce(1..1000, [[[[[[[[[[[[[[[[[[[[#acc]]]]]]]]]]]]]]]]]]]], [])`, "nests more than"},
	{`let a = repeat("x", 30000000); len(a + a + a)`, "memory budget"},
	{`len(sort(concat(1..3000000, 1..3000000)))`, "memory budget"},
	{`len(uniq(map(1..100000, ({"a": #}))))`, "step budget"},
	{`len(repeat(" ", 1000000000))`, "memory budget"},
	{`"x" matches repeat("a", 2000000)`, "memory budget"},
	{`len(join(map(1..200000, toBase64(repeat("x", 400))), ""))`, "memory budget"},
	{`len(upper(repeat("ab", 20000000)) + lower(repeat("ab", 20000000)))`, "memory budget"},
	{`len(keys(fromPairs(map(1..3000000, [string(#), #]))))`, "memory budget"},
	{`len(fromJSON(toJSON(1..1000000)))`, "memory budget"},
	{`len(concat(1..1000000, 1..1000000, 1..1000000, 1..1000000, 1..1000000))`, "memory budget"},
	{`len(filter(1..1000, len(repeat("x", 1000000)) > 0))`, "memory budget"},
	{`len(map(1..3000, repeat(request.body.name, 10000)))`, "memory budget"},
	{`len(map(1..10000, join(map(1..1000, "xxxxxxxxxxxxxxxxxxxx"))))`, "memory budget|step budget"},
	// Error messages that would spell out a huge value.
	{`let s = repeat("x", 1000000); nodes.missing[map(1..1000, s)]`, "memory budget"},
	{`let s = repeat("x", 1000000); request.body.id[map(1..1000, s):1]`, "memory budget"},
	{`let s = repeat("x", 1000000); fromPairs([map(1..1000, s)])`, "memory budget"},
	{`let s = repeat("x", 1000000); fromPairs(request.missing ?? {"a": map(1..1000, s)})`, "memory budget"},
}

// TestGuardRefusesHostile runs each hostile expression and wants its
// budget error, quickly. The step budget is a tenth of the default, to
// keep the test short: what it stops takes as long to count either way.
func TestGuardRefusesHostile(t *testing.T) {
	for _, h := range hostileExprs {
		start := time.Now()
		v, err := guardedWith(t, h.src, 0, flow.DefaultExprSteps/10)
		took := time.Since(start)
		t.Logf("%s: %v in %s", h.src, err, took.Round(time.Millisecond))
		if err == nil || !regexp.MustCompile(h.want).MatchString(err.Error()) {
			t.Errorf("%s gave a %T, %v; want an error matching %q", h.src, v, err, h.want)
			continue
		}
		var be *flow.BudgetError
		if !strings.Contains(err.Error(), "nests more than") && !errors.As(err, &be) {
			t.Errorf("%s: %T is not a *flow.BudgetError", h.src, err)
		}
		if took > 5*time.Second {
			t.Errorf("%s took %s to fail", h.src, took)
		}
	}
}

// TestGuardMessages pins the messages nodes fail with.
func TestGuardMessages(t *testing.T) {
	_, err := guarded(t, `len(repeat(repeat("x",999999),999999))`)
	if err == nil || err.Error() != "expression exceeds its memory budget (64 MiB)" {
		t.Errorf("memory: %v", err)
	}
	if err := (&flow.BudgetError{Steps: true, Limit: flow.DefaultExprSteps}); err.Error() != "expression exceeds its step budget (10000000 steps)" {
		t.Errorf("steps: %v", err)
	}
	// A message that spells out a long argument is cut.
	_, err = guarded(t, `int(repeat("x", 1000000) + repeat("y", 1000000))`)
	if err == nil || !strings.HasPrefix(err.Error(), "invalid operation: int(xxxx") || len(err.Error()) > 2*flow.MaxExprLength+3 {
		t.Errorf("long message: %.100v (%d bytes)", err, len(err.Error()))
	}
	// The VM's own element count gives the same message.
	_, err = guarded(t, `len(1..1000000000)`)
	if err == nil || err.Error() != "expression exceeds its memory budget (64 MiB)" {
		t.Errorf("range: %v", err)
	}
}

// TestGuardBudgets: the budgets are the meter's, per evaluation.
func TestGuardBudgets(t *testing.T) {
	p, err := flow.CompileExpr(`len(repeat("x", 2000))`, false)
	if err != nil {
		t.Fatal(err)
	}
	var m flow.Meter
	var machine vm.VM
	env := evalEnv(t, &m)
	m.Reset(context.Background(), 1000, 0)
	if _, err := m.Eval(&machine, p, env); err == nil || err.Error() != "expression exceeds its memory budget (1000 bytes)" {
		t.Errorf("small budget: %v", err)
	}
	for i := 0; i < 3; i++ { // the count starts again with each evaluation
		m.Reset(context.Background(), 4096, 0)
		if v, err := m.Eval(&machine, p, env); err != nil || v != 2000 {
			t.Errorf("run %d: %v, %v", i, v, err)
		}
	}
	steps, err := flow.CompileExpr(`count(1..100, # > 0)`, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Reset(context.Background(), 0, 99)
	if _, err := m.Eval(&machine, steps, env); err == nil || err.Error() != "expression exceeds its step budget (99 steps)" {
		t.Errorf("step budget: %v", err)
	}
	m.Reset(context.Background(), 0, 100)
	if v, err := m.Eval(&machine, steps, env); err != nil || v != 100 {
		t.Errorf("100 steps: %v, %v", v, err)
	}
}

// TestGuardDeadline: a long evaluation stops when its context ends.
func TestGuardDeadline(t *testing.T) {
	p, err := flow.CompileExpr(`let r = 1..5000; count(r, count(r, # > 1) == 4999)`, false)
	if err != nil {
		t.Fatal(err)
	}
	var m flow.Meter
	var machine vm.VM
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	m.Reset(ctx, 0, 1<<60)
	start := time.Now()
	_, err = m.Eval(&machine, p, evalEnv(t, &m))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("stopped after %s", took)
	}
}

// TestGuardNoMeter: a program run without a meter (expr's own vm.Run)
// still refuses a single oversized allocation.
func TestGuardNoMeter(t *testing.T) {
	p, err := flow.CompileExpr(`len(repeat(repeat("x",999999),999999))`, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Run(p, evalEnv(t, nil)); err == nil || !regexp.MustCompile(`memory budget`).MatchString(err.Error()) {
		t.Errorf("error %v", err)
	}
	p, err = flow.CompileExpr(`len(reduce(1..100, [#acc], []))`, false)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := vm.Run(p, evalEnv(t, nil)); err != nil || v != 1 {
		t.Errorf("reduce: %v, %v", v, err)
	}
}

// TestRuntimeErrorsInWords: a run's error says why without the source
// snippet, and Go's reflection errors come out in words.
func TestRuntimeErrorsInWords(t *testing.T) {
	for src, want := range map[string]string{
		"sum(request.body.itms, .qty * .price)": "a value is nil where a list, a map or a string is needed (is a field missing or misspelled?) (1:1)",
		"request.body.id > \"x\"":               "invalid operation: float64 > string (1:17)",
	} {
		_, err := guarded(t, src)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}
