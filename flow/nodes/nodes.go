// Package nodes holds Flowline's node types, one file each: its spec (the
// fields, ports and docs the designer shows), config decoding, validation,
// and its emitters for every code generation target.
package nodes

import (
	"fmt"
	"sort"

	"github.com/flowline/flowline/flow"
)

// Registry returns a registry with every built-in node type.
func Registry() *flow.Registry {
	r := flow.NewRegistry()
	for _, t := range []flow.NodeType{
		Trigger{},
		Set{},
		If{},
		Switch{},
		Log{},
		Response{},
		HTTPRequest{},
		Code{},
		DBQuery{},
		Validate{},
	} {
		if err := r.Register(t); err != nil {
			panic(err) // a programming error in this list
		}
	}
	return r
}

// NameValue is a {name, value: expr} pair, as in set fields and headers.
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// report passes a runtime spec's problems, keyed by field, to c in a
// stable order.
func report(c *flow.Checker, probs map[string]string) {
	fields := make([]string, 0, len(probs))
	for f := range probs {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		c.Errorf(f, "%s", probs[f])
	}
}

// checkHeaders checks a list of {name, value: expr} headers: each name a
// valid HTTP header name, each value an expression.
func checkHeaders(c *flow.Checker, headers []NameValue) {
	for i, h := range headers {
		field := fmt.Sprintf("headers[%d]", i)
		if !validHeaderName(h.Name) {
			c.Errorf(field+".name", "header name %q is not a valid HTTP header name", h.Name)
		}
		c.Expr(field+".value", h.Value)
	}
}
