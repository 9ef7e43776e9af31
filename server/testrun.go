package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/internal/conformance"
	"github.com/flowline/flowline/store"
)

// testRequest is the body of POST /flows/{name}/test.
type testRequest struct {
	Request     conformance.Request `json:"request"`
	Env         map[string]string   `json:"env"`
	Secrets     map[string]string   `json:"secrets"` // as a deployment's: env.NAME, redacted in the answer
	Datasources map[string]string   `json:"datasources"`
	// Flow, when given, is run instead of the saved draft, so the designer
	// can test unsaved edits.
	Flow     json.RawMessage `json:"flow"`
	Deadline string          `json:"deadline"`
	// Egress is the allow-list of the run's http.request nodes, as a
	// deployment's: by default a test run reaches nothing internal, the
	// server's API included.
	Egress egressSpec `json:"egress"`
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
func (a flowsAPI) test(c *gin.Context) {
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
	files, err := js.Generate(d, a.s.registry, 0)
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
	job := &jshost.TestRunJob{Files: files, Env: env, Secrets: secrets, Datasources: req.Datasources, EgressAllow: req.Egress.Allow}
	if req.Deadline != "" {
		if job.Deadline, err = time.ParseDuration(req.Deadline); err != nil || job.Deadline <= 0 {
			fail(c, errStatus(http.StatusBadRequest, fmt.Sprintf("deadline %q is not a positive duration such as 5s", req.Deadline)))
			return
		}
	}
	hreq, err := buildRequest(req.Request, d)
	if err != nil {
		fail(c, err)
		return
	}
	var body []byte
	if hreq.Body != nil {
		if body, err = io.ReadAll(hreq.Body); err != nil {
			fail(c, err)
			return
		}
	}
	job.Request = jshost.TestRunRequest{Method: hreq.Method, Target: hreq.URL.RequestURI(), Header: hreq.Header, Body: body}
	res, err := a.s.testRuns.Run(c.Request.Context(), job)
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

// buildRequest turns a sample request (the shape of a conformance case's
// request) into an HTTP request. Method and path default to the trigger's,
// so a designer user can just press Run.
func buildRequest(r conformance.Request, d *flow.Document) (*http.Request, error) {
	method, path, _ := flow.Route(d)
	if r.Method != "" {
		r.Method = strings.ToUpper(r.Method)
	} else {
		r.Method = method
	}
	if r.Path == "" {
		r.Path = path
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, errStatus(http.StatusBadRequest, fmt.Sprintf("request path %q must start with /", r.Path))
	}
	req, err := r.HTTPRequest("http://test.flowline.local")
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, "request: "+err.Error())
	}
	return req, nil
}

func isStale(err error) bool { return errors.Is(err, store.ErrStale) }
