package flow

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
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
// and mean the same expressions, and run them on the same budget.
//
// It does what expr.Compile does, in its steps, so that the guard (see
// exprguard.go) can rewrite the tree between the optimizer and the
// compiler: the checker, and so validation, sees the expression as it was
// written; what runs is the guarded tree. The checker also refuses
// expressions of more than conf.DefaultMaxNodes nodes.
func CompileExpr(src string, asBool bool) (*vm.Program, error) {
	if len(src) > MaxExprLength {
		return nil, fmt.Errorf("the expression is %d bytes long; at most %d", len(src), MaxExprLength)
	}
	config := conf.CreateNew()
	expr.Env(exprEnv)(config)
	expr.MaxNodes(conf.DefaultMaxNodes)(config)
	if asBool {
		expr.AsBool()(config)
	}
	tree, err := checker.ParseCheck(src, config)
	if err != nil {
		return nil, err
	}
	if err := optimizer.Optimize(&tree.Node, config); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fe.Bind(tree.Source)
		}
		return nil, err
	}
	g := &guard{}
	ast.Walk(&tree.Node, g)
	g.done(&tree.Node)
	// Only the compiler sees the guarded functions: no expression can
	// call them by name.
	for name, fn := range replacedCalls {
		config.Functions[name] = fn
	}
	return compiler.Compile(tree, config)
}
