package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/store"
)

// testRunStore is what test runs need of the store.
type testRunStore interface {
	GetFlow(ctx context.Context, name string) (*store.Flow, error)
}

// testRunAPI runs flows once, for the designer's test panel.
type testRunAPI struct {
	store    testRunStore
	registry *flow.Registry
	runner   testRunner
}

// testRequest is the body of POST /flows/{name}/test.
type testRequest struct {
	Request     sampleRequest     `json:"request"`
	Env         map[string]string `json:"env"`
	Secrets     map[string]string `json:"secrets"` // as a deployment's: env.NAME, redacted in the answer
	Datasources map[string]string `json:"datasources"`
	// Flow, when given, is run instead of the saved draft, so the designer
	// can test unsaved edits.
	Flow     json.RawMessage `json:"flow"`
	Deadline string          `json:"deadline"`
	// Egress is the allow-list of the run's http.request nodes, as a
	// deployment's: by default a test run reaches nothing internal, the
	// server's API included.
	Egress egressSpec `json:"egress"`
	// Pins are node outputs (by node id) the run uses instead of running
	// those nodes: sample data pinned in the designer.
	Pins map[string]engine.Pin `json:"pins"`
}

// sampleRequest is the request a test run sends, in the shape of a
// conformance case's request, so that the cases run through this API as
// they are written.
type sampleRequest struct {
	Method      string            `json:"method"`          // default: the trigger's
	Path        string            `json:"path"`            // default: the trigger's; may carry a query string
	Query       map[string]any    `json:"query,omitempty"` // per name, a value or a list of them
	Headers     map[string]string `json:"headers,omitempty"`
	Body        json.RawMessage   `json:"body,omitempty"`     // sent as application/json
	RawBody     *string           `json:"raw_body,omitempty"` // sent as it is, with ContentType
	ContentType string            `json:"content_type,omitempty"`
}

type testResponse struct {
	Response testResult `json:"response"`
	Trace    testTrace  `json:"trace"`
}

type testResult struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
}

type testTrace struct {
	ID    string           `json:"id"`
	Spans []engine.Span    `json:"spans"`
	Logs  []engine.LogLine `json:"logs"`
}

// test runs a flow once, with per-node detail, in a process of its own
// (see processRunner). It runs the very bundle publishing would produce, in
// the same runtime, so a test run and a deployment cannot disagree.
func (a testRunAPI) test(c *gin.Context) {
	var req testRequest
	if err := decodeJSON(c, maxDocument+engine.DefaultMaxBody, &req); err != nil {
		fail(c, err)
		return
	}
	doc := []byte(req.Flow)
	if len(doc) == 0 || string(doc) == "null" {
		f, err := a.store.GetFlow(c, c.Param("name"))
		if err != nil {
			fail(c, fmt.Errorf("flow %s: %w", c.Param("name"), err))
			return
		}
		doc = f.Document
	}
	d, err := flow.Parse(doc)
	if err != nil {
		fail(c, err)
		return
	}
	files, err := js.Generate(d, a.registry, 0)
	if err != nil {
		var ve *flow.ValidationError
		if errors.As(err, &ve) {
			c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": "the flow is not valid", "details": ve.Problems, "errors": ve.Problems})
			return
		}
		fail(c, err)
		return
	}
	// Parsed here too, so that a bad entry is the client's 400.
	if _, err := req.Egress.policy(); err != nil {
		fail(c, err)
		return
	}
	env, secrets, err := withSecrets(req.Env, req.Secrets)
	if err != nil {
		fail(c, err)
		return
	}
	if err := checkPins(d, a.registry, req.Pins); err != nil {
		fail(c, err)
		return
	}
	job := &jshost.TestRunJob{Files: files, Env: env, Secrets: secrets, Datasources: req.Datasources, EgressAllow: req.Egress.Allow, Pins: req.Pins}
	if req.Deadline != "" {
		if job.Deadline, err = time.ParseDuration(req.Deadline); err != nil || job.Deadline <= 0 {
			fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("deadline %q is not a positive duration such as 5s", req.Deadline)))
			return
		}
	}
	if job.Request, err = req.Request.build(d); err != nil {
		fail(c, err)
		return
	}
	res, err := a.runner.Run(c.Request.Context(), job)
	if err != nil {
		fail(c, err)
		return
	}
	out := testResponse{
		Response: testResult{Status: res.Status, Headers: map[string]string{}},
		Trace:    testTrace{ID: res.TraceID, Spans: res.Spans, Logs: res.Logs},
	}
	if out.Trace.Spans == nil {
		out.Trace.Spans = []engine.Span{}
	}
	if out.Trace.Logs == nil {
		out.Trace.Logs = []engine.LogLine{}
	}
	for k, vs := range res.Header {
		out.Response.Headers[k] = strings.Join(vs, ", ")
	}
	if engine.IsJSONContentType(res.Header.Get("Content-Type")) {
		if v, err := engine.DecodeJSON(res.Body); err == nil {
			out.Response.Body = v
		} else {
			out.Response.Body = string(res.Body)
		}
	} else if len(res.Body) > 0 {
		out.Response.Body = string(res.Body)
	}
	// Values computed by the flow are plain JSON data; anything else (an
	// exotic value from code.js) is shown as its JSON rendering.
	if _, err := json.Marshal(out); err != nil {
		fail(c, fmt.Errorf("encode test result: %w", err))
		return
	}
	c.PureJSON(http.StatusOK, out)
}

// checkPins refuses pins of nodes the flow does not have, of the trigger
// (the request is the sample) and of responses (they give no output), and
// pins leaving by a port the node does not have.
func checkPins(d *flow.Document, r *flow.Registry, pins map[string]engine.Pin) error {
	for id, p := range pins {
		n := d.Node(id)
		switch {
		case n == nil:
			return errStatus(http.StatusBadRequest, fmt.Sprintf("pin of node %q: the flow has no such node", id))
		case n.Type == flow.TriggerType || n.Type == flow.ResponseType:
			return errStatus(http.StatusBadRequest, fmt.Sprintf("pin of node %q: a %s cannot be pinned", id, n.Type))
		case !slices.Contains(r.Ports(n), p.Port):
			return errStatus(http.StatusBadRequest, fmt.Sprintf("pin of node %q: it has no port %q; its ports are %s", id, p.Port, strings.Join(r.Ports(n), ", ")))
		}
	}
	return nil
}

// build makes the run's request. Method and path default to the
// trigger's, so a designer user can just press Run.
func (r sampleRequest) build(d *flow.Document) (jshost.TestRunRequest, error) {
	method, path, _ := flow.Route(d)
	if r.Method != "" {
		method = strings.ToUpper(r.Method)
	}
	if r.Path != "" {
		path = r.Path
	}
	if !strings.HasPrefix(path, "/") {
		return jshost.TestRunRequest{}, errStatus(http.StatusBadRequest, fmt.Sprintf("request path %q must start with /", path))
	}
	if len(r.Query) > 0 {
		q := url.Values{}
		for _, k := range slices.Sorted(maps.Keys(r.Query)) {
			vs, ok := r.Query[k].([]any)
			if !ok {
				vs = []any{r.Query[k]}
			}
			for _, v := range vs {
				q.Add(k, fmt.Sprint(v))
			}
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + q.Encode()
	}
	// Parsed as a client's request is, so that a bad method or path is
	// the caller's 400.
	hreq, err := http.NewRequest(method, "http://test.flowline.local"+path, nil)
	if err != nil {
		return jshost.TestRunRequest{}, errStatus(http.StatusBadRequest, "request: "+err.Error())
	}
	out := jshost.TestRunRequest{Method: hreq.Method, Target: hreq.URL.RequestURI(), Header: http.Header{}}
	switch {
	case r.RawBody != nil:
		out.Body = []byte(*r.RawBody)
		if r.ContentType != "" {
			out.Header.Set("Content-Type", r.ContentType)
		}
	case len(r.Body) > 0:
		out.Body = []byte(r.Body)
		out.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.Headers {
		out.Header.Set(k, v)
	}
	return out, nil
}

// withSecrets checks a test run's variables as a deployment's, and
// returns them with its secrets among them, and the secret values, which
// the runtime redacts from all the run shows (engine.Options.Secrets).
func withSecrets(env, secrets map[string]string) (map[string]string, []string, error) {
	if err := checkVariables(env, secrets); err != nil {
		return nil, nil, err
	}
	if len(secrets) == 0 {
		return env, nil, nil
	}
	all := maps.Clone(env)
	if all == nil {
		all = make(map[string]string, len(secrets))
	}
	maps.Copy(all, secrets)
	return all, slices.Collect(maps.Values(secrets)), nil
}

func isStale(err error) bool { return errors.Is(err, store.ErrStale) }
