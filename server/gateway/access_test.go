package gateway

import (
	"strconv"
	"strings"
	"testing"
)

// TestKeys: an endpoint that requires a key refuses calls without one or
// with an unknown one (401), admits a known key and hides it from the
// instance, limits each key's rate (429 with Retry-After) without touching
// other keys, and takes a revocation at once. Other flows are untouched.
func TestKeys(t *testing.T) {
	b := newBackend(t, "a")
	g, srv := newGateway(t, Config{},
		Route{DeploymentID: "d1", FlowID: "f1", Flow: "orders", Method: "GET", Path: "/orders", Backends: static(b.addr())},
		Route{DeploymentID: "d2", FlowID: "f2", Flow: "open", Method: "GET", Path: "/open", Backends: static(b.addr())})
	g.SetAccess(map[string]Access{"f1": {RequireKey: true, Keys: []Key{
		{ID: "k1", Hash: HashKey("secret-one"), PerMinute: 2},
		{ID: "k2", Hash: HashKey("secret-two")},
	}}})

	resp, body := do(t, "GET", srv.URL+"/orders", nil)
	if e := decodeError(t, resp, body); resp.StatusCode != 401 || !strings.Contains(e.Error, KeyHeader) {
		t.Fatalf("no key: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", srv.URL+"/orders", nil, KeyHeader, "guessed")
	if e := decodeError(t, resp, body); resp.StatusCode != 401 || !strings.Contains(e.Error, "unknown") {
		t.Fatalf("wrong key: %d %s", resp.StatusCode, body)
	}
	if b.hits.Load() != 0 {
		t.Fatal("a refused call reached the instance")
	}
	resp, _ = do(t, "GET", srv.URL+"/orders", nil, KeyHeader, "secret-one")
	if resp.StatusCode != 200 {
		t.Fatalf("good key: %d", resp.StatusCode)
	}
	b.mu.Lock()
	leaked := b.last.Header.Get(KeyHeader)
	b.mu.Unlock()
	if leaked != "" {
		t.Fatalf("the instance saw the key %q", leaked)
	}
	resp, body = do(t, "GET", srv.URL+"/orders", nil, KeyHeader, "secret-one")
	if resp.StatusCode != 429 {
		t.Fatalf("over the rate: %d %s", resp.StatusCode, body)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 30 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	for range 5 {
		if resp, _ := do(t, "GET", srv.URL+"/orders", nil, KeyHeader, "secret-two"); resp.StatusCode != 200 {
			t.Fatalf("unlimited key: %d", resp.StatusCode)
		}
	}
	if resp, _ := do(t, "GET", srv.URL+"/open", nil); resp.StatusCode != 200 {
		t.Fatalf("a flow without keys: %d", resp.StatusCode)
	}

	// Reloading the rules keeps k1's spent budget; revoking k2 is at once.
	g.SetAccess(map[string]Access{"f1": {RequireKey: true, Keys: []Key{{ID: "k1", Hash: HashKey("secret-one"), PerMinute: 2}}}})
	if resp, _ := do(t, "GET", srv.URL+"/orders", nil, KeyHeader, "secret-one"); resp.StatusCode != 429 {
		t.Fatalf("the limit was reset by a reload: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL+"/orders", nil, KeyHeader, "secret-two"); resp.StatusCode != 401 {
		t.Fatalf("revoked key: %d", resp.StatusCode)
	}
}

// TestCORS: allowed origins get CORS headers on preflights and calls;
// others get none, and a preflight never needs a key.
func TestCORS(t *testing.T) {
	b := newBackend(t, "a")
	g, srv := newGateway(t, Config{},
		Route{DeploymentID: "d1", FlowID: "f1", Flow: "orders", Method: "POST", Path: "/orders", Backends: static(b.addr())})
	g.SetAccess(map[string]Access{"f1": {RequireKey: true, Origins: []string{"https://shop.example"},
		Keys: []Key{{ID: "k1", Hash: HashKey("secret-one")}}}})

	resp, _ := do(t, "OPTIONS", srv.URL+"/orders", nil, "Origin", "https://shop.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, x-api-key")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-api-key") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, "OPTIONS", srv.URL+"/orders", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, "POST", srv.URL+"/orders", strings.NewReader(`{}`), "Origin", "https://shop.example", KeyHeader, "secret-one")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Trace-Id") {
		t.Fatalf("call: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, "POST", srv.URL+"/orders", strings.NewReader(`{}`), "Origin", "https://evil.example", KeyHeader, "secret-one")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("call from another origin got CORS headers: %v", resp.Header)
	}
	if b.hits.Load() != 2 {
		t.Fatalf("the instance got %d calls, want the 2 POSTs", b.hits.Load())
	}
}
