package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/internal/conformance"
)

// workload is a flow, a request to load it with, and a hand-written Go
// handler doing the same work.
type workload struct {
	name         string
	flow         json.RawMessage
	env          map[string]string
	egress       []string // the deployment's egress allow-list: the stub upstream listens on 127.0.0.1
	method, path string
	route        string
	body         string
	expect       string // a fragment of the expected answer
	handler      http.Handler
}

// prefixed is w served under prefix: its trigger path and its request.
func (w workload) prefixed(prefix string) workload {
	var doc map[string]any
	if json.Unmarshal(w.flow, &doc) != nil {
		return w
	}
	nodes, _ := doc["nodes"].([]any)
	for _, n := range nodes {
		if m, ok := n.(map[string]any); ok && m["type"] == flow.TriggerType {
			if cfg, ok := m["config"].(map[string]any); ok {
				cfg["path"] = prefix + fmt.Sprint(cfg["path"])
			}
		}
	}
	w.flow, _ = json.Marshal(doc)
	w.path, w.route = prefix+w.path, prefix+w.route
	return w
}

func (w workload) missing(r *flow.Registry) []string {
	c := conformance.Case{Flow: w.flow}
	return c.Missing(r)
}

func workloads(upstream string) []workload {
	return []workload{
		{
			name: "W1",
			flow: json.RawMessage(`{"version": 1, "name": "hello", "nodes": [
				{"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/hello"}},
				{"id": "done", "type": "response", "config": {"body": "{\"message\": \"hello \" + (request.query.name ?? \"world\")}"}}],
				"edges": [{"from": "start", "to": "done"}]}`),
			method: "GET", path: "/hello?name=ann", route: "/hello", expect: `"hello ann"`,
			handler: http.HandlerFunc(handHello),
		},
		{
			name:   "W2",
			flow:   caseFlow("03-transform.json"),
			method: "POST", path: "/orders", route: "/orders",
			body:    `{"customer": "c1", "items": [{"sku": "a", "qty": 2, "price": 12.5}, {"sku": "b", "qty": 1, "price": 5}, {"sku": "c", "qty": 10, "price": 9}]}`,
			expect:  `"discount":12`,
			handler: http.HandlerFunc(handTransform),
		},
		{
			name:   "W3",
			flow:   caseFlow("08-fanout.json"),
			env:    map[string]string{"UPSTREAM": upstream},
			egress: []string{strings.TrimPrefix(upstream, "http://")},
			method: "GET", path: "/profile/42", route: "/profile/:id", expect: `"spent":60`,
			handler: &handFanout{upstream: upstream, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}},
		},
	}
}

// caseFlow reads a shared conformance case's flow.
func caseFlow(file string) json.RawMessage {
	dir, err := conformance.SharedDir()
	if err != nil {
		return nil
	}
	var c conformance.Case
	b, err := os.ReadFile(filepath.Join(dir, "cases", file))
	if err != nil || json.Unmarshal(b, &c) != nil {
		return nil
	}
	return c.Flow
}

// The hand-written handlers do what the flows do, including a trace id on
// every answer, the way an engineer would write them by hand.

func traced(w http.ResponseWriter, r *http.Request) contract.Trace {
	tr, ok := contract.ParseTraceparent(r.Header.Get("traceparent"))
	if !ok {
		tr = contract.NewTrace()
	}
	w.Header().Set("X-Trace-Id", tr.ID)
	return tr
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func handHello(w http.ResponseWriter, r *http.Request) {
	traced(w, r)
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	writeJSON(w, 200, map[string]any{"message": "hello " + name})
}

func handTransform(w http.ResponseWriter, r *http.Request) {
	tr := traced(w, r)
	var in struct {
		Customer any `json:"customer"`
		Items    []struct {
			SKU   any     `json:"sku"`
			Qty   float64 `json:"qty"`
			Price float64 `json:"price"`
		} `json:"items"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]any{"error": "invalid JSON body: " + err.Error(), "trace_id": tr.ID})
		return
	}
	total := 0.0
	expensive := []any{}
	for _, it := range in.Items {
		total += it.Qty * it.Price
		if it.Price > 10 {
			expensive = append(expensive, map[string]any{"sku": it.SKU, "qty": it.Qty})
		}
	}
	discount := 0.0
	if total > 100 {
		discount = total * 0.1
	}
	writeJSON(w, 200, map[string]any{"customer": in.Customer, "total": total, "discount": discount, "expensive": expensive})
}

type handFanout struct {
	upstream string
	client   *http.Client
}

func (h *handFanout) get(r *http.Request, tr contract.Trace, path string, v any) error {
	req, err := http.NewRequestWithContext(r.Context(), "GET", h.upstream+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("traceparent", tr.Traceparent(contract.NewSpanID()))
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

func (h *handFanout) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tr := traced(w, r)
	id := r.PathValue("id")
	if id == "" {
		id = r.URL.Path[len("/profile/"):]
	}
	var user any
	var orders []struct {
		User   string  `json:"user"`
		Amount float64 `json:"amount"`
	}
	if err := h.get(r, tr, "/users/"+id, &user); err != nil {
		writeJSON(w, 502, map[string]any{"error": err.Error(), "node": "user", "trace_id": tr.ID})
		return
	}
	if err := h.get(r, tr, "/orders?user="+id, &orders); err != nil {
		writeJSON(w, 502, map[string]any{"error": err.Error(), "node": "orders", "trace_id": tr.ID})
		return
	}
	spent := 0.0
	for _, o := range orders {
		spent += o.Amount
	}
	owner := ""
	if len(orders) > 0 {
		owner = orders[0].User
	}
	writeJSON(w, 200, map[string]any{"user": user, "orderCount": len(orders), "spent": spent, "owner": fmt.Sprint(owner)})
}
