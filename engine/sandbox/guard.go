package sandbox

// Guards on the builtins whose cost one argument or one length decides. An
// interrupt stops goja between instructions, never inside a builtin, so
// "x".repeat(2**40), Array.prototype.fill over a length of 2**32-1, or a
// replace that copies the string once per match would allocate without
// limit, or spin, before the watchdog could act. Each guard checks the cost
// up front and throws a RangeError past the limit, which the source may
// catch; the originals stay out of its reach, in Go closures.
//
// What a run cannot have at all: eval and the Function constructors (their
// parser recurses once per level of nesting, and a deep enough string would
// exhaust the goroutine's stack), BigInt (2n ** 10n ** 10n allocates in one
// step), and typed arrays (new ArrayBuffer(2**33)).

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dop251/goja"

	"github.com/flowline/flowline/engine"
)

// Guard limits.
const (
	guardMaxArray  = 1 << 20 // items a builtin may walk or make
	guardMaxString = 1 << 25 // UTF-16 code units a builtin may make
	guardMaxArgs   = 1 << 16 // arguments spread by apply
	guardMaxDepth  = 1000    // nesting a builtin may recurse through

	guardMaxPattern   = 8 << 10 // characters of a regular expression made at run time
	guardMaxJSONDepth = 10000   // nesting of a text JSON.parse reads
)

// removedGlobals are left out of a run's realm.
var removedGlobals = []string{
	"ArrayBuffer", "SharedArrayBuffer", "DataView", "Atomics",
	"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
	"Int32Array", "Uint32Array", "Float16Array", "Float32Array", "Float64Array",
	"BigInt64Array", "BigUint64Array", "BigInt", "WeakRef", "FinalizationRegistry",
}

// hiddenIntrinsics reaches the prototypes syntax makes but no global names.
var hiddenIntrinsics = goja.MustCompile("intrinsics", `[
	Object.getPrototypeOf(function*(){}),
	Object.getPrototypeOf(async function(){}),
	Object.getPrototypeOf([][Symbol.iterator]()),
	Object.getPrototypeOf(""[Symbol.iterator]()),
]`, true)

// guard hardens one run's realm and holds the state its guards share.
type guard struct {
	rt         *goja.Runtime
	rangeError *goja.Object
	objToStr   goja.Callable
	stringify  goja.Callable // the original JSON.stringify
	hidden     []any         // intrinsics only syntax reaches, for lockdown
	iters      map[*goja.Object]int
	joining    []*goja.Object
	frames     []*nativeFrame
	nativeCall goja.Callable
	stopped    atomic.Bool // the run was interrupted: guards looping in Go give up
}

type nativeFrame struct {
	fn  func() error
	err error
}

func newGuard(rt *goja.Runtime) *guard {
	g := &guard{rt: rt}
	g.nativeCall, _ = goja.AssertFunction(rt.ToValue(func(goja.FunctionCall) goja.Value {
		f := g.frames[len(g.frames)-1]
		if err := f.fn(); err != nil {
			f.err = err
			panic(rt.NewGoError(err))
		}
		return goja.Undefined()
	}))
	return g
}

// check throws when the run was interrupted, so that a guard looping in Go
// hands back to the interpreter, which then stops.
func (g *guard) check() {
	if g.stopped.Load() {
		panic(g.rt.NewGoError(errors.New("interrupted")))
	}
}

// reset forgets what the guards tracked during a run.
func (g *guard) reset() {
	g.stopped.Store(false)
	g.iters = map[*goja.Object]int{}
	g.joining = nil
	g.frames = nil
}

// native runs fn as if it were a builtin called from JavaScript, so that an
// exception or interrupt raised by the JavaScript it calls (a getter, a
// toJSON) comes back as an error instead of a panic.
func (g *guard) native(fn func() error) error {
	f := &nativeFrame{fn: fn}
	g.frames = append(g.frames, f)
	defer func() { g.frames = g.frames[:len(g.frames)-1] }()
	_, err := g.nativeCall(goja.Undefined())
	if f.err != nil {
		return f.err
	}
	return err
}

// throwRange throws a RangeError from inside a guard.
func (g *guard) throwRange(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if g.rangeError != nil {
		if o, err := g.rt.New(g.rangeError, g.rt.ToValue(msg)); err == nil {
			panic(o)
		}
	}
	panic(g.rt.NewGoError(errors.New(msg)))
}

// rethrow passes on what a call of an original builtin threw.
func rethrow(err error) {
	if err != nil {
		panic(err)
	}
}

func (g *guard) harden() error {
	rt := g.rt
	global := rt.GlobalObject()
	g.rangeError = global.Get("RangeError").(*goja.Object)
	objectProto := global.Get("Object").(*goja.Object).Get("prototype").(*goja.Object)
	g.objToStr, _ = goja.AssertFunction(objectProto.Get("toString"))
	hidden, err := rt.RunProgram(hiddenIntrinsics)
	if err != nil {
		return err
	}
	hiddenObj := hidden.(*goja.Object)
	genFnProto := hiddenObj.Get("0").(*goja.Object)
	asyncFnProto := hiddenObj.Get("1").(*goja.Object)
	arrayIterProto := hiddenObj.Get("2").(*goja.Object)
	stringIterProto := hiddenObj.Get("3").(*goja.Object)
	g.hidden = []any{genFnProto, asyncFnProto, arrayIterProto, stringIterProto}

	for _, name := range removedGlobals {
		_ = global.Delete(name)
	}

	// No eval, no Function constructors: throwers that keep instanceof
	// Function working.
	thrower := func(what string) *goja.Object {
		return rt.ToValue(func(goja.FunctionCall) goja.Value {
			panic(rt.NewTypeError(what + " is not available in code.js"))
		}).(*goja.Object)
	}
	function := global.Get("Function").(*goja.Object)
	fnProto := function.Get("prototype").(*goja.Object)
	noFunction := thrower("the Function constructor")
	_ = noFunction.DefineDataProperty("prototype", fnProto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	setHidden(global, "Function", noFunction)
	setHidden(fnProto, "constructor", noFunction)
	setHidden(genFnProto, "constructor", thrower("the GeneratorFunction constructor"))
	setHidden(asyncFnProto, "constructor", thrower("the AsyncFunction constructor"))
	setHidden(global, "eval", thrower("eval"))

	// Array.prototype: every method walks up to this.length.
	array := global.Get("Array").(*goja.Object)
	arrayProto := array.Get("prototype").(*goja.Object)
	for _, name := range arrayProto.GetOwnPropertyNames() {
		if name == "constructor" {
			continue
		}
		orig, ok := goja.AssertFunction(arrayProto.Get(name))
		if !ok {
			continue
		}
		var fn func(goja.FunctionCall) goja.Value
		switch name {
		case "join":
			fn = g.join
		case "toString":
			fn = g.arrayToString
		case "toLocaleString":
			fn = g.toLocaleString
		case "flat":
			fn = g.flat(orig)
		case "concat":
			fn = g.concat(orig)
		default:
			fn = g.lengthChecked(orig)
		}
		setHidden(arrayProto, name, rt.ToValue(fn))
	}
	values, _ := goja.AssertFunction(arrayProto.GetSymbol(goja.SymIterator))
	_ = arrayProto.DefineDataPropertySymbol(goja.SymIterator, rt.ToValue(g.lengthChecked(values)), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	g.iters = map[*goja.Object]int{}
	g.countSteps(arrayIterProto)
	g.countSteps(stringIterProto)
	from, _ := goja.AssertFunction(array.Get("from"))
	setHidden(array, "from", rt.ToValue(func(c goja.FunctionCall) goja.Value {
		if o, ok := c.Argument(0).(*goja.Object); ok {
			g.checkLength(o)
		} else if s, ok := c.Argument(0).(goja.String); ok && s.Length() > guardMaxArray {
			g.throwRange("code.js allows lists of at most %d items", guardMaxArray)
		}
		res, err := from(c.This, c.Arguments...)
		rethrow(err)
		return res
	}))

	// apply and its kin turn an array-like into arguments.
	g.argsChecked(fnProto, "apply", 1)
	reflect := global.Get("Reflect").(*goja.Object)
	g.argsChecked(reflect, "apply", 2)
	g.argsChecked(reflect, "construct", 1)

	// Strings a single call could make without limit.
	stringCtor := global.Get("String").(*goja.Object)
	stringProto := stringCtor.Get("prototype").(*goja.Object)
	g.wrap(stringProto, "repeat", func(orig goja.Callable, c goja.FunctionCall) goja.Value {
		s := g.thisString(c.This)
		n := c.Argument(0).ToFloat()
		if n > 0 && float64(s.Length())*math.Trunc(n) > guardMaxString {
			g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
		}
		res, err := orig(s, c.Arguments...)
		rethrow(err)
		return res
	})
	for _, name := range []string{"padStart", "padEnd"} {
		g.wrap(stringProto, name, func(orig goja.Callable, c goja.FunctionCall) goja.Value {
			s := g.thisString(c.This)
			if c.Argument(0).ToFloat() > guardMaxString {
				g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
			}
			res, err := orig(s, c.Arguments...)
			rethrow(err)
			return res
		})
	}
	g.wrap(stringProto, "concat", func(orig goja.Callable, c goja.FunctionCall) goja.Value {
		s := g.thisString(c.This)
		total := float64(s.Length())
		args := make([]goja.Value, len(c.Arguments))
		for i, a := range c.Arguments {
			str := g.str(a)
			args[i] = str
			total += float64(str.Length())
		}
		if total > guardMaxString {
			g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
		}
		res, err := orig(s, args...)
		rethrow(err)
		return res
	})
	for _, name := range []string{"replace", "replaceAll"} {
		all := name == "replaceAll"
		g.wrap(stringProto, name, func(orig goja.Callable, c goja.FunctionCall) goja.Value {
			s := g.thisString(c.This)
			pattern := c.Argument(0)
			_, isRegexp := pattern.(*goja.Object)
			occurrences := -1 // unknown
			if !isRegexp {
				p := g.str(pattern)
				pattern = p
				switch {
				case !all:
					occurrences = 1
				case p.Length() == 0:
					occurrences = s.Length() + 1
				default:
					occurrences = strings.Count(s.String(), p.String())
				}
			}
			repl := g.replacement(s, c.Argument(1), occurrences)
			res, err := orig(s, pattern, repl)
			rethrow(err)
			return res
		})
	}
	g.wrap(stringProto, "split", func(orig goja.Callable, c goja.FunctionCall) goja.Value {
		return g.split(orig, g.thisString(c.This), c.Argument(0), c.Argument(1))
	})
	raw, _ := goja.AssertFunction(stringCtor.Get("raw"))
	setHidden(stringCtor, "raw", rt.ToValue(func(c goja.FunctionCall) goja.Value {
		args := c.Arguments
		if o, ok := c.Argument(0).(*goja.Object); ok {
			if r, ok := o.Get("raw").(*goja.Object); ok {
				n := g.checkLength(r)
				total := 0.0
				for i := int64(0); i < n; i++ {
					total += float64(g.str(r.Get(strconv.FormatInt(i, 10))).Length())
				}
				args = append([]goja.Value{o}, make([]goja.Value, len(c.Arguments)-1)...)
				for i, sub := range c.Arguments[1:] {
					if int64(i) < n-1 {
						str := g.str(sub)
						total += float64(str.Length())
						args[i+1] = str
					} else {
						args[i+1] = sub
					}
				}
				if total > guardMaxString {
					g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
				}
			}
		}
		res, err := raw(c.This, args...)
		rethrow(err)
		return res
	}))
	regexpProto := global.Get("RegExp").(*goja.Object).Get("prototype").(*goja.Object)
	if orig, ok := goja.AssertFunction(regexpProto.GetSymbol(goja.SymReplace)); ok {
		_ = regexpProto.DefineDataPropertySymbol(goja.SymReplace, rt.ToValue(func(c goja.FunctionCall) goja.Value {
			s := g.str(c.Argument(0))
			repl := g.replacement(s, c.Argument(1), -1)
			res, err := orig(c.This, s, repl)
			rethrow(err)
			return res
		}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	if orig, ok := goja.AssertFunction(regexpProto.GetSymbol(goja.SymSplit)); ok {
		_ = regexpProto.DefineDataPropertySymbol(goja.SymSplit, rt.ToValue(func(c goja.FunctionCall) goja.Value {
			s := g.str(c.Argument(0))
			limit := c.Argument(1)
			if goja.IsUndefined(limit) || limit.ToFloat() > guardMaxArray+1 {
				limit = rt.ToValue(guardMaxArray + 1)
			}
			res, err := orig(c.This, s, limit)
			rethrow(err)
			if o, ok := res.(*goja.Object); ok && o.Get("length").ToInteger() > guardMaxArray {
				g.throwRange("code.js allows lists of at most %d items", guardMaxArray)
			}
			return res
		}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}

	// Compiling a regular expression takes time that grows faster than its
	// length and cannot be interrupted; so does JSON.parse's recursion,
	// once per level of nesting, with the goroutine's stack.
	regexpCtor := global.Get("RegExp").(*goja.Object)
	construct, _ := goja.AssertConstructor(regexpCtor)
	regexpWrapper := rt.ToValue(func(c goja.ConstructorCall) *goja.Object {
		args := c.Arguments
		if len(args) > 0 {
			if o, ok := args[0].(*goja.Object); !ok || o.ClassName() != "RegExp" {
				args = append([]goja.Value{g.pattern(args[0])}, args[1:]...)
			}
		}
		o, err := construct(c.NewTarget, args...)
		rethrow(err)
		return o
	}).(*goja.Object)
	_ = regexpWrapper.DefineDataProperty("prototype", regexpProto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	regexpProxy := regexpWrapper
	setHidden(global, "RegExp", regexpProxy)
	setHidden(regexpProto, "constructor", regexpProxy)
	for _, name := range []string{"match", "matchAll", "search"} {
		g.wrap(stringProto, name, func(orig goja.Callable, c goja.FunctionCall) goja.Value {
			s := g.thisString(c.This)
			args := c.Arguments
			if len(args) > 0 {
				if _, isObj := args[0].(*goja.Object); !isObj && !goja.IsUndefined(args[0]) && !goja.IsNull(args[0]) {
					args = append([]goja.Value{g.pattern(args[0])}, args[1:]...)
				}
			}
			res, err := orig(s, args...)
			rethrow(err)
			return res
		})
	}
	g.wrap(jsonObjFor(global), "parse", func(orig goja.Callable, c goja.FunctionCall) goja.Value {
		text := g.str(c.Argument(0))
		if d := engine.JSONDepth([]byte(text.String())); d > guardMaxJSONDepth {
			g.throwRange("code.js parses JSON nested at most %d deep; this text nests %d", guardMaxJSONDepth, d)
		}
		res, err := orig(c.This, append([]goja.Value{text}, c.Arguments[min(1, len(c.Arguments)):]...)...)
		rethrow(err)
		return res
	})

	// JSON.stringify walks a structure that may share parts (a DAG whose
	// text is exponential) or nest deeply (goja checks for cycles at every
	// level, so deep nesting costs the square of the depth). A replacer
	// counts what it sees and how deep.
	jsonObj := global.Get("JSON").(*goja.Object)
	g.stringify, _ = goja.AssertFunction(jsonObj.Get("stringify"))
	setHidden(jsonObj, "stringify", rt.ToValue(func(c goja.FunctionCall) goja.Value {
		return g.safeStringify(c.Argument(0), c.Argument(1), c.Argument(2))
	}))
	return nil
}

func jsonObjFor(global *goja.Object) *goja.Object { return global.Get("JSON").(*goja.Object) }

// pattern is the source of a regular expression made from a string,
// refused past guardMaxPattern.
func (g *guard) pattern(v goja.Value) goja.Value {
	if goja.IsUndefined(v) {
		return v
	}
	s := g.str(v)
	if s.Length() > guardMaxPattern {
		g.throwRange("code.js compiles regular expressions of at most %d characters; this one has %d", guardMaxPattern, s.Length())
	}
	return s
}

// setHidden defines a non-enumerable, writable, configurable property, as
// builtins are.
func setHidden(o *goja.Object, name string, v goja.Value) {
	_ = o.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// wrap replaces o[name] with fn, which gets the original.
func (g *guard) wrap(o *goja.Object, name string, fn func(orig goja.Callable, c goja.FunctionCall) goja.Value) {
	orig, ok := goja.AssertFunction(o.Get(name))
	if !ok {
		return
	}
	setHidden(o, name, g.rt.ToValue(func(c goja.FunctionCall) goja.Value { return fn(orig, c) }))
}

// length is ToLength(o.length), refused past guardMaxArray.
func (g *guard) checkLength(o *goja.Object) int64 {
	n := o.Get("length")
	if n == nil {
		return 0
	}
	f := n.ToFloat()
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	if f > guardMaxArray {
		g.throwRange("code.js allows lists of at most %d items; this one has %.0f", guardMaxArray, math.Min(f, 1<<53-1))
	}
	return int64(f)
}

func (g *guard) lengthChecked(orig goja.Callable) func(goja.FunctionCall) goja.Value {
	return func(c goja.FunctionCall) goja.Value {
		g.check()
		g.checkLength(c.This.ToObject(g.rt))
		res, err := orig(c.This, c.Arguments...)
		rethrow(err)
		return res
	}
}

// countSteps bounds how many items an iterator of this prototype yields:
// spreading an array runs its iterator in Go, out of an interrupt's reach.
func (g *guard) countSteps(proto *goja.Object) {
	g.wrap(proto, "next", func(orig goja.Callable, c goja.FunctionCall) goja.Value {
		g.check()
		if o, ok := c.This.(*goja.Object); ok {
			g.iters[o]++
			if g.iters[o] > guardMaxArray+1 {
				g.throwRange("code.js allows iterating at most %d items", guardMaxArray)
			}
		}
		res, err := orig(c.This, c.Arguments...)
		rethrow(err)
		return res
	})
}

// argsChecked bounds the array-like argument at index i of o[name].
func (g *guard) argsChecked(o *goja.Object, name string, i int) {
	g.wrap(o, name, func(orig goja.Callable, c goja.FunctionCall) goja.Value {
		if a, ok := c.Argument(i).(*goja.Object); ok {
			if n := a.Get("length"); n != nil && n.ToFloat() > guardMaxArgs {
				g.throwRange("code.js allows at most %d arguments in a call", guardMaxArgs)
			}
		}
		res, err := orig(c.This, c.Arguments...)
		rethrow(err)
		return res
	})
}

// str is ToString(v) as a goja string: goja's Value.ToString leaves
// numbers and other primitives as they are.
func (g *guard) str(v goja.Value) goja.String {
	if o, ok := v.(*goja.Object); ok {
		v = o.ToString()
	}
	switch s := v.(type) {
	case goja.String:
		return s
	case *goja.Symbol:
		panic(g.rt.NewTypeError("cannot convert a Symbol to a string"))
	case nil:
		return g.rt.ToValue("undefined").(goja.String)
	}
	return g.rt.ToValue(v.String()).(goja.String)
}

func (g *guard) thisString(this goja.Value) goja.String {
	if this == nil || goja.IsUndefined(this) || goja.IsNull(this) {
		panic(g.rt.NewTypeError("String.prototype method called on null or undefined"))
	}
	return g.str(this)
}

// replacement bounds what replacing in s can make. occurrences is how many
// matches there are, or -1 when unknown (a regular expression): then every
// position may match. A function replacement is wrapped to count what it
// returns.
func (g *guard) replacement(s goja.String, repl goja.Value, occurrences int) goja.Value {
	n := float64(s.Length())
	occ := float64(occurrences)
	if occurrences < 0 {
		occ = n + 1
	}
	if fn, ok := goja.AssertFunction(repl); ok {
		total := n
		return g.rt.ToValue(func(c goja.FunctionCall) goja.Value {
			g.check()
			res, err := fn(c.This, c.Arguments...)
			rethrow(err)
			str := g.str(res)
			total += float64(str.Length())
			if total > guardMaxString {
				g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
			}
			return str
		})
	}
	r := g.str(repl)
	text := r.String()
	// $` and $' insert a prefix or suffix of s per match; $&, $1 and $<name>
	// insert matches, which together are at most s.
	affixes := float64(strings.Count(text, "$`") + strings.Count(text, "$'"))
	groups := float64(strings.Count(text, "$") - int(affixes))
	bound := n + occ*float64(r.Length()) + groups*n + affixes*occ*n
	if bound > guardMaxString {
		g.throwRange("replacing here could make a string of %.0f characters; code.js allows at most %d", bound, guardMaxString)
	}
	return r
}

// split passes a limit so that no more than the allowed items are made.
func (g *guard) split(orig goja.Callable, s goja.String, sep, limit goja.Value) goja.Value {
	userLimit := !goja.IsUndefined(limit)
	if !userLimit || limit.ToFloat() > guardMaxArray+1 {
		limit = g.rt.ToValue(guardMaxArray + 1)
	}
	res, err := orig(s, sep, limit)
	rethrow(err)
	if o, ok := res.(*goja.Object); ok && o.Get("length").ToInteger() > guardMaxArray {
		g.throwRange("code.js allows lists of at most %d items", guardMaxArray)
	}
	return res
}

// join is Array.prototype.join with the size of its result bounded, and
// cycles joined as "" as other engines do.
func (g *guard) join(c goja.FunctionCall) goja.Value {
	return g.joinWith(c.This.ToObject(g.rt), c.Argument(0), false)
}

func (g *guard) toLocaleString(c goja.FunctionCall) goja.Value {
	return g.joinWith(c.This.ToObject(g.rt), goja.Undefined(), true)
}

func (g *guard) joinWith(o *goja.Object, sepArg goja.Value, locale bool) goja.Value {
	n := g.checkLength(o)
	for _, j := range g.joining {
		if j == o {
			return g.rt.ToValue("")
		}
	}
	if len(g.joining) >= guardMaxDepth {
		g.throwRange("code.js joins lists nested at most %d deep", guardMaxDepth)
	}
	g.joining = append(g.joining, o)
	defer func() { g.joining = g.joining[:len(g.joining)-1] }()
	var sep goja.String = g.rt.ToValue(",").(goja.String)
	if !goja.IsUndefined(sepArg) {
		sep = g.str(sepArg)
	}
	var b goja.StringBuilder
	total := 0
	for i := int64(0); i < n; i++ {
		if i&1023 == 0 {
			g.check()
		}
		if i > 0 {
			b.WriteString(sep)
			total += sep.Length()
		}
		el := o.Get(strconv.FormatInt(i, 10))
		if el == nil || goja.IsUndefined(el) || goja.IsNull(el) {
			continue
		}
		var s goja.String
		if locale {
			eo := el.ToObject(g.rt)
			fn, ok := goja.AssertFunction(eo.Get("toLocaleString"))
			if !ok {
				panic(g.rt.NewTypeError("toLocaleString is not a function"))
			}
			res, err := fn(el)
			rethrow(err)
			s = g.str(res)
		} else {
			s = g.str(el)
		}
		total += s.Length()
		if total > guardMaxString {
			g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
		}
		b.WriteString(s)
	}
	if total > guardMaxString {
		g.throwRange("code.js allows strings of at most %d characters", guardMaxString)
	}
	return b.String()
}

// arrayToString is Array.prototype.toString: this.join() when there is one.
func (g *guard) arrayToString(c goja.FunctionCall) goja.Value {
	o := c.This.ToObject(g.rt)
	if fn, ok := goja.AssertFunction(o.Get("join")); ok {
		res, err := fn(o)
		rethrow(err)
		return res
	}
	res, err := g.objToStr(o)
	rethrow(err)
	return res
}

// flat counts what it would make before making it.
func (g *guard) flat(orig goja.Callable) func(goja.FunctionCall) goja.Value {
	return func(c goja.FunctionCall) goja.Value {
		o := c.This.ToObject(g.rt)
		depth := 1.0
		if d := c.Argument(0); !goja.IsUndefined(d) {
			depth = d.ToFloat()
			if math.IsNaN(depth) {
				depth = 0
			}
		}
		budget := guardMaxArray
		g.flatCount(o, depth, 0, &budget)
		res, err := orig(c.This, c.Arguments...)
		rethrow(err)
		return res
	}
}

func (g *guard) flatCount(o *goja.Object, depth float64, level int, budget *int) {
	n := g.checkLength(o)
	for i := int64(0); i < n; i++ {
		if i&1023 == 0 {
			g.check()
		}
		*budget--
		if *budget < 0 {
			g.throwRange("code.js allows lists of at most %d items", guardMaxArray)
		}
		if depth < 1 {
			continue
		}
		if el, ok := o.Get(strconv.FormatInt(i, 10)).(*goja.Object); ok && el.ClassName() == "Array" {
			if level >= guardMaxDepth {
				g.throwRange("code.js flattens lists nested at most %d deep", guardMaxDepth)
			}
			g.flatCount(el, depth-1, level+1, budget)
		}
	}
}

// concat adds up the lengths first.
func (g *guard) concat(orig goja.Callable) func(goja.FunctionCall) goja.Value {
	return func(c goja.FunctionCall) goja.Value {
		total := g.checkLength(c.This.ToObject(g.rt))
		for _, a := range c.Arguments {
			if o, ok := a.(*goja.Object); ok && o.ClassName() == "Array" {
				total += g.checkLength(o)
			} else {
				total++
			}
			if total > guardMaxArray {
				g.throwRange("code.js allows lists of at most %d items", guardMaxArray)
			}
		}
		res, err := orig(c.This, c.Arguments...)
		rethrow(err)
		return res
	}
}

// safeStringify is JSON.stringify with a replacer that bounds the values
// it visits, their text and their depth. A replacer function of the
// source's own is called from it; a replacer list is kept as is.
func (g *guard) safeStringify(value, replacer, space goja.Value) goja.Value {
	if r, ok := replacer.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(r); !isFn {
			// A property list: goja filters by it; bound the list itself.
			g.checkLength(r)
			res, err := g.stringify(goja.Undefined(), value, replacer, space)
			rethrow(err)
			return res
		}
	}
	user, hasUser := goja.AssertFunction(replacer)
	indent := 0.0
	if s, ok := space.(goja.String); ok {
		indent = math.Min(float64(s.Length()), 10)
	} else if !goja.IsUndefined(space) && !goja.IsNull(space) {
		indent = math.Max(0, math.Min(space.ToFloat(), 10))
	}
	var stack []goja.Value // the holders from the root down
	var last goja.Value
	values, chars := 0, 0.0
	counter := g.rt.ToValue(func(c goja.FunctionCall) goja.Value {
		g.check()
		holder, key, v := c.This, c.Argument(0), c.Argument(1)
		if hasUser {
			res, err := user(holder, key, v)
			rethrow(err)
			v = res
		}
		// Keep the chain of holders: a holder is the value returned just
		// before (one level down) or one already on the chain.
		switch {
		case len(stack) > 0 && stack[len(stack)-1] == holder:
		case last != nil && last == holder:
			stack = append(stack, holder)
		default:
			for len(stack) > 0 && stack[len(stack)-1] != holder {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 {
				stack = append(stack, holder)
			}
		}
		if len(stack) > guardMaxDepth {
			g.throwRange("code.js converts to JSON values nested at most %d deep", guardMaxDepth)
		}
		values++
		chars += float64(g.str(key).Length()) + 4 + indent*float64(len(stack))
		if s, ok := v.(goja.String); ok {
			chars += float64(s.Length())
		} else if !goja.IsUndefined(v) && !goja.IsNull(v) {
			chars += 8
		}
		if values > guardMaxArray || chars > guardMaxString {
			g.throwRange("the JSON text would be too large: code.js allows at most %d characters", guardMaxString)
		}
		if o, ok := v.(*goja.Object); ok {
			last = o
		} else {
			last = nil
		}
		return v
	})
	res, err := g.stringify(goja.Undefined(), value, counter, space)
	rethrow(err)
	return res
}

// logText renders a logged value: a string as it is, an Error as its name
// and message, anything else as JSON (or its String when JSON has none).
func (g *guard) logText(v goja.Value) string {
	if s, ok := v.(goja.String); ok {
		return s.String()
	}
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		if o.ClassName() == "Error" {
			return o.String()
		}
		if _, isFn := goja.AssertFunction(o); isFn {
			return o.String()
		}
	}
	res := g.safeStringify(v, goja.Undefined(), goja.Undefined())
	if goja.IsUndefined(res) {
		return v.String()
	}
	return res.String()
}
