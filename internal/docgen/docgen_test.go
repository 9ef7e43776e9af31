package docgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/flowline/flowline/flow/nodes"
)

var update = flag.Bool("update", false, "rewrite the generated files")

// TestGeneratedCurrent fails when a generated file is not what the
// registry renders now, so the reference, the designer's types and its
// test fixture change with the node types.
func TestGeneratedCurrent(t *testing.T) {
	cat := nodes.Registry().Catalog()
	served, err := json.MarshalIndent(cat, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"../../docs/nodes.md":                  Render(cat),
		"../../web/src/generated/catalog.ts":   TypeScript(),
		"../../web/src/generated/catalog.json": append(served, '\n'), // what GET /api/v1/node-types answers, for the designer's unit tests
	}
	for path, got := range files {
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./internal/docgen -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go test ./internal/docgen -update", path)
		}
	}
	doc := Render(cat)
	for _, typ := range []string{"`crypto.hash`", "`switch`", "`trigger.http`", "`sortBy("} {
		if !bytes.Contains(doc, []byte(typ)) {
			t.Errorf("the reference does not describe %s", typ)
		}
	}
}
