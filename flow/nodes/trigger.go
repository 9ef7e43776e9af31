package nodes

import (
	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/flow"
)

// Trigger is trigger.http: the endpoint a flow serves. It runs first and
// its output is the request object.
type Trigger struct{}

// Spec describes trigger.http.
func (Trigger) Spec() flow.Spec {
	return flow.Spec{
		Type:     flow.TriggerType,
		Title:    "HTTP trigger",
		Category: "Trigger",
		Summary:  "{method} {path}",
		Description: "The endpoint this flow serves. Every flow has exactly one trigger; it runs first, " +
			"and its output is the request: method, path, params, query, headers and body.",
		Ports: []string{flow.PortOut},
		Fields: []flow.Field{
			{Name: "method", Label: "Method", Kind: flow.KindEnum, Required: true, Options: contract.Methods, Default: "GET",
				Description: "The HTTP method the endpoint answers. A GET endpoint also answers HEAD."},
			{Name: "path", Label: "Path", Kind: flow.KindString, Required: true, Placeholder: "/orders/:shop",
				Description: "The path, starting with /. A segment written :name is a parameter, read as request.params.name."},
		},
		Output: "The request object: {method, path, params, query, headers, body}.",
		Examples: []flow.Example{
			{Title: "An order of a shop", Config: []byte(`{"method":"GET","path":"/shops/:shop/orders/:id"}`)},
		},
	}
}

// Check validates method and path.
func (Trigger) Check(c *flow.Checker, n *flow.Node) {
	var cfg flow.TriggerConfig
	if !c.Decode(&cfg) {
		return
	}
	if err := contract.CheckMethod(cfg.Method); err != nil {
		c.Errorf("method", "%v", err)
	}
	if err := contract.CheckPath(cfg.Path); err != nil {
		c.Errorf("path", "%v", err)
	}
}
