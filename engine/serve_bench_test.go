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
	"github.com/flowline/flowline/engine/enginetest"
)

// The benchmarks serve requests through flows written the way the Go
// target generates them (codegen/golang/testdata/transform/main.go), so a
// profile shows where a Go bundle spends its time outside the flow's own
// expressions.

var (
	calcTotal     = engine.MustCompile("sum(request.body.items, .qty * .price)")
	calcExpensive = engine.MustCompile("map(filter(request.body.items, .price > 10), ({\"sku\": .sku, \"qty\": .qty}))")
	bigCondition  = engine.MustCompile("nodes.calc.total > 100")
	discDiscount  = engine.MustCompile("nodes.calc.total * 0.1")
	respBigBody   = engine.MustCompile("{\"customer\": request.body.customer, \"total\": nodes.calc.total, \"discount\": nodes.disc.discount, \"expensive\": nodes.calc.expensive}")
	respSmallBody = engine.MustCompile("{\"customer\": request.body.customer, \"total\": nodes.calc.total, \"discount\": 0, \"expensive\": nodes.calc.expensive}")
	helloBody     = engine.MustCompile("{\"message\": \"hello \" + (request.query.name ?? \"world\")}")
)

var transformManifest = engine.Manifest{Flow: "transform", Version: 1, Target: "go", Method: "POST", Path: "/orders",
	Nodes: []engine.NodeInfo{
		{ID: "start", Type: "trigger.http"},
		{ID: "calc", Type: "set", Inputs: []string{"start"}},
		{ID: "big", Type: "if", Inputs: []string{"calc"}},
		{ID: "disc", Type: "set", Inputs: []string{"big"}},
		{ID: "resp_big", Type: "response", Inputs: []string{"disc"}},
		{ID: "resp_small", Type: "response", Inputs: []string{"big"}},
	}}

func transform(x *engine.Exec) {
	var calcPort, bigPort, discPort string
	startPort := x.Trigger("start")
	if startPort == "out" {
		x.Begin("calc")
		out, port, err := func() (any, string, error) {
			out := make(map[string]any, 2)
			var err error
			if out["total"], err = x.Eval(calcTotal); err != nil {
				return nil, "", err
			}
			if out["expensive"], err = x.Eval(calcExpensive); err != nil {
				return nil, "", err
			}
			return out, "out", nil
		}()
		if err != nil {
			x.Fail(err, false)
			return
		}
		calcPort = x.End(out, port)
	}
	if calcPort == "out" {
		x.Begin("big")
		v, err := x.Cond(bigCondition)
		if err != nil {
			x.Fail(err, false)
			return
		}
		if v {
			bigPort = x.End(true, "true")
		} else {
			bigPort = x.End(false, "false")
		}
	}
	if bigPort == "true" {
		x.Begin("disc")
		d, err := x.Eval(discDiscount)
		if err != nil {
			x.Fail(err, false)
			return
		}
		discPort = x.End(map[string]any{"discount": d}, "out")
	}
	if discPort == "out" {
		x.Begin("resp_big")
		body, err := x.Eval(respBigBody)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.Respond(200, nil, body)
		return
	}
	if bigPort == "false" {
		x.Begin("resp_small")
		body, err := x.Eval(respSmallBody)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.Respond(200, nil, body)
		return
	}
}

var helloManifest = engine.Manifest{Flow: "hello", Version: 1, Target: "go", Method: "GET", Path: "/hello",
	Nodes: []engine.NodeInfo{{ID: "start", Type: "trigger.http"}, {ID: "done", Type: "response", Inputs: []string{"start"}}}}

func hello(x *engine.Exec) {
	if x.Trigger("start") == "out" {
		x.Begin("done")
		body, err := x.Eval(helloBody)
		if err != nil {
			x.Fail(err, false)
			return
		}
		x.Respond(200, nil, body)
	}
}

// orderBody is W2's request body (the JS host's benchmark sends it too).
const orderBody = `{"customer": "c1", "items": [{"sku": "a", "qty": 2, "price": 12.5}, {"sku": "b", "qty": 1, "price": 5}, {"sku": "c", "qty": 10, "price": 9}]}`

func benchServe(b *testing.B, m engine.Manifest, p engine.ProgramFunc, method, target, body string) {
	enginetest.BenchServe(b, engine.Options{}, m, p, method, target, body)
}

// BenchmarkServeHello is workload W1 through Flow.ServeHTTP.
func BenchmarkServeHello(b *testing.B) {
	benchServe(b, helloManifest, hello, "GET", "http://h/hello?name=ann", "")
}

// BenchmarkServeTransform is workload W2 (conformance case 03).
func BenchmarkServeTransform(b *testing.B) {
	benchServe(b, transformManifest, transform, "POST", "http://h/orders", orderBody)
}

// BenchmarkInstanceTransform serves W2 through a whole instance (health
// and metrics handlers, instrumentation, net/http) on loopback.
func BenchmarkInstanceTransform(b *testing.B) {
	f, err := engine.New(transformManifest, engine.ProgramFunc(transform), engine.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.ServeInstance(ctx, f, addr, slog.New(slog.DiscardHandler)) }()
	defer func() { cancel(); <-done }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(5 * time.Millisecond) {
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			break
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post("http://"+addr+"/orders", "application/json", strings.NewReader(orderBody))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
