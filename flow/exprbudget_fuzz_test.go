package flow_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/flow"
)

// Bounds FuzzExprBudget holds an evaluation to, with the default memory
// budget (64 MiB) and a tenth of the default step budget (the time a step
// takes is not what is under test). The heap may grow by a few budgets
// (what the guards charge is an estimate, and the VM's own count is in
// elements), never by gigabytes.
const (
	fuzzPeakHeap   = 512 << 20 // growth of the live heap, sampled while it runs
	fuzzTotalAlloc = 2 << 30   // bytes allocated, garbage included
	fuzzSteps      = flow.DefaultExprSteps / 10
	fuzzDeadline   = 10 * time.Second // the request's deadline
	fuzzMaxTime    = 30 * time.Second // past the deadline: the guards did not look
)

// fuzzShapes are ways to make a value big, X standing for another value.
var fuzzShapes = []string{
	`repeat(X, 999999)`, `X + X`, `[X, X, X, X]`, `map(1..100000, X)`, `reduce(1..40, #acc + #acc, X)`,
	`join(map(1..100000, X), X)`, `toJSON(X)`, `string(X)`, `split(X, "")`, `replace(X, "", X)`,
	`uniq(X)`, `sort(X)`, `flatten([X, [X, [X]]])`, `concat(X, X, X)`, `fromJSON(toJSON(X))`,
	`filter(X, true)`, `reduce(1..100000, [#acc], X)`, `let v = X; [v, v]`, `{"a": X, "b": X}`,
	`toPairs({"a": X})`, `upper(X)`, `toBase64(X)`, `keys(fromPairs(map(1..100000, [string(#), X])))`,
	`count(1..100000, len(X) > 0)`, `nodes.missing[X]`, `X matches X`, `sortBy(X, #)`, `groupBy(X, #)`,
}

// fuzzLeaves are values to start from.
var fuzzLeaves = []string{
	`"x"`, `repeat("x", 999999)`, `1..1000000`, `request.body`, `map(1..100000, #)`, `"<\u0001>"`,
	`request.body.tags`, `[1, 2.5, "a", nil]`, `1e308`, `-9223372036854775807`, `""`,
}

// FuzzExprBudget evaluates hostile expressions, the dangerous shapes of
// hostileExprs and of fuzzShapes nested around fuzzLeaves, and checks that
// each evaluation returns, a value or an error, without the heap growing
// past fuzzPeakHeap or the evaluation allocating more than fuzzTotalAlloc,
// and that CompileExpr accepts exactly what expr.Compile accepts. Its seed
// corpus runs with go test; `make fuzz` mutates it.
func FuzzExprBudget(f *testing.F) {
	for _, h := range hostileExprs {
		f.Add(h.src)
	}
	for _, s := range ordinaryExprs {
		f.Add(s)
	}
	for i, shape := range fuzzShapes {
		// Each shape once around each leaf would be 300 seeds; a few
		// leaves per shape, and a shape nested in the next, keep the
		// seed run short.
		for j := 0; j < 3; j++ {
			f.Add(strings.ReplaceAll(shape, "X", fuzzLeaves[(i+j)%len(fuzzLeaves)]))
		}
		inner := strings.ReplaceAll(fuzzShapes[(i+1)%len(fuzzShapes)], "X", fuzzLeaves[i%len(fuzzLeaves)])
		f.Add(strings.ReplaceAll(shape, "X", inner))
	}
	env := evalEnv(f, nil)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := flow.CompileExpr(src, false)
		// The guard rewrites what runs, never what compiles: validation
		// accepts and refuses what expr.Compile does, with its messages.
		if len(src) <= flow.MaxExprLength {
			_, plainErr := expr.Compile(src, expr.Env(env))
			if (err == nil) != (plainErr == nil) || (err != nil && err.Error() != plainErr.Error()) {
				t.Fatalf("CompileExpr: %v; expr.Compile: %v", err, plainErr)
			}
		}
		if err != nil {
			return
		}
		var m flow.Meter
		var machine vm.VM
		e := make(map[string]any, len(env)+1)
		for k, v := range env {
			e[k] = v
		}
		e[flow.MeterKey] = &m
		ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
		defer cancel()
		m.Reset(ctx, 0, fuzzSteps)

		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := watchHeap()
		start := time.Now()
		v, err := m.Eval(&machine, p, e)
		took := time.Since(start)
		grew := peak()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(v)

		if grew > fuzzPeakHeap {
			t.Errorf("the heap grew by %d MiB (%v)", grew>>20, err)
		}
		if total := after.TotalAlloc - before.TotalAlloc; total > fuzzTotalAlloc {
			t.Errorf("the evaluation allocated %d MiB (%v)", total>>20, err)
		}
		if took > fuzzMaxTime {
			t.Errorf("the evaluation took %s (%v)", took, err)
		}
	})
}

// watchHeap samples the live heap until the returned function is called,
// which gives how far it grew past where it was at the start.
func watchHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var (
		mu   sync.Mutex
		high = base
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				h := read()
				mu.Lock()
				high = max(high, h)
				mu.Unlock()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		high = max(high, read())
		return high - base
	}
}
