package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NewStub starts the stub upstream of the conformance README on 127.0.0.1.
// Each run of a case gets a fresh one, so the flaky counters start at zero.
func NewStub() *httptest.Server {
	var mu sync.Mutex
	flaky := map[string]int{}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		reply(w, 200, map[string]any{"id": id, "name": "user-" + id})
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("user")
		reply(w, 200, []any{
			map[string]any{"id": 1, "user": u, "amount": 10},
			map[string]any{"id": 2, "user": u, "amount": 20},
			map[string]any{"id": 3, "user": u, "amount": 30},
		})
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		headers := map[string]any{}
		for k, v := range r.Header {
			headers[strings.ToLower(k)] = v[0]
		}
		query := map[string]any{}
		for k, v := range r.URL.Query() {
			query[k] = v[0]
		}
		data, _ := io.ReadAll(r.Body)
		var body any
		if len(data) > 0 {
			ct := r.Header.Get("Content-Type")
			if strings.Contains(ct, "json") {
				if err := json.Unmarshal(data, &body); err != nil {
					body = string(data)
				}
			} else {
				body = string(data)
			}
		}
		reply(w, 200, map[string]any{"method": r.Method, "headers": headers, "query": query, "body": body})
	})
	mux.HandleFunc("GET /status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 100 || code > 599 {
			code = 400
		}
		reply(w, code, map[string]any{"status": code})
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		reply(w, 200, map[string]any{"slept": ms})
	})
	mux.HandleFunc("/flaky/{key}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("fail"))
		mu.Lock()
		flaky[r.PathValue("key")]++
		count := flaky[r.PathValue("key")]
		mu.Unlock()
		if count <= n {
			reply(w, 503, map[string]any{"error": "flaky"})
			return
		}
		reply(w, 200, map[string]any{"ok": true, "attempts": n + 1})
	})
	// Routes of the project's own cases, beyond the README's.
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		// n bytes of text; with chunked=1 no Content-Length is announced.
		n, _ := strconv.Atoi(r.URL.Query().Get("bytes"))
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for n > 0 {
			m := min(n, len(chunk))
			if _, err := w.Write(chunk[:m]); err != nil {
				return
			}
			n -= m
		}
	})
	mux.HandleFunc("GET /badjson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"truncated": `)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		// 302 to the URL in "to": a redirect the egress policy must check.
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	return httptest.NewServer(mux)
}
