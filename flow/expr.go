package flow

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// exprEnv is the shape of the environment every expression sees. Its values
// are untyped maps so that any member access compiles and missing keys give
// nil at run time, as FLOW-FORMAT.md says.
var exprEnv = map[string]any{
	"request": map[string]any{},
	"nodes":   map[string]any{},
	"env":     map[string]any{},
	"trace":   map[string]any{},
}

// MaxExprLength bounds an expression's source. expr-lang's parser recurses
// once per parenthesis, and a long enough run of them (a million) exhausts
// the goroutine's stack, which no recover can catch.
const MaxExprLength = 64 << 10

// CompileExpr compiles an expression for the flow environment. The validator,
// the test run and both bundle targets compile through here, so they accept
// and mean the same expressions.
func CompileExpr(src string, asBool bool) (*vm.Program, error) {
	if len(src) > MaxExprLength {
		return nil, fmt.Errorf("the expression is %d bytes long; at most %d", len(src), MaxExprLength)
	}
	opts := []expr.Option{expr.Env(exprEnv)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return expr.Compile(src, opts...)
}
