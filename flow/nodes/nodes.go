// Package nodes holds Flowline's node types, one file each: its spec (the
// fields, ports and docs the designer shows), config decoding, validation,
// and its emitters for every code generation target.
package nodes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"

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
		Hash{},
	} {
		if err := r.Register(t); err != nil {
			panic(err) // a programming error in this list
		}
	}
	return r
}

// Caller is implemented by node types that call out of the flow: an HTTP
// API, a database, a script, or any computation that is not an
// expression. Binding prepares the node's engine.Call from the settings
// its JS emitter lists (js.Writer.Prepare), and its Go emitter calls the
// same Call's package directly.
type Caller interface {
	Binding() engine.Binding
}

// Bindings are the calls of every node type that has one, by type: what
// the JS host may prepare (jshost.Bindings).
func Bindings() map[string]engine.Binding {
	reg := Registry()
	out := map[string]engine.Binding{}
	for _, s := range reg.Specs() {
		t, _ := reg.Lookup(s.Type)
		if c, ok := t.(Caller); ok {
			out[s.Type] = c.Binding()
		}
	}
	return out
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

// emitJSHeaders evaluates a header list for the JS target: an array of
// [name, value] pairs, or null.
func emitJSHeaders(w *js.Writer, headers []NameValue) string {
	if len(headers) == 0 {
		return "null"
	}
	pairs := make([]string, len(headers))
	for i, h := range headers {
		pairs[i] = "[" + js.Quote(h.Name) + ", " + w.Expr(fmt.Sprintf("headers[%d].value", i), h.Value) + "]"
	}
	return "[" + strings.Join(pairs, ", ") + "]"
}

// emitJSBody evaluates an optional body expression for the JS target.
func emitJSBody(w *js.Writer, body string) string {
	if strings.TrimSpace(body) == "" {
		return "null"
	}
	return w.Expr("body", body)
}

// emitGoHeaders evaluates a header list for the Go target, in order, and
// returns a [][2]any literal of name/value pairs, or nil.
func emitGoHeaders(w *golang.Writer, headers []NameValue) string {
	if len(headers) == 0 {
		return "nil"
	}
	pairs := make([]string, len(headers))
	for i, h := range headers {
		w.Line("h%d, err := x.Eval(%s)", i, w.Expr(h.Value, h.Name, fmt.Sprintf("header%d", i)))
		w.CheckErr()
		pairs[i] = fmt.Sprintf("{%s, h%d}", golang.Quote(h.Name), i)
	}
	return "[][2]any{" + strings.Join(pairs, ", ") + "}"
}

// emitGoBody evaluates an optional body expression for the Go target.
func emitGoBody(w *golang.Writer, body string) string {
	if strings.TrimSpace(body) == "" {
		return "nil"
	}
	w.Line("body, err := x.Eval(%s)", w.Expr(body, "body"))
	w.CheckErr()
	return "body"
}
