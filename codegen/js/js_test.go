package js_test

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/egress"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
	"github.com/flowline/flowline/internal/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func cases(t *testing.T) []conformance.Case {
	t.Helper()
	cs, err := conformance.All()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestGolden generates every case's flow and compares it with testdata;
// every golden file must also parse as JavaScript.
func TestGolden(t *testing.T) {
	reg := nodes.Registry()
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if missing := c.Missing(reg); len(missing) > 0 {
				t.Skipf("node types not built yet: %v", missing)
			}
			d, err := flow.Parse(c.Flow)
			if err != nil {
				t.Fatal(err)
			}
			files, err := js.Generate(d, reg, 1)
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range files {
				path := filepath.Join("testdata", c.Name, name)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./codegen/js -update)", err)
				}
				if string(got) != string(want) {
					t.Errorf("%s differs from the golden file; run go test ./codegen/js -update and review the diff", path)
				}
				if name == js.BundleFile {
					if _, err := goja.Compile(name, string(want), true); err != nil {
						t.Errorf("golden %s does not parse: %v", path, err)
					}
				}
			}
			again, _ := js.Generate(d, reg, 1)
			if string(again[js.BundleFile]) != string(files[js.BundleFile]) {
				t.Error("generation is not deterministic")
			}
		})
	}
}

// TestConformanceDirect serves each case's bundle directly from the runtime
// host, with no gateway in front.
func TestConformanceDirect(t *testing.T) {
	reg := nodes.Registry()
	for _, c := range cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			if missing := c.Missing(reg); len(missing) > 0 {
				t.Skipf("node types not built yet: %v", missing)
			}
			if len(c.SetupSQL) > 0 {
				t.Skip("needs a database; run by the server's conformance tests")
			}
			stub := conformance.NewStub()
			defer stub.Close()
			d, err := flow.Parse(c.Flow)
			if err != nil {
				t.Fatal(err)
			}
			files, err := js.Generate(d, reg, 1)
			if err != nil {
				t.Fatal(err)
			}
			env := c.EnvWith(stub.URL)
			allow, err := egress.Parse(c.EgressWith(stub.URL))
			if err != nil {
				t.Fatal(err)
			}
			f, err := jshost.Load(files, engine.Options{Env: env, Egress: allow}, nodes.Bindings())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			srv := httptest.NewServer(f)
			defer srv.Close()
			for i, ex := range c.Requests {
				got, err := conformance.Send(srv.URL, ex.Request)
				if err != nil {
					t.Fatal(err)
				}
				// Logs are checked through the test run and the deployment's log API.
				ex.Expect.Logs = nil
				if diffs := conformance.Check(ex.Expect, got, nil); len(diffs) > 0 {
					t.Errorf("request %d (%s %s):\n  %s", i, ex.Request.Method, ex.Request.Path, strings.Join(diffs, "\n  "))
				}
			}
		})
	}
}
