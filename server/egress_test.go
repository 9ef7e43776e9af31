package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// fetchFlow calls whatever URL its caller names, with the Host header its
// caller names: the most hostile flow the egress policy must hold.
const fetchFlow = `{"version": 1, "name": "fetch", "nodes": [
 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/fetch"}},
 {"id": "call", "type": "http.request", "config": {"method": "GET", "url": "request.query.url", "retries": 2,
  "headers": [{"name": "Host", "value": "request.query.host"}]}},
 {"id": "done", "type": "response", "config": {"body": "nodes.call.body"}}],
 "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "done"}]}`

// egressWorld is what the egress tests call, all on 127.0.0.1: internal
// stands in for an internal API (the server's own, say) and must never see
// a request; allowed is on the allow-list, and redirects to internal.
type egressWorld struct {
	internal, allowed *httptest.Server
	internalHits      atomic.Int64
	allowedHits       atomic.Int64
}

func newEgressWorld(t *testing.T) *egressWorld {
	w := &egressWorld{}
	w.internal = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.internalHits.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rw, `[{"env": {"TOKEN": "secret"}}]`)
	}))
	t.Cleanup(w.internal.Close)
	w.allowed = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.allowedHits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(rw, r, w.internal.URL+"/api/v1/deployments", http.StatusFound)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{"ok": true, "host": r.Host})
	}))
	t.Cleanup(w.allowed.Close)
	return w
}

func hostOf(rawURL string) string { return strings.TrimPrefix(rawURL, "http://") }

// fetchAnswer is what one request of fetchFlow answered, however it ran.
type fetchAnswer struct {
	status int
	body   map[string]any
	raw    string
}

// check runs the egress expectations against one way of running
// fetchFlow, whose http.request may reach w.allowed and nothing else on
// 127.0.0.1. api is the server's own API.
func (w *egressWorld) check(t *testing.T, api string, run func(query url.Values) fetchAnswer) {
	t.Helper()
	refused := func(what string, q url.Values, addr string, redirected bool) {
		t.Helper()
		a := run(q)
		msg, _ := a.body["error"].(string)
		want := "the egress policy refuses " + addr + " (a loopback address); to call it, add \"" + addr + "\" to the egress allow-list"
		if redirected {
			want = "redirected: " + want
		}
		if a.status != 502 || !strings.Contains(msg, want) || a.body["node"] != "call" {
			t.Errorf("%s: %d %s; want a 502 saying %q", what, a.status, a.raw, want)
		}
		if strings.Contains(a.raw, "secret") {
			t.Errorf("%s: the answer leaks: %s", what, a.raw)
		}
	}
	refused("the server's own API", url.Values{"url": {api + "/api/v1/deployments"}}, hostOf(api), false)
	refused("an internal API", url.Values{"url": {w.internal.URL + "/api/v1/deployments?token=secret"}}, hostOf(w.internal.URL), false)
	refused("[::ffff:127.0.0.1]", url.Values{"url": {"http://[::ffff:127.0.0.1]:" + w.internal.URL[strings.LastIndex(w.internal.URL, ":")+1:] + "/"}},
		hostOf(w.internal.URL), false)
	w.allowedHits.Store(0)
	refused("a redirect to the internal API", url.Values{"url": {w.allowed.URL + "/redirect"}}, hostOf(w.internal.URL), true)
	if n := w.allowedHits.Load(); n != 1 {
		t.Errorf("the redirecting server saw %d requests: a refusal is not retried", n)
	}

	a := run(url.Values{"url": {w.allowed.URL + "/x"}})
	if a.status != 200 || a.body["ok"] != true {
		t.Errorf("the allowed server: %d %s", a.status, a.raw)
	}
	a = run(url.Values{"url": {w.allowed.URL + "/x"}, "host": {"admin.internal"}})
	if a.status != 200 || a.body["host"] != "admin.internal" {
		t.Errorf("a Host header to a listed destination: %d %s", a.status, a.raw)
	}
	if n := w.internalHits.Load(); n != 0 {
		t.Fatalf("the internal API saw %d requests", n)
	}
}

// TestEgressTestRun: the designer's test run runs in the server's own
// process; by default its http.request reaches nothing on 127.0.0.1, the
// server's API included, and its "egress" field opens what it lists.
func TestEgressTestRun(t *testing.T) {
	ts := start(t, "sqlite")
	w := newEgressWorld(t)
	ts.must(201, "POST", "/api/v1/flows", fetchFlow, nil)
	testRun := func(allow []string) func(q url.Values) fetchAnswer {
		return func(q url.Values) fetchAnswer {
			var out struct {
				Response struct {
					Status int             `json:"status"`
					Body   json.RawMessage `json:"body"`
				} `json:"response"`
			}
			body := map[string]any{"request": map[string]any{"method": "GET", "path": "/fetch?" + q.Encode()}}
			if allow != nil {
				body["egress"] = map[string]any{"allow": allow}
			}
			ts.must(200, "POST", "/api/v1/flows/fetch/test", body, &out)
			a := fetchAnswer{status: out.Response.Status, raw: string(out.Response.Body)}
			_ = json.Unmarshal(out.Response.Body, &a.body)
			return a
		}
	}
	// Without an allow-list, even the allowed server of the other runs is refused.
	a := testRun(nil)(url.Values{"url": {w.allowed.URL + "/x"}})
	if msg, _ := a.body["error"].(string); a.status != 502 || !strings.Contains(msg, "refuses "+hostOf(w.allowed.URL)+" (a loopback address)") {
		t.Errorf("default policy: %d %s", a.status, a.raw)
	}
	w.check(t, ts.api, testRun([]string{hostOf(w.allowed.URL)}))

	// Bad entries are the caller's mistake, every one named.
	var e struct {
		Error string `json:"error"`
	}
	ts.must(400, "POST", "/api/v1/flows/fetch/test", `{"egress": {"allow": ["ok.example", "http://x", "10.0.0.0/33"]}}`, &e)
	if !strings.Contains(e.Error, `entry 2 "http://x"`) || !strings.Contains(e.Error, `entry 3 "10.0.0.0/33"`) {
		t.Errorf("bad entries: %s", e.Error)
	}
	ts.must(400, "POST", "/api/v1/flows/fetch/test", `{"egress": {"allow": "10.0.0.1"}}`, nil)
	ts.must(400, "POST", "/api/v1/flows/fetch/test", `{"egress": {"alow": ["10.0.0.1"]}}`, nil)
}

// TestEgressDeployed: the same on the published JS and Go bundles behind
// the gateway; the deployment keeps its allow-list and shows it.
func TestEgressDeployed(t *testing.T) {
	ts := start(t, "sqlite")
	w := newEgressWorld(t)
	ts.must(201, "POST", "/api/v1/flows", fetchFlow, nil)

	var e struct {
		Error string `json:"error"`
	}
	ts.must(201, "POST", "/api/v1/flows/fetch/versions", `{"target": "js"}`, nil)
	ts.must(400, "POST", "/api/v1/flows/fetch/deployments", `{"egress": {"allow": ["billing.internal:0", "*.internal"]}}`, &e)
	if !strings.Contains(e.Error, "entry 1") || !strings.Contains(e.Error, "entry 2") || !strings.Contains(e.Error, "wildcard") {
		t.Errorf("bad entries: %s", e.Error)
	}

	for _, target := range []string{"js", "go"} {
		t.Run(target, func(t *testing.T) {
			if target == "go" {
				needGo(t)
				ts.must(201, "POST", "/api/v1/flows/fetch/versions", `{"target": "go"}`, nil)
			}
			get := func(q url.Values) fetchAnswer {
				resp, err := http.Get(ts.gateway + "/fetch?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := io.ReadAll(resp.Body)
				a := fetchAnswer{status: resp.StatusCode, raw: string(raw)}
				_ = json.Unmarshal(raw, &a.body)
				return a
			}

			// Deployed without an allow-list: nothing on 127.0.0.1.
			var plain deployment
			ts.must(201, "POST", "/api/v1/flows/fetch/deployments", `{}`, &plain)
			ts.waitRunning(plain.ID)
			ts.waitServes("GET", "/fetch")
			a := get(url.Values{"url": {w.allowed.URL + "/x"}})
			if msg, _ := a.body["error"].(string); a.status != 502 || !strings.Contains(msg, "refuses "+hostOf(w.allowed.URL)+" (a loopback address)") {
				t.Errorf("default policy: %d %s", a.status, a.raw)
			}
			ts.must(204, "DELETE", "/api/v1/deployments/"+plain.ID, nil, nil)

			allow := []string{hostOf(w.allowed.URL), "10.1.2.0/24", "Billing.Internal:8443"}
			var d struct {
				ID     string `json:"id"`
				Egress struct {
					Allow []string `json:"allow"`
				} `json:"egress"`
			}
			ts.must(201, "POST", "/api/v1/flows/fetch/deployments", map[string]any{"egress": map[string]any{"allow": allow}}, &d)
			defer ts.must(204, "DELETE", "/api/v1/deployments/"+d.ID, nil, nil)
			want := hostOf(w.allowed.URL) + " 10.1.2.0/24 billing.internal:8443"
			if got := strings.Join(d.Egress.Allow, " "); got != want {
				t.Errorf("created with allow-list %q, want %q", got, want)
			}
			ts.waitRunning(d.ID)
			ts.waitServes("GET", "/fetch")
			d.Egress.Allow = nil
			ts.must(200, "GET", "/api/v1/deployments/"+d.ID, nil, &d)
			if got := strings.Join(d.Egress.Allow, " "); got != want {
				t.Errorf("stored allow-list %q, want %q", got, want)
			}
			w.check(t, ts.api, get)
		})
	}
}
