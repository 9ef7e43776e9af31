package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a flow. Node and Field are empty when the
// problem is with the flow as a whole.
type Problem struct {
	Node    string `json:"node"`
	Field   string `json:"field"`
	Message string `json:"message"`
	// Severity is SeverityError (the zero value reads as one) or
	// SeverityWarning: a setting that has no effect, never a reason to
	// refuse a save or a publish.
	Severity Severity `json:"severity"`
	// At locates the problem in the field's expression, when it is about a
	// part of it.
	At *Range `json:"at,omitempty"`
}

// Range is a part of an expression's source, in characters from 0.
type Range struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Severity says whether a problem stops a publish.
type Severity string

// The severities of a Problem.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Warning reports whether p is only a warning.
func (p Problem) Warning() bool { return p.Severity == SeverityWarning }

// MarshalJSON always writes the severity, "error" when it was left unset.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	if p.Severity == "" {
		p.Severity = SeverityError
	}
	return json.Marshal(plain(p))
}

// Errors returns the problems of probs that are errors, dropping warnings.
func Errors(probs []Problem) []Problem {
	var out []Problem
	for _, p := range probs {
		if !p.Warning() {
			out = append(out, p)
		}
	}
	return out
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Node != "" {
		fmt.Fprintf(&b, "node %s: ", p.Node)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, "%s: ", p.Field)
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError is returned where a valid flow is required.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return "invalid flow: " + strings.Join(msgs, "; ")
}

// Checker collects the problems of one node; node types report through it.
type Checker struct {
	node     *Node
	problems *[]Problem
	uses     *[]exprUse // expressions that compiled, for the type check
}

// Errorf reports a problem with field of the checked node.
func (c *Checker) Errorf(field, format string, args ...any) {
	*c.problems = append(*c.problems, Problem{Node: c.node.ID, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Warnf reports a setting of field that has no effect: a warning, which
// does not stop a publish.
func (c *Checker) Warnf(field, format string, args ...any) {
	*c.problems = append(*c.problems, Problem{Node: c.node.ID, Field: field, Message: fmt.Sprintf(format, args...), Severity: SeverityWarning})
}

// Decode decodes the node's config into v, refusing unknown fields. It
// reports a problem and returns false when the config does not fit.
func (c *Checker) Decode(v any) bool {
	if err := DecodeConfig(c.node.Config, v); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			c.Errorf(fe.Field, "%s", fe.Message)
		} else {
			c.Errorf("", "%v", err)
		}
		return false
	}
	return true
}

// Expr compiles src and reports a compile error against field.
func (c *Checker) Expr(field, src string) {
	if strings.TrimSpace(src) == "" {
		c.Errorf(field, "expression is empty")
		return
	}
	c.compile(field, src, false)
}

// compile reports why src does not compile, in words and located, or notes
// it for the type check.
func (c *Checker) compile(field, src string, asBool bool) {
	_, err := CompileExpr(src, asBool)
	if err == nil {
		if c.uses != nil {
			*c.uses = append(*c.uses, exprUse{node: c.node.ID, field: field, src: src, asBool: asBool})
		}
		return
	}
	p := exprProblem(src, err)
	p.Node, p.Field = c.node.ID, field
	if asBool && strings.Contains(err.Error(), "expected bool") {
		p.Message = "the condition must give a bool: " + p.Message
	}
	*c.problems = append(*c.problems, p)
}

// BoolExpr is Expr for an expression that must give a bool.
func (c *Checker) BoolExpr(field, src string) {
	if strings.TrimSpace(src) == "" {
		c.Errorf(field, "condition is empty")
		return
	}
	c.compile(field, src, true)
}

// FieldError is a config decoding error located at a field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// DecodeConfig decodes a node's config into v strictly. An absent config
// decodes as an empty object.
func DecodeConfig(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field := typ.Field
		if p := pathAt(raw, typ.Offset); p != "" {
			field = p // with list indexes, which encoding/json leaves out
		}
		return &FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", kindName(typ.Type.Kind().String()), typ.Value)}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name := strings.Trim(f, `"`)
		return &FieldError{Field: name, Message: fmt.Sprintf("unknown config field %q", name)}
	}
	return &FieldError{Message: "config: " + strings.TrimPrefix(msg, "json: ")}
}

// pathAt returns the config path (fields[0].value) of the JSON value that
// ends at byte offset off of raw, or "".
func pathAt(raw []byte, off int64) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var path []string
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ := k.(string)
				path = append(path, "."+key)
				if walk() {
					return true
				}
				path = path[:len(path)-1]
			}
			if _, err := dec.Token(); err != nil {
				return false
			}
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				path = append(path, fmt.Sprintf("[%d]", i))
				if walk() {
					return true
				}
				path = path[:len(path)-1]
			}
			if _, err := dec.Token(); err != nil {
				return false
			}
		}
		return dec.InputOffset() >= off
	}
	if !walk() {
		return ""
	}
	return strings.TrimPrefix(strings.Join(path, ""), ".")
}

// Validate returns every problem of d against the node types in r, in a
// stable order: document, then nodes in order, then edges and graph shape.
// Warnings are among them; Errors keeps those that stop a publish.
func Validate(d *Document, r *Registry) []Problem {
	return validate(d, r, nil)
}

// validate is Validate, noting in uses (when not nil) the expressions that
// compiled.
func validate(d *Document, r *Registry, uses *[]exprUse) []Problem {
	var probs []Problem
	probs = append(probs, d.checkStorable()...)

	seen := map[string]bool{}
	var triggers []string
	for i := range d.Nodes {
		n := &d.Nodes[i]
		switch {
		case !ValidID(n.ID):
			probs = append(probs, Problem{Node: n.ID, Field: "id", Message: fmt.Sprintf("node id %q must start with a letter or _ and hold only letters, digits and _ (at most 64)", n.ID)})
		case seen[n.ID]:
			probs = append(probs, Problem{Node: n.ID, Field: "id", Message: fmt.Sprintf("duplicate node id %q", n.ID)})
		}
		seen[n.ID] = true
		if n.Type == TriggerType {
			triggers = append(triggers, n.ID)
		}
		t, ok := r.Lookup(n.Type)
		if !ok {
			probs = append(probs, Problem{Node: n.ID, Field: "type", Message: fmt.Sprintf("unknown node type %q", n.Type)})
			continue
		}
		t.Check(&Checker{node: n, problems: &probs, uses: uses}, n)
	}
	switch {
	case len(triggers) == 0:
		probs = append(probs, Problem{Message: "a flow needs exactly one trigger.http node; it has none"})
	case len(triggers) > 1:
		for _, id := range triggers[1:] {
			probs = append(probs, Problem{Node: id, Message: fmt.Sprintf("a flow needs exactly one trigger.http node; %q is one more after %q", id, triggers[0])})
		}
	}
	if len(probs) > 0 && hasIDProblems(probs) {
		// Edges and graph shape mean little while ids are ambiguous.
		return probs
	}
	return append(probs, checkGraph(d, r)...)
}

func hasIDProblems(probs []Problem) bool {
	for _, p := range probs {
		if p.Field == "id" {
			return true
		}
	}
	return false
}

// TriggerType and ResponseType are the node types the graph rules name.
const (
	TriggerType  = "trigger.http"
	ResponseType = "response"
)

func checkGraph(d *Document, r *Registry) []Problem {
	var probs []Problem
	outgoing := map[string]int{}
	for i, e := range d.Edges {
		from, to := d.Node(e.From), d.Node(e.To)
		if from == nil {
			probs = append(probs, Problem{Field: fmt.Sprintf("edges[%d].from", i), Message: fmt.Sprintf("edge from unknown node %q to %q", e.From, e.To)})
		}
		if to == nil {
			probs = append(probs, Problem{Node: e.From, Field: fmt.Sprintf("edges[%d].to", i), Message: fmt.Sprintf("edge from %q to unknown node %q", e.From, e.To)})
		}
		if from == nil || to == nil {
			continue
		}
		outgoing[e.From]++
		if from.Type == ResponseType {
			probs = append(probs, Problem{Node: e.From, Message: fmt.Sprintf("a response ends the request; it cannot lead to %q", e.To)})
			continue
		}
		if to.Type == TriggerType {
			probs = append(probs, Problem{Node: e.To, Message: fmt.Sprintf("the trigger runs first; the edge from %q cannot lead to it", e.From)})
		}
		if ports := r.Ports(from); ports != nil && !contains(ports, e.PortOrDefault()) {
			probs = append(probs, Problem{Node: e.From, Field: fmt.Sprintf("edges[%d].port", i), Message: fmt.Sprintf("node %q (%s) has no port %q; its ports are %s", e.From, from.Type, e.PortOrDefault(), strings.Join(ports, ", "))})
		}
	}
	if _, err := Order(d); err != nil {
		var ce *CycleError
		if errors.As(err, &ce) {
			probs = append(probs, Problem{Node: ce.Nodes[0], Message: err.Error()})
		}
	}
	reach := Reachable(d)
	for _, n := range d.Nodes {
		if n.Type != TriggerType && !reach[n.ID] && hasTrigger(d) {
			probs = append(probs, Problem{Node: n.ID, Message: fmt.Sprintf("node %q cannot be reached from the trigger", n.ID)})
		}
		if n.Type != ResponseType && outgoing[n.ID] == 0 {
			probs = append(probs, Problem{Node: n.ID, Message: fmt.Sprintf("node %q has no outgoing edge; only a response may end a flow", n.ID)})
		}
	}
	return probs
}

func hasTrigger(d *Document) bool {
	for _, n := range d.Nodes {
		if n.Type == TriggerType {
			return true
		}
	}
	return false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Reachable reports the nodes reachable from the (first) trigger.
func Reachable(d *Document) map[string]bool {
	seen := map[string]bool{}
	var stack []string
	for _, n := range d.Nodes {
		if n.Type == TriggerType {
			stack = append(stack, n.ID)
			break
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, e := range d.Edges {
			if e.From == id && !seen[e.To] {
				stack = append(stack, e.To)
			}
		}
	}
	return seen
}

// CycleError names the nodes on or behind a cycle.
type CycleError struct {
	Nodes []string
}

func (e *CycleError) Error() string {
	return "the flow has a cycle through " + strings.Join(e.Nodes, ", ")
}

// Order returns node indexes in execution order: Kahn's algorithm, taking
// among the ready nodes the one that comes first in d.Nodes (rule 2). Edges
// naming unknown nodes are ignored.
func Order(d *Document) ([]int, error) {
	index := make(map[string]int, len(d.Nodes))
	for i, n := range d.Nodes {
		if _, dup := index[n.ID]; !dup {
			index[n.ID] = i
		}
	}
	indeg := make([]int, len(d.Nodes))
	succ := make([][]int, len(d.Nodes))
	for _, e := range d.Edges {
		f, okf := index[e.From]
		t, okt := index[e.To]
		if !okf || !okt {
			continue
		}
		succ[f] = append(succ[f], t)
		indeg[t]++
	}
	var ready []int // kept sorted
	for i := range d.Nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	order := make([]int, 0, len(d.Nodes))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, s := range succ[i] {
			indeg[s]--
			if indeg[s] == 0 {
				at := sort.SearchInts(ready, s)
				ready = append(ready, 0)
				copy(ready[at+1:], ready[at:])
				ready[at] = s
			}
		}
	}
	if len(order) < len(d.Nodes) {
		var left []string
		for i, n := range d.Nodes {
			if indeg[i] > 0 {
				left = append(left, n.ID)
			}
		}
		return order, &CycleError{Nodes: left}
	}
	return order, nil
}
