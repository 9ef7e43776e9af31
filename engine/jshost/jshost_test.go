package jshost_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow/nodes"
)

// goldenBundle reads the files of a golden bundle of the JS target.
func goldenBundle(t testing.TB, name string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, file := range []string{contract.ManifestFile, contract.JSBundleFile} {
		b, err := os.ReadFile(filepath.Join("..", "..", "codegen", "js", "testdata", name, file))
		if err != nil {
			t.Fatal(err)
		}
		files[file] = b
	}
	return files
}

// BenchmarkServeJSTransform is workload W2 through the JS host, from the
// JS target's golden bundle.
func BenchmarkServeJSTransform(b *testing.B) {
	f, err := jshost.Load(goldenBundle(b, "transform"), engine.Options{Logger: slog.New(slog.DiscardHandler), LogLevel: "warn"}, nodes.Bindings())
	if err != nil {
		b.Fatal(err)
	}
	const orderBody = `{"customer": "c1", "items": [{"sku": "a", "qty": 2, "price": 12.5}, {"sku": "b", "qty": 1, "price": 5}, {"sku": "c", "qty": 10, "price": 9}]}`
	enginetest.BenchFlow(b, f, "POST", "http://h/orders", orderBody)
}
