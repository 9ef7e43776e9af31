package flow

import (
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/builtin"
	exprrt "github.com/expr-lang/expr/vm/runtime"
)

// The builtins that allocate in proportion to their arguments, and what
// they cost. Each cost is worked out before the builtin allocates; expr's
// own implementation then runs, so results and error messages stay expr's.

// guardedFunc is a replaced builtin: it gets the meter (nil outside an
// Exec) and the arguments, dereferenced as the compiler would have them.
type guardedFunc func(m *Meter, args []any) (any, error)

// replacedBuiltins are the builtins whose cost depends on several
// arguments at once (a string and a count, a list and a glue): the guard
// replaces their calls by calls of these.
var replacedBuiltins = map[string]guardedFunc{
	"repeat": costed("repeat", func(args []any) uint64 {
		s, ok := args[0].(string)
		if !ok || len(args) != 2 {
			return 0
		}
		n := exprrt.ToInt(args[1])
		if n < 0 {
			return 0 // expr refuses it
		}
		return mulSat(uint64(len(s)), uint64(n))
	}),
	"join": costed("join", func(args []any) uint64 {
		glue := ""
		if len(args) == 2 {
			glue, _ = args[1].(string)
		}
		var n, size uint64
		switch a := args[0].(type) {
		case []string:
			for _, s := range a {
				size += uint64(len(s))
			}
			n = uint64(len(a))
		case []any:
			for _, v := range a {
				if s, ok := v.(string); ok {
					size += uint64(len(s))
				}
			}
			n = uint64(len(a))
		}
		if n > 1 {
			size = addSat(size, mulSat(n-1, uint64(len(glue))))
		}
		return addSat(size, mulSat(n, elemBytes)) // join copies into a []string first
	}),
	"split":      costed("split", splitCost),
	"splitAfter": costed("splitAfter", splitCost),
	"replace": costed("replace", func(args []any) uint64 {
		if len(args) < 3 {
			return 0
		}
		s, _ := args[0].(string)
		old, _ := args[1].(string)
		repl, _ := args[2].(string)
		var count uint64
		if old == "" {
			count = uint64(utf8.RuneCountInString(s)) + 1
		} else {
			count = uint64(strings.Count(s, old))
		}
		if len(args) == 4 {
			if n := exprrt.ToInt(args[3]); n >= 0 && uint64(n) < count {
				count = uint64(n)
			}
		}
		return addSat(uint64(len(s)), mulSat(count, uint64(len(repl))))
	}),
	"uniq": uniq,
}

// argCosts are the builtins whose cost is the sum of what each argument
// costs: the guard wraps each argument in its check, and the builtin
// itself stays (upper keeps its allocation-free call).
var argCosts = map[string]check{
	"upper": argCost(stringCost(1)),
	"lower": argCost(stringCost(1)),
	// Base64 makes 4 bytes of 3; decoding makes fewer than it reads.
	"toBase64":   argCost(stringCost(2)),
	"fromBase64": argCost(stringCost(1)),
	"fromJSON": argCost(func(v any) uint64 {
		s, _ := v.(string)
		// A parsed value takes more room than its text: a list element is
		// an interface (16 bytes) and a boxed number, an object a map.
		var size = uint64(len(s))
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '[', ',', ':':
				size += 64
			case '{':
				size += 256
			}
		}
		return size
	}),
	"toJSON": sized(true),
	"string": sized(false),
	// What follows builds lists and maps through reflect, which boxes
	// each element it takes out (an interface and the value behind it),
	// and grows them by appending (up to twice what they hold).
	"keys":      argCost(mapCost(2 * elemBytes)),
	"values":    argCost(mapCost(2 * elemBytes)),
	"toPairs":   argCost(mapCost(4 * elemBytes)),
	"fromPairs": pairsCost,
	"reverse":   argCost(listCost(2 * elemBytes)),
	"sort":      argCost(listCost(2 * elemBytes)), // the order argument is not a list
	"concat":    argCost(listCost(3 * elemBytes)),
	"flatten":   leafCost(3 * elemBytes),
	"median":    leafCost(elemBytes),
}

// argCost is the check that charges cost(argument).
func argCost(cost func(v any) uint64) check {
	return func(m, v any) any {
		must(meterOf(m).charge(cost(deref(v))))
		return v
	}
}

// pairsCost checks fromPairs' argument: charged per pair, and printable
// when it is not a list of pairs, since expr's error spells it out.
var pairsCost check = func(m, v any) any {
	mt, x := meterOf(m), deref(v)
	r := reflect.ValueOf(x)
	if r.Kind() != reflect.Slice && r.Kind() != reflect.Array {
		must(mt.printable(x))
		return v
	}
	for i := 0; i < r.Len(); i++ {
		pair := r.Index(i)
		for pair.Kind() == reflect.Interface || pair.Kind() == reflect.Pointer {
			if pair.IsNil() {
				break
			}
			pair = pair.Elem()
		}
		if (pair.Kind() != reflect.Slice && pair.Kind() != reflect.Array) || pair.Len() != 2 {
			must(mt.printable(pair.Interface()))
			break // expr fails on the first
		}
	}
	must(mt.charge(listCost(8 * elemBytes)(x)))
	return v
}

// costed guards builtin name with a cost function of its arguments.
func costed(name string, cost func(args []any) uint64) guardedFunc {
	call := builtinCall(name)
	return func(m *Meter, args []any) (any, error) {
		if len(args) > 0 {
			if err := m.charge(cost(args)); err != nil {
				return nil, err
			}
		}
		return call(args)
	}
}

// sized is the check of a builtin that spells its argument out (toJSON,
// string()): it charges the text's size, worked out without making it.
func sized(indent bool) check {
	return func(m, v any) any {
		mt := meterOf(m)
		s := sizer{limit: mt.limitBytes(), indent: indent}
		if mt != nil {
			s.limit -= min(mt.bytes, s.limit)
		}
		if !s.value(deref(v), 0) {
			panic(s.failure(mt))
		}
		// encoding/json and fmt build their output in a buffer and copy it.
		must(mt.charge(mulSat(s.n, 2)))
		return v
	}
}

// leafCost is the check of a builtin that flattens nested lists: it
// charges per element collected, and refuses lists nested too deeply.
func leafCost(per uint64) check {
	return func(m, v any) any {
		n, err := leaves(reflect.ValueOf(deref(v)), 0)
		must(err)
		must(meterOf(m).charge(mulSat(n, per)))
		return v
	}
}

// leaves counts the elements a flattening of v collects.
func leaves(v reflect.Value, depth int) (uint64, error) {
	if depth > MaxExprDepth {
		return 0, errTooDeep
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 1, nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return 1, nil
	}
	var n uint64
	for i := 0; i < v.Len(); i++ {
		c, err := leaves(v.Index(i), depth+1)
		if err != nil {
			return 0, err
		}
		n = addSat(n, c)
	}
	return n, nil
}

func splitCost(args []any) uint64 {
	if len(args) < 2 {
		return 0
	}
	s, _ := args[0].(string)
	sep, _ := args[1].(string)
	var parts uint64
	if sep == "" {
		parts = uint64(utf8.RuneCountInString(s))
	} else {
		parts = uint64(strings.Count(s, sep)) + 1
	}
	if len(args) == 3 {
		if n := exprrt.ToInt(args[2]); n >= 0 && uint64(n) < parts {
			parts = uint64(n)
		}
	}
	// The parts share the string's bytes; each is a 16-byte header.
	return mulSat(parts, elemBytes)
}

// stringCost charges factor bytes per byte of a string.
func stringCost(factor uint64) func(v any) uint64 {
	return func(v any) uint64 {
		s, _ := v.(string)
		return mulSat(uint64(len(s)), factor)
	}
}

// mapCost charges per entry of a map.
func mapCost(per uint64) func(v any) uint64 {
	return func(v any) uint64 {
		r := reflect.ValueOf(v)
		if r.Kind() != reflect.Map {
			return 0
		}
		return mulSat(uint64(r.Len()), per)
	}
}

// listCost charges per element of a list.
func listCost(per uint64) func(v any) uint64 {
	return func(v any) uint64 {
		r := reflect.ValueOf(v)
		if r.Kind() != reflect.Slice && r.Kind() != reflect.Array {
			return 0
		}
		return mulSat(uint64(r.Len()), per)
	}
}

// builtinCall calls expr's own implementation of builtin name.
func builtinCall(name string) func(args []any) (any, error) {
	f := builtin.Builtins[builtin.Index[name]]
	switch {
	case f.Fast != nil:
		return func(args []any) (any, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("invalid number of arguments for %s (expected 1, got %d)", name, len(args))
			}
			return f.Fast(args[0]), nil
		}
	case f.Safe != nil:
		return func(args []any) (any, error) {
			out, _, err := f.Safe(args...)
			return out, err
		}
	}
	return func(args []any) (any, error) { return f.Func(args...) }
}

// uniq is expr's uniq() without its quadratic cost: lists of strings or of
// numbers of one type go through a set, and other lists count a step per
// comparison.
func uniq(m *Meter, args []any) (any, error) {
	if len(args) != 1 {
		return builtinCall("uniq")(args)
	}
	if err := m.charge(listCost(3 * elemBytes)(args[0])); err != nil {
		return nil, err
	}
	switch a := args[0].(type) {
	case []string:
		return uniqSet(a), nil
	case []int:
		return uniqSet(a), nil
	case []float64:
		return uniqSet(a), nil
	case []any:
		if out, ok := uniqAny[string](a); ok {
			return out, nil
		}
		if out, ok := uniqAny[float64](a); ok {
			return out, nil
		}
		if out, ok := uniqAny[int64](a); ok {
			return out, nil
		}
	}
	v := reflect.ValueOf(args[0])
	if v.Kind() != reflect.Array && v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("cannot uniq %s", v.Kind())
	}
	ret := []any{}
next:
	for i := 0; i < v.Len(); i++ {
		if err := m.step(uint64(len(ret))); err != nil {
			return nil, err
		}
		item := v.Index(i).Interface()
		for _, r := range ret {
			if exprrt.Equal(item, r) {
				continue next
			}
		}
		ret = append(ret, item)
	}
	return ret, nil
}

// uniqSet is uniq of a typed list: equal elements are equal Go values
// (NaN never equals itself, in a map or in runtime.Equal).
func uniqSet[T comparable](a []T) []any {
	seen := make(map[T]struct{}, len(a))
	ret := []any{}
	for _, x := range a {
		if _, ok := seen[x]; !ok {
			seen[x] = struct{}{}
			ret = append(ret, x)
		}
	}
	return ret
}

// uniqAny is uniqSet of a list whose elements are all Ts; ok is false
// when one is not.
func uniqAny[T comparable](a []any) ([]any, bool) {
	for _, x := range a {
		if _, ok := x.(T); !ok {
			return nil, false
		}
	}
	seen := make(map[T]struct{}, len(a))
	ret := []any{}
	for _, x := range a {
		k := x.(T)
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			ret = append(ret, x)
		}
	}
	return ret, true
}

// sizer works out, without making it, how long a value's text is: JSON
// as encoding/json writes it (indented by two spaces with indent, as
// toJSON does), which is also at least as long as fmt's %v. It stops as
// soon as the text passes limit, so a list holding one big value a
// million times costs little to measure.
type sizer struct {
	limit, n uint64
	indent   bool
	deep     bool // stopped on a value nested too deeply
}

// add counts k bytes; false once past the limit.
func (s *sizer) add(k uint64) bool {
	s.n = addSat(s.n, k)
	return s.n <= s.limit
}

func (s *sizer) failure(m *Meter) error {
	if s.deep {
		return errTooDeep
	}
	return &BudgetError{Limit: m.limitBytes()}
}

// item counts what separates and indents an element at depth.
func (s *sizer) item(depth int) bool { return s.add(s.sep(depth)) }

// sep is what separates and indents an element at depth.
func (s *sizer) sep(depth int) uint64 {
	if s.indent {
		return 2 + 2*uint64(depth+1) // ",\n" and the indent
	}
	return 2 // "," and fmt's extra space
}

var timeType = reflect.TypeFor[time.Time]()

func (s *sizer) value(v any, depth int) bool {
	if depth > MaxExprDepth {
		s.deep = true
		return false
	}
	switch v := v.(type) {
	case nil:
		return s.add(5) // null, <nil>
	case bool:
		return s.add(5)
	case string:
		return s.add(jsonStringSize(v))
	case int, int64:
		return s.add(20) // -9223372036854775808
	case float64:
		return s.add(24) // -1.2345678901234567e-308
	case map[string]any:
		if !s.add(8) { // {}, map[]
			return false
		}
		for k, x := range v {
			if !s.item(depth) || !s.add(jsonStringSize(k)+2) || !s.value(x, depth+1) {
				return false
			}
		}
		return true
	case []any:
		if !s.add(2) {
			return false
		}
		for _, x := range v {
			if !s.item(depth) || !s.value(x, depth+1) {
				return false
			}
		}
		return true
	case []string:
		if !s.add(2) {
			return false
		}
		for _, x := range v {
			if !s.item(depth) || !s.add(jsonStringSize(x)) {
				return false
			}
		}
		return true
	case []int:
		return s.add(2) && s.add(mulSat(uint64(len(v)), 20+s.sep(depth)))
	case []float64:
		return s.add(2) && s.add(mulSat(uint64(len(v)), 24+s.sep(depth)))
	}
	return s.reflectValue(reflect.ValueOf(v), depth)
}

// reflectValue sizes the values of other types: typed lists and maps,
// pointers, times, and whatever else a method may give.
func (s *sizer) reflectValue(v reflect.Value, depth int) bool {
	if depth > MaxExprDepth {
		s.deep = true
		return false
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return s.add(5)
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return s.add(jsonStringSize(v.String()))
	case reflect.Slice, reflect.Array:
		if !s.add(2) {
			return false
		}
		for i := 0; i < v.Len(); i++ {
			if !s.item(depth) || !s.value(v.Index(i).Interface(), depth+1) {
				return false
			}
		}
		return true
	case reflect.Map:
		if !s.add(8) {
			return false
		}
		it := v.MapRange()
		for it.Next() {
			if !s.item(depth) || !s.value(it.Key().Interface(), depth+1) || !s.add(2) || !s.value(it.Value().Interface(), depth+1) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if v.Type() == timeType {
			return s.add(40)
		}
		if !s.add(8) {
			return false
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !s.item(depth) || !s.add(uint64(len(v.Type().Field(i).Name))+4) {
				return false
			}
			if f.CanInterface() {
				if !s.value(f.Interface(), depth+1) {
					return false
				}
			} else if !s.add(24) {
				return false
			}
		}
		return true
	}
	return s.add(24) // numbers, bools and the like
}

// jsonStringSize is the length of s as a JSON string: quoted, with
// control characters, quotes and backslashes escaped and <, >, & as
// \u003c (encoding/json's default, which toJSON uses).
func jsonStringSize(s string) uint64 {
	n := uint64(len(s)) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			n += 5
		case c >= utf8.RuneSelf:
			// Invalid UTF-8 becomes \ufffd (6 bytes for 1), U+2028 and
			// U+2029 \u2028 (6 for 3): count the worst.
			n += 5
		}
	}
	return n
}

// replacedCalls are the replaced builtins as the compiler calls them:
// the meter first.
var replacedCalls = func() map[string]*builtin.Function {
	fns := map[string]*builtin.Function{}
	for name, g := range replacedBuiltins {
		fns[guardPrefix+name] = &builtin.Function{Name: guardPrefix + name, Func: func(args ...any) (any, error) {
			in := make([]any, len(args)-1)
			for i, a := range args[1:] {
				in[i] = deref(a)
			}
			return g(meterOf(args[0]), in)
		}}
	}
	return fns
}()

// deref is the compiler's OpDeref for the arguments of a guarded call:
// pointers are followed, the values flows hold pass as they are.
func deref(v any) any {
	switch v.(type) {
	case nil, string, bool, int, int64, float64, []any, map[string]any:
		return v
	}
	r := reflect.ValueOf(v)
	if r.Kind() != reflect.Pointer {
		return v
	}
	for r.Kind() == reflect.Pointer || r.Kind() == reflect.Interface {
		if r.IsNil() {
			return nil
		}
		r = r.Elem()
	}
	return r.Interface()
}
