package js_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
)

// BenchmarkCodeJSFlow serves case 05 (trigger, code.js, response) from its
// JS bundle over HTTP, sequentially and in parallel, next to a hand-written
// Go handler doing the same work: what a code.js flow costs over writing
// the endpoint by hand.
func BenchmarkCodeJSFlow(b *testing.B) {
	var c *conformance.Case
	cs, err := conformance.All()
	if err != nil {
		b.Fatal(err)
	}
	for i := range cs {
		if cs[i].Name == "code-js" {
			c = &cs[i]
		}
	}
	if c == nil {
		b.Fatal("case 05 (code-js) not found")
	}
	d, err := flow.Parse(c.Flow)
	if err != nil {
		b.Fatal(err)
	}
	files, err := js.Generate(d, nodes.Registry(), 1)
	if err != nil {
		b.Fatal(err)
	}
	f, err := jshost.Load(files, engine.Options{}, nodes.Bindings())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, h := range []struct {
		name    string
		handler http.Handler
	}{{"bundle", f}, {"handwritten", http.HandlerFunc(handCalc)}} {
		srv := httptest.NewServer(h.handler)
		post := func(b *testing.B, client *http.Client) {
			resp, err := client.Post(srv.URL+"/calc", "application/json", strings.NewReader(`{"a": 2, "b": 3}`))
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"sum":5`) {
				b.Fatalf("%d %s", resp.StatusCode, body)
			}
		}
		b.Run(h.name+"/serial", func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				post(b, client)
			}
		})
		b.Run(h.name+"/parallel", func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					post(b, client)
				}
			})
		})
		srv.Close()
	}
}

// handCalc is case 05 written by hand.
func handCalc(w http.ResponseWriter, r *http.Request) {
	var in struct{ A, B float64 }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if in.A < 0 {
		writeJSON(w, 500, map[string]any{"error": errors.New("negative a").Error()})
		return
	}
	writeJSON(w, 200, map[string]any{"sum": in.A + in.B, "product": in.A * in.B, "tags": []any{"x", strconv.FormatFloat(in.A, 'f', -1, 64)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Trace-Id", "00000000000000000000000000000001")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
