package nodes_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
)

var summaryField = regexp.MustCompile(`\{(\w+)(?:\.(\w+))?\}`)

// TestPaletteSpecs: the designer builds its palette and forms from the
// specs, so every part of them must be there, in sentences.
func TestPaletteSpecs(t *testing.T) {
	reg := nodes.Registry()
	calls := nodes.Bindings()
	for _, s := range reg.Specs() {
		typ := s.Type
		if s.Title == "" || !slices.ContainsFunc(flow.Categories, func(c flow.Category) bool { return c.Name == s.Category }) ||
			!sentence(s.Description) || !sentence(s.Output) || s.Summary == "" {
			t.Errorf("%s: title %q, category %q, description %q, output %q, summary %q", typ, s.Title, s.Category, s.Description, s.Output, s.Summary)
		}
		// A node that calls out can fail, and says so on its error port.
		if _, ok := calls[typ]; ok && (len(s.Ports) == 0 || s.Ports[len(s.Ports)-1] != flow.PortError || s.Ports[0] != flow.PortOut) {
			t.Errorf("%s: ports %v", typ, s.Ports)
		}
		if len(s.Examples) == 0 {
			t.Errorf("%s: no example", typ)
		}
		// The summary's {field} and {list.item} name fields the type has.
		for _, m := range summaryField.FindAllStringSubmatch(s.Summary, -1) {
			i := slices.IndexFunc(s.Fields, func(f flow.Field) bool { return f.Name == m[1] })
			if i < 0 || (m[2] != "" && !slices.ContainsFunc(s.Fields[i].Item, func(f flow.Field) bool { return f.Name == m[2] })) {
				t.Errorf("%s: summary %q names no field %s", typ, s.Summary, m[0])
			}
		}
		if d := s.DynamicPorts; d != nil {
			i := slices.IndexFunc(s.Fields, func(f flow.Field) bool { return f.Name == d.Field && f.Kind == flow.KindList })
			if i < 0 || !slices.ContainsFunc(s.Fields[i].Item, func(f flow.Field) bool { return f.Name == d.Item }) {
				t.Errorf("%s: dynamic ports %+v name no list field and item", typ, *d)
			}
		}
		var check func(prefix string, fields []flow.Field)
		check = func(prefix string, fields []flow.Field) {
			for _, f := range fields {
				if f.Name == "" || f.Label == "" || f.Kind == "" || !sentence(f.Description) {
					t.Errorf("%s: field %s%s: label %q, kind %q, description %q", typ, prefix, f.Name, f.Label, f.Kind, f.Description)
				}
				if f.Kind == flow.KindEnum && len(f.Options) == 0 {
					t.Errorf("%s: enum field %s has no options", typ, f.Name)
				}
				if f.Kind == flow.KindCode && f.Language == "" {
					t.Errorf("%s: code field %s has no language", typ, f.Name)
				}
				check(prefix+f.Name+".", f.Item)
			}
		}
		check("", s.Fields)
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	kinds := map[string]flow.FieldKind{"code.js/source": flow.KindCode, "validate/schema": flow.KindSchema,
		"db.query/params": flow.KindExprList, "http.request/method": flow.KindEnum, "http.request/timeout_ms": flow.KindInt,
		"http.request/retries": flow.KindInt, "db.query/max_rows": flow.KindInt, "code.js/timeout_ms": flow.KindInt}
	for key, kind := range kinds {
		typ, name, _ := strings.Cut(key, "/")
		nt, _ := reg.Lookup(typ)
		found := false
		for _, f := range nt.Spec().Fields {
			if f.Name == name {
				found = f.Kind == kind
			}
		}
		if !found {
			t.Errorf("%s: field %s is not of kind %s", typ, name, kind)
		}
	}
}

func sentence(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) > 10 && strings.ToUpper(s[:1]) == s[:1] && strings.HasSuffix(s, ".")
}

// exampleFlow puts one node of typ with config between a trigger and a
// response, wiring every port but error to the response.
func exampleFlow(typ string, config json.RawMessage) *flow.Document {
	trigger := json.RawMessage(`{"method": "POST", "path": "/example"}`)
	if typ == flow.TriggerType {
		return &flow.Document{Version: 1, Name: "example", Nodes: []flow.Node{
			{ID: "node", Type: typ, Config: config},
			{ID: "done", Type: flow.ResponseType, Config: json.RawMessage(`{"body": "nodes.node"}`)},
		}, Edges: []flow.Edge{{From: "node", To: "done"}}}
	}
	d := &flow.Document{Version: 1, Name: "example", Nodes: []flow.Node{
		{ID: "start", Type: flow.TriggerType, Config: trigger},
		{ID: "node", Type: typ, Config: config},
	}, Edges: []flow.Edge{{From: "start", To: "node"}}}
	if ports := nodes.Registry().Ports(&d.Nodes[1]); len(ports) > 0 {
		d.Nodes = append(d.Nodes, flow.Node{ID: "done", Type: flow.ResponseType, Config: json.RawMessage(`{"body": "nodes.node"}`)})
		e := flow.Edge{From: "node", To: "done"}
		if ports[0] != flow.PortOut {
			e.Port = ports[0]
		}
		d.Edges = append(d.Edges, e)
	}
	return d
}

// TestPaletteExamples: every example validates and generates a bundle
// that parses.
func TestPaletteExamples(t *testing.T) {
	reg := nodes.Registry()
	for _, s := range reg.Specs() {
		typ := s.Type
		for _, ex := range s.Examples {
			d := exampleFlow(typ, ex.Config)
			if probs := flow.Validate(d, reg); len(probs) > 0 {
				t.Errorf("%s example %q: %v", typ, ex.Title, probs)
				continue
			}
			files, err := js.Generate(d, reg, 1)
			if err != nil {
				t.Errorf("%s example %q: %v", typ, ex.Title, err)
				continue
			}
			if _, err := goja.Compile("bundle.js", string(files[js.BundleFile]), true); err != nil {
				t.Errorf("%s example %q: bundle does not parse: %v", typ, ex.Title, err)
			}
		}
	}
}

// TestPaletteChecks: what each node type refuses, field by field.
func TestPaletteChecks(t *testing.T) {
	reg := nodes.Registry()
	for _, c := range []struct {
		typ, config, field, message string
	}{
		{"http.request", `{"url": "\"http://x\""}`, "method", "method"},
		{"http.request", `{"method": "GET"}`, "url", "empty"},
		{"http.request", `{"method": "GET", "url": "http://x/y"}`, "url", "quotes"},
		{"http.request", `{"method": "GET", "url": "\"http://x\"", "timeout_ms": 0}`, "timeout_ms", "at least 1"},
		{"http.request", `{"method": "GET", "url": "\"http://x\"", "timeout_ms": 1.5}`, "timeout_ms", "number"},
		{"http.request", `{"method": "GET", "url": "\"http://x\"", "retries": 11}`, "retries", "between"},
		{"http.request", `{"method": "GET", "url": "\"http://x\"", "body": "1 +"}`, "body", "ends too early"},
		{"http.request", `{"method": "GET", "url": "\"http://x\"", "headers": [{"name": "", "value": "1"}]}`, "headers[0].name", "header name"},
		{"http.request", `{"method": "GET", "url": "\"http://x\"", "colour": 1}`, "colour", "unknown"},
		{"code.js", `{}`, "source", "empty"},
		{"code.js", `{"source": "}"}`, "source", "node"},
		{"code.js", `{"source": "return 1", "timeout_ms": 60001}`, "timeout_ms", "between"},
		{"db.query", `{"datasource": "main", "sql": "select $1", "params": []}`, "params", "$1"},
		{"db.query", `{"datasource": "main", "sql": "select 1", "params": ["1"]}`, "params", "only up to"},
		{"db.query", `{"datasource": "main", "sql": "select $1", "params": ["1 +* 2"]}`, "params[0]", "unexpected operator"},
		{"db.query", `{"datasource": "main", "sql": "select 1", "max_rows": 0}`, "max_rows", "at least 1"},
		{"db.query", `{"datasource": "main", "sql": "select 'x"}`, "sql", "never closed"},
		{"validate", `{"schema": {"type": "banana"}}`, "schema", "valid"},
		{"validate", `{"schema": null}`, "schema", "required"},
		{"validate", `{"schema": {}, "value": "1 +"}`, "value", "ends too early"},
	} {
		d := exampleFlow(c.typ, json.RawMessage(c.config))
		probs := flow.Validate(d, reg)
		found := false
		for _, p := range probs {
			if p.Node == "node" && p.Field == c.field && strings.Contains(p.Message, c.message) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s %s: no problem on %s mentioning %q; got %v", c.typ, c.config, c.field, c.message, probs)
		}
	}
}

// TestRetriesWarning: retries on a method that is never retried are a
// warning, which does not stop a publish; on GET they are fine.
func TestRetriesWarning(t *testing.T) {
	reg := nodes.Registry()
	for method, wantWarning := range map[string]bool{"POST": true, "PATCH": true, "OPTIONS": true, "GET": false, "PUT": false} {
		d := exampleFlow("http.request", json.RawMessage(`{"method": "`+method+`", "url": "\"http://x\"", "retries": 2}`))
		probs := flow.Validate(d, reg)
		if errs := flow.Errors(probs); len(errs) > 0 {
			t.Errorf("%s with retries: errors %v", method, errs)
		}
		warned := len(probs) == 1 && probs[0].Warning() && probs[0].Field == "retries" && strings.Contains(probs[0].Message, method)
		if warned != wantWarning {
			t.Errorf("%s with retries: problems %v, want a warning: %v", method, probs, wantWarning)
		}
		if _, err := js.Generate(d, reg, 1); err != nil {
			t.Errorf("%s with retries does not generate: %v", method, err)
		}
	}
}

// TestValidateEmitsByEdge: a validate node answers 400 itself only when its
// invalid port has no edge.
func TestValidateEmitsByEdge(t *testing.T) {
	reg := nodes.Registry()
	d := exampleFlow("validate", json.RawMessage(`{"schema": {"type": "object"}}`))
	files, err := js.Generate(d, reg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[js.BundleFile]), "$.refuse($out, $port, 400") {
		t.Errorf("no 400 without an invalid edge:\n%s", files[js.BundleFile])
	}
	d.Edges = append(d.Edges, flow.Edge{From: "node", To: "done", Port: "invalid"})
	files, err = js.Generate(d, reg, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The port the call gives, invalid included, is the port taken.
	if b := string(files[js.BundleFile]); strings.Contains(b, "$.refuse(") || !strings.Contains(b, "$.end($out, $port)") {
		t.Errorf("with an invalid edge:\n%s", b)
	}
}
