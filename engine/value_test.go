package engine_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
)

// stdJSON is what MarshalJSON must match: encoding/json without HTML
// escaping and without the trailing newline.
func stdJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}

func checkJSON(t *testing.T, v any) {
	t.Helper()
	want, werr := stdJSON(v)
	got, gerr := engine.MarshalJSON(v)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%#v: error %v, encoding/json says %v", v, gerr, werr)
	}
	if werr == nil && string(got) != want {
		t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
	}
}

func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	self := map[string]any{}
	self["self"] = self
	for _, v := range []any{
		nil, true, false, "", "plain", "<a href=\"x\">&amp;</a>", "tab\tnl\ncr\r\b\f\x00\x1f\x7f",
		"\u2028\u2029", "\xff\xfe invalid", "日本 🎉", `back\slash`,
		0.0, math.Copysign(0, -1), 1.0, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, math.MaxFloat64,
		math.NaN(), math.Inf(1), math.Inf(-1),
		int64(0), int64(-7), int64(math.MaxInt64), 7, int8(3), uint64(math.MaxUint64), float32(1.1),
		map[string]any{}, map[string]any(nil), []any{}, []any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", nil, map[string]any{"z": int64(1), "\u2028": "y"}}, "\xff": true},
		[]any{math.NaN()}, map[string]any{"t": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		[]string{"typed"}, map[string]int{"b": 2, "a": 1}, json.Number("12.5"),
		self,
	} {
		checkJSON(t, v)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		checkJSON(t, randomValue(rng, 4))
	}
}

func randomValue(r *rand.Rand, depth int) any {
	switch n := r.IntN(9); {
	case n == 0:
		return nil
	case n == 1:
		return r.IntN(2) == 0
	case n == 2:
		return math.Float64frombits(r.Uint64())
	case n == 3:
		return float64(r.IntN(2000)-1000) / 8
	case n == 4:
		return r.Int64() >> r.IntN(64)
	case n == 5 || depth == 0:
		return randomString(r)
	case n == 6:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomString(r)] = randomValue(r, depth-1)
		}
		return m
	default:
		l := make([]any, r.IntN(5))
		for i := range l {
			l[i] = randomValue(r, depth-1)
		}
		return l
	}
}

func randomString(r *rand.Rand) string {
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

// FuzzMarshalJSON checks strings and numbers against encoding/json.
func FuzzMarshalJSON(f *testing.F) {
	f.Add("\u2028<>&\"\\\x00\xff", 1.5, int64(3))
	f.Add("", 1e21, int64(-1))
	f.Fuzz(func(t *testing.T, s string, x float64, n int64) {
		checkJSON(t, map[string]any{s: []any{s, x, n}, "k": s})
	})
}

// TestNodeOutputsNormalized: a node's output is kept as the JS host keeps
// it, whole numbers as integers, whatever the target.
func TestNodeOutputsNormalized(t *testing.T) {
	var got []any
	p := engine.ProgramFunc(func(x *engine.Exec) {
		x.Trigger("start")
		for _, v := range []any{3.0, 2.5, int32(7), map[string]any(nil), "s"} {
			x.Begin("n")
			x.End(v, "out")
			got = append(got, x.Nodes()["n"])
		}
		x.Begin("done")
		x.Respond(200, nil, nil)
	})
	m := engine.Manifest{Flow: "n", Version: 1, Target: "go", Method: "GET", Path: "/n"}
	f, err := engine.New(m, p, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://h/n", nil)
	f.Serve(req, false)
	want := []any{int64(3), 2.5, int64(7), nil, "s"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs %#v, want %#v", got, want)
	}
}
