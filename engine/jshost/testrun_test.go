package jshost_test

import (
	"bytes"
	"testing"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow/nodes"
)

// TestRunJobRedactsSecrets runs a job as a test-run process does: the JS
// target's golden log-env bundle logs the query's name and answers
// env.GREETING with it; the result shows neither the secret nor the
// datasource's URL.
func TestRunJobRedactsSecrets(t *testing.T) {
	const apiKey, dbURL = "sk-live-0123456789", "postgres://app:db-pass-42@db.internal:5432/shop"
	res := jshost.RunTestJob(&jshost.TestRunJob{Files: goldenBundle(t, "log-env"), Env: map[string]string{"GREETING": apiKey},
		Datasources: map[string]string{"main": dbURL}, Secrets: []string{apiKey},
		Request: jshost.TestRunRequest{Method: "GET", Target: "/greet?name=" + apiKey}}, engine.Options{}, nodes.Bindings())
	if res.Error != "" || res.Status != 200 || len(res.Logs) != 2 {
		t.Fatalf("test job: %+v", res)
	}
	enginetest.AssertNoSecret(t, "test job result", res, apiKey, dbURL, "db-pass-42")
	if !bytes.Contains(res.Body, []byte(`"greeting":"[redacted], [redacted]"`)) || res.Logs[1].Message != "done 18" {
		t.Errorf("test job body %s, logs %+v", res.Body, res.Logs)
	}
}

// TestRunJobPins: pinned nodes do not run (no call is made: UPSTREAM is not
// even set) and give their pinned output, which later nodes read.
func TestRunJobPins(t *testing.T) {
	pins := map[string]engine.Pin{
		"user":   {Output: map[string]any{"status": 200, "body": map[string]any{"name": "Ada"}}, Port: "out"},
		"orders": {Output: map[string]any{"status": 200, "body": []any{map[string]any{"amount": 5, "user": "u1"}, map[string]any{"amount": 7, "user": "u1"}}}, Port: "out"},
	}
	res := jshost.RunTestJob(&jshost.TestRunJob{Files: goldenBundle(t, "fanout"), Pins: pins,
		Request: jshost.TestRunRequest{Method: "GET", Target: "/profile/u1"}}, engine.Options{}, nodes.Bindings())
	if res.Error != "" || res.Status != 200 {
		t.Fatalf("pinned run: %+v (%s)", res, res.Body)
	}
	if want := `{"orderCount":2,"owner":"u1","spent":12,"user":{"name":"Ada"}}`; string(bytes.TrimSpace(res.Body)) != want {
		t.Errorf("body %s, want %s", res.Body, want)
	}
	pinned := 0
	for _, sp := range res.Spans {
		if sp.Pinned {
			pinned++
			if sp.Port != "out" || sp.Error != "" {
				t.Errorf("pinned span %+v", sp)
			}
		}
	}
	if pinned != 2 {
		t.Errorf("%d pinned spans, want 2: %+v", pinned, res.Spans)
	}
}
