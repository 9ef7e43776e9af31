package nodes

import (
	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
)

// If branches on a condition.
type If struct{}

type ifConfig struct {
	Condition string `json:"condition"`
}

// Spec describes if.
func (If) Spec() flow.Spec {
	return flow.Spec{
		Type:     "if",
		Title:    "If",
		Category: "Branch",
		Summary:  "{condition}",
		Description: "Takes the true or the false port depending on a condition. A condition that gives " +
			"anything but a bool, nil included, is a failure of the node.",
		Ports: []string{"true", "false", flow.PortError},
		Fields: []flow.Field{
			{Name: "condition", Label: "Condition", Kind: flow.KindExpr, Required: true, Placeholder: "nodes.calc.total > 100",
				Description: "An expression that must give true or false."},
		},
		Output: "The bool the condition gave.",
		Examples: []flow.Example{
			{Title: "Large orders", Config: []byte(`{"condition":"request.body.total > 100"}`)},
		},
	}
}

// Check validates the condition.
func (If) Check(c *flow.Checker, n *flow.Node) {
	var cfg ifConfig
	if c.Decode(&cfg) {
		c.BoolExpr("condition", cfg.Condition)
	}
}

// EmitJS evaluates the condition and leaves by the port of its value.
func (If) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg ifConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	w.Line("const v = %s;", w.Cond("condition", cfg.Condition))
	w.End("v", `v ? "true" : "false"`)
	return nil
}

// EmitGo evaluates the condition and leaves by the port of its value.
func (If) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg ifConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	w.Line("v, err := x.Cond(%s)", w.Expr(cfg.Condition, "condition"))
	w.CheckErr()
	w.Line("if v {")
	w.Line("\treturn true, %s, nil", golang.Quote("true"))
	w.Line("}")
	w.Line("return false, %s, nil", golang.Quote("false"))
	return nil
}

// OutputType is the condition's bool.
func (If) OutputType(*flow.Typing, *flow.Node) *flow.Type { return flow.BoolType }
