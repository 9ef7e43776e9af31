// Package jshost runs JS bundles: it compiles a bundle once, keeps a pool of
// goja runtimes with the bundle loaded, and binds the `$` object the
// generated code calls to the engine (engine.Exec) and to the node types'
// calls (engine.Call), which it is given by value (Bindings). It is the
// process behind every JS instance (`flowline host`) and every designer
// test run.
package jshost

import (
	"context"
	"errors"
	"fmt"
	stdruntime "runtime"
	"sync"

	"github.com/dop251/goja"
	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// Bindings are the calls a JS bundle may prepare, by node type: what
// $.prepare lists and $.call calls (flow/nodes.Bindings gives them).
type Bindings map[string]engine.Binding

// Program is a JS bundle loaded into the host. The bundle is compiled once;
// each concurrent request gets its own goja runtime from a pool, since a goja
// runtime is not safe for concurrent use.
type Program struct {
	prog *goja.Program
	pool chan *jsVM

	exprOnce sync.Once
	exprs    []*vm.Program
	exprErr  error

	bindings Bindings
	prepOnce sync.Once
	prepared []engine.Call // what $.prepare lists, in order
	prepErr  error
}

// LoadProgram compiles a bundle's source and runs it once to catch load
// errors (a bad expression, a syntax error, settings a binding refuses)
// before the first request.
func LoadProgram(name string, src []byte, b Bindings) (*Program, error) {
	prog, err := goja.Compile(name, string(src), true)
	if err != nil {
		return nil, fmt.Errorf("compile bundle %s: %w", name, err)
	}
	p := &Program{prog: prog, bindings: b, pool: make(chan *jsVM, 4*stdruntime.GOMAXPROCS(0))}
	v, err := p.newVM()
	if err != nil {
		return nil, fmt.Errorf("load bundle %s: %w", name, err)
	}
	p.pool <- v
	return p, nil
}

// jsVM is one goja runtime with the bundle loaded and the host object bound.
type jsVM struct {
	rt     *goja.Runtime
	handle goja.Callable
	p      *Program
	x      *engine.Exec // the request being served
	// lastErr is the error a host call is failing with: $.fail reads it
	// for the node's message, which a JS exception would garble.
	lastErr error

	mu     sync.Mutex // guards active against a deadline firing late
	active bool
}

func (p *Program) newVM() (*jsVM, error) {
	v := &jsVM{rt: goja.New(), p: p}
	if err := v.rt.Set("$", v.hostObject()); err != nil {
		return nil, err
	}
	if _, err := v.rt.RunProgram(p.prog); err != nil {
		return nil, err
	}
	if p.exprErr != nil {
		return nil, p.exprErr
	}
	if p.prepErr != nil {
		return nil, p.prepErr
	}
	h, ok := goja.AssertFunction(v.rt.Get("handle"))
	if !ok {
		return nil, errors.New("bundle defines no handle function")
	}
	v.handle = h
	return v, nil
}

func (p *Program) get() (*jsVM, error) {
	select {
	case v := <-p.pool:
		return v, nil
	default:
		return p.newVM()
	}
}

func (p *Program) put(v *jsVM) {
	select {
	case p.pool <- v:
	default: // the pool is full; let this one go
	}
}

// Run runs the bundle's handle function for one request.
func (p *Program) Run(x *engine.Exec) {
	v, err := p.get()
	if err != nil {
		x.Fail(fmt.Errorf("start JavaScript runtime: %w", err), false)
		return
	}
	v.x = x
	v.mu.Lock()
	v.active = true
	v.mu.Unlock()
	stop := context.AfterFunc(x.Context(), func() {
		v.mu.Lock()
		if v.active {
			v.rt.Interrupt("request deadline passed")
		}
		v.mu.Unlock()
	})
	_, err = v.handle(goja.Undefined())
	stop()
	v.mu.Lock()
	v.active = false
	v.mu.Unlock()
	v.rt.ClearInterrupt()
	v.x = nil
	if err != nil && !x.Responded() {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			x.Fail(&engine.NodeError{Kind: engine.KindDeadline, Err: errors.New("deadline")}, false)
		} else {
			x.Fail(fmt.Errorf("bundle error: %w", err), false)
		}
		// A runtime that failed outside a node may hold broken state.
		return
	}
	p.put(v)
}

// hostObject is the `$` the generated code calls. Every function is bound to
// the runtime's current request.
func (v *jsVM) hostObject() *goja.Object {
	rt := v.rt
	o := rt.NewObject()
	set := func(name string, fn func(goja.FunctionCall) goja.Value) {
		_ = o.Set(name, fn)
	}
	// throw fails the current host call; Fail reads lastErr for the message.
	throw := func(err error) goja.Value {
		v.lastErr = err
		panic(rt.NewGoError(err))
	}
	set("exprs", func(c goja.FunctionCall) goja.Value {
		v.p.exprOnce.Do(func() {
			var srcs []string
			if err := rt.ExportTo(c.Argument(0), &srcs); err != nil {
				v.p.exprErr = fmt.Errorf("expression table: %w", err)
				return
			}
			v.p.exprs = make([]*vm.Program, len(srcs))
			for i, s := range srcs {
				prog, err := flow.CompileExpr(s, false)
				if err != nil {
					v.p.exprErr = fmt.Errorf("expression %d: %w", i, err)
					return
				}
				v.p.exprs[i] = prog
			}
		})
		return goja.Undefined()
	})
	set("trigger", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(v.x.Trigger(c.Argument(0).String()))
	})
	set("begin", func(c goja.FunctionCall) goja.Value {
		v.x.Begin(c.Argument(0).String())
		return goja.Undefined()
	})
	set("end", func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(v.x.End(export(c.Argument(0)), c.Argument(1).String()))
	})
	set("fail", func(c goja.FunctionCall) goja.Value {
		err := v.lastErr
		v.lastErr = nil
		if err == nil {
			err = errors.New(jsErrorMessage(rt, c.Argument(0)))
		}
		if port, ok := v.x.Fail(err, c.Argument(1).ToBoolean()); ok {
			return rt.ToValue(port)
		}
		return goja.Null()
	})
	expr := func(c goja.FunctionCall) *vm.Program {
		i := int(c.Argument(0).ToInteger())
		if i < 0 || i >= len(v.p.exprs) {
			throw(fmt.Errorf("no expression %d in this bundle", i))
		}
		return v.p.exprs[i]
	}
	set("x", func(c goja.FunctionCall) goja.Value {
		val, err := v.x.Eval(expr(c))
		if err != nil {
			return throw(err)
		}
		return rt.ToValue(val)
	})
	set("cond", func(c goja.FunctionCall) goja.Value {
		b, err := v.x.Cond(expr(c))
		if err != nil {
			return throw(err)
		}
		return rt.ToValue(b)
	})
	set("obj", func(c goja.FunctionCall) goja.Value {
		m := make(map[string]any, len(c.Arguments)/2)
		for i := 0; i+1 < len(c.Arguments); i += 2 {
			m[c.Arguments[i].String()] = export(c.Arguments[i+1])
		}
		return rt.ToValue(m)
	})
	set("log", func(c goja.FunctionCall) goja.Value {
		msg := engine.LogText(export(c.Argument(1)))
		v.x.Log(c.Argument(0).String(), msg)
		return rt.ToValue(msg)
	})
	set("prepare", func(c goja.FunctionCall) goja.Value {
		v.p.prepOnce.Do(func() {
			var entries [][]string
			if err := rt.ExportTo(c.Argument(0), &entries); err != nil {
				v.p.prepErr = fmt.Errorf("prepared settings: %w", err)
				return
			}
			v.p.prepared = make([]engine.Call, len(entries))
			for i, e := range entries {
				if len(e) != 3 {
					v.p.prepErr = fmt.Errorf("prepared settings %d: want [type, node, settings]", i)
					return
				}
				bind, ok := v.p.bindings[e[0]]
				if !ok {
					v.p.prepErr = fmt.Errorf("node %s: this host has no node type %q to prepare", e[1], e[0])
					return
				}
				call, err := bind([]byte(e[2]))
				if err != nil {
					v.p.prepErr = fmt.Errorf("node %s: %w", e[1], err)
					return
				}
				v.p.prepared[i] = call
			}
		})
		return goja.Undefined()
	})
	// $.call(i, args...) runs prepared call i and returns [output, port].
	set("call", func(c goja.FunctionCall) goja.Value {
		i := int(c.Argument(0).ToInteger())
		if i < 0 || i >= len(v.p.prepared) {
			return throw(fmt.Errorf("no prepared call %d in this bundle", i))
		}
		if v.x.Pinned() {
			return rt.NewArray(nil, "") // End gives the pinned output
		}
		args := make([]any, len(c.Arguments)-1)
		for j := range args {
			args[j] = export(c.Arguments[j+1])
		}
		out, port, err := v.p.prepared[i].Call(v.x, args)
		if err != nil {
			return throw(err)
		}
		return rt.NewArray(out, port)
	})
	set("refuse", func(c goja.FunctionCall) goja.Value {
		status, err := engine.StatusCode(export(c.Argument(2)))
		if err != nil {
			return throw(err)
		}
		v.x.Refuse(export(c.Argument(0)), c.Argument(1).String(), status, c.Argument(3).String(), export(c.Argument(4)))
		return goja.Undefined()
	})
	set("respond", func(c goja.FunctionCall) goja.Value {
		status, err := engine.StatusCode(export(c.Argument(0)))
		if err != nil {
			return throw(err)
		}
		v.x.Respond(status, engine.Headers(engine.Pairs(export(c.Argument(1)))), export(c.Argument(2)))
		return goja.Undefined()
	})
	return o
}

// export turns a goja value into the Go value the rest of the runtime uses.
func export(v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return v.Export()
}

// jsErrorMessage is the message of a thrown value: an Error's message, or
// String(value) for anything else.
func jsErrorMessage(rt *goja.Runtime, v goja.Value) string {
	if v == nil {
		return "unknown error"
	}
	if o, ok := v.(*goja.Object); ok {
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
			if name := o.Get("name"); name != nil && !goja.IsUndefined(name) && name.String() != "Error" {
				return name.String() + ": " + m.String()
			}
			return m.String()
		}
	}
	return v.String()
}
