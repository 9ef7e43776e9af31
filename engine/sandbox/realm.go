package sandbox

import (
	stdruntime "runtime"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// A realm is a goja runtime made for code.js and kept in a pool, each with
// a goroutine of its own that runs its jobs. Making one costs about 10 ms
// (its builtins are guarded, then every object reachable from them is
// frozen); a run in a pooled realm costs a few tens of microseconds
// (BenchmarkCodeRun).
//
// Reuse keeps nothing between runs because nothing can be left behind:
//   - every builtin object, the global object included, is frozen, so in
//     strict mode (every code.js function is strict, and there is no eval or
//     Function constructor to make sloppy code) an attempt to add or change
//     a global or a builtin throws;
//   - the inputs, the function and everything it makes are new each run,
//     and nothing reachable from the realm can hold on to them;
//   - a realm serves again only after a run that ended on its own: one that
//     was interrupted (time, memory, deadline) or overflowed its stack is
//     dropped with its goroutine, along with any promise jobs it left.
//
// Frozen builtins would make "this.name = ..." in an Error subclass throw
// (an inherited read-only property cannot be shadowed by assignment), so,
// as SES does, the usual overridden properties of the prototypes become
// accessors whose setter defines the property on the instance.
type realm struct {
	rt   *goja.Runtime
	g    *guard
	log  *goja.Object // the log a source sees, shared by the realm's runs
	cur  *codeRun     // the run being served, for log
	jobs chan *codeRun
}

// lockdown freezes everything reachable from the global object and the
// intrinsics only syntax reaches, after taming overrides.
var lockdown = goja.MustCompile("lockdown", `(function lockdown(extraRoots) {
	"use strict";
	const getProto = Object.getPrototypeOf, freeze = Object.freeze, ownKeys = Reflect.ownKeys,
		getDesc = Object.getOwnPropertyDescriptor, define = Object.defineProperty,
		hasOwn = Function.prototype.call.bind(Object.prototype.hasOwnProperty);
	function tame(obj, prop) {
		const d = getDesc(obj, prop);
		if (!d || !("value" in d) || !d.configurable) {
			return;
		}
		const value = d.value;
		define(obj, prop, {
			get: function() { return value; },
			set: function(v) {
				if (this === obj) {
					throw new TypeError("cannot assign to read only property '" + String(prop) + "' of a builtin");
				}
				if (hasOwn(this, prop)) {
					this[prop] = v;
				} else {
					define(this, prop, {value: v, writable: true, enumerable: true, configurable: true});
				}
			},
			enumerable: d.enumerable,
			configurable: false,
		});
	}
	const overridable = ["constructor", "name", "message", "toString", "toLocaleString", "valueOf",
		"hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toJSON"];
	for (const p of [Object.prototype, Function.prototype, Array.prototype, Error.prototype, TypeError.prototype,
			RangeError.prototype, SyntaxError.prototype, ReferenceError.prototype, EvalError.prototype,
			URIError.prototype, Date.prototype, RegExp.prototype, Promise.prototype, Map.prototype, Set.prototype,
			WeakMap.prototype, WeakSet.prototype, Number.prototype, String.prototype, Boolean.prototype,
			Symbol.prototype]) {
		for (const k of overridable) {
			tame(p, k);
		}
	}
	const todo = [globalThis, getProto(new Map().entries()), getProto(new Set().entries()),
		getProto("a".matchAll(/a/g)), getProto(function*(){}), getProto((function*(){})()),
		getProto(async function(){}), Promise.resolve()].concat(extraRoots);
	const seen = new Set();
	while (todo.length > 0) {
		const o = todo.pop();
		if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) {
			continue;
		}
		seen.add(o);
		freeze(o);
		todo.push(getProto(o));
		for (const k of ownKeys(o)) {
			const d = getDesc(o, k);
			if ("value" in d) {
				todo.push(d.value);
			} else {
				todo.push(d.get, d.set);
			}
		}
	}
})`, true)

func newRealm() (*realm, error) {
	rt := goja.New()
	rt.SetMaxCallStackSize(codeMaxCallStack)
	g := newGuard(rt)
	if err := g.harden(); err != nil {
		return nil, err
	}
	rm := &realm{rt: rt, g: g, jobs: make(chan *codeRun, 1)}
	rm.log = rt.NewObject()
	for _, level := range []string{"debug", "info", "warn", "error"} {
		_ = rm.log.Set(level, func(c goja.FunctionCall) goja.Value {
			parts := make([]string, len(c.Arguments))
			for i, a := range c.Arguments {
				parts[i] = g.logText(a)
			}
			if r := rm.cur; r != nil {
				r.log(level, strings.Join(parts, " "))
			}
			return goja.Undefined()
		})
	}
	fn, err := rt.RunProgram(lockdown)
	if err != nil {
		return nil, err
	}
	call, _ := goja.AssertFunction(fn)
	if _, err := call(goja.Undefined(), rt.NewArray(append(g.hidden, rm.log)...)); err != nil {
		return nil, err
	}
	g.reset()
	return rm, nil
}

// work serves the realm's jobs until a run leaves it unusable or the pool
// has no room for it.
func (rm *realm) work() {
	for r := range rm.jobs {
		if !rm.serve(r) || !realms.put(rm) {
			return
		}
	}
}

// realmPool holds idle realms, each with its goroutine waiting for a job.
type realmPool struct {
	mu    sync.Mutex
	idle  []*realm
	fresh bool // a new realm for every run (BenchmarkCodeRun compares)
}

var realms = &realmPool{}

// maxIdleRealms bounds the pool: more realms than this can be busy at
// once, but only so many (about half a megabyte each) wait for work.
func maxIdleRealms() int { return 2 * stdruntime.GOMAXPROCS(0) }

// get returns an idle realm, or makes one.
func (p *realmPool) get() (*realm, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 && !p.fresh {
		rm := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return rm, nil
	}
	p.mu.Unlock()
	rm, err := newRealm()
	if err != nil {
		return nil, err
	}
	go rm.work()
	return rm, nil
}

// put returns rm to the pool; false means there is no room and rm's
// goroutine should end.
func (p *realmPool) put(rm *realm) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fresh || len(p.idle) >= maxIdleRealms() {
		return false
	}
	p.idle = append(p.idle, rm)
	return true
}
