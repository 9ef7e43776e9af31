package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for setup_sql

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
	"github.com/flowline/flowline/store/storetest"
)

func allCases(t *testing.T) []conformance.Case {
	t.Helper()
	cs, err := conformance.All()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// caseEnv prepares what one run of a case needs: a fresh stub upstream, a
// fresh Postgres database with setup_sql applied when the case has one,
// and the egress allow-list that lets the flow call the stub (on
// 127.0.0.1, which the default policy refuses).
func caseEnv(t *testing.T, c conformance.Case) (env, datasources map[string]string, allow []string) {
	t.Helper()
	stub := conformance.NewStub()
	t.Cleanup(stub.Close)
	env = c.EnvWith(stub.URL)
	allow = c.EgressWith(stub.URL)
	datasources = map[string]string{}
	if len(c.SetupSQL) > 0 {
		dbURL, _ := storetest.Database(t, "postgres")
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, stmt := range c.SetupSQL {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatalf("setup_sql %q: %v", stmt, err)
			}
		}
		datasources["main"] = dbURL
	}
	return env, datasources, allow
}

// TestConformance runs every case on the three ways the server runs a flow:
// the designer's test run, and a published JS bundle and Go bundle, each
// deployed locally behind the gateway. Cases whose node types are not built yet are skipped
// by name.
func TestConformance(t *testing.T) {
	ts := start(t, "sqlite")
	reg := nodes.Registry()
	for _, c := range allCases(t) {
		t.Run(c.File, func(t *testing.T) {
			if missing := c.Missing(reg); len(missing) > 0 {
				t.Skipf("case %s skipped: node types not built yet: %s", c.Name, strings.Join(missing, ", "))
			}
			var f flowView
			ts.must(201, "POST", "/api/v1/flows", c.Flow, &f)
			t.Cleanup(func() { ts.call("DELETE", "/api/v1/flows/"+f.Name, nil, nil) })

			t.Run("test-run", func(t *testing.T) {
				env, ds, allow := caseEnv(t, c)
				for i, ex := range c.Requests {
					resp, logs := testRun(t, ts, f.Name, ex.Request, env, ds, allow)
					if diffs := conformance.Check(ex.Expect, resp, logs); len(diffs) > 0 {
						t.Errorf("request %d (%s %s):\n  %s", i, ex.Request.Method, ex.Request.Path, strings.Join(diffs, "\n  "))
					}
				}
			})

			got := map[string][]conformance.Response{}
			for _, target := range []string{"js", "go"} {
				t.Run(target+"-gateway", func(t *testing.T) {
					if target == "go" {
						needGo(t)
						if missing := noGoEmitter(reg, c); len(missing) > 0 {
							t.Skipf("case %s skipped: node types without a Go emitter yet: %s", c.Name, strings.Join(missing, ", "))
						}
					}
					got[target] = gatewayRun(t, ts, f.Name, c, target)
				})
			}
			// Both bundles must answer alike, not only pass the case.
			if js, gob := got["js"], got["go"]; len(js) == len(c.Requests) && len(gob) == len(c.Requests) {
				for i := range js {
					if a, b := answerKey(js[i]), answerKey(gob[i]); a != b {
						t.Errorf("request %d: the JS and Go bundles answer differently:\n  js: %s\n  go: %s", i, a, b)
					}
				}
			}
		})
	}
}

// gatewayRun publishes the case's flow for target, deploys it locally and
// sends the case's requests through the gateway; log lines are read from
// the deployment's log API.
func gatewayRun(t *testing.T, ts *testServer, name string, c conformance.Case, target string) []conformance.Response {
	env, ds, allow := caseEnv(t, c)
	ts.must(201, "POST", "/api/v1/flows/"+name+"/versions", map[string]any{"target": target}, nil)
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/"+name+"/deployments",
		map[string]any{"env": env, "datasources": ds, "egress": map[string]any{"allow": allow}}, &d)
	defer ts.must(204, "DELETE", "/api/v1/deployments/"+d.ID, nil, nil)
	ts.waitRunning(d.ID)
	first := c.Requests[0].Request
	ts.waitServes(first.Method, strings.SplitN(first.Path, "?", 2)[0])
	var answers []conformance.Response
	for i, ex := range c.Requests {
		got, err := conformance.Send(ts.gateway, ex.Request)
		if err != nil {
			t.Fatal(err)
		}
		// Each run has its own stub upstream: compare answers without its address.
		answers = append(answers, conformance.Response{Status: got.Status, Headers: got.Headers,
			Body: []byte(strings.ReplaceAll(string(got.Body), env["UPSTREAM"], "<upstream>"))})
		var diffs []string
		// Log lines reach the server asynchronously: poll briefly.
		deadline := time.Now().Add(10 * time.Second)
		for {
			logs := deploymentLogs(t, ts, d.ID, strings.ToUpper(got.Headers.Get("X-Trace-Id"))) // as a user may paste it
			diffs = conformance.Check(ex.Expect, got, logs)
			if len(diffs) == 0 || len(ex.Expect.Logs) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(diffs) > 0 {
			t.Errorf("request %d (%s %s):\n  %s", i, ex.Request.Method, ex.Request.Path, strings.Join(diffs, "\n  "))
		}
	}
	return answers
}

// answerKey renders an answer without what differs between any two runs:
// the trace id (and the span ids an upstream echoes).
func answerKey(r conformance.Response) string {
	body := strings.ReplaceAll(string(r.Body), r.Headers.Get("X-Trace-Id"), "<trace>")
	body = spanRE.ReplaceAllString(body, "<trace>-<span>-")
	return fmt.Sprintf("%d %s %s", r.Status, r.Headers.Get("Content-Type"), body)
}

var spanRE = regexp.MustCompile(`<trace>-[0-9a-f]{16}-`)

// testRun sends a case's request through POST /flows/{name}/test.
func testRun(t *testing.T, ts *testServer, name string, r conformance.Request, env, ds map[string]string, allow []string) (conformance.Response, []conformance.LogLine) {
	t.Helper()
	body := map[string]any{"request": r, "env": env, "datasources": ds, "egress": map[string]any{"allow": allow}}
	var out struct {
		Response struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"response"`
		Trace struct {
			ID    string                `json:"id"`
			Spans []map[string]any      `json:"spans"`
			Logs  []conformance.LogLine `json:"logs"`
		} `json:"trace"`
	}
	ts.must(200, "POST", "/api/v1/flows/"+name+"/test", body, &out)
	h := http.Header{}
	for k, v := range out.Response.Headers {
		h.Set(k, v)
	}
	raw := []byte(out.Response.Body)
	if !engine.IsJSONContentType(h.Get("Content-Type")) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			raw = []byte(s)
		} else if string(raw) == "null" {
			raw = nil
		}
	}
	if out.Trace.ID != h.Get("X-Trace-Id") {
		t.Errorf("trace id %s differs from X-Trace-Id %s", out.Trace.ID, h.Get("X-Trace-Id"))
	}
	return conformance.Response{Status: out.Response.Status, Headers: h, Body: raw}, out.Trace.Logs
}

func deploymentLogs(t *testing.T, ts *testServer, id, traceID string) []conformance.LogLine {
	t.Helper()
	var lines []conformance.LogLine
	ts.must(200, "GET", fmt.Sprintf("/api/v1/deployments/%s/logs?trace_id=%s", id, url.QueryEscape(traceID)), nil, &lines)
	return lines
}

// TestLogsFollow streams a deployment's logs as server-sent events.
func TestLogsFollow(t *testing.T) {
	ts := start(t, "sqlite")
	doc := `{"version": 1, "name": "noisy", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/noisy"}},
	 {"id": "say", "type": "log", "config": {"level": "warn", "message": "\"hi \" + request.query.n"}},
	 {"id": "done", "type": "response", "config": {"body": "nodes.say"}}],
	 "edges": [{"from": "start", "to": "say"}, {"from": "say", "to": "done"}]}`
	ts.must(201, "POST", "/api/v1/flows", doc, nil)
	ts.must(201, "POST", "/api/v1/flows/noisy/versions", `{}`, nil)
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/noisy/deployments", `{}`, &d)
	ts.waitRunning(d.ID)
	ts.waitServes("GET", "/noisy")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := ts.apiRequest(ctx, "GET", "/api/v1/deployments/"+d.ID+"/logs?follow=1&level=warn", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	get(t, ts.gateway+"/noisy?n=42")
	buf := make([]byte, 0, 4096)
	tmp := make([]byte, 1024)
	for !strings.Contains(string(buf), "hi 42") {
		n, err := resp.Body.Read(tmp)
		if err != nil {
			t.Fatalf("stream ended before the line: %v (%s)", err, buf)
		}
		buf = append(buf, tmp[:n]...)
	}
	if !strings.Contains(string(buf), "data: {") || !strings.Contains(string(buf), `"node":"say"`) {
		t.Fatalf("event stream: %s", buf)
	}
}
