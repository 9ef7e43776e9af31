package flow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowline/flowline/contract"
)

// OutputTyper is a node type that knows what its output holds. The output
// of a node type that is not one is any.
type OutputTyper interface {
	OutputType(t *Typing, n *Node) *Type
}

// Typing is what a node type may ask while typing its output.
type Typing struct {
	typer *exprTyper
}

// Expr is the type the expression src gives; any when it does not compile.
func (t *Typing) Expr(src string) *Type {
	typ, _ := t.typer.typeOf(src)
	return typ
}

// Analysis is a flow's problems and the type of every node's output.
type Analysis struct {
	Problems []Problem `json:"errors"`
	// Types holds the output type of each node by id; the trigger's is the
	// request object.
	Types map[string]*Type `json:"types"`
}

// exprUse is an expression of a node's config, noted by Checker.Expr for
// the type check that follows the node checks.
type exprUse struct {
	node, field, src string
	asBool           bool
}

// Analyze validates d as Validate does, and types it: each node's output
// from its config, from validate schemas and from samples (node outputs of
// the last test run, by node id; nil when there is none). Expressions are
// checked against the types: a field a value cannot have is a warning, with
// the nearest one; an operation that cannot work is an error.
func Analyze(d *Document, r *Registry, samples map[string]any) Analysis {
	var uses []exprUse
	probs := validate(d, r, &uses)
	a := Analysis{Problems: probs, Types: map[string]*Type{}}
	if hasIDProblems(probs) {
		return a
	}

	nodes := MapOf(make(map[string]*Type, len(d.Nodes)))
	for _, n := range d.Nodes {
		nodes.Fields[n.ID] = AnyType
	}
	typer := &exprTyper{roots: map[string]*Type{
		"request": AnyType,
		"nodes":   nodes,
		"env":     OpenMapOf(nil),
		"trace":   MapOf(map[string]*Type{"id": StringType}),
	}}
	typing := &Typing{typer: typer}
	order, err := Order(d)
	if err != nil {
		order = order[:0]
		for i := range d.Nodes {
			order = append(order, i)
		}
	}
	for _, i := range order {
		n := &d.Nodes[i]
		var t *Type
		if n.Type == TriggerType {
			t = requestType(d, n, samples[n.ID])
			typer.roots["request"] = t
		} else {
			t = AnyType
			if nt, ok := r.Lookup(n.Type); ok {
				if ot, ok := nt.(OutputTyper); ok {
					t = ot.OutputType(typing, n)
				}
			}
			if s, ok := samples[n.ID]; ok {
				t = refine(t, TypeOf(s))
			}
			if hasEdgeFrom(d, n.ID, PortError) {
				t = Union(t, MapOf(map[string]*Type{"error": StringType}))
			}
		}
		nodes.Fields[n.ID] = t
		a.Types[n.ID] = t
	}

	for _, u := range uses {
		typ, issues := typer.typeOf(u.src)
		for _, is := range issues {
			p := Problem{Node: u.node, Field: u.field, Message: is.msg, At: &Range{From: is.from, To: is.to}, Severity: SeverityError}
			if !is.err {
				p.Severity = SeverityWarning
			}
			a.Problems = append(a.Problems, p)
		}
		if u.asBool && typ.known() && !typ.is(TypeBool) {
			a.Problems = append(a.Problems, Problem{Node: u.node, Field: u.field,
				Message: fmt.Sprintf("the condition gives a %s, not a bool; compare it, e.g. with == or >", typ), Severity: severityOf(typ)})
		}
	}
	return a
}

func severityOf(t *Type) Severity {
	if !certain(t) {
		return SeverityWarning
	}
	return SeverityError
}

// requestType is the request object: params from the trigger's path, the
// body from a validate node that checks request.body, else from the last
// test run.
func requestType(d *Document, trigger *Node, sample any) *Type {
	params := map[string]*Type{}
	var cfg struct {
		Path string `json:"path"`
	}
	if json.Unmarshal(trigger.Config, &cfg) == nil {
		for _, seg := range contract.SplitPath(cfg.Path) {
			if name, ok := contract.Param(seg); ok {
				params[name] = StringType
			}
		}
	}
	body := AnyType
	for _, n := range d.Nodes {
		var v struct {
			Schema map[string]any `json:"schema"`
			Value  string         `json:"value"`
		}
		if n.Type == "validate" && json.Unmarshal(n.Config, &v) == nil &&
			(strings.TrimSpace(v.Value) == "" || strings.TrimSpace(v.Value) == "request.body") {
			body = SchemaType(v.Schema)
			break
		}
	}
	t := MapOf(map[string]*Type{
		"method":  StringType,
		"path":    StringType,
		"params":  MapOf(params),
		"query":   OpenMapOf(nil),
		"headers": OpenMapOf(nil),
		"body":    body,
	})
	if sample != nil {
		t = refine(t, TypeOf(sample))
	}
	return t
}

// refine fills what t leaves open with what a sample showed: an any
// becomes the sample's type, an open map learns the sample's keys (for
// completion; it stays open).
func refine(t, sample *Type) *Type {
	switch {
	case t == nil || !t.known():
		return sample
	case t.Kind == TypeMap && sample.Kind == TypeMap:
		f := make(map[string]*Type, len(t.Fields)+len(sample.Fields))
		for k, v := range t.Fields {
			if s, ok := sample.Fields[k]; ok {
				v = refine(v, s)
			}
			f[k] = v
		}
		if t.Open {
			for k, s := range sample.Fields {
				if _, ok := f[k]; !ok {
					f[k] = s
				}
			}
		}
		return &Type{Kind: TypeMap, Fields: f, Open: t.Open, From: t.From}
	case t.Kind == TypeList && sample.Kind == TypeList:
		return ListOf(refine(t.Elem, sample.Elem))
	}
	return t
}

func hasEdgeFrom(d *Document, id, port string) bool {
	for _, e := range d.Edges {
		if e.From == id && e.PortOrDefault() == port {
			return true
		}
	}
	return false
}
