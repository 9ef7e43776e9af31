package flowline

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"testing"
)

// TestSourceCoversRuntime checks that Source holds every package of this
// module that generated code imports, directly or not: a Go bundle is built
// against Source alone.
func TestSourceCoversRuntime(t *testing.T) {
	const module = "github.com/flowline/flowline"
	for _, name := range []string{"go.mod", "go.sum"} {
		if _, err := fs.Stat(Source, name); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	queue := []string{"engine", "flow/nodes"} // what generated code imports
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen[dir] {
			continue
		}
		seen[dir] = true
		entries, err := fs.ReadDir(Source, dir)
		if err != nil {
			t.Errorf("package %s is imported by generated code but not embedded in Source: %v", dir, err)
			continue
		}
		files := 0
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			files++
			src, err := fs.ReadFile(Source, path.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), e.Name(), src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if rest, ok := strings.CutPrefix(p, module+"/"); ok {
					queue = append(queue, rest)
				} else if p == module {
					t.Errorf("%s/%s imports the module root", dir, e.Name())
				}
			}
		}
		if files == 0 {
			t.Errorf("package %s has no Go files in Source", dir)
		}
	}
}
