package engine_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
)

// TestInstanceMetrics checks the request metrics an instance exports: one
// count and one latency observation per request, by status code.
func TestInstanceMetrics(t *testing.T) {
	f, err := engine.New(helloManifest, engine.ProgramFunc(hello), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.ServeInstance(ctx, f, addr, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	get := func(path string) (int, string) {
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				if time.Since(start) > 5*time.Second {
					t.Fatal(err)
				}
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
	}
	for range 3 {
		if code, _ := get("/hello?name=x"); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if code, _ := get("/nowhere"); code != 404 {
		t.Fatalf("status %d", code)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`flowline_requests_total{code="200"} 3`,
		`flowline_requests_total{code="404"} 1`,
		`flowline_request_duration_seconds_count{code="200"} 3`,
		`flowline_request_duration_seconds_bucket{code="404",le="+Inf"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
}
