package engine_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
)

const (
	apiKey = "sk-live-0123456789"
	dbURL  = "postgres://app:db-pass-42@db.internal:5432/shop"
)

// leaky uses its secrets everywhere a reader could see them: a log line,
// a node's output, the response, and a failing node's error.
var leaky = engine.ProgramFunc(func(x *engine.Exec) {
	x.Trigger("start")
	x.Begin("use")
	key := x.Env()["API_KEY"].(string)
	ds, _ := x.Flow().Datasource("main")
	x.Log("info", "calling with "+key+" on "+ds)
	x.End(map[string]any{"auth": "Bearer " + key, "n": int64(len(key))}, "out")
	if q, _ := x.Request()["query"].(map[string]any); q["fail"] != nil {
		x.Begin("fail")
		x.Fail(engine.Upstream(errors.New("dial "+ds+": password db-pass-42 refused")), false)
		return
	}
	x.Begin("done")
	x.Respond(200, map[string][]string{"X-Key": {key}}, x.Nodes()["use"])
})

func secretOptions(lg *slog.Logger) engine.Options {
	return engine.Options{
		Env:         map[string]string{"API_KEY": apiKey, "MODE": "test"},
		Datasources: map[string]string{"main": dbURL},
		Secrets:     []string{apiKey},
		Logger:      lg,
	}
}

func secretFlow(t *testing.T, lg *slog.Logger) *engine.Flow {
	t.Helper()
	m := engine.Manifest{Flow: "t", Version: 1, Target: "go", Method: "GET", Path: "/s",
		Nodes: []engine.NodeInfo{{ID: "start", Type: "trigger.http"}, {ID: "use", Type: "set", Inputs: []string{"start"}},
			{ID: "done", Type: "response", Inputs: []string{"use"}}, {ID: "fail", Type: "http.request", Inputs: []string{"use"}}}}
	f, err := engine.New(m, leaky, secretOptions(lg))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func assertNoSecret(t *testing.T, what string, v any) {
	t.Helper()
	enginetest.AssertNoSecret(t, what, v, apiKey, dbURL, "db-pass-42")
}

func TestSecretsRedactedInLogsAndErrors(t *testing.T) {
	var logs bytes.Buffer
	f := secretFlow(t, slog.New(slog.NewJSONHandler(&logs, nil)))

	// A deployed request: the flow's answer is the flow's business, but
	// its log lines are not.
	resp, out := enginetest.Do(t, f, "GET", "/s", "")
	if resp.StatusCode != 200 || out["auth"] != "Bearer "+apiKey || resp.Header.Get("X-Key") != apiKey {
		t.Fatalf("the flow does not see its secrets: %d %v", resp.StatusCode, out)
	}
	if !strings.Contains(logs.String(), "calling with [redacted] on [redacted]") {
		t.Errorf("log line not redacted: %s", logs.String())
	}

	// A failing node: the 502 answer and the error log line.
	logs.Reset()
	resp, out = enginetest.Do(t, f, "GET", "/s?fail=1", "")
	if resp.StatusCode != 502 {
		t.Fatalf("status %d: %v", resp.StatusCode, out)
	}
	if out["error"] != "dial [redacted]: password [redacted] refused" {
		t.Errorf("error answer %v", out)
	}
	assertNoSecret(t, "502 answer", out)
	assertNoSecret(t, "log lines", logs.String())
}

func TestSecretsRedactedInTestRunTrace(t *testing.T) {
	f := secretFlow(t, nil)
	for _, target := range []string{"/s", "/s?fail=1"} {
		res := f.Serve(httptest.NewRequest("GET", target, nil), true)
		if len(res.Spans) < 2 || len(res.Logs) == 0 {
			t.Fatalf("%s: spans %+v logs %+v", target, res.Spans, res.Logs)
		}
		assertNoSecret(t, target+" spans", res.Spans)
		assertNoSecret(t, target+" logs", res.Logs)
		assertNoSecret(t, target+" response", res.Response.Body)
		assertNoSecret(t, target+" headers", res.Response.Header)
		if out := res.Spans[1].Output.(map[string]any); out["auth"] != "Bearer [redacted]" || out["n"] != int64(len(apiKey)) {
			t.Errorf("%s: span output %v", target, out)
		}
	}

}

func TestOptionsFromSecretsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.json")
	if err := os.WriteFile(path, []byte(`{"env": {"API_KEY": "`+apiKey+`"}, "datasources": {"main": "`+dbURL+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		contract.EnvFlowEnv:     `{"MODE": "live"}`,
		contract.EnvSecretsFile: path,
	}
	o, err := engine.OptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.Env["MODE"] != "live" || o.Env["API_KEY"] != apiKey || o.Datasources["main"] != dbURL {
		t.Errorf("options %+v", o)
	}
	if len(o.Secrets) != 1 || o.Secrets[0] != apiKey {
		t.Errorf("secrets %q, want the secret variable's value", o.Secrets)
	}

	env[contract.EnvSecretsFile] = filepath.Join(dir, "missing.json")
	if _, err := engine.OptionsFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), contract.EnvSecretsFile) {
		t.Errorf("missing secrets file: %v", err)
	}
}
