package docgen

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/flowline/flowline/flow/nodes"
)

var update = flag.Bool("update", false, "rewrite docs/nodes.md")

const committed = "../../docs/nodes.md"

// TestNodesDocCurrent fails when docs/nodes.md is not what the registry
// renders, so a node type's reference changes with the node type.
func TestNodesDocCurrent(t *testing.T) {
	got := Render(nodes.Registry().Catalog())
	if *update {
		if err := os.WriteFile(committed, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v (go test ./internal/docgen -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/nodes.md is stale: run go test ./internal/docgen -update")
	}
	for _, typ := range []string{"`crypto.hash`", "`switch`", "`trigger.http`"} {
		if !bytes.Contains(got, []byte(typ)) {
			t.Errorf("the reference does not describe %s", typ)
		}
	}
}
