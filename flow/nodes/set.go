package nodes

import (
	"fmt"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
)

// Set computes named values from expressions.
type Set struct{}

type setConfig struct {
	Fields []NameValue `json:"fields"`
}

// Spec describes set.
func (Set) Spec() flow.Spec {
	return flow.Spec{
		Type:     "set",
		Title:    "Set fields",
		Category: "Transform",
		Summary:  "{fields.name}",
		Description: "Computes named values from expressions and outputs them as one object, " +
			"read by later nodes as nodes.<id>.<name>.",
		Ports: []string{flow.PortOut, flow.PortError},
		Fields: []flow.Field{
			{Name: "fields", Label: "Fields", Kind: flow.KindList,
				Description: "The values to compute, in order. Each has a name and an expression.",
				Item: []flow.Field{
					{Name: "name", Label: "Name", Kind: flow.KindString, Required: true, Placeholder: "total",
						Description: "The key of the value in the output object."},
					{Name: "value", Label: "Value", Kind: flow.KindExpr, Required: true, Placeholder: "sum(request.body.items, .qty * .price)",
						Description: "An expression giving the value."},
				}},
		},
		Output:   "An object with one key per field.",
		Examples: []flow.Example{{Title: "Order total", Config: []byte(`{"fields":[{"name":"total","value":"sum(request.body.items, .qty * .price)"}]}`)}},
	}
}

// Check validates the fields.
func (Set) Check(c *flow.Checker, n *flow.Node) {
	var cfg setConfig
	if !c.Decode(&cfg) {
		return
	}
	seen := map[string]bool{}
	for i, f := range cfg.Fields {
		field := fmt.Sprintf("fields[%d]", i)
		switch {
		case f.Name == "":
			c.Errorf(field+".name", "field name is empty")
		case seen[f.Name]:
			c.Errorf(field+".name", "field %q is set twice", f.Name)
		}
		seen[f.Name] = true
		c.Expr(field+".value", f.Value)
	}
}

// EmitJS builds the object in the host, which keeps values on the Go side.
func (Set) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg setConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	args := make([]string, 0, 2*len(cfg.Fields))
	for i, f := range cfg.Fields {
		args = append(args, js.Quote(f.Name), w.Expr(fmt.Sprintf("fields[%d].value", i), f.Value))
	}
	w.End("$.obj("+strings.Join(args, ", ")+")", js.Quote(flow.PortOut))
	return nil
}

// EmitGo evaluates the fields in order into the output object.
func (Set) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg setConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	w.Line("out := make(map[string]any, %d)", len(cfg.Fields))
	if len(cfg.Fields) > 0 {
		w.Line("var err error")
	}
	for i, f := range cfg.Fields {
		p := w.Expr(f.Value, f.Name, fmt.Sprintf("field%d", i))
		w.Line("if out[%s], err = x.Eval(%s); err != nil {", golang.Quote(f.Name), p)
		w.Line("\t%s", w.Fail())
		w.Line("}")
	}
	w.Line("return out, %s, nil", golang.Quote(flow.PortOut))
	return nil
}

// OutputType is an object of exactly the fields, each typed by its
// expression.
func (Set) OutputType(t *flow.Typing, n *flow.Node) *flow.Type {
	var cfg setConfig
	if flow.DecodeConfig(n.Config, &cfg) != nil {
		return flow.AnyType
	}
	fields := make(map[string]*flow.Type, len(cfg.Fields))
	for _, f := range cfg.Fields {
		fields[f.Name] = t.Expr(f.Value)
	}
	return flow.MapOf(fields)
}
