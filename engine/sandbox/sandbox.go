// Package sandbox is the code.js node's runtime. A code.js source is the body of a function that
// sees request, nodes, env, trace and log. It runs in a realm of its own
// (realm.go): a goja runtime that is never the bundle's, so the
// bundle's `$` host object is out of reach, and that keeps nothing between
// runs because everything a run could write to outside its own objects is
// frozen. Realms are pooled: a new one per run would cost 0.4 ms with its
// guards (10 ms frozen), a pooled one a few tens of microseconds per run
// (BenchmarkCodeRun).
//
// Limits, each failing the node, never the process:
//   - time: the node's timeout_ms and the request's deadline interrupt the
//     runtime; a run stuck inside one long builtin call, which goja cannot
//     interrupt, is abandoned after a grace period (its goroutine finishes
//     on its own, its realm is dropped) and at most maxAbandoned such runs
//     may exist at once;
//   - call depth: SetMaxCallStackSize;
//   - memory: a watchdog interrupts runs while the heap grows past
//     the flow's code.js memory budget (engine.Options.CodeMemory; mem.go), and the builtins whose cost a single
//     argument decides (repeat, padStart, join, huge array lengths, ...)
//     are guarded (guard.go);
//   - source: at most MaxSource bytes, checked to be exactly a function
//     body, with no BigInt and with template literals split so that none
//     concatenates more than two parts at once;
//   - no require, file system, process, network, eval or Function
//     constructor: goja has none of the first, the guards remove the last,
//     and the only host functions a source sees are log's.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// code.js limits and defaults.
const (
	DefaultTimeout = time.Second
	MaxTimeoutMS   = 60_000
	// MaxSource bounds a source: goja's parser recurses once per level
	// of nesting, and a source this size cannot nest deep enough to exhaust
	// a goroutine's stack, nor take long to compile.
	MaxSource = 32 << 10

	codeMaxCallStack = 1024
	codeGrace        = 500 * time.Millisecond // how long an interrupted run may take to stop
	maxAbandoned     = 8                      // runs stuck in a builtin after their grace
	codeMaxLogLines  = 1000                   // per run; more are dropped
	codeMaxLogLine   = 64 << 10               // bytes; longer lines are cut
)

// The function a source becomes. The source sits alone between the braces;
// compileCode checks that the program parses as exactly this function.
const (
	codeParams = "request, nodes, env, trace, log"
	codePrefix = "(function(" + codeParams + ") { \"use strict\";\n"
	codeSuffix = "\n})"
)

func init() {
	// goja runs regular expressions RE2 cannot (backreferences, lookaround)
	// with regexp2, a backtracking engine that an interrupt cannot stop;
	// bound each match instead. A match that times out finds nothing.
	regexp2.DefaultMatchTimeout = time.Second
}

// Spec is a code.js node's fixed settings.
type Spec struct {
	Source    string `json:"source"`
	TimeoutMS int    `json:"timeout_ms,omitempty"` // 0 means DefaultTimeout
}

// Check reports what is wrong with the settings, field by field.
func (s Spec) Check() map[string]string {
	probs := map[string]string{}
	if err := CheckSource(s.Source); err != nil {
		probs["source"] = err.Error()
	}
	if s.TimeoutMS < 0 || s.TimeoutMS > MaxTimeoutMS {
		probs["timeout_ms"] = fmt.Sprintf("timeout_ms %d must be between 1 and %d (0 or absent means %d)", s.TimeoutMS, MaxTimeoutMS, DefaultTimeout.Milliseconds())
	}
	return probs
}

// CheckSource reports why src is not a function body code.js can run,
// or nil.
func CheckSource(src string) error {
	_, err := compileCode(src)
	return err
}

// Code is a compiled code.js node.
type Code struct {
	prog    *goja.Program
	timeout time.Duration
}

// New compiles a code.js node's source, once, when its bundle loads.
func New(s Spec) (*Code, error) {
	if probs := s.Check(); len(probs) > 0 {
		return nil, fmt.Errorf("code.js: %s", engine.JoinProblems(probs))
	}
	prog, err := compileCode(s.Source)
	if err != nil {
		return nil, err
	}
	c := &Code{prog: prog, timeout: DefaultTimeout}
	if s.TimeoutMS > 0 {
		c.timeout = time.Duration(s.TimeoutMS) * time.Millisecond
	}
	return c, nil
}

// compileCode wraps src as the body of the code.js function, parses it,
// checks that the program is that one function with src exactly as its
// body (so no source, however written, changes the code around it), and
// compiles it in strict mode.
func compileCode(src string) (*goja.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("the source is empty; write the body of a function that returns the output")
	}
	if len(src) > MaxSource {
		return nil, fmt.Errorf("the source is %d bytes; at most %d", len(src), MaxSource)
	}
	if !utf8.ValidString(src) {
		return nil, errors.New("the source is not valid UTF-8")
	}
	wrapped := codePrefix + src + codeSuffix
	prg, err := parser.ParseFile(nil, "code.js", wrapped, 0)
	if err != nil {
		return nil, sourceError(err)
	}
	// file.Idx is 1-based: the braces of the function must be the prefix's
	// and the suffix's.
	leftBrace := file.Idx(strings.LastIndex(codePrefix, "{") + 1)
	rightBrace := file.Idx(len(wrapped) - 1)
	var fn *ast.FunctionLiteral
	if len(prg.Body) == 1 {
		if st, ok := prg.Body[0].(*ast.ExpressionStatement); ok {
			fn, _ = st.Expression.(*ast.FunctionLiteral)
		}
	}
	if fn == nil || fn.Body == nil || fn.Body.LeftBrace != leftBrace || fn.Body.RightBrace != rightBrace {
		return nil, errors.New("the source is not a function body: it closes the function it is written in")
	}
	if err := tameAST(reflect.ValueOf(prg.Body)); err != nil {
		return nil, err
	}
	prog, err := goja.CompileAST(prg, true)
	if err != nil {
		return nil, sourceError(err)
	}
	return prog, nil
}

// sourceError renders a parse or compile error with lines and columns of
// the source as the user wrote it.
func sourceError(err error) error {
	var list parser.ErrorList
	var one *parser.Error
	var ce *goja.CompilerSyntaxError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		one = list[0]
	case errors.As(err, &one):
	case errors.As(err, &ce):
		return fmt.Errorf("the source does not compile: %s", ce.Message)
	default:
		return fmt.Errorf("the source does not compile: %v", err)
	}
	line := one.Position.Line - 1 // the prefix is line 1
	if line < 1 {
		return fmt.Errorf("the source is not a function body: %s", one.Message)
	}
	return fmt.Errorf("the source is not a function body: line %d, column %d: %s", line, one.Position.Column, one.Message)
}

// tameAST refuses BigInt literals and splits template literals, in place.
//
// BigInt operators (2n ** 10n ** 10n) allocate without limit in one step
// that cannot be interrupted, so code.js has no BigInts at all. A template
// literal is one step that concatenates all its parts: `${s}${s}...` with a
// large s would allocate the whole result at once. Nested two at a time,
// `${`${a}${b}`}${c}`, each step makes at most twice the largest part, and
// the result is the same (ToString of a string is itself).
func tameAST(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		switch n := v.Interface().(type) {
		case *ast.NumberLiteral:
			if _, isBig := n.Value.(*big.Int); isBig {
				return errors.New("BigInt literals are not supported in code.js")
			}
			return nil
		case *ast.TemplateLiteral:
			if err := tameAST(v.Elem()); err != nil {
				return err
			}
			if n.Tag == nil && len(n.Expressions) > 1 {
				splitTemplate(n)
			}
			return nil
		}
		return tameAST(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if err := tameAST(v.Field(i)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := tameAST(v.Index(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitTemplate rewrites e0${x1}e1${x2}e2...${xk}ek as nested templates of
// at most two substitutions: T1 = e0${x1}e1, Ti = ${T(i-1)}${xi}ei.
func splitTemplate(t *ast.TemplateLiteral) {
	empty := func(at file.Idx) *ast.TemplateElement {
		return &ast.TemplateElement{Idx: at, Valid: true}
	}
	acc := &ast.TemplateLiteral{OpenQuote: t.OpenQuote, CloseQuote: t.CloseQuote,
		Elements: t.Elements[:2], Expressions: t.Expressions[:1]}
	for i := 1; i < len(t.Expressions); i++ {
		next := &ast.TemplateLiteral{OpenQuote: t.OpenQuote, CloseQuote: t.CloseQuote,
			Elements:    []*ast.TemplateElement{empty(t.OpenQuote), empty(t.OpenQuote), t.Elements[i+1]},
			Expressions: []ast.Expression{acc, t.Expressions[i]}}
		acc = next
	}
	*t = *acc
}

// Errors a run fails with.
var (
	errCodeAbandoned = errors.New("code.js did not stop after it was interrupted; its run was abandoned")
	errCodeSaturated = errors.New("code.js cannot run: too many earlier runs are stuck in long builtin calls")
	errSealed        = errors.New("the run is over")
)

// abandoned counts runs still stuck in a builtin after their grace.
var abandoned atomic.Int64

// Call runs the node (engine.Call).
func (c *Code) Call(x *engine.Exec, _ []any) (any, string, error) {
	out, err := c.Run(x)
	if err != nil {
		return nil, "", err
	}
	return out, flow.PortOut, nil
}

// Run runs a code.js node and returns its output as plain JSON data
// (undefined gives nil).
func (c *Code) Run(x *engine.Exec) (any, error) {
	if abandoned.Load() >= maxAbandoned {
		return nil, errCodeSaturated
	}
	limit := c.timeout
	if deadline, ok := x.Context().Deadline(); ok {
		limit = min(limit, time.Until(deadline))
	}
	if limit <= 0 || x.Context().Err() != nil {
		return nil, &engine.NodeError{Kind: engine.KindDeadline, Err: errors.New("no time left before the request's deadline")}
	}
	rm, err := realms.get()
	if err != nil {
		return nil, fmt.Errorf("code.js: %w", err)
	}
	r := &codeRun{x: x, code: c, limit: limit, memory: x.Flow().Options().CodeMemory, done: make(chan struct{})}
	rm.jobs <- r
	hard := time.NewTimer(limit + codeGrace)
	defer hard.Stop()
	select {
	case <-r.done:
	case <-hard.C:
		r.mu.Lock()
		select {
		case <-r.done:
			r.mu.Unlock()
		default:
			r.abandoned = true
			abandoned.Add(1)
			r.mu.Unlock()
			if x.Context().Err() != nil {
				return nil, &engine.NodeError{Kind: engine.KindDeadline, Err: errCodeAbandoned}
			}
			return nil, errCodeAbandoned
		}
	}
	if r.err != nil && x.Context().Err() != nil {
		return nil, &engine.NodeError{Kind: engine.KindDeadline, Err: r.err}
	}
	return r.out, r.err
}

// codeRun is one run of a code.js source. It runs on its realm's
// goroutine, so that a run stuck in a builtin cannot hold the request.
type codeRun struct {
	x      *engine.Exec
	code   *Code
	limit  time.Duration
	memory uint64 // bytes the heap may grow by while it runs (mem.go)
	done   chan struct{}

	mu        sync.Mutex // guards abandoned and the use of x by log
	abandoned bool
	logLines  int

	rt        *goja.Runtime
	g         *guard
	interrupt atomic.Pointer[error] // why the run was interrupted, or errSealed
	discard   bool                  // the realm must not be used again
	out       any
	err       error
}

// stop interrupts the run with reason, unless it was interrupted already
// or is over.
func (r *codeRun) stop(reason error) {
	if r.interrupt.CompareAndSwap(nil, &reason) {
		r.g.stopped.Store(true)
		r.rt.Interrupt(reason)
	}
}

// serve runs r in the realm and reports whether the realm may serve again:
// only after a run that ended on its own, neither interrupted nor failed
// with an error JavaScript cannot catch.
func (rm *realm) serve(r *codeRun) (clean bool) {
	defer func() {
		r.mu.Lock()
		if r.abandoned {
			abandoned.Add(-1)
		}
		r.mu.Unlock()
		close(r.done)
	}()
	defer func() {
		// goja turns panics inside JavaScript calls into errors; one outside
		// them is a bug, which must not take the process down.
		if p := recover(); p != nil {
			r.out, r.err = nil, fmt.Errorf("code.js: internal error: %v", p)
			clean = false
		}
	}()
	r.rt, r.g = rm.rt, rm.g
	rm.cur = r
	defer func() { rm.cur = nil }()
	rm.g.reset()
	timer := time.AfterFunc(r.limit, func() {
		if r.limit == r.code.timeout {
			r.stop(fmt.Errorf("code.js ran longer than its timeout of %v", r.code.timeout))
		} else {
			r.stop(fmt.Errorf("code.js ran longer than the %v left before the request's deadline", r.limit.Round(time.Millisecond)))
		}
	})
	defer timer.Stop()
	cancel := context.AfterFunc(r.x.Context(), func() { r.stop(errors.New("the request's deadline passed")) })
	defer cancel()
	memWatch.add(r)
	defer memWatch.remove(r)

	r.out, r.err = r.call(rm)
	sealed := r.interrupt.CompareAndSwap(nil, &errSealed)
	return sealed && !r.discard
}

// call calls the function and converts its result, under the run's limits.
func (r *codeRun) call(rm *realm) (any, error) {
	rt, g := rm.rt, rm.g
	fnVal, err := rt.RunProgram(r.code.prog)
	if err != nil {
		return nil, r.failure(err)
	}
	fn, ok := goja.AssertFunction(fnVal)
	if !ok {
		return nil, errors.New("code.js: the compiled source is not a function")
	}
	args, err := r.inputs(rm)
	if err != nil {
		return nil, r.failure(err)
	}
	res, err := fn(goja.Undefined(), args...)
	if err != nil {
		return nil, r.failure(err)
	}
	var out any
	if err := g.native(func() error {
		var err error
		out, err = exportJSON(rt, res)
		return err
	}); err != nil {
		return nil, r.failure(err)
	}
	return out, nil
}

// inputs deep-copies request, nodes (those that ran), env and trace into
// the realm, as new objects of this run.
func (r *codeRun) inputs(rm *realm) ([]goja.Value, error) {
	rt := rm.rt
	x := r.x
	var args []goja.Value
	err := rm.g.native(func() error {
		c := &toJS{rt: rt}
		req, err := c.value(x.Request(), 0)
		if err != nil {
			return fmt.Errorf("request: %w", err)
		}
		nodes := rt.NewObject()
		for _, id := range sortedKeys(x.Nodes()) {
			v, err := c.value(x.Nodes()[id], 0)
			if err != nil {
				return fmt.Errorf("nodes.%s: %w", id, err)
			}
			if err := nodes.DefineDataProperty(id, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				return err
			}
		}
		env, err := c.value(x.Env(), 0)
		if err != nil {
			return fmt.Errorf("env: %w", err)
		}
		trace, _ := c.value(map[string]any{"id": x.Trace.ID}, 0)
		args = []goja.Value{req, nodes, env, trace, rm.log}
		return nil
	})
	return args, err
}

func (r *codeRun) log(level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abandoned {
		return
	}
	r.logLines++
	switch {
	case r.logLines == codeMaxLogLines+1:
		r.x.Log("warn", fmt.Sprintf("code.js logged more than %d lines; the rest are dropped", codeMaxLogLines))
		return
	case r.logLines > codeMaxLogLines:
		return
	}
	if len(msg) > codeMaxLogLine {
		cut := codeMaxLogLine
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "… (cut)"
	}
	r.x.Log(level, msg)
}

// failure turns what a run threw into the node's error.
func (r *codeRun) failure(err error) error {
	if reason := r.interrupt.Load(); reason != nil {
		return *reason
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		if e, ok := ie.Value().(error); ok {
			return e
		}
		return errors.New("code.js was interrupted")
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		r.discard = true
		return fmt.Errorf("code.js exceeded the maximum call depth of %d", codeMaxCallStack)
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return errors.New(r.thrown(ex.Value()))
	}
	return err
}

// thrown is the message of a thrown value: an Error's message (with its
// name unless it is plain Error), or String(value) for anything else.
func (r *codeRun) thrown(v goja.Value) string {
	msg := "code.js threw a value that cannot be shown"
	_ = r.g.native(func() error {
		if o, ok := v.(*goja.Object); ok && o.ClassName() == "Error" {
			m := o.Get("message")
			text := ""
			if m != nil && !goja.IsUndefined(m) {
				text = m.String()
			}
			if n := o.Get("name"); n != nil && !goja.IsUndefined(n) && n.String() != "Error" && n.String() != "" {
				text = n.String() + ": " + text
			}
			msg = text
			return nil
		}
		if v == nil {
			msg = "undefined"
			return nil
		}
		msg = v.String()
		return nil
	})
	if len(msg) > codeMaxLogLine {
		msg = msg[:codeMaxLogLine] + "… (cut)"
	}
	return msg
}

// toJS deep-copies Go data into the realm as plain JavaScript values, so a
// source can change its copies but never the Go side. Within one run, a
// map met twice (the request is also nodes.<trigger>) becomes one object,
// as it is one map on the Go side.
type toJS struct {
	rt   *goja.Runtime
	seen map[unsafe.Pointer]goja.Value
}

func (c *toJS) value(v any, depth int) (goja.Value, error) {
	if depth > exportMaxDepth {
		return nil, errors.New("the value is nested too deeply")
	}
	switch v := v.(type) {
	case nil:
		return goja.Null(), nil
	case string, bool, float64, int, int64, int32, float32, uint, uint32, uint64:
		return c.rt.ToValue(v), nil
	case map[string]any:
		key := reflect.ValueOf(v).UnsafePointer()
		if o, ok := c.seen[key]; ok {
			return o, nil
		}
		o := c.rt.NewObject()
		for _, k := range sortedKeys(v) {
			e, err := c.value(v[k], depth+1)
			if err != nil {
				return nil, err
			}
			if err := o.DefineDataProperty(k, e, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				return nil, err
			}
		}
		if c.seen == nil {
			c.seen = map[unsafe.Pointer]goja.Value{}
		}
		c.seen[key] = o
		return o, nil
	case []any:
		items := make([]any, len(v))
		for i, e := range v {
			j, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = j
		}
		return c.rt.NewArray(items...), nil
	}
	// Anything else goes through its JSON form.
	b, err := engine.MarshalJSON(v)
	if err != nil {
		return nil, err
	}
	d, err := engine.DecodeJSON(b)
	if err != nil {
		return nil, err
	}
	return c.value(d, depth)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Output limits: what a source returns is converted to JSON data within
// these bounds.
const (
	exportMaxDepth  = 1000
	exportMaxValues = 1 << 20
	exportMaxBytes  = 32 << 20
)

// exportJSON converts a returned value as JSON.stringify would see it:
// toJSON is called, undefined, functions and symbols are left out (null in
// lists), NaN and infinities become null, a cycle is an error. Numbers are
// float64, as JSON numbers are everywhere in a flow.
func exportJSON(rt *goja.Runtime, v goja.Value) (any, error) {
	e := &exporter{rt: rt}
	out, _, err := e.value(v, goja.Undefined(), "", 0)
	return out, err
}

type exporter struct {
	rt     *goja.Runtime
	stack  []*goja.Object
	values int
	bytes  int
}

func (e *exporter) value(v goja.Value, holder goja.Value, key string, depth int) (out any, keep bool, err error) {
	e.values++
	if e.values > exportMaxValues || e.bytes > exportMaxBytes {
		return nil, false, fmt.Errorf("the output is too large (more than %d values or %d bytes)", exportMaxValues, exportMaxBytes)
	}
	if depth > exportMaxDepth {
		return nil, false, fmt.Errorf("the output is nested more than %d levels deep", exportMaxDepth)
	}
	if o, ok := v.(*goja.Object); ok {
		if tj, ok := goja.AssertFunction(o.Get("toJSON")); ok {
			nv, err := tj(o, e.rt.ToValue(key))
			if err != nil {
				return nil, false, err
			}
			v = nv
		}
	}
	if v == nil || goja.IsUndefined(v) {
		return nil, false, nil
	}
	if goja.IsNull(v) {
		return nil, true, nil
	}
	o, isObj := v.(*goja.Object)
	if !isObj {
		switch p := v.Export().(type) {
		case bool:
			return p, true, nil
		case string:
			e.bytes += len(p)
			return p, true, nil
		case int64:
			return float64(p), true, nil
		case float64:
			if math.IsNaN(p) || math.IsInf(p, 0) {
				return nil, true, nil
			}
			return p, true, nil
		case *big.Int:
			return nil, false, errors.New("a BigInt cannot be converted to JSON")
		}
		return nil, false, nil // a symbol
	}
	if _, isFn := goja.AssertFunction(o); isFn {
		return nil, false, nil
	}
	switch o.ClassName() {
	case "Number":
		return e.value(o.ToNumber(), holder, key, depth)
	case "String":
		return e.value(o.ToString(), holder, key, depth)
	case "Boolean":
		return e.value(e.rt.ToValue(o.Export()), holder, key, depth)
	}
	for _, s := range e.stack {
		if s == o {
			return nil, false, errors.New("the output refers to itself (a cycle)")
		}
	}
	e.stack = append(e.stack, o)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()
	if o.ClassName() == "Array" {
		n := o.Get("length").ToInteger()
		if n > exportMaxValues {
			return nil, false, fmt.Errorf("the output has a list of %d items; at most %d", n, exportMaxValues)
		}
		list := make([]any, 0, n)
		for i := int64(0); i < n; i++ {
			k := strconv.FormatInt(i, 10)
			item, _, err := e.value(o.Get(k), o, k, depth+1)
			if err != nil {
				return nil, false, err
			}
			list = append(list, item)
		}
		return list, true, nil
	}
	keys := o.Keys()
	m := make(map[string]any, len(keys))
	for _, k := range keys {
		item, keep, err := e.value(o.Get(k), o, k, depth+1)
		if err != nil {
			return nil, false, err
		}
		if keep {
			e.bytes += len(k)
			m[k] = item
		}
	}
	return m, true, nil
}
