package golang_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/flowgen"
)

// goTypes are the registered node types with a Go emitter.
func goTypes(r *flow.Registry) []string {
	var types []string
	for _, s := range r.Specs() {
		t, _ := r.Lookup(s.Type)
		if _, ok := t.(golang.Emitter); ok && s.Type != flow.TriggerType {
			types = append(types, s.Type)
		}
	}
	return types
}

// FuzzGenerate generates Go for random flows full of hostile strings: the
// code must parse and be gofmt-clean, and have exactly the shape of the
// code generated for the same flow with plain strings, so no user string
// changes the code around it. The seed corpus runs with go test.
func FuzzGenerate(f *testing.F) {
	for i, h := range flowgen.Hostile {
		f.Add(uint64(i), h)
	}
	f.Add(uint64(1000), "\"\n}\nfunc init() { os.Exit(3) }\nvar _ = \"")
	f.Add(uint64(1001), "*/\n/*")
	reg := nodes.Registry()
	types := goTypes(reg)
	f.Fuzz(func(t *testing.T, seed uint64, extra string) {
		if !utf8.ValidString(extra) {
			t.Skip("flow documents are JSON: their strings are valid UTF-8")
		}
		pool := append(slices.Clone(flowgen.Hostile), extra)
		fl, err := flowgen.New(reg, seed, flowgen.Options{Pool: pool, Types: types})
		if err != nil {
			t.Skip(err)
		}
		checkHostile(t, reg, fl)
	})
}

func checkHostile(t *testing.T, reg *flow.Registry, fl *flowgen.Flow) {
	t.Helper()
	src := generateGo(t, reg, fl.Doc)
	twin := generateGo(t, reg, fl.Twin)
	if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
		t.Fatalf("generated code is not gofmt-clean (%v):\n%s", err, src)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", src, parser.ParseComments)
	if err != nil {
		t.Fatalf("generated code does not parse: %v\n%s", err, src)
	}
	twinFile, err := parser.ParseFile(token.NewFileSet(), "main.go", twin, parser.ParseComments)
	if err != nil {
		t.Fatalf("twin does not parse: %v\n%s", err, twin)
	}
	if a, b := shape(file), shape(twinFile); !reflect.DeepEqual(a, b) {
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		t.Fatalf("user strings changed the code's shape at element %d:\n%s\n--- twin:\n%s", i, src, twin)
	}
	if a, b := comments(file), comments(twinFile); !slices.Equal(a, b) {
		t.Fatalf("user strings changed the comments:\n%q\n%q", a, b)
	}
	lits := literals(file)
	for _, s := range fl.Texts {
		if !containsText(lits, s) {
			t.Errorf("user string %q is not inside a string literal of:\n%s", s, src)
		}
	}
}

func generateGo(t *testing.T, reg *flow.Registry, d *flow.Document) []byte {
	t.Helper()
	// Through JSON, as the server stores and reads documents.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	d, err = flow.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	files, err := golang.Generate(d, reg, 7)
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, b)
	}
	return files[golang.MainFile]
}

// shape lists the file's syntax nodes in order with identifiers and string
// literals blanked: what is code, not data.
func shape(f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case nil:
			out = append(out, ")")
			return false
		case *ast.Ident:
			out = append(out, "ident")
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				out = append(out, "string")
			} else {
				out = append(out, n.Kind.String()+":"+n.Value)
			}
		case *ast.Comment, *ast.CommentGroup:
			return false
		default:
			out = append(out, fmt.Sprintf("%T", n))
		}
		return true
	})
	return out
}

func comments(f *ast.File) []string {
	var out []string
	for _, g := range f.Comments {
		for _, c := range g.List {
			out = append(out, c.Text)
		}
	}
	return out
}

func literals(f *ast.File) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING {
			s, err := strconv.Unquote(l.Value)
			if err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// containsText reports whether a literal holds s, as it is or in the
// escaped form of an expr or JSON string literal.
func containsText(lits []string, s string) bool {
	j, _ := json.Marshal(s)
	forms := []string{s, strconv.Quote(s), string(j)}
	for _, l := range lits {
		for _, f := range forms {
			if strings.Contains(l, f) {
				return true
			}
		}
	}
	return false
}

// TestRandomFlowsBuilt builds a handful of random hostile flows and serves
// requests through each binary and through the JS bundle of the same flow,
// in the JS host: the answers must be the same.
func TestRandomFlowsBuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries; skipped with -short")
	}
	reg := nodes.Registry()
	b := testBuilder(t)
	type built struct {
		name string
		doc  *flow.Document
	}
	var flows []built
	mains := map[string][]byte{}
	for seed := uint64(1); len(flows) < 6 && seed < 50; seed++ {
		fl, err := flowgen.New(reg, seed, flowgen.Options{Types: goTypes(reg)})
		if err != nil {
			continue
		}
		checkHostile(t, reg, fl)
		name := fmt.Sprintf("seed%d", seed)
		mains[name] = generateGo(t, reg, fl.Doc)
		flows = append(flows, built{name, fl.Doc})
	}
	bin := filepath.Join(t.TempDir(), "bin")
	var log bytes.Buffer
	if err := b.BuildAll(context.Background(), mains, bin, &log); err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			inst := startInstance(t, filepath.Join(bin, f.name), nil, nil)
			jsFiles, err := js.Generate(f.doc, reg, 7)
			if err != nil {
				t.Fatal(err)
			}
			jsFlow, err := jshost.Load(jsFiles, engine.Options{}, nodes.Bindings())
			if err != nil {
				t.Fatal(err)
			}
			defer jsFlow.Close()
			jsSrv := httptest.NewServer(jsFlow)
			defer jsSrv.Close()
			for _, target := range []string{"/fuzz/a%20b?q=x", "/fuzz/%22%29%3B?q=%60"} {
				goAns := send(t, inst.url+target, `{"flag": true, "items": [1, 2]}`)
				jsAns := send(t, jsSrv.URL+target, `{"flag": true, "items": [1, 2]}`)
				if goAns != jsAns {
					t.Errorf("POST %s: the Go and JS bundles answer differently:\n  go: %s\n  js: %s", target, goAns, jsAns)
				}
			}
		})
	}
}

// send posts body to url and renders the answer without its trace id.
func send(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	tr := resp.Header.Get("X-Trace-Id")
	if len(tr) != 32 {
		t.Errorf("X-Trace-Id %q", tr)
	}
	return fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), strings.ReplaceAll(string(b), tr, "<trace>"))
}
