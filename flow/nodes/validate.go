package nodes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/schema"
	"github.com/flowline/flowline/flow"
)

// Validate checks a value against a JSON Schema.
type Validate struct{}

type validateConfig struct {
	Schema json.RawMessage `json:"schema"`
	Value  string          `json:"value"`
}

// defaultValidateValue is what a validate node checks when value is empty.
const defaultValidateValue = "request.body"

func (cfg *validateConfig) value() string {
	if strings.TrimSpace(cfg.Value) == "" {
		return defaultValidateValue
	}
	return cfg.Value
}

// Spec describes validate.
func (Validate) Spec() flow.Spec {
	return flow.Spec{
		Type:     "validate",
		Title:    "Validate",
		Category: "Branch",
		Summary:  "{value}",
		Description: "Checks a value, the request body unless told otherwise, against a JSON Schema (draft 2020-12). " +
			"A value that matches leaves by out; one that does not leaves by invalid with every error found. When " +
			"the invalid port has no edge, the request is answered 400 with the errors as details.",
		Ports: []string{flow.PortOut, engine.PortInvalid, flow.PortError},
		Fields: []flow.Field{
			{Name: "schema", Label: "Schema", Kind: flow.KindSchema, Required: true,
				Placeholder: `{"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}}}`,
				Description: "A JSON Schema object, draft 2020-12 unless its $schema says otherwise. Formats such as email " +
					"and date-time are checked. References work only inside the schema; nothing is fetched."},
			{Name: "value", Label: "Value", Kind: flow.KindExpr, Default: defaultValidateValue, Placeholder: defaultValidateValue,
				Description: "An expression giving the value to check. Leave empty to check the request body."},
		},
		Output: fmt.Sprintf("On out, the value. On invalid, {\"errors\": [{\"path\", \"message\"}, ...]}: at most %d "+
			"errors, each with a JSON Pointer to the part of the value it is about (\"\" for the value itself).", schema.MaxValidationErrors),
		Examples: []flow.Example{
			{Title: "Sign-up form", Config: []byte(`{"schema":{"type":"object","required":["email","age"],"properties":{"email":{"type":"string","minLength":3},"age":{"type":"integer","minimum":18}}}}`)},
		},
	}
}

// invalidMessage is the error of the 400 a failed check answers when the
// invalid port has no edge.
const invalidMessage = "validation failed"

// Check compiles the schema and the value's expression.
func (Validate) Check(c *flow.Checker, n *flow.Node) {
	var cfg validateConfig
	if !c.Decode(&cfg) {
		return
	}
	if raw := bytes.TrimSpace(cfg.Schema); len(raw) == 0 || string(raw) == "null" {
		c.Errorf("schema", "schema is required: a JSON Schema object")
	} else if _, err := schema.Compile(raw); err != nil {
		c.Errorf("schema", "%v", err)
	}
	c.Expr("value", cfg.value())
}

// Binding is the node's call, for the JS host.
func (Validate) Binding() engine.Binding { return engine.Bind(schema.New) }

// EmitJS evaluates the value and checks it in the host. Without an edge
// from invalid, a value that fails answers 400 and ends the request.
func (Validate) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg validateConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	i, err := w.Prepare(n.Type, schema.Spec{Schema: bytes.TrimSpace(cfg.Schema)})
	if err != nil {
		return err
	}
	if w.HasEdge(engine.PortInvalid) {
		w.EndCall(i, w.Expr("value", cfg.value()))
		return nil
	}
	w.Line("const [$out, $port] = $.call(%d, %s);", i, w.Expr("value", cfg.value()))
	w.Line("if ($port === %s) {", js.Quote(engine.PortInvalid))
	w.Line("\t$.refuse($out, $port, 400, %s, $out.errors);", js.Quote(invalidMessage))
	w.Line("\treturn;")
	w.Line("}")
	w.End("$out", "$port")
	return nil
}

// EmitGo evaluates the value and checks it against the schema, compiled
// when the instance starts. Without an edge from invalid, a value that
// fails answers 400 and ends the request.
func (Validate) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg validateConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	s, err := w.Prepare("schema", schema.Spec{Schema: bytes.TrimSpace(cfg.Schema)})
	if err != nil {
		return err
	}
	w.Line("v, err := x.Eval(%s)", w.Expr(cfg.value(), "value"))
	w.CheckErr()
	w.Line("invalid, err := %s.Check(v)", s)
	w.CheckErr()
	w.Line("if invalid != nil {")
	if w.HasEdge(engine.PortInvalid) {
		w.Line("\treturn invalid, %s, nil", golang.Quote(engine.PortInvalid))
	} else {
		w.MayRespond()
		w.Line("\tx.Refuse(invalid, %s, 400, %s, invalid[\"errors\"])", golang.Quote(engine.PortInvalid), golang.Quote(invalidMessage))
		w.Line("\treturn nil, \"\", nil")
	}
	w.Line("}")
	w.Line("return v, %s, nil", golang.Quote(flow.PortOut))
	return nil
}

// OutputType is the value as the schema describes it, or the errors on
// invalid.
func (Validate) OutputType(_ *flow.Typing, n *flow.Node) *flow.Type {
	var cfg struct {
		Schema map[string]any `json:"schema"`
	}
	if json.Unmarshal(n.Config, &cfg) != nil {
		return flow.AnyType
	}
	t := flow.SchemaType(cfg.Schema)
	errs := flow.MapOf(map[string]*flow.Type{"errors": flow.ListOf(flow.MapOf(map[string]*flow.Type{
		"path": flow.StringType, "message": flow.StringType,
	}))})
	if t.Kind == flow.TypeMap {
		return flow.Union(t, errs)
	}
	return flow.AnyType
}
