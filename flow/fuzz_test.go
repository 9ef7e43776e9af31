package flow_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
)

// FuzzParse feeds arbitrary bytes to Parse and, when they parse, to
// Validate, Order and Route: none may panic, and every problem has a
// message. The seed corpus (every conformance flow, and a few hostile
// documents) runs with go test.
func FuzzParse(f *testing.F) {
	for _, dir := range seedDirs(f) {
		for _, sub := range []string{"cases", "invalid"} {
			files, _ := filepath.Glob(filepath.Join(dir, sub, "*.json"))
			for _, file := range files {
				b, err := os.ReadFile(file)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
				if flowDoc := extractFlow(b); flowDoc != nil {
					f.Add(flowDoc)
				}
			}
		}
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"version": 1}`, `{"version": 1, "name": "a", "nodes": null, "edges": null}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "t", "type": "trigger.http", "config": {"method": "GET", "path": "/"}}], "edges": [{"from": "t", "to": "t"}]}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "c", "type": "code.js", "config": {"source": "` + strings.Repeat("[", 40000) + `"}}], "edges": []}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "s", "type": "set", "config": {"fields": [{"name": "x", "value": "` + strings.Repeat("(", 100000) + `"}]}}], "edges": []}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "v", "type": "validate", "config": {"schema": ` + strings.Repeat(`{"items":`, 5000) + `{}` + strings.Repeat(`}`, 5000) + `}}], "edges": []}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "v", "type": "validate", "config": {"schema": {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}}}], "edges": []}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "q", "type": "db.query", "config": {"datasource": "m", "sql": "$$$1$$ $tag$ $1", "params": []}}], "edges": []}`,
		`{"version": 1, "name": "a", "nodes": [{"id": "h", "type": "http.request", "config": {"method": "GET", "url": "\"x\"", "headers": [{"name": "\u0000", "value": "1"}], "retries": 1e300}}], "edges": []}`,
	} {
		f.Add([]byte(s))
	}
	reg := nodes.Registry()
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := flow.Parse(data)
		if err != nil {
			return
		}
		for _, p := range flow.Validate(d, reg) {
			if p.Message == "" {
				t.Errorf("a problem without a message: %+v", p)
			}
		}
		_, _ = flow.Order(d)
		_, _, _ = flow.Route(d)
	})
}

func seedDirs(f *testing.F) []string {
	var dirs []string
	if shared, err := conformance.SharedDir(); err == nil {
		dirs = append(dirs, shared)
	}
	if own, err := conformance.OwnDir(); err == nil {
		dirs = append(dirs, own)
	}
	return dirs
}

// extractFlow returns the "flow" member of a case file, as raw JSON.
func extractFlow(b []byte) []byte {
	i := strings.Index(string(b), `"flow":`)
	if i < 0 {
		return nil
	}
	rest := strings.TrimSpace(string(b[i+len(`"flow":`):]))
	depth, inStr, esc := 0, false, false
	for j, c := range rest {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return []byte(rest[:j+1])
			}
		}
	}
	return nil
}
