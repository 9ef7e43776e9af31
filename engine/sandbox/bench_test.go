package sandbox

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowline/flowline/engine"
)

const benchSource = `const a = request.body.a, b = request.body.b;
if (a < 0) { throw new Error("negative a"); }
log.info("calc " + a + " " + b);
return { sum: a + b, product: a * b, tags: ["x", String(a)] };`

// BenchmarkCodeRun measures one run of case 05's source: in a pooled realm
// (what Run does), and in a new realm per run (the alternative, which
// would need no freezing). "realm" is the cost of making one; "none" is
// the same request with no code.js node, to subtract.
func BenchmarkCodeRun(b *testing.B) {
	code, err := New(Spec{Source: benchSource})
	if err != nil {
		b.Fatal(err)
	}
	m := engine.Manifest{Flow: "b", Method: "POST", Path: "/b", Nodes: []engine.NodeInfo{{ID: "start", Type: "trigger.http"}, {ID: "calc", Type: "code.js"}}}
	serve := func(b *testing.B, withCode bool) {
		f, err := engine.New(m, engine.ProgramFunc(func(x *engine.Exec) {
			x.Trigger("start")
			x.Begin("calc")
			var out any
			if withCode {
				if out, err = code.Run(x); err != nil {
					b.Fatal(err)
				}
			}
			x.End(out, "out")
			x.Respond(200, nil, out)
		}), engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			req := httptest.NewRequest("POST", "/b", strings.NewReader(`{"a": 2, "b": 3}`))
			req.Header.Set("Content-Type", "application/json")
			if res := f.Serve(req, false); res.Response.Status != 200 {
				b.Fatalf("status %d", res.Response.Status)
			}
		}
	}
	b.Run("none", func(b *testing.B) { serve(b, false) })
	b.Run("pooled", func(b *testing.B) { serve(b, true) })
	b.Run("fresh", func(b *testing.B) {
		realms.mu.Lock()
		realms.fresh = true
		realms.mu.Unlock()
		defer func() {
			realms.mu.Lock()
			realms.fresh = false
			realms.mu.Unlock()
		}()
		serve(b, true)
	})
	b.Run("runtime", func(b *testing.B) {
		// A bare goja runtime, and one with the guards but not frozen: what
		// a fresh runtime per run would cost at the least.
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			rt := goja.New()
			if err := newGuard(rt).harden(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("realm", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := newRealm(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
