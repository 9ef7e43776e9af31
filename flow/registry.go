package flow

import (
	"encoding/json"
	"fmt"
	"sort"
)

// NodeType is one kind of node. Its Spec is data: the same description feeds
// the validator, the designer's palette and forms, and the code generators.
type NodeType interface {
	Spec() Spec
	// Check decodes the node's config strictly and reports every problem to c.
	Check(c *Checker, n *Node)
}

// Spec describes a node type for people and programs.
type Spec struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Category    string `json:"category"` // a Categories name
	Description string `json:"description"`
	// Summary is how the canvas sums a node up in one line: {field}
	// stands for a config field's value (its default when unset) and
	// {list.item} for that item field of every entry, joined by commas.
	Summary string `json:"summary,omitempty"`
	// Ports are the fixed output ports. DynamicPorts, when set, adds one
	// before them for every item of a list field (switch's cases).
	Ports        []string      `json:"ports"`
	DynamicPorts *DynamicPorts `json:"dynamic_ports,omitempty"`
	Fields       []Field       `json:"fields"`
	Output       string        `json:"output"`
	Examples     []Example     `json:"examples,omitempty"`
}

// DynamicPorts names the list field whose items are ports of their own,
// and the item field holding each port's name. The validator, the
// designer and the code generators all read a node's ports this way.
type DynamicPorts struct {
	Field string `json:"field"`
	Item  string `json:"item"`
}

// FieldKind says how a config field is written and edited.
type FieldKind string

// Field kinds, shared with the designer's form generator.
const (
	KindString    FieldKind = "string"      // plain text, not evaluated
	KindInt       FieldKind = "int"         // a whole number
	KindEnum      FieldKind = "enum"        // one of Options
	KindExpr      FieldKind = "expr"        // an expr-lang expression
	KindIntOrExpr FieldKind = "int_or_expr" // a number, or an expression giving one
	KindList      FieldKind = "list"        // a list of objects with Item fields
	KindExprList  FieldKind = "expr_list"   // a list of expressions
	KindSchema    FieldKind = "schema"      // a JSON Schema object
	KindCode      FieldKind = "code"        // source code in Language
)

// Field is one config field of a node type.
type Field struct {
	Name        string    `json:"name"`
	Label       string    `json:"label"`
	Kind        FieldKind `json:"kind"`
	Description string    `json:"description"`
	Required    bool      `json:"required,omitempty"`
	Default     any       `json:"default,omitempty"`
	Options     []string  `json:"options,omitempty"`
	Item        []Field   `json:"item,omitempty"`
	Language    string    `json:"language,omitempty"`
	Placeholder string    `json:"placeholder,omitempty"`
}

// Example is a small flow fragment shown in the docs and run by the tests.
type Example struct {
	Title  string          `json:"title"`
	Config json.RawMessage `json:"config"`
}

// Registry holds the node types known to a build of Flowline.
type Registry struct {
	types map[string]NodeType
}

// NewRegistry returns an empty registry; tests build their own.
func NewRegistry() *Registry {
	return &Registry{types: map[string]NodeType{}}
}

// Register adds t, refusing an empty or duplicate type name.
func (r *Registry) Register(t NodeType) error {
	name := t.Spec().Type
	if name == "" {
		return fmt.Errorf("register node type: empty type name")
	}
	if _, dup := r.types[name]; dup {
		return fmt.Errorf("register node type %q: already registered", name)
	}
	r.types[name] = t
	return nil
}

// Lookup returns the type named name.
func (r *Registry) Lookup(name string) (NodeType, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Specs lists every type's spec, in the order of Categories, then by type.
func (r *Registry) Specs() []Spec {
	specs := make([]Spec, 0, len(r.types))
	for _, t := range r.types {
		specs = append(specs, t.Spec())
	}
	sort.Slice(specs, func(i, j int) bool {
		if ci, cj := categoryRank(specs[i].Category), categoryRank(specs[j].Category); ci != cj {
			return ci < cj
		}
		return specs[i].Type < specs[j].Type
	})
	return specs
}

// Ports lists the ports node n can leave through; nil for an unknown type.
func (r *Registry) Ports(n *Node) []string {
	t, ok := r.types[n.Type]
	if !ok {
		return nil
	}
	spec := t.Spec()
	if spec.DynamicPorts == nil {
		return spec.Ports
	}
	// Decoded loosely: a config that does not check still has the ports
	// its well-formed items name, so its edges can be reported precisely.
	var cfg map[string]json.RawMessage
	_ = json.Unmarshal(n.Config, &cfg)
	var items []json.RawMessage
	_ = json.Unmarshal(cfg[spec.DynamicPorts.Field], &items)
	ports := make([]string, 0, len(items)+len(spec.Ports))
	for _, raw := range items {
		var it map[string]any
		_ = json.Unmarshal(raw, &it)
		if p, ok := it[spec.DynamicPorts.Item].(string); ok {
			ports = append(ports, p)
		}
	}
	return append(ports, spec.Ports...)
}

// Catalog is everything a designer needs to draw, edit and complete flows
// of this registry: served as GET /api/v1/node-types, rendered as
// docs/nodes.md.
type Catalog struct {
	Categories []Category `json:"categories"`
	Types      []Spec     `json:"types"`
	Expr       ExprDoc    `json:"expr"`
}

// Catalog describes the registry's node types, their categories and the
// expression language.
func (r *Registry) Catalog() Catalog {
	return Catalog{Categories: Categories, Types: r.Specs(), Expr: Expressions}
}
