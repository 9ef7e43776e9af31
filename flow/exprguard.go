package flow

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// An expression is evaluated on a budget, so that one expression cannot
// take the process down: `len(repeat(repeat("x", 999999), 999999))` or
// `reduce(1..40, #acc + #acc, "x")` would otherwise allocate until the Go
// runtime dies with a fatal out-of-memory error, which no recover catches.
//
// expr-lang bounds little by itself: its VM counts the elements of ranges,
// list and map literals and sorts against vm.VM.MemoryBudget, and its
// repeat() refuses more than a million repetitions, but the length of what
// is repeated, string concatenation, join, replace, toJSON and the like are
// not counted, and nothing bounds how long an evaluation runs. So
// CompileExpr rewrites the checked tree (see guard): every builtin that
// allocates in proportion to its arguments gets its cost, the size of its
// result, worked out before it allocates and charged to the evaluation's
// Meter (exprguard_builtins.go); `+` on strings, regular
// expressions built at run time and the layouts given to a time's Format
// are charged too; every iteration of a predicate (map, filter, reduce,
// ...) counts a step and, every pollSteps steps, looks at the request's
// deadline. A Meter's limits are the evaluation's budget:
//
//   - memory: the bytes the guarded operations make, added up over the
//     evaluation (garbage included: the count is deterministic, the same
//     in every target), plus 16 bytes per element of the ranges and
//     literals the VM counts; and the size of the result as JSON, which is
//     what the response or the next node makes of it. An estimate: what
//     the heap really holds is within a small factor of it.
//   - steps: predicate iterations, the comparisons of uniq(), and the
//     lists and maps measured for depth.
//
// Values may not nest deeper than MaxExprDepth: reduce() measures its
// accumulator, and the result is measured. expr's errors that spell a
// value out (a bad index, a bad pair) are refused a value too big to
// print, and an error message is cut at maxErrorText.
//
// The VM finds the meter in the environment under MeterKey, a name no
// expression can spell; $env gives the environment without it.

// Default budgets of one evaluation. The runtime reads the operator's
// values from the environment (contract.EnvExprMemory and contract.EnvExprSteps).
const (
	DefaultExprMemory = 64 << 20
	DefaultExprSteps  = 10_000_000
)

// MaxExprDepth bounds how deeply the values an expression makes or gives
// may nest, as expr-lang's own builtins do (builtin.MaxDepth): JSON
// request bodies nest at most as deep, and encoding a value recurses once
// per level.
const MaxExprDepth = 10000

// MeterKey is the environment entry that holds an evaluation's *Meter. It
// is not an identifier, so no expression can name it.
const MeterKey = "flowline:meter"

// elemBytes is what an element of a list costs: an interface value.
const elemBytes = 16

// BudgetError is an evaluation that went over its budget: a failure of its
// node, like any other runtime error of an expression.
type BudgetError struct {
	Steps bool   // the step budget, not the memory budget
	Limit uint64 // bytes or steps
}

func (e *BudgetError) Error() string {
	if e.Steps {
		return fmt.Sprintf("expression exceeds its step budget (%d steps)", e.Limit)
	}
	return fmt.Sprintf("expression exceeds its memory budget (%s)", formatBytes(e.Limit))
}

// errTooDeep is a value nested deeper than MaxExprDepth.
var errTooDeep = fmt.Errorf("expression value nests more than %d levels deep", MaxExprDepth)

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Meter is what one evaluation has spent. An Exec keeps one and resets it
// before each evaluation; it is used by one goroutine at a time.
type Meter struct {
	maxBytes, maxSteps uint64
	bytes, steps       uint64
	ctx                context.Context
	poll               int64                 // steps until ctx is looked at again
	depths             map[depthKey]measured // the lists and maps reduce() accumulated
}

// pollSteps is how many steps go between two looks at the context. Err
// takes a lock; Done would start the request's deadline timer, which the
// runtime starts only when something waits on it.
const pollSteps = 256

// Reset starts an evaluation with the given budgets (0 means the default)
// that stops when ctx ends.
func (m *Meter) Reset(ctx context.Context, maxBytes, maxSteps uint64) {
	if maxBytes == 0 {
		maxBytes = DefaultExprMemory
	}
	if maxSteps == 0 {
		maxSteps = DefaultExprSteps
	}
	m.maxBytes, m.maxSteps, m.bytes, m.steps = maxBytes, maxSteps, 0, 0
	m.ctx, m.poll = ctx, pollSteps
	if len(m.depths) > 1024 {
		m.depths = nil // let a big evaluation's go
	} else {
		clear(m.depths)
	}
}

// Eval runs p against env on machine within the meter's budgets, which
// Reset set. env must hold m under MeterKey. A budget error comes back as
// a *BudgetError, without the source snippet of expr's errors: the
// message is the same wherever the expression went over. When the
// meter's context ended during the run, the error wraps its error.
func (m *Meter) Eval(machine *vm.VM, p *vm.Program, env map[string]any) (any, error) {
	// The VM counts elements (ranges, literals, sorts); it refuses before
	// it allocates a range.
	machine.MemoryBudget = uint(max(m.maxBytes/elemBytes, 1))
	v, err := machine.Run(p, env)
	if err != nil {
		return nil, m.explain(err)
	}
	if err := m.checkResult(v); err != nil {
		return nil, err
	}
	return v, nil
}

// explain turns the VM's and the guards' budget failures into the error
// a node fails with.
func (m *Meter) explain(err error) error {
	var be *BudgetError
	if errors.As(err, &be) {
		return be
	}
	if errors.Is(err, errTooDeep) {
		return errTooDeep
	}
	var fe *file.Error
	if !errors.As(err, &fe) {
		fe = nil
	}
	if fe != nil && fe.Message == "memory budget exceeded" {
		return &BudgetError{Limit: m.maxBytes}
	}
	if m.ctx != nil && errors.Is(err, m.ctx.Err()) && m.ctx.Err() != nil {
		return fmt.Errorf("expression interrupted: %w", m.ctx.Err())
	}
	if fe != nil {
		// expr's message ends in a snippet of the source with a caret,
		// which reads right only in a fixed-width block: it is left out
		// (the location stays), so an API client gets the reason, not the
		// flow's source.
		return errors.New(cutErrorText(runtimeMessage(fe.Message) + fmt.Sprintf(" (%d:%d)", fe.Line, fe.Column+1)))
	}
	if msg := err.Error(); len(msg) > maxErrorText {
		return errors.New(cutErrorText(msg))
	}
	return err
}

// cutErrorText bounds msg: int(s) and the like put their argument in the
// message, which then goes to the response, the logs and the trace.
func cutErrorText(msg string) string {
	if len(msg) <= maxErrorText {
		return msg
	}
	return strings.ToValidUTF8(msg[:maxErrorText], "") + "..."
}

// runtimeMessage puts into words the errors of Go's reflection that expr
// lets through: a built-in given nil where it needs a list (a missing
// field: sum(request.body.itms, ...)).
func runtimeMessage(msg string) string {
	if strings.HasPrefix(msg, "reflect: call of reflect.Value.") && strings.HasSuffix(msg, " on zero Value") {
		return "a value is nil where a list, a map or a string is needed (is a field missing or misspelled?)"
	}
	return msg
}

// maxErrorText bounds an evaluation error's message: the source snippet
// of the longest expression fits.
const maxErrorText = 2 * MaxExprLength

// checkResult refuses a result whose JSON would be larger than the
// budget. Lists may hold the same value many times (`map(1..100000,
// request.body)`), and the response, a test run's trace or the next node
// spells each one out.
func (m *Meter) checkResult(v any) error {
	switch v.(type) {
	case nil, bool, int, int64, float64:
		return nil
	case string:
		if uint64(len(v.(string))) <= m.maxBytes/6 {
			return nil // even escaped, it fits
		}
	}
	s := sizer{limit: m.maxBytes}
	if !s.value(v, 0) {
		return s.failure(m)
	}
	return nil
}

// limitBytes is the meter's memory budget; a nil meter (an expression run
// outside an Exec, as tests do) has the default and never accumulates.
func (m *Meter) limitBytes() uint64 {
	if m == nil {
		return DefaultExprMemory
	}
	return m.maxBytes
}

// charge adds n bytes to the evaluation, or fails when they go over the
// budget. It is called before the allocation it stands for.
func (m *Meter) charge(n uint64) error {
	if m == nil {
		if n > DefaultExprMemory {
			return &BudgetError{Limit: DefaultExprMemory}
		}
		return nil
	}
	m.bytes = addSat(m.bytes, n)
	if m.bytes > m.maxBytes {
		return &BudgetError{Limit: m.maxBytes}
	}
	return nil
}

// step counts n steps, and fails when they go over the budget or when
// the evaluation's context has ended (the request's deadline).
func (m *Meter) step(n uint64) error {
	if m == nil {
		return nil
	}
	m.steps = addSat(m.steps, n)
	if m.steps > m.maxSteps {
		return &BudgetError{Steps: true, Limit: m.maxSteps}
	}
	if m.poll -= int64(min(n, pollSteps)); m.poll <= 0 && m.ctx != nil {
		m.poll = pollSteps
		if err := m.ctx.Err(); err != nil {
			return fmt.Errorf("expression interrupted: %w", err)
		}
	}
	return nil
}

func addSat(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

func mulSat(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}

// guard rewrites a checked and optimized tree so that it runs on a
// budget. It runs after the checker, so validation sees, and reports on,
// exactly what the user wrote.
//
// Most of what it adds is a check: a call, standing where a value stood,
// that charges or counts what the value is about to cost and gives it
// back (see check). The checks are constants of the program with the one
// function type the VM calls without allocating (OpCallTyped), so a step
// in a loop costs a call and no garbage. The builtins whose cost depends
// on several arguments at once (replacedBuiltins) are replaced by calls of
// guarded versions, which CompileExpr adds to the compiler's
// configuration only.
type guard struct {
	metered bool // a node it made reads the meter
}

// guardPrefix names the replaced builtins. It is not an identifier
// either, so no expression calls them by name.
const guardPrefix = "flowline:"

func (g *guard) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			// $env is the whole environment, meter included: give a
			// copy without it.
			call := &ast.CallNode{Callee: constant(withoutMeter), Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}}}
			ast.Patch(node, call)
		}
	case *ast.BuiltinNode:
		g.builtin(node, n)
	case *ast.CallNode:
		if _, ok := n.Callee.(*ast.MemberNode); ok {
			// A method of a value: the values flows hold have none but
			// times' and durations', and of those only Format and
			// AppendFormat make something as long as an argument (the
			// layout), about three times over.
			for i, a := range n.Arguments {
				n.Arguments[i] = g.wrap(chargeArg, a)
			}
		}
	case *ast.MemberNode:
		// expr's errors spell a bad index out with %v ("cannot fetch %v
		// from %T"), and a list of a million references to one big value
		// spells out to gigabytes.
		n.Property = g.wrapIndex(n.Property)
	case *ast.SliceNode:
		n.From = g.wrapIndex(n.From)
		n.To = g.wrapIndex(n.To)
	case *ast.BinaryNode:
		switch n.Operator {
		case "+":
			// Only strings grow; both operands are charged before OpAdd
			// makes their concatenation.
			if maybeString(n.Left) && maybeString(n.Right) {
				n.Left, n.Right = g.wrap(chargeString, n.Left), g.wrap(chargeString, n.Right)
			}
		case "matches":
			// A constant pattern is compiled with the expression; one
			// made at run time is compiled at each evaluation.
			if _, ok := n.Right.(*ast.StringNode); !ok {
				n.Right = g.wrap(chargePattern, n.Right)
			}
		}
	}
}

// builtin guards a call of a builtin.
func (g *guard) builtin(node *ast.Node, n *ast.BuiltinNode) {
	for i, a := range n.Arguments {
		p, ok := a.(*ast.PredicateNode)
		if !ok {
			continue
		}
		// One step per run of the predicate of map, filter, all, ...
		// reduce is the one loop that feeds a value back into itself:
		// its step measures the accumulator too.
		if n.Name == "reduce" && i == 1 {
			p.Node = g.wrap(measureAcc, p.Node)
		} else {
			p.Node = g.wrap(countStep, p.Node)
		}
	}
	if n.Map != nil {
		// The optimizer moved map()'s predicate into filter()'s node
		// (filter(xs, p) | map(f)), where ast.Walk does not go; filter's
		// step counts its runs.
		ast.Walk(&n.Map, g)
	}
	if cost, ok := argCosts[n.Name]; ok {
		for i, a := range n.Arguments {
			n.Arguments[i] = g.wrap(cost, a)
		}
	}
	if _, ok := replacedBuiltins[n.Name]; ok {
		t := *n.Nature()
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: guardPrefix + n.Name},
			Arguments: append([]ast.Node{g.meter()}, n.Arguments...)}
		ast.Patch(node, call)
		call.SetNature(t)
	}
}

// check is what the guarded tree calls with the meter (nil when the
// expression runs outside an Exec, as expr's own vm.Run does) and a value
// about to be used: it charges or counts the value's cost and gives it
// back, or panics with the error the evaluation fails with (the VM
// recovers it).
type check = func(meter, v any) any

// meterVar is the variable the guarded tree keeps the meter in, read once
// from the environment (see done): a variable is an index where the
// environment is a map lookup, and a loop's step reads the meter each
// time. It is not an identifier either.
const meterVar = "flowline:m"

// meter is a node that reads the meter.
func (g *guard) meter() ast.Node {
	g.metered = true
	return &ast.IdentifierNode{Value: meterVar}
}

// done finishes the tree: when it reads the meter, the meter goes into
// meterVar first.
func (g *guard) done(root *ast.Node) {
	if !g.metered {
		return
	}
	body := *root
	decl := &ast.VariableDeclaratorNode{Name: meterVar, Value: &ast.IdentifierNode{Value: MeterKey}, Expr: body}
	decl.SetNature(*body.Nature())
	decl.SetLocation(body.Location())
	*root = decl
}

// constant is a node for a check, or another function of the VM's typed
// calls.
func constant(fn any) ast.Node {
	c := &ast.ConstantNode{Value: fn}
	c.SetType(reflect.TypeOf(fn))
	return c
}

// wrap makes n the argument of a check: the call stands where n stood,
// with its type and location.
func (g *guard) wrap(fn check, n ast.Node) ast.Node {
	call := &ast.CallNode{Callee: constant(fn), Arguments: []ast.Node{g.meter(), n}}
	call.SetNature(*n.Nature())
	call.SetLocation(n.Location())
	return call
}

// wrapIndex wraps an index or slice bound computed at run time in the
// printable check; constants and absent bounds stay as they are.
func (g *guard) wrapIndex(n ast.Node) ast.Node {
	switch n.(type) {
	case nil, *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return n
	}
	return g.wrap(checkPrintable, n)
}

// maybeString reports whether a node may give a string at run time.
func maybeString(n ast.Node) bool {
	if n.Nature().Nil {
		return false
	}
	switch n.Type().Kind() {
	case reflect.String, reflect.Interface:
		return true
	}
	return false
}

// The checks.
var (
	countStep check = func(m, v any) any {
		must(meterOf(m).step(1))
		return v
	}
	measureAcc check = func(m, v any) any {
		mt := meterOf(m)
		must(mt.step(1))
		must(mt.accumulate(v))
		return v
	}
	chargeString check = func(m, v any) any {
		if s, ok := deref(v).(string); ok {
			must(meterOf(m).charge(uint64(len(s))))
		}
		return v
	}
	chargePattern check = func(m, v any) any {
		if s, ok := deref(v).(string); ok {
			// A compiled regular expression takes tens of bytes per
			// byte of its pattern.
			must(meterOf(m).charge(mulSat(uint64(len(s)), 64)))
		}
		return v
	}
	chargeArg check = func(m, v any) any {
		var n int
		switch a := deref(v).(type) {
		case string:
			n = len(a)
		case []byte:
			n = len(a)
		}
		must(meterOf(m).charge(mulSat(uint64(n), 4)))
		return v
	}
	checkPrintable check = func(m, v any) any {
		must(meterOf(m).printable(v))
		return v
	}
)

// withoutMeter is $env: the environment without the meter.
func withoutMeter(v any) any {
	env, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(env))
	for k, x := range env {
		if k != MeterKey {
			out[k] = x
		}
	}
	return out
}

// meterOf is the meter a check was given.
func meterOf(m any) *Meter {
	mt, _ := m.(*Meter)
	return mt
}

// must panics with err, for the VM to recover as the evaluation's error.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// depthKey identifies a list (its elements and length) or a map.
type depthKey struct {
	p uintptr
	n int
}

// measured is the depth of a list or map, and the list or map itself:
// holding it keeps its address from being reused while the key is known.
type measured struct {
	depth int
	value any
}

// accumulate measures a reduce() accumulator. reduce is the one loop that
// feeds a value back into itself, so `reduce(1..1000000, [#acc], [])`
// nests a list a million levels deep, and comparing two of them (==, in,
// uniq) recurses once per level in expr's runtime.Equal until the
// goroutine's stack overflows, a fatal error. Each list and map is
// measured once per evaluation: the accumulator holds the previous one.
func (m *Meter) accumulate(v any) error {
	if m == nil {
		// Outside an Exec: measured alone, on the default budget.
		var fresh Meter
		fresh.Reset(nil, 0, 0)
		m = &fresh
	}
	d, err := m.depth(v, 0)
	if err == nil && d > MaxExprDepth {
		err = errTooDeep
	}
	return err
}

// depth is how deeply v nests, 0 for a scalar; level is how deep v sits.
func (m *Meter) depth(v any, level int) (int, error) {
	if level > MaxExprDepth {
		return 0, errTooDeep
	}
	var key depthKey
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64, []int, []float64, []string:
		return 0, nil
	case [2]any: // toPairs
		if err := m.step(1); err != nil {
			return 0, err
		}
		a, err := m.depth(x[0], level+1)
		if err != nil {
			return 0, err
		}
		b, err := m.depth(x[1], level+1)
		return max(a, b) + 1, err
	case []any:
		if len(x) == 0 {
			return 1, nil
		}
		key = depthKey{reflect.ValueOf(x).Pointer(), len(x)}
	case map[string]any:
		if len(x) == 0 {
			return 1, nil
		}
		key = depthKey{reflect.ValueOf(x).Pointer(), -1}
	default:
		return m.reflectDepth(reflect.ValueOf(v), level)
	}
	if d, ok := m.depths[key]; ok {
		return d.depth, nil
	}
	// Measuring is work: a value that holds its predecessor without
	// being a list or a map (toPairs' pairs) is measured whole each step.
	if err := m.step(1); err != nil {
		return 0, err
	}
	deepest := 0
	each := func(x any) error {
		d, err := m.depth(x, level+1)
		deepest = max(deepest, d)
		return err
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := each(e); err != nil {
				return 0, err
			}
		}
	case map[string]any:
		for _, e := range x {
			if err := each(e); err != nil {
				return 0, err
			}
		}
	}
	if m.depths == nil {
		m.depths = map[depthKey]measured{}
	}
	m.depths[key] = measured{deepest + 1, v}
	return deepest + 1, nil
}

// reflectDepth is depth for other kinds of lists and maps (toPairs gives
// [2]any pairs), without remembering them.
func (m *Meter) reflectDepth(v reflect.Value, level int) (int, error) {
	if level > MaxExprDepth {
		return 0, errTooDeep
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return 0, nil
		}
		v = v.Elem()
	}
	if err := m.step(1); err != nil {
		return 0, err
	}
	deepest := 0
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			d, err := m.depth(v.Index(i).Interface(), level+1)
			if err != nil {
				return 0, err
			}
			deepest = max(deepest, d)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			d, err := m.depth(it.Value().Interface(), level+1)
			if err != nil {
				return 0, err
			}
			deepest = max(deepest, d)
		}
	default:
		return 0, nil
	}
	return deepest + 1, nil
}

// printable fails when spelling v out, as an error message about it
// would, takes more than what is left of the budget. The values an index
// is made of (strings, numbers) always pass.
func (m *Meter) printable(v any) error {
	switch v.(type) {
	case nil, string, bool, int, int64, float64:
		return nil
	}
	s := sizer{limit: m.limitBytes()}
	if m != nil {
		s.limit -= min(m.bytes, s.limit)
	}
	if !s.value(v, 0) {
		return s.failure(m)
	}
	return nil
}
