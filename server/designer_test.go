package server_test

import (
	"strings"
	"testing"
)

// TestAnalyzeAndPreview: the designer's live checks type a flow from its
// config and its last test run, and preview an expression's value against
// that run's data, within the expression budget.
func TestAnalyzeAndPreview(t *testing.T) {
	ts := start(t, "sqlite")
	body := `{"flow": {"version": 1, "name": "a", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "POST", "path": "/a/:shop"}},
	 {"id": "calc", "type": "set", "config": {"fields": [{"name": "total", "value": "sum(request.body.items, .qty)"}]}},
	 {"id": "done", "type": "response", "config": {"body": "nodes.calc.totl > 1"}}],
	 "edges": [{"from": "start", "to": "calc"}, {"from": "calc", "to": "done"}]},
	 "samples": {"start": {"body": {"items": [{"qty": 2}]}}}}`
	var a struct {
		Errors []struct {
			Severity, Message string
			At                *struct{ From, To int }
		} `json:"errors"`
		Types map[string]struct {
			Kind   string                    `json:"kind"`
			Fields map[string]map[string]any `json:"fields"`
		} `json:"types"`
	}
	ts.must(200, "POST", "/api/v1/analyze", body, &a)
	if a.Types["calc"].Fields["total"]["kind"] != "number" || a.Types["start"].Fields["params"] == nil {
		t.Errorf("types: %+v", a.Types)
	}
	var msgs []string
	for _, p := range a.Errors {
		msgs = append(msgs, p.Severity+": "+p.Message)
	}
	got := strings.Join(msgs, "\n")
	if !strings.Contains(got, `warning: `+"`nodes.calc`"+` has no field "totl"; did you mean "total"?`) ||
		!strings.Contains(got, "error: `nodes.calc.totl` is nil here") || a.Errors[0].At == nil {
		t.Errorf("problems:\n%s", got)
	}
	ts.must(200, "POST", "/api/v1/analyze", `{"flow": {"nodes": 1}}`, &a)
	if len(a.Errors) == 0 {
		t.Error("a broken document gave no problems")
	}
	ts.must(400, "POST", "/api/v1/analyze", `{"flow": `, nil)

	var p struct {
		Value any    `json:"value"`
		Error string `json:"error"`
	}
	ts.must(200, "POST", "/api/v1/expressions/preview", `{"expr": "nodes.calc.total * 2 + len(request.body.items)", "request": {"body": {"items": [1]}}, "nodes": {"calc": {"total": 4}}}`, &p)
	if p.Value != 9.0 || p.Error != "" {
		t.Errorf("preview = %+v, want 9", p)
	}
	p = struct {
		Value any    `json:"value"`
		Error string `json:"error"`
	}{}
	ts.must(200, "POST", "/api/v1/expressions/preview", `{"expr": "nodes.calc.totl > 1", "nodes": {"calc": {"total": 4}}}`, &p)
	if p.Error != "invalid operation: <nil> > int (1:17)" {
		t.Errorf("preview error = %q", p.Error)
	}
	ts.must(200, "POST", "/api/v1/expressions/preview", `{"expr": "repeat(\"x\", 1000000000)"}`, &p)
	if !strings.Contains(p.Error, "budget") && !strings.Contains(p.Error, "memory") {
		t.Errorf("a memory-hungry preview answered %+v", p)
	}
	ts.must(400, "POST", "/api/v1/expressions/preview", `{"expr": " "}`, nil)
}

// TestTestRunPins: a pinned node gives its pinned output without running
// (its upstream does not exist), and bad pins are refused.
func TestTestRunPins(t *testing.T) {
	ts := start(t, "sqlite")
	ts.must(201, "POST", "/api/v1/flows", `{"version": 1, "name": "pinned", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/pinned"}},
	 {"id": "call", "type": "http.request", "config": {"method": "GET", "url": "\"http://upstream.invalid/x\""}},
	 {"id": "big", "type": "if", "config": {"condition": "nodes.call.body.total > 100"}},
	 {"id": "yes", "type": "response", "config": {"body": "{\"big\": nodes.call.body.total}"}},
	 {"id": "no", "type": "response", "config": {"status": 204}}],
	 "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "big"}, {"from": "big", "to": "yes", "port": "true"}, {"from": "big", "to": "no", "port": "false"}]}`, nil)
	var res struct {
		Response struct {
			Status int            `json:"status"`
			Body   map[string]any `json:"body"`
		} `json:"response"`
		Trace struct {
			Spans []struct {
				ID     string `json:"id"`
				Port   string `json:"port"`
				Pinned bool   `json:"pinned"`
			} `json:"spans"`
		} `json:"trace"`
	}
	ts.must(200, "POST", "/api/v1/flows/pinned/test", `{"pins": {"call": {"output": {"status": 200, "body": {"total": 150}}, "port": "out"}}}`, &res)
	if res.Response.Status != 200 || res.Response.Body["big"] != 150.0 {
		t.Fatalf("pinned run answered %+v", res.Response)
	}
	if len(res.Trace.Spans) < 2 || !res.Trace.Spans[1].Pinned || res.Trace.Spans[2].Pinned || res.Trace.Spans[2].Port != "true" {
		t.Errorf("spans %+v", res.Trace.Spans)
	}
	// A pinned if takes the pinned port whatever its condition gives.
	ts.must(200, "POST", "/api/v1/flows/pinned/test", `{"pins": {"call": {"output": {"body": {"total": 150}}, "port": "out"}, "big": {"output": false, "port": "false"}}}`, &res)
	if res.Response.Status != 204 {
		t.Errorf("pinned if: answered %d, want 204", res.Response.Status)
	}
	for _, bad := range []string{
		`{"pins": {"nope": {"port": "out"}}}`,
		`{"pins": {"start": {"port": "out"}}}`,
		`{"pins": {"yes": {"port": "out"}}}`,
		`{"pins": {"call": {"port": "sideways"}}}`,
	} {
		ts.must(400, "POST", "/api/v1/flows/pinned/test", bad, nil)
	}
}
