package nodes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/httpcall"
	"github.com/flowline/flowline/flow"
)

// HTTPRequest calls an HTTP API.
type HTTPRequest struct{}

type httpConfig struct {
	Method    string      `json:"method"`
	URL       string      `json:"url"`
	Headers   []NameValue `json:"headers"`
	Body      string      `json:"body"`
	TimeoutMS *int        `json:"timeout_ms"`
	Retries   int         `json:"retries"`
}

func (cfg *httpConfig) spec() httpcall.Spec {
	s := httpcall.Spec{Method: cfg.Method, Retries: cfg.Retries}
	if cfg.TimeoutMS != nil {
		s.TimeoutMS = *cfg.TimeoutMS
	}
	return s
}

// Spec describes http.request.
func (HTTPRequest) Spec() flow.Spec {
	return flow.Spec{
		Type:     "http.request",
		Title:    "HTTP request",
		Category: "Call",
		Summary:  "{method} {url}",
		Description: "Calls an HTTP API and outputs its answer: status, headers and body. Any status is an output, " +
			"404 and 500 included; only a network failure, a timeout, a body over the size limit or a body that " +
			"says it is JSON but does not parse fails the node (502 when its error port has no edge). " +
			"The call carries the request's trace in a traceparent header. " +
			"Internal destinations (loopback, private and link-local addresses, cloud metadata) are refused unless the " +
			"deployment's egress allow-list names them; a refusal fails the node like a network failure, and is not retried.",
		Ports: []string{flow.PortOut, flow.PortError},
		Fields: []flow.Field{
			{Name: "method", Label: "Method", Kind: flow.KindEnum, Required: true, Options: httpcall.Methods, Default: "GET",
				Description: "The HTTP method of the call."},
			{Name: "url", Label: "URL", Kind: flow.KindExpr, Required: true, Placeholder: "env.API + \"/users/\" + request.params.id",
				Description: "An expression giving the absolute http:// or https:// URL to call. Write a fixed URL in quotes."},
			{Name: "headers", Label: "Headers", Kind: flow.KindList,
				Description: "Headers to send. A value is converted like string(); nil leaves the header out.",
				Item: []flow.Field{
					{Name: "name", Label: "Name", Kind: flow.KindString, Required: true, Placeholder: "Authorization",
						Description: "The header's name."},
					{Name: "value", Label: "Value", Kind: flow.KindExpr, Required: true, Placeholder: "\"Bearer \" + env.TOKEN",
						Description: "An expression giving the header's value."},
				}},
			{Name: "body", Label: "Body", Kind: flow.KindExpr, Placeholder: "{\"name\": request.body.name}",
				Description: "An expression giving the body to send. A string is sent as it is, as text/plain unless a " +
					"Content-Type header says otherwise; any other value is sent as JSON. Leave empty, or give nil, to send no body."},
			{Name: "timeout_ms", Label: "Timeout (ms)", Kind: flow.KindInt, Default: httpcall.DefaultTimeout.Milliseconds(),
				Description: fmt.Sprintf("How long one attempt may take, in milliseconds, at most %d. The request's own deadline "+
					"ends the call sooner when it comes first.", httpcall.MaxTimeoutMS)},
			{Name: "retries", Label: "Retries", Kind: flow.KindInt, Default: 0,
				Description: fmt.Sprintf("How many times to try again after a network failure, a timeout or a 502, 503 or 504, "+
					"waiting a little longer each time. Only GET, HEAD, PUT and DELETE are retried; at most %d.", httpcall.MaxRetries)},
		},
		Output: "An object {status, headers, body}: the status as a number, the headers with lower-case names (first value " +
			"of each), and the body as JSON when the answer says it is JSON, else as a string (nil when empty).",
		Examples: []flow.Example{
			{Title: "Fetch a user", Config: []byte(`{"method":"GET","url":"env.UPSTREAM + \"/users/\" + request.params.id","timeout_ms":2000,"retries":2}`)},
			{Title: "Post JSON", Config: []byte(`{"method":"POST","url":"env.UPSTREAM + \"/echo\"","headers":[{"name":"X-Caller","value":"\"flowline\""}],"body":"{\"order\": request.body}"}`)},
		},
	}
}

// Check validates the method, url, headers, body and limits.
func (HTTPRequest) Check(c *flow.Checker, n *flow.Node) {
	var cfg httpConfig
	if !c.Decode(&cfg) {
		return
	}
	report(c, cfg.spec().Check())
	if cfg.Retries > 0 && cfg.Method != "" && !slices.Contains(httpcall.RetryMethods, cfg.Method) {
		c.Warnf("retries", "retries have no effect on a %s: only %s are retried, since only they are safe to send twice",
			cfg.Method, strings.Join(httpcall.RetryMethods, ", "))
	}
	if cfg.TimeoutMS != nil && *cfg.TimeoutMS == 0 {
		c.Errorf("timeout_ms", "timeout_ms must be at least 1; leave it out for the default of %d", httpcall.DefaultTimeout.Milliseconds())
	}
	url := strings.TrimSpace(cfg.URL)
	if _, err := flow.CompileExpr(url, false); err != nil && (strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://")) {
		c.Errorf("url", "url must be an expression: write a fixed URL in quotes, like %q", url)
	} else {
		c.Expr("url", cfg.URL)
	}
	checkHeaders(c, cfg.Headers)
	if strings.TrimSpace(cfg.Body) != "" {
		c.Expr("body", cfg.Body)
	}
}

// Binding is the node's call, for the JS host.
func (HTTPRequest) Binding() engine.Binding { return engine.Bind(httpcall.New) }

// EmitJS evaluates the url, headers and body, and calls through the host.
func (HTTPRequest) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg httpConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	i, err := w.Prepare(n.Type, cfg.spec())
	if err != nil {
		return err
	}
	url := w.Expr("url", cfg.URL)
	headers, body := emitJSHeaders(w, cfg.Headers), emitJSBody(w, cfg.Body)
	w.EndCall(i, url, headers, body)
	return nil
}

// EmitGo evaluates the url, headers and body in the order the JS target
// does, and calls through the runtime.
func (HTTPRequest) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg httpConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	call, err := w.Prepare("call", cfg.spec())
	if err != nil {
		return err
	}
	w.Line("url, err := x.Eval(%s)", w.Expr(cfg.URL, "url"))
	w.CheckErr()
	headers, body := emitGoHeaders(w, cfg.Headers), emitGoBody(w, cfg.Body)
	w.Line("out, err := %s.Do(x, url, %s, %s)", call, headers, body)
	w.CheckErr()
	w.Line("return out, %s, nil", golang.Quote(flow.PortOut))
	return nil
}

// OutputType is {status, headers, body}; the body's shape is only known
// from a test run.
func (HTTPRequest) OutputType(*flow.Typing, *flow.Node) *flow.Type {
	return flow.MapOf(map[string]*flow.Type{
		"status":  flow.NumberType,
		"headers": flow.OpenMapOf(nil),
		"body":    flow.AnyType,
	})
}
