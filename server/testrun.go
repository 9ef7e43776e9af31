package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/conformance"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/runtime"
	"github.com/flowline/flowline/store"
)

// testRequest is the body of POST /flows/{name}/test.
type testRequest struct {
	Request     conformance.Request `json:"request"`
	Env         map[string]string   `json:"env"`
	Datasources map[string]string   `json:"datasources"`
	// Flow, when given, is run instead of the saved draft, so the designer
	// can test unsaved edits.
	Flow     json.RawMessage `json:"flow"`
	Deadline string          `json:"deadline"`
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
	ID    string            `json:"id"`
	Spans []runtime.Span    `json:"spans"`
	Logs  []runtime.LogLine `json:"logs"`
}

// test runs a flow once, in-process, with per-node detail. It runs the very
// bundle publishing would produce, in the same runtime, so a test run and a
// deployment cannot disagree.
func (a flowsAPI) test(c *gin.Context) {
	var req testRequest
	if err := decodeJSON(c, maxDocument+runtime.DefaultMaxBody, &req); err != nil {
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
	opts := runtime.Options{Env: req.Env, Datasources: req.Datasources}
	if req.Deadline != "" {
		if opts.Deadline, err = time.ParseDuration(req.Deadline); err != nil {
			fail(c, errStatus(http.StatusBadRequest, "deadline: "+err.Error()))
			return
		}
	}
	f, err := runtime.LoadBundle(files, opts)
	if err != nil {
		fail(c, fmt.Errorf("load test bundle: %w", err))
		return
	}
	defer f.Close()
	hreq, err := buildRequest(req.Request, d)
	if err != nil {
		fail(c, err)
		return
	}
	hreq = hreq.WithContext(c.Request.Context())
	res := f.Serve(hreq, true)
	rec := httptest.NewRecorder()
	runtime.WriteResponse(rec, hreq.Method == http.MethodHead, res.Trace, res.Response)
	out := testResponse{
		Response: testResult{Status: rec.Code, Headers: map[string]string{}},
		Trace:    testTrace{ID: res.Trace.ID, Spans: res.Spans, Logs: res.Logs},
	}
	if out.Trace.Spans == nil {
		out.Trace.Spans = []runtime.Span{}
	}
	if out.Trace.Logs == nil {
		out.Trace.Logs = []runtime.LogLine{}
	}
	for k, vs := range rec.Header() {
		out.Response.Headers[k] = strings.Join(vs, ", ")
	}
	body := rec.Body.Bytes()
	if runtime.IsJSONContentType(rec.Header().Get("Content-Type")) {
		if v, err := runtime.DecodeJSON(body); err == nil {
			out.Response.Body = v
		} else {
			out.Response.Body = string(body)
		}
	} else if len(body) > 0 {
		out.Response.Body = string(body)
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
