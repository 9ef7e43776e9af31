package nodes

import (
	"fmt"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/sandbox"
	"github.com/flowline/flowline/flow"
)

// Code runs a JavaScript function body in a sandbox.
type Code struct{}

type codeConfig struct {
	Source    string `json:"source"`
	TimeoutMS *int   `json:"timeout_ms"`
}

func (cfg *codeConfig) spec() sandbox.Spec {
	s := sandbox.Spec{Source: cfg.Source}
	if cfg.TimeoutMS != nil {
		s.TimeoutMS = *cfg.TimeoutMS
	}
	return s
}

// Spec describes code.js.
func (Code) Spec() flow.Spec {
	return flow.Spec{
		Type:     "code.js",
		Title:    "JavaScript",
		Category: "Transform",
		Summary:  "{source}",
		Description: "Runs the body of a JavaScript function and outputs what it returns, as JSON. The function sees " +
			"request, nodes (the outputs of the nodes that ran), env, trace and log, and runs in strict mode in a " +
			"sandbox of its own: nothing one run leaves behind is seen by another, and there is no require, file " +
			"system, network, eval or BigInt. An exception fails the node with its message.",
		Ports: []string{flow.PortOut, flow.PortError},
		Fields: []flow.Field{
			{Name: "source", Label: "Source", Kind: flow.KindCode, Language: "javascript", Required: true,
				Placeholder: "const items = request.body.items;\nlog.info(\"items\", items.length);\nreturn { count: items.length };",
				Description: fmt.Sprintf("The body of a function of request, nodes, env, trace and log that returns the output. "+
					"log.info, log.warn, log.error and log.debug join their arguments with spaces into one log line. "+
					"At most %d bytes.", sandbox.MaxSource)},
			{Name: "timeout_ms", Label: "Timeout (ms)", Kind: flow.KindInt, Default: sandbox.DefaultTimeout.Milliseconds(),
				Description: fmt.Sprintf("How long the function may run, in milliseconds, at most %d. The request's own "+
					"deadline stops it sooner when it comes first.", sandbox.MaxTimeoutMS)},
		},
		Output: "The returned value as JSON data: undefined gives nil, functions are left out, dates become strings.",
		Examples: []flow.Example{
			{Title: "Sum and product", Config: []byte(`{"source":"const a = request.body.a, b = request.body.b;\nlog.info(\"calc\", a, b);\nreturn { sum: a + b, product: a * b };"}`)},
		},
	}
}

// Check validates the source: a function body that compiles in strict mode.
func (Code) Check(c *flow.Checker, n *flow.Node) {
	var cfg codeConfig
	if !c.Decode(&cfg) {
		return
	}
	probs := cfg.spec().Check()
	if msg, ok := probs["source"]; ok {
		probs["source"] = fmt.Sprintf("the source of code.js node %q is not usable: %s", n.ID, msg)
	}
	report(c, probs)
	if cfg.TimeoutMS != nil && *cfg.TimeoutMS == 0 {
		c.Errorf("timeout_ms", "timeout_ms must be at least 1; leave it out for the default of %d", sandbox.DefaultTimeout.Milliseconds())
	}
}

// Binding is the node's call, for the JS host.
func (Code) Binding() engine.Binding { return engine.Bind(sandbox.New) }

// EmitJS runs the source through the host, which compiled it at load. The
// source reaches the bundle only inside the JSON string of its settings.
func (Code) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg codeConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	i, err := w.Prepare(n.Type, cfg.spec())
	if err != nil {
		return err
	}
	w.EndCall(i)
	return nil
}

// EmitGo runs the source through the runtime, which compiles it when the
// instance starts.
func (Code) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg codeConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	code, err := w.Prepare("code", cfg.spec())
	if err != nil {
		return err
	}
	w.Line("out, err := %s.Run(x)", code)
	w.CheckErr()
	w.Line("return out, %s, nil", golang.Quote(flow.PortOut))
	return nil
}
