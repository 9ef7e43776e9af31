package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// callEndpoint calls a published endpoint with an optional API key.
func callEndpoint(t *testing.T, url, key string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestEndpointKeys: a published endpoint that requires a key refuses
// calls without one, admits the flow's key (shown once, never listed),
// stops admitting it once revoked, enforces its rate, and keeps all of
// that across a server restart. A viewer cannot change any of it.
func TestEndpointKeys(t *testing.T) {
	ts := start(t, "sqlite")
	ts.must(201, "POST", "/api/v1/flows", helloGoFlow, nil)
	ts.must(201, "POST", "/api/v1/flows/hello-go/versions", `{"target": "js"}`, nil)
	var d deployment
	ts.must(201, "POST", "/api/v1/flows/hello-go/deployments", `{}`, &d)
	ts.waitRunning(d.ID)
	ts.waitServes("GET", "/hello-go")
	url := ts.gateway + "/hello-go"
	if status, _ := callEndpoint(t, url, ""); status != 200 {
		t.Fatalf("open endpoint: %d", status)
	}

	for _, bad := range []string{"javascript:alert(1)", "https://shop.example#x", "https://shop.example:99999", "https://shop.example/path", "shop.example"} {
		ts.must(400, "PUT", "/api/v1/flows/hello-go/access", `{"require_key": true, "cors_origins": ["`+bad+`"]}`, nil)
	}
	ts.must(200, "PUT", "/api/v1/flows/hello-go/access", `{"require_key": true, "cors_origins": ["https://Shop.example/"]}`, nil)
	if status, _ := callEndpoint(t, url, ""); status != 401 {
		t.Fatalf("no key: %d, want 401", status)
	}
	var key struct {
		ID, Key string
	}
	ts.must(201, "POST", "/api/v1/flows/hello-go/keys", `{"name": "shop", "rate_per_minute": 2}`, &key)
	if !strings.HasPrefix(key.Key, "flk_") {
		t.Fatalf("key %+v", key)
	}
	if status, _ := callEndpoint(t, url, key.Key); status != 200 {
		t.Fatalf("with the key: %d", status)
	}
	if status, h := callEndpoint(t, url, key.Key); status != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("over the key's rate: %d %v", status, h)
	}
	var acc struct {
		RequireKey  bool     `json:"require_key"`
		CORSOrigins []string `json:"cors_origins"`
		Keys        []map[string]any
	}
	raw := ts.must(200, "GET", "/api/v1/flows/hello-go/access", nil, &acc)
	if !acc.RequireKey || len(acc.CORSOrigins) != 1 || acc.CORSOrigins[0] != "https://shop.example" || len(acc.Keys) != 1 ||
		strings.Contains(string(raw), key.Key) {
		t.Fatalf("access %s", raw)
	}

	ts.must(201, "POST", "/api/v1/users", `{"name": "vic", "role": "viewer", "password": "first-pass-123"}`, nil)
	vic, _ := ts.signIn(t, "vic", "first-pass-123")
	vic.call(t, "POST", "/api/v1/session/password", `{"current": "first-pass-123", "new": "vic-own-pass-1"}`, nil)
	vic, _ = ts.signIn(t, "vic", "vic-own-pass-1")
	if got := vic.call(t, "POST", "/api/v1/flows/hello-go/keys", `{"name": "mine"}`, nil); got != 403 {
		t.Fatalf("viewer makes a key: %d", got)
	}
	if got := vic.call(t, "PUT", "/api/v1/flows/hello-go/access", `{"require_key": false}`, nil); got != 403 {
		t.Fatalf("viewer opens the endpoint: %d", got)
	}

	// After a restart the endpoint still needs its key.
	ts.stop()
	ts2 := startOn(t, ts.url, ts.dataDir)
	ts2.waitRunning(d.ID)
	ts2.waitServes("GET", "/hello-go")
	if status, _ := callEndpoint(t, ts2.gateway+"/hello-go", ""); status != 401 {
		t.Fatalf("no key after a restart: %d, want 401", status)
	}
	ts2.must(204, "DELETE", "/api/v1/flows/hello-go/keys/"+key.ID, nil, nil)
	if status, _ := callEndpoint(t, ts2.gateway+"/hello-go", key.Key); status != 401 {
		t.Fatalf("revoked key: %d, want 401", status)
	}
}
