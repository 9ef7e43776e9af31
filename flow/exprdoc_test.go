package flow

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/expr-lang/expr/builtin"
)

// TestExpressionsDocumented keeps the documented functions and variables
// in step with what expressions can use: every expr-lang built-in is
// described, nothing else is, and every described function compiles.
func TestExpressionsDocumented(t *testing.T) {
	documented := map[string]bool{}
	for _, f := range Expressions.Functions {
		if documented[f.Name] {
			t.Errorf("%s described twice", f.Name)
		}
		documented[f.Name] = true
		if !strings.HasPrefix(f.Signature, f.Name+"(") || f.Doc == "" {
			t.Errorf("%s: signature %q, doc %q", f.Name, f.Signature, f.Doc)
		}
	}
	for _, f := range builtin.Builtins {
		if !documented[f.Name] {
			t.Errorf("built-in %s is not described in Expressions", f.Name)
		}
		delete(documented, f.Name)
	}
	for name := range documented {
		t.Errorf("%s is described but is not an expr-lang built-in", name)
	}

	var roots []string
	for _, v := range Expressions.Variables {
		roots = append(roots, v.Name)
		if v.Doc == "" {
			t.Errorf("variable %s has no doc", v.Name)
		}
	}
	if want := slices.Sorted(maps.Keys(exprEnv)); !slices.Equal(slices.Sorted(slices.Values(roots)), want) {
		t.Errorf("described variables %v, the environment has %v", roots, want)
	}
}
