package flow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
)

// TestConformanceInvalid runs the shared invalid flows and the project's own.
func TestConformanceInvalid(t *testing.T) {
	shared, err := conformance.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	own, err := conformance.OwnDir()
	if err != nil {
		t.Fatal(err)
	}
	reg := nodes.Registry()
	for _, dir := range []string{shared, own} {
		cases, err := conformance.LoadInvalid(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) == 0 {
			t.Fatalf("no invalid cases in %s", dir)
		}
		for _, c := range cases {
			t.Run(c.File, func(t *testing.T) {
				d, err := flow.Parse(c.Flow)
				if err != nil {
					t.Fatalf("a well-formed document must parse: %v", err)
				}
				probs := flow.Validate(d, reg)
				if diffs := conformance.CheckInvalid(c, probs); len(diffs) > 0 {
					t.Error(strings.Join(diffs, "\n"))
				}
			})
		}
	}
}

func TestConformanceCasesValid(t *testing.T) {
	dir, err := conformance.SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := conformance.LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := nodes.Registry()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if missing := c.Missing(reg); len(missing) > 0 {
				t.Skipf("node types not built yet: %v", missing)
			}
			d, err := flow.Parse(c.Flow)
			if err != nil {
				t.Fatal(err)
			}
			if probs := flow.Validate(d, reg); len(probs) > 0 {
				t.Errorf("valid case refused: %v", probs)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"malformed":     `{"version": 1, "name": "a",`,
		"version":       `{"version": 2, "name": "a", "nodes": [], "edges": []}`,
		"name":          `{"version": 1, "name": "Bad Name", "nodes": [], "edges": []}`,
		"unknown field": `{"version": 1, "name": "a", "nodes": [], "edges": [], "colour": 1}`,
		"trailing":      `{"version": 1, "name": "a", "nodes": [], "edges": []} {}`,
		"empty":         ``,
		"wrong type":    `{"version": "1", "name": "a"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := flow.Parse([]byte(doc))
			var de *flow.DocumentError
			if err == nil || !errorAs(err, &de) || len(de.Problems) == 0 || de.Problems[0].Message == "" {
				t.Fatalf("got %v, want a DocumentError with a message", err)
			}
		})
	}
}

func errorAs(err error, de **flow.DocumentError) bool {
	d, ok := err.(*flow.DocumentError)
	*de = d
	return ok
}

func TestOrderPrefersDocumentOrder(t *testing.T) {
	d := &flow.Document{Nodes: []flow.Node{{ID: "t"}, {ID: "b"}, {ID: "a"}, {ID: "r"}},
		Edges: []flow.Edge{{From: "t", To: "a"}, {From: "t", To: "b"}, {From: "a", To: "r"}, {From: "b", To: "r"}}}
	order, err := flow.Order(d)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range order {
		ids = append(ids, d.Nodes[i].ID)
	}
	if got := strings.Join(ids, ","); got != "t,b,a,r" {
		t.Fatalf("order %s, want t,b,a,r", got)
	}
}

func TestRegistryRefusesDuplicates(t *testing.T) {
	r := flow.NewRegistry()
	if err := r.Register(nodes.Set{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(nodes.Set{}); err == nil {
		t.Fatal("duplicate type registered")
	}
}

func TestSpecsAreJSON(t *testing.T) {
	for _, s := range nodes.Registry().Specs() {
		if s.Description == "" || s.Title == "" {
			t.Errorf("%s: spec needs a title and description", s.Type)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("%s: %v", s.Type, err)
		}
	}
}

func TestConfigTypeErrorNamesTheRow(t *testing.T) {
	d, err := flow.Parse([]byte(`{"version": 1, "name": "x", "nodes": [
	 {"id": "start", "type": "trigger.http", "config": {"method": "GET", "path": "/x"}},
	 {"id": "a", "type": "set", "config": {"fields": [{"name": "ok", "value": "1"}, {"name": "n", "value": 2}]}},
	 {"id": "done", "type": "response", "config": {}}],
	 "edges": [{"from": "start", "to": "a"}, {"from": "a", "to": "done"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	probs := flow.Validate(d, nodes.Registry())
	if len(probs) != 1 || probs[0].Field != "fields[1].value" || probs[0].Node != "a" {
		t.Fatalf("problems %v, want one on a fields[1].value", probs)
	}
}
