package nodes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
)

// Response answers the request.
type Response struct{}

type responseConfig struct {
	Status  json.RawMessage `json:"status"`
	Headers []NameValue     `json:"headers"`
	Body    string          `json:"body"`
}

// status is a literal code or an expression; code is 200 when neither is set.
func (c *responseConfig) status() (code int, src string, err error) {
	raw := bytes.TrimSpace(c.Status)
	if len(raw) == 0 || string(raw) == "null" {
		return 200, "", nil
	}
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &src); err != nil {
			return 0, "", err
		}
		if n, err := strconv.Atoi(strings.TrimSpace(src)); err == nil {
			return n, "", checkStatus(n)
		}
		return 0, src, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, "", fmt.Errorf("status must be a number or an expression")
	}
	if f != float64(int(f)) {
		return 0, "", fmt.Errorf("status %v is not a whole number", f)
	}
	return int(f), "", checkStatus(int(f))
}

func checkStatus(n int) error {
	if n < 100 || n > 599 {
		return fmt.Errorf("status %d is not an HTTP status (100-599)", n)
	}
	return nil
}

// Spec describes response.
func (Response) Spec() flow.Spec {
	return flow.Spec{
		Type:     flow.ResponseType,
		Title:    "Response",
		Category: "Respond",
		Summary:  "{status} · {body}",
		Description: "Answers the request and ends the flow: nothing after a response runs. " +
			"A body that gives a string is sent as text/plain unless a Content-Type header is set; " +
			"any other value is sent as JSON; nil sends no body.",
		Ports: []string{},
		Fields: []flow.Field{
			{Name: "status", Label: "Status", Kind: flow.KindIntOrExpr, Default: 200,
				Description: "The HTTP status: a number, or an expression giving one."},
			{Name: "headers", Label: "Headers", Kind: flow.KindList,
				Description: "Response headers. A value is converted like string(); nil leaves the header unset.",
				Item: []flow.Field{
					{Name: "name", Label: "Name", Kind: flow.KindString, Required: true, Placeholder: "Location",
						Description: "The header's name."},
					{Name: "value", Label: "Value", Kind: flow.KindExpr, Required: true, Placeholder: "\"/items/\" + string(request.body.id)",
						Description: "An expression giving the header's value; nil leaves the header out."},
				}},
			{Name: "body", Label: "Body", Kind: flow.KindExpr, Placeholder: "{\"total\": nodes.calc.total}",
				Description: "An expression giving the body. Leave empty for no body."},
		},
		Output: "Responds; later nodes do not run.",
		Examples: []flow.Example{
			{Title: "Created", Config: []byte(`{"status":201,"headers":[{"name":"Location","value":"\"/items/\" + string(request.body.id)"}],"body":"{\"id\": request.body.id}"}`)},
		},
	}
}

// Check validates status, headers and body.
func (Response) Check(c *flow.Checker, n *flow.Node) {
	var cfg responseConfig
	if !c.Decode(&cfg) {
		return
	}
	if _, src, err := cfg.status(); err != nil {
		c.Errorf("status", "%v", err)
	} else if src != "" {
		c.Expr("status", src)
	}
	checkHeaders(c, cfg.Headers)
	if strings.TrimSpace(cfg.Body) != "" {
		c.Expr("body", cfg.Body)
	}
}

// EmitJS answers with the evaluated status, headers and body.
func (Response) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg responseConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	code, src, err := cfg.status()
	if err != nil {
		return err
	}
	status := strconv.Itoa(code)
	if src != "" {
		status = w.Expr("status", src)
	}
	headers, body := emitJSHeaders(w, cfg.Headers), emitJSBody(w, cfg.Body)
	w.Respond(status, headers, body)
	return nil
}

// EmitGo answers with the evaluated status, headers and body. They are
// evaluated in that order and the status checked last, as in the JS target,
// so the same failure is reported.
func (Response) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg responseConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	code, src, err := cfg.status()
	if err != nil {
		return err
	}
	w.Responds()
	if src != "" {
		w.Line("status, err := x.Eval(%s)", w.Expr(src, "status"))
		w.CheckErr()
	}
	headers, body := emitGoHeaders(w, cfg.Headers), emitGoBody(w, cfg.Body)
	if headers != "nil" {
		headers = "engine.Headers(" + headers + ")"
	}
	status := strconv.Itoa(code)
	if src != "" {
		w.Line("code, err := engine.StatusCode(status)")
		w.CheckErr()
		status = "code"
	}
	w.Line("x.Respond(%s, %s, %s)", status, headers, body)
	w.Line("return nil")
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// OutputType is nil: a response ends the run.
func (Response) OutputType(*flow.Typing, *flow.Node) *flow.Type { return flow.NilType }
