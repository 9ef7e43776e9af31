// Package nodes holds Flowline's node types, one file each: its spec (the
// fields, ports and docs the designer shows), config decoding, validation,
// and its emitters for every code generation target.
package nodes

import (
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
