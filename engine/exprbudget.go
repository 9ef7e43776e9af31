package engine

import (
	"os"
	"strconv"

	"github.com/flowline/flowline/flow"
)

// ExprMemoryLimit and ExprStepLimit are the budget of one evaluation of an
// expression (see flow.Meter): the bytes its operations may make and the
// result it may give, and the iterations its predicates may run. An
// expression over either fails its node, the same way in the test run and
// in both bundle targets. Set by EnvExprMemory and EnvExprSteps at start-up.
var (
	ExprMemoryLimit uint64 = flow.DefaultExprMemory
	ExprStepLimit   uint64 = flow.DefaultExprSteps
)

// EnvExprMemory overrides ExprMemoryLimit, in bytes; EnvExprSteps
// overrides ExprStepLimit.
const (
	EnvExprMemory = "FLOWLINE_EXPR_MAX_MEMORY"
	EnvExprSteps  = "FLOWLINE_EXPR_MAX_STEPS"
)

func init() {
	if n, ok := envUint(EnvExprMemory); ok {
		ExprMemoryLimit = n
	}
	if n, ok := envUint(EnvExprSteps); ok {
		ExprStepLimit = n
	}
}

// envUint reads a positive integer setting; anything else leaves the
// default, as EnvCodeMemory does.
func envUint(name string) (uint64, bool) {
	s := os.Getenv(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}
