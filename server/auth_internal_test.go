package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestEveryRouteAuthorised walks the API's own route table, so that a
// route added later is covered too: an anonymous call is refused with 401,
// a call from another site with 403, whatever the route; only sign-in
// takes anonymous callers.
func TestEveryRouteAuthorised(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.APIToken = "internal-test-token-0123456789"
	s, err := New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	routes := s.api.(*gin.Engine).Routes()
	n := 0
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		n++
		path := strings.NewReplacer(":name", "some-flow", ":id", "some-id", ":version", "1").Replace(r.Path)
		send := func(header ...string) int {
			req := httptest.NewRequest(r.Method, path, strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			w := httptest.NewRecorder()
			s.api.ServeHTTP(w, req)
			return w.Code
		}
		if r.Method == http.MethodPost && r.Path == "/api/v1/session" {
			if got := send(); got != http.StatusUnauthorized {
				t.Errorf("sign-in with no password: %d, want 401", got)
			}
		} else if got := send(); got != http.StatusUnauthorized {
			t.Errorf("%s %s anonymous: %d, want 401", r.Method, r.Path, got)
		}
		if got := send("Origin", "http://evil.example", "Authorization", "Bearer "+cfg.APIToken); got != http.StatusForbidden {
			t.Errorf("%s %s from another origin: %d, want 403", r.Method, r.Path, got)
		}
		if got := send("Sec-Fetch-Site", "cross-site", "Authorization", "Bearer "+cfg.APIToken); got != http.StatusForbidden {
			t.Errorf("%s %s cross-site: %d, want 403", r.Method, r.Path, got)
		}
		if r.Method != http.MethodGet {
			if got := send("Content-Type", "text/plain", "Authorization", "Bearer "+cfg.APIToken); got != http.StatusUnsupportedMediaType {
				t.Errorf("%s %s with a text/plain body: %d, want 415", r.Method, r.Path, got)
			}
		}
	}
	if n < 25 {
		t.Fatalf("only %d API routes found", n)
	}
}
