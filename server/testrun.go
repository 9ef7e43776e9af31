package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/runtime"
	"github.com/flowline/flowline/store"
)

// testRequest is the body of POST /flows/{name}/test.
type testRequest struct {
	Request     sampleRequest     `json:"request"`
	Env         map[string]string `json:"env"`
	Datasources map[string]string `json:"datasources"`
	// Flow, when given, is run instead of the saved draft, so the designer
	// can test unsaved edits.
	Flow     json.RawMessage `json:"flow"`
	Deadline string          `json:"deadline"`
}

// sampleRequest has the shape of a conformance case's request.
type sampleRequest struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Query       map[string]any    `json:"query"`
	Headers     map[string]string `json:"headers"`
	Body        json.RawMessage   `json:"body"`
	RawBody     *string           `json:"raw_body"`
	ContentType string            `json:"content_type"`
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
	hreq, err := req.Request.build(d)
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

// build turns a sample into an HTTP request. Method and path default to the
// trigger's, so a designer user can just press Run.
func (r sampleRequest) build(d *flow.Document) (*http.Request, error) {
	method, path, _ := flow.Route(d)
	if r.Method != "" {
		method = strings.ToUpper(r.Method)
	}
	if r.Path != "" {
		path = r.Path
	}
	if !strings.HasPrefix(path, "/") {
		return nil, errStatus(http.StatusBadRequest, fmt.Sprintf("request path %q must start with /", path))
	}
	u, err := url.Parse(path)
	if err != nil {
		return nil, errStatus(http.StatusBadRequest, "request path: "+err.Error())
	}
	q := u.Query()
	keys := make([]string, 0, len(r.Query))
	for k := range r.Query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := r.Query[k].(type) {
		case []any:
			for _, s := range v {
				q.Add(k, runtime.String(s))
			}
		default:
			q.Add(k, runtime.String(v))
		}
	}
	u.RawQuery = q.Encode()
	var body []byte
	contentType := ""
	switch {
	case r.RawBody != nil:
		body, contentType = []byte(*r.RawBody), r.ContentType
	case len(r.Body) > 0 && string(r.Body) != "null":
		body, contentType = r.Body, "application/json"
	}
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL = u
	req.RequestURI = u.RequestURI()
	req.Host = "test.flowline.local"
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

func isStale(err error) bool { return errors.Is(err, store.ErrStale) }
