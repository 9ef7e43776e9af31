package server_test

import (
	"encoding/json"
	"fmt"
	"github.com/flowline/flowline/server"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/flowline/flowline/store/storetest"
)

const helloFlow = `{"version": 1, "name": "%s", "nodes": [
 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "%s"}},
 {"id": "done", "type": "response", "config": {"body": "{\"message\": \"hello \" + (request.query.name ?? \"world\"), \"v\": %d}"}}],
 "edges": [{"from": "start", "to": "done"}]}`

func hello(name, path string, v int) string { return fmt.Sprintf(helloFlow, name, path, v) }

type flowView struct {
	Name     string          `json:"name"`
	Revision int             `json:"revision"`
	Document json.RawMessage `json:"document"`
}

type apiErr struct {
	Error   string           `json:"error"`
	Details []map[string]any `json:"details"`
}

func TestFlowsAPI(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ts := start(t, kind)
			var f flowView
			ts.must(201, "POST", "/api/v1/flows", hello("greet", "/greet", 1), &f)
			if f.Name != "greet" || f.Revision != 1 {
				t.Fatalf("created %+v", f)
			}
			var e apiErr
			ts.must(409, "POST", "/api/v1/flows", hello("greet", "/other", 1), &e)
			if !strings.Contains(e.Error, "greet") {
				t.Errorf("conflict error %q does not name the flow", e.Error)
			}

			// Bad documents: a clear error, nothing stored.
			for name, doc := range map[string]string{
				"malformed":     `{"version": 1, "name": "x", "nodes": [`,
				"other version": `{"version": 2, "name": "x", "nodes": [], "edges": []}`,
				"bad name":      `{"version": 1, "name": "Not OK!", "nodes": [], "edges": []}`,
				"unknown field": `{"version": 1, "name": "x", "nodes": [], "edges": [], "extra": true}`,
				"not an object": `[1, 2]`,
			} {
				var e apiErr
				ts.must(400, "POST", "/api/v1/flows", doc, &e)
				if e.Error == "" || len(e.Details) == 0 {
					t.Errorf("%s: error without details: %+v", name, e)
				}
			}
			var list []map[string]any
			ts.must(200, "GET", "/api/v1/flows", nil, &list)
			if len(list) != 1 || list[0]["method"] != "GET" || list[0]["path"] != "/greet" {
				t.Fatalf("list: %v", list)
			}

			// Saving needs the revision; a stale one is refused and changes nothing.
			ts.must(428, "PUT", "/api/v1/flows/greet", hello("greet", "/greet", 2), nil)
			ts.must(200, "PUT", "/api/v1/flows/greet", hello("greet", "/greet", 2), &f, "If-Match", "1")
			if f.Revision != 2 {
				t.Fatalf("revision %d after save", f.Revision)
			}
			var stale map[string]any
			ts.must(409, "PUT", "/api/v1/flows/greet", hello("greet", "/greet", 3), &stale, "If-Match", `"1"`)
			if stale["current_revision"] != float64(2) {
				t.Errorf("stale answer %v lacks current_revision 2", stale)
			}
			ts.must(200, "GET", "/api/v1/flows/greet", nil, &f)
			if f.Revision != 2 || !strings.Contains(string(f.Document), `\"v\": 2`) {
				t.Fatalf("stale save changed the flow: %+v %s", f, f.Document)
			}
			ts.must(400, "PUT", "/api/v1/flows/greet", `{"version": 1,`, nil, "If-Match", "2")

			// Concurrent editors: exactly one save wins.
			var wg sync.WaitGroup
			codes := make([]int, 6)
			for i := range codes {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					codes[i], _ = ts.call("PUT", "/api/v1/flows/greet", hello("greet", "/greet", 10+i), nil, "If-Match", "2")
				}(i)
			}
			wg.Wait()
			won := 0
			for _, c := range codes {
				switch c {
				case 200:
					won++
				case 409:
				default:
					t.Errorf("concurrent save answered %d", c)
				}
			}
			if won != 1 {
				t.Fatalf("%d concurrent saves won, want 1 (%v)", won, codes)
			}

			// Rename, and refuse a rename onto a taken name.
			ts.must(201, "POST", "/api/v1/flows", hello("other", "/other", 1), nil)
			ts.must(409, "PUT", "/api/v1/flows/greet", hello("other", "/greet", 4), nil, "If-Match", "3")
			ts.must(200, "PUT", "/api/v1/flows/greet", hello("welcome", "/greet", 4), &f, "If-Match", "3")
			ts.must(404, "GET", "/api/v1/flows/greet", nil, nil)
			ts.must(200, "GET", "/api/v1/flows/welcome", nil, &f)
			var revs []map[string]any
			ts.must(200, "GET", "/api/v1/flows/welcome/revisions", nil, &revs)
			if len(revs) != 4 {
				t.Errorf("%d revisions after 4 saves", len(revs))
			}
			var rev struct {
				Revision int `json:"revision"`
				Document struct {
					Name string `json:"name"`
				} `json:"document"`
			}
			ts.must(200, "GET", "/api/v1/flows/welcome/revisions/2", nil, &rev)
			if rev.Revision != 2 || rev.Document.Name != "greet" {
				t.Errorf("revision 2 = %d %q, want 2 greet", rev.Revision, rev.Document.Name)
			}
			ts.must(404, "GET", "/api/v1/flows/welcome/revisions/99", nil, nil)
			ts.must(400, "GET", "/api/v1/flows/welcome/revisions/x", nil, nil)

			ts.must(204, "DELETE", "/api/v1/flows/other", nil, nil)
			ts.must(404, "DELETE", "/api/v1/flows/other", nil, nil)
			ts.must(404, "GET", "/api/v1/nothing-here", nil, nil)
		})
	}
}

func TestPublishInvalidListsEveryProblem(t *testing.T) {
	ts := start(t, "sqlite")
	doc := `{"version": 1, "name": "broken", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/b"}},
	 {"id": "calc", "type": "set", "config": {"fields": [{"name": "x", "value": "1 +* 2"}]}},
	 {"id": "cond", "type": "if", "config": {"condition": "\"yes\""}},
	 {"id": "done", "type": "response", "config": {"colour": "red"}}],
	 "edges": [{"from": "start", "to": "calc"}, {"from": "calc", "to": "cond"}, {"from": "cond", "to": "done", "port": "maybe"}]}`
	ts.must(201, "POST", "/api/v1/flows", doc, nil)
	var v struct {
		Errors []map[string]any `json:"errors"`
	}
	ts.must(200, "POST", "/api/v1/flows/broken/validate", nil, &v)
	var e apiErr
	ts.must(422, "POST", "/api/v1/flows/broken/versions", `{"target": "js"}`, &e)
	if len(e.Details) != len(v.Errors) || len(v.Errors) < 4 {
		t.Fatalf("publish listed %d problems, validate %d: %v", len(e.Details), len(v.Errors), v.Errors)
	}
	for _, node := range []string{"calc", "cond", "done"} {
		found := false
		for _, p := range v.Errors {
			found = found || p["node"] == node
		}
		if !found {
			t.Errorf("no problem reported for node %s: %v", node, v.Errors)
		}
	}
	var versions []any
	ts.must(200, "GET", "/api/v1/flows/broken/versions", nil, &versions)
	if len(versions) != 0 {
		t.Fatalf("a failed publish stored a version: %v", versions)
	}
	// The draft is untouched.
	var f flowView
	ts.must(200, "GET", "/api/v1/flows/broken", nil, &f)
	if f.Revision != 1 {
		t.Fatalf("revision %d", f.Revision)
	}
	ts.must(400, "POST", "/api/v1/flows/broken/versions", `{"target": "cobol"}`, nil)
	ts.must(400, "POST", "/api/v1/flows/broken/versions", `{"target": `, nil)
}

// TestPublishRevision: a publish names the revision the user saw; a stale
// one is refused, and each version records its revision and carries its
// own number. Warnings are reported and do not stop the publish.
func TestPublishRevision(t *testing.T) {
	ts := start(t, "sqlite")
	doc := func(status int) string {
		return fmt.Sprintf(`{"version": 1, "name": "rev", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "POST", "path": "/rev"}},
	 {"id": "call", "type": "http.request", "config": {"method": "POST", "url": "\"http://127.0.0.1:9/x\"", "retries": 2}},
	 {"id": "done", "type": "response", "config": {"status": %d}}],
	 "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}, {"from": "call", "to": "done", "port": "error"}]}`, status)
	}
	ts.must(201, "POST", "/api/v1/flows", doc(200), nil)
	var v struct {
		Errors []map[string]string `json:"errors"`
	}
	ts.must(200, "POST", "/api/v1/flows/rev/validate", nil, &v)
	if len(v.Errors) != 1 || v.Errors[0]["severity"] != "warning" || v.Errors[0]["field"] != "retries" || v.Errors[0]["node"] != "call" {
		t.Fatalf("validate: %v, want one warning on call.retries", v.Errors)
	}
	type version struct {
		Version  int `json:"version"`
		Revision int `json:"revision"`
	}
	var v1 version
	ts.must(201, "POST", "/api/v1/flows/rev/versions", `{"target": "js", "revision": 1}`, &v1)
	if v1 != (version{1, 1}) {
		t.Fatalf("published %+v, want version 1 from revision 1", v1)
	}
	ts.must(200, "PUT", "/api/v1/flows/rev", doc(201), nil, "If-Match", "1")
	var e struct {
		Error    string `json:"error"`
		Revision int    `json:"revision"`
	}
	ts.must(409, "POST", "/api/v1/flows/rev/versions", `{"target": "js", "revision": 1}`, &e)
	if e.Revision != 2 || !strings.Contains(e.Error, "revision 2") {
		t.Fatalf("stale publish: %+v", e)
	}
	ts.must(400, "POST", "/api/v1/flows/rev/versions", `{"target": "js", "revision": -1}`, nil)
	var v2 version
	ts.must(201, "POST", "/api/v1/flows/rev/versions", `{"target": "js", "revision": 2}`, &v2)
	if v2 != (version{2, 2}) {
		t.Fatalf("published %+v, want version 2 from revision 2", v2)
	}
	var list []version
	ts.must(200, "GET", "/api/v1/flows/rev/versions", nil, &list)
	if len(list) != 2 || list[0] != v2 || list[1] != v1 {
		t.Fatalf("versions %+v", list)
	}
	var got struct {
		Files map[string]string `json:"files"`
	}
	ts.must(200, "GET", "/api/v1/flows/rev/versions/2", nil, &got)
	var m struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(got.Files["manifest.json"]), &m); err != nil || m.Version != 2 {
		t.Fatalf("manifest of version 2 says version %d (%v)", m.Version, err)
	}
}

func TestNodeTypes(t *testing.T) {
	ts := start(t, "sqlite")
	var cat struct {
		Categories []struct{ Name, Color string }
		Types      []map[string]any
		Expr       struct {
			Variables []struct{ Name string }
			Functions []struct{ Name, Signature string }
		}
	}
	ts.must(200, "GET", "/api/v1/node-types", nil, &cat)
	categories := map[string]bool{}
	for _, c := range cat.Categories {
		categories[c.Name] = c.Color != ""
	}
	types := map[string]bool{}
	for _, s := range cat.Types {
		types[s["type"].(string)] = true
		if s["description"] == "" || s["fields"] == nil || s["summary"] == "" || !categories[s["category"].(string)] {
			t.Errorf("%v: incomplete spec", s["type"])
		}
	}
	for _, want := range []string{"trigger.http", "set", "if", "switch", "log", "response", "crypto.hash"} {
		if !types[want] {
			t.Errorf("node type %s missing", want)
		}
	}
	if len(cat.Expr.Variables) != 4 || len(cat.Expr.Functions) < 60 {
		t.Errorf("expression docs: %d variables, %d functions", len(cat.Expr.Variables), len(cat.Expr.Functions))
	}
}

func TestDeployLifecycle(t *testing.T) {
	ts := start(t, "sqlite")
	ts.must(201, "POST", "/api/v1/flows", hello("greet", "/greet/:who", 1), nil)
	ts.must(409, "POST", "/api/v1/flows/greet/deployments", `{}`, nil) // nothing published yet
	ts.must(201, "POST", "/api/v1/flows/greet/versions", `{"target": "js"}`, nil)
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/greet/deployments", `{"scaling": {"min": 2}}`, &d)
	ts.waitRunning(d.ID)
	ts.waitServes("GET", "/greet/ann")

	// Another flow may not take the same route, whatever its parameter names.
	ts.must(201, "POST", "/api/v1/flows", hello("copycat", "/greet/:name", 1), nil)
	ts.must(201, "POST", "/api/v1/flows/copycat/versions", `{}`, nil)
	var e apiErr
	ts.must(409, "POST", "/api/v1/flows/copycat/deployments", `{}`, &e)
	if !strings.Contains(e.Error, "greet") {
		t.Errorf("route conflict error %q does not name the flow holding the route", e.Error)
	}
	ts.must(409, "DELETE", "/api/v1/flows/greet", nil, nil) // deployed

	// A new version replaces the old one without a gap.
	ts.must(200, "PUT", "/api/v1/flows/greet", hello("greet", "/greet/:who", 2), nil, "If-Match", "1")
	ts.must(201, "POST", "/api/v1/flows/greet/versions", `{"target": "js"}`, nil)
	var d2 deployment
	ts.must(201, "POST", "/api/v1/flows/greet/deployments", `{}`, &d2)
	ts.waitRunning(d2.ID)
	waitFor(t, func() bool {
		body := get(t, ts.gateway+"/greet/ann")
		return strings.Contains(body, `"v":2`)
	})
	var deps []deployment
	waitFor(t, func() bool {
		ts.must(200, "GET", "/api/v1/deployments?flow=greet", nil, &deps)
		return len(deps) == 1 && deps[0].ID == d2.ID
	})

	// Rolling back is deploying an earlier version.
	var d3 deployment
	ts.must(201, "POST", "/api/v1/flows/greet/deployments", `{"version": 1}`, &d3)
	ts.waitRunning(d3.ID)
	waitFor(t, func() bool { return strings.Contains(get(t, ts.gateway+"/greet/ann"), `"v":1`) })

	// Undeploy: the endpoint goes away, the flow can be deleted.
	ts.must(204, "DELETE", "/api/v1/deployments/"+d3.ID, nil, nil)
	waitFor(t, func() bool {
		resp, err := http.Get(ts.gateway + "/greet/ann")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 404
	})
	ts.must(204, "DELETE", "/api/v1/flows/greet", nil, nil)
}

func TestGatewayBodyLimit(t *testing.T) {
	ts := start(t, "sqlite")
	doc := `{"version": 1, "name": "echo", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "POST", "path": "/echo"}},
	 {"id": "done", "type": "response", "config": {"body": "len(request.body)"}}],
	 "edges": [{"from": "start", "to": "done"}]}`
	ts.must(201, "POST", "/api/v1/flows", doc, nil)
	ts.must(201, "POST", "/api/v1/flows/echo/versions", `{}`, nil)
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/echo/deployments", `{}`, &d)
	ts.waitRunning(d.ID)
	ts.waitServes("POST", "/echo")
	big := strings.Repeat("x", 1<<20+1)
	resp, err := http.Post(ts.gateway+"/echo", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(body), "larger than") || resp.Header.Get("X-Trace-Id") == "" {
		t.Fatalf("oversized body: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(ts.gateway+"/echo", "text/plain", strings.NewReader(big[:1000]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "1000" {
		t.Fatalf("small body: %d %s", resp.StatusCode, body)
	}
}

// TestRestartBringsDeploymentsBack stops the server and starts a new one on
// the same store: flows, versions and deployments survive, and the
// endpoint answers again without anyone asking.
func TestRestartBringsDeploymentsBack(t *testing.T) {
	for _, kind := range storetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ts := start(t, kind)
			ts.must(201, "POST", "/api/v1/flows", hello("greet", "/greet", 7), nil)
			ts.must(201, "POST", "/api/v1/flows/greet/versions", `{}`, nil)
			var d deployment
			ts.must(201, "POST", "/api/v1/flows/greet/deployments", `{}`, &d)
			ts.waitRunning(d.ID)
			ts.stop()

			ts2 := startOn(t, ts.url, ts.dataDir)
			ts2.waitServes("GET", "/greet")
			if body := get(t, ts2.GatewayURL()+"/greet?name=again"); !strings.Contains(body, "hello again") {
				t.Fatalf("after restart: %s", body)
			}
			var got deployment
			ts2.must(200, "GET", "/api/v1/deployments/"+d.ID, nil, &got)
			if got.Status != "running" {
				t.Fatalf("deployment status %s after restart", got.Status)
			}
			var versions []any
			ts2.must(200, "GET", "/api/v1/flows/greet/versions", nil, &versions)
			if len(versions) != 1 {
				t.Fatalf("versions after restart: %v", versions)
			}
		})
	}
}

// TestTestRunIsolated: a test run whose process dies takes nothing with
// it: the answer says why, and the server goes on serving.
func TestTestRunIsolated(t *testing.T) {
	ts := startWith(t, func(c *server.Config) { c.HostEnv = append(c.HostEnv, crashTestRunEnv+"=1") })
	ts.must(201, "POST", "/api/v1/flows", helloGoFlow, nil)
	var e apiErr
	ts.must(422, "POST", "/api/v1/flows/hello-go/test", `{"request": {"method": "GET", "path": "/hello-go"}}`, &e)
	if !strings.Contains(e.Error, "memory") {
		t.Fatalf("error %q does not say the run ran out of memory", e.Error)
	}
	ts.must(200, "GET", "/api/v1/flows/hello-go", nil, nil)
	ts.must(200, "POST", "/api/v1/flows/hello-go/validate", nil, nil)
}
