package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	stdruntime "runtime"
	"sync"

	"github.com/dop251/goja"
	"github.com/expr-lang/expr/vm"

	"github.com/flowline/flowline/flow"
)

// JSProgram is a JS bundle loaded into the host. The bundle is compiled once;
// each concurrent request gets its own goja runtime from a pool, since a goja
// runtime is not safe for concurrent use.
type JSProgram struct {
	prog *goja.Program
	pool chan *jsVM

	exprOnce sync.Once
	exprs    []*vm.Program
	exprErr  error

	prepOnce sync.Once
	prepared []any // what $.prepare lists: *HTTPCall, *Code, *Query, *Schema
	prepErr  error
}

// LoadJS compiles a bundle's source and runs it once to catch load errors
// (a bad expression, a syntax error) before the first request.
func LoadJS(name string, src []byte) (*JSProgram, error) {
	prog, err := goja.Compile(name, string(src), true)
	if err != nil {
		return nil, fmt.Errorf("compile bundle %s: %w", name, err)
	}
	p := &JSProgram{prog: prog, pool: make(chan *jsVM, 4*stdruntime.GOMAXPROCS(0))}
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
	p      *JSProgram
	x      *Exec // the request being served

	mu     sync.Mutex // guards active against a deadline firing late
	active bool
}

func (p *JSProgram) newVM() (*jsVM, error) {
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

func (p *JSProgram) get() (*jsVM, error) {
	select {
	case v := <-p.pool:
		return v, nil
	default:
		return p.newVM()
	}
}

func (p *JSProgram) put(v *jsVM) {
	select {
	case p.pool <- v:
	default: // the pool is full; let this one go
	}
}

// Run runs the bundle's handle function for one request.
func (p *JSProgram) Run(x *Exec) {
	v, err := p.get()
	if err != nil {
		x.Fail(fmt.Errorf("start JavaScript runtime: %w", err), false)
		return
	}
	v.x = x
	v.mu.Lock()
	v.active = true
	v.mu.Unlock()
	stop := context.AfterFunc(x.ctx, func() {
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
			x.Fail(&NodeError{Kind: KindDeadline, Err: errors.New("deadline")}, false)
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
		v.x.lastErr = err
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
		err := v.x.lastErr
		v.x.lastErr = nil
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
		msg := LogText(export(c.Argument(1)))
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
			v.p.prepared = make([]any, len(entries))
			for i, e := range entries {
				if len(e) != 3 {
					v.p.prepErr = fmt.Errorf("prepared settings %d: want [kind, node, settings]", i)
					return
				}
				p, err := Prepare(e[0], []byte(e[2]))
				if err != nil {
					v.p.prepErr = fmt.Errorf("node %s: %w", e[1], err)
					return
				}
				v.p.prepared[i] = p
			}
		})
		return goja.Undefined()
	})
	prepared := func(c goja.FunctionCall) any {
		i := int(c.Argument(0).ToInteger())
		if i < 0 || i >= len(v.p.prepared) {
			throw(fmt.Errorf("no prepared settings %d in this bundle", i))
		}
		return v.p.prepared[i]
	}
	set("http", func(c goja.FunctionCall) goja.Value {
		call, ok := prepared(c).(*HTTPCall)
		if !ok {
			return throw(errors.New("$.http: the settings are not an http.request's"))
		}
		out, err := v.x.HTTPRequest(call, export(c.Argument(1)), pairs(c.Argument(2)), export(c.Argument(3)))
		if err != nil {
			return throw(err)
		}
		return rt.ToValue(out)
	})
	set("code", func(c goja.FunctionCall) goja.Value {
		code, ok := prepared(c).(*Code)
		if !ok {
			return throw(errors.New("$.code: the settings are not a code.js node's"))
		}
		out, err := v.x.RunCode(code)
		if err != nil {
			return throw(err)
		}
		return rt.ToValue(out)
	})
	set("query", func(c goja.FunctionCall) goja.Value {
		q, ok := prepared(c).(*Query)
		if !ok {
			return throw(errors.New("$.query: the settings are not a db.query's"))
		}
		var params []any
		if a := c.Argument(1); !goja.IsUndefined(a) && !goja.IsNull(a) {
			params, _ = a.Export().([]any)
		}
		out, err := v.x.Query(q, params)
		if err != nil {
			return throw(err)
		}
		return rt.ToValue(out)
	})
	set("validate", func(c goja.FunctionCall) goja.Value {
		s, ok := prepared(c).(*Schema)
		if !ok {
			return throw(errors.New("$.validate: the settings are not a validate node's"))
		}
		invalid, err := v.x.Validate(s, export(c.Argument(1)))
		if err != nil {
			return throw(err)
		}
		if invalid == nil {
			return goja.Null()
		}
		return rt.ToValue(invalid)
	})
	set("invalid", func(c goja.FunctionCall) goja.Value {
		out, _ := export(c.Argument(0)).(map[string]any)
		v.x.RespondInvalid(out)
		return goja.Undefined()
	})
	set("respond", func(c goja.FunctionCall) goja.Value {
		status, err := StatusCode(export(c.Argument(0)))
		if err != nil {
			return throw(err)
		}
		v.x.Respond(status, Headers(pairs(c.Argument(1))), export(c.Argument(2)))
		return goja.Undefined()
	})
	return o
}

// pairs reads the [[name, value], ...] list the generated code passes for
// headers; null gives none.
func pairs(h goja.Value) [][2]any {
	if h == nil || goja.IsNull(h) || goja.IsUndefined(h) {
		return nil
	}
	list, _ := h.Export().([]any)
	out := make([][2]any, 0, len(list))
	for _, p := range list {
		if kv, ok := p.([]any); ok && len(kv) == 2 {
			out = append(out, [2]any{kv[0], kv[1]})
		}
	}
	return out
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

// StatusCode checks a response status given as a number.
func StatusCode(v any) (int, error) {
	var n float64
	switch v := v.(type) {
	case nil:
		return http.StatusOK, nil
	case int:
		n = float64(v)
	case int64:
		n = float64(v)
	case float64:
		n = v
	default:
		return 0, fmt.Errorf("status must be a number, not %s", describe(v))
	}
	if n != float64(int(n)) || n < 100 || n > 599 {
		return 0, fmt.Errorf("status %v is not an HTTP status (100-599)", n)
	}
	return int(n), nil
}

// Headers builds response headers from name/value pairs; a nil value leaves
// the header unset, any other is converted like expr's string().
func Headers(pairs [][2]any) http.Header {
	h := http.Header{}
	for _, kv := range pairs {
		if kv[1] == nil {
			continue
		}
		h.Add(String(kv[0]), String(kv[1]))
	}
	return h
}

// LogText renders a logged value: strings as they are, others as JSON.
func LogText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return JSONText(v)
}
