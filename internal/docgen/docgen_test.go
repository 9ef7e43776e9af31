package docgen

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
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

// TestFlowFormatCopy: docs/flow-format.md is the contract as the shared
// folder beside the checkout has it, so that a clone carries it; the test
// is skipped where that folder is absent.
func TestFlowFormatCopy(t *testing.T) {
	shared, err := conformance.SharedDir()
	if err != nil {
		t.Skipf("no shared folder: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(shared, "..", "FLOW-FORMAT.md"))
	if err != nil {
		t.Skipf("no FLOW-FORMAT.md beside the conformance cases: %v", err)
	}
	if *update {
		if err := os.WriteFile("../../docs/flow-format.md", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("../../docs/flow-format.md")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("docs/flow-format.md differs from the shared FLOW-FORMAT.md (go test ./internal/docgen -update copies it): %v", err)
	}
}
