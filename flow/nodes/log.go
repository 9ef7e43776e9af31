package nodes

import (
	"slices"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
)

// Log writes a line to the deployment's log, with the trace and node ids.
type Log struct{}

type logConfig struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

var logLevels = []string{"debug", "info", "warn", "error"}

// Spec describes log.
func (Log) Spec() flow.Spec {
	return flow.Spec{
		Type:     "log",
		Title:    "Log",
		Category: "Debug",
		Summary:  "{level}: {message}",
		Description: "Writes a line to the deployment's live log, tagged with the request's trace id and this node's id. " +
			"A message that is not a string is written as JSON.",
		Ports: []string{flow.PortOut, flow.PortError},
		Fields: []flow.Field{
			{Name: "level", Label: "Level", Kind: flow.KindEnum, Options: logLevels, Default: "info",
				Description: "How important the line is: debug, info, warn or error."},
			{Name: "message", Label: "Message", Kind: flow.KindExpr, Required: true, Placeholder: "\"order \" + request.params.id",
				Description: "An expression giving the message."},
		},
		Output: "The message as a string.",
		Examples: []flow.Example{
			{Title: "Note an order", Config: []byte(`{"level":"info","message":"\"order \" + string(request.params.id)"}`)},
		},
	}
}

func (cfg *logConfig) level() string {
	if cfg.Level == "" {
		return "info"
	}
	return cfg.Level
}

// Check validates level and message.
func (Log) Check(c *flow.Checker, n *flow.Node) {
	var cfg logConfig
	if !c.Decode(&cfg) {
		return
	}
	if !slices.Contains(logLevels, cfg.level()) {
		c.Errorf("level", "level %q must be one of debug, info, warn, error", cfg.Level)
	}
	c.Expr("message", cfg.Message)
}

// EmitJS logs the message; the host returns it as written.
func (Log) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg logConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	w.End("$.log("+js.Quote(cfg.level())+", "+w.Expr("message", cfg.Message)+")", js.Quote(flow.PortOut))
	return nil
}

// EmitGo logs the message as the JS host does: strings as they are, other
// values as JSON.
func (Log) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg logConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	w.Line("v, err := x.Eval(%s)", w.Expr(cfg.Message, "message"))
	w.CheckErr()
	w.Line("msg := engine.LogText(v)")
	w.Line("x.Log(%s, msg)", golang.Quote(cfg.level()))
	w.Line("return msg, %s, nil", golang.Quote(flow.PortOut))
	return nil
}

// OutputType is the message.
func (Log) OutputType(*flow.Typing, *flow.Node) *flow.Type { return flow.StringType }
