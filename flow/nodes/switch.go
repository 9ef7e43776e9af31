package nodes

import (
	"fmt"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
)

// Switch takes the port of the first case whose condition is true.
type Switch struct{}

type switchConfig struct {
	Cases []switchCase `json:"cases"`
}

type switchCase struct {
	Port      string `json:"port"`
	Condition string `json:"condition"`
}

// Spec describes switch.
func (Switch) Spec() flow.Spec {
	return flow.Spec{
		Type:     "switch",
		Title:    "Switch",
		Category: "Branch",
		Summary:  "{cases.port}",
		Description: "Evaluates its cases in order and takes the port of the first whose condition is true, " +
			"or the default port when none is.",
		Ports:        []string{flow.PortDefault, flow.PortError},
		DynamicPorts: &flow.DynamicPorts{Field: "cases", Item: "port"},
		Fields: []flow.Field{
			{Name: "cases", Label: "Cases", Kind: flow.KindList,
				Description: "The cases, tried in order; evaluation stops at the first true one.",
				Item: []flow.Field{
					{Name: "port", Label: "Port", Kind: flow.KindString, Required: true, Placeholder: "vip",
						Description: "The port this case leaves by: a name of letters, digits and _, not default or error."},
					{Name: "condition", Label: "Condition", Kind: flow.KindExpr, Required: true, Placeholder: "request.query.tier == \"gold\"",
						Description: "An expression that must give true or false."},
				}},
		},
		Output: "The name of the port taken.",
		Examples: []flow.Example{
			{Title: "By tier", Config: []byte(`{"cases":[{"port":"gold","condition":"request.query.tier == \"gold\""},{"port":"silver","condition":"request.query.tier == \"silver\""}]}`)},
		},
	}
}

// Check validates the cases.
func (Switch) Check(c *flow.Checker, n *flow.Node) {
	var cfg switchConfig
	if !c.Decode(&cfg) {
		return
	}
	seen := map[string]bool{}
	for i, cs := range cfg.Cases {
		field := fmt.Sprintf("cases[%d]", i)
		switch {
		case !flow.ValidID(cs.Port):
			c.Errorf(field+".port", "port %q must start with a letter or _ and hold only letters, digits and _", cs.Port)
		case cs.Port == flow.PortDefault || cs.Port == flow.PortError:
			c.Errorf(field+".port", "port %q is reserved", cs.Port)
		case seen[cs.Port]:
			c.Errorf(field+".port", "port %q is used by two cases", cs.Port)
		}
		seen[cs.Port] = true
		c.BoolExpr(field+".condition", cs.Condition)
	}
}

// EmitJS tries the cases in order.
func (Switch) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg switchConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	w.Line("let port = %s;", js.Quote(flow.PortDefault))
	for i, cs := range cfg.Cases {
		kw := "else if"
		if i == 0 {
			kw = "if"
		}
		w.Line("%s (%s) port = %s;", kw, w.Cond(fmt.Sprintf("cases[%d].condition", i), cs.Condition), js.Quote(cs.Port))
	}
	w.End("port", "port")
	return nil
}

// EmitGo tries the cases in order; the first true one gives the port.
func (Switch) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg switchConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	for i, cs := range cfg.Cases {
		w.Line("if v, err := x.Cond(%s); err != nil {", w.Expr(cs.Condition, cs.Port, fmt.Sprintf("case%d", i)))
		w.Line("\t%s", w.Fail())
		w.Line("} else if v {")
		w.Line("\treturn %s, %[1]s, nil", golang.Quote(cs.Port))
		w.Line("}")
	}
	w.Line("return %s, %[1]s, nil", golang.Quote(flow.PortDefault))
	return nil
}

// OutputType is the chosen port's name.
func (Switch) OutputType(*flow.Typing, *flow.Node) *flow.Type { return flow.StringType }
