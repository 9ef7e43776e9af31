package engine_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/flowline/flowline/engine"
)

// sameJSON compares decoded values exactly: negative zero included.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case float64:
		bf, ok := b.(float64)
		return ok && a == bf && math.Signbit(a) == math.Signbit(bf)
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) || (a == nil) != (bm == nil) {
			return false
		}
		for k, v := range a {
			w, ok := bm[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) || (a == nil) != (bl == nil) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], bl[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// checkDecode compares DecodeJSON with encoding/json's Decoder, whose
// values and errors it must give.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	var want any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	werr := dec.Decode(&want)
	if werr == nil {
		if _, err := dec.Token(); err == nil || err.Error() != "EOF" {
			werr = err
			if werr == nil {
				werr = json.Unmarshal([]byte("x"), &want) // any error: more data
			}
		}
	}
	got, gerr := engine.DecodeJSON(data)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: error %v, encoding/json says %v", data, gerr, werr)
	}
	if werr == nil && !sameJSON(got, want) {
		t.Fatalf("%q: got %#v, want %#v", data, got, want)
	}
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-0.0`, `1`, `-1`, `1.5`, `1e3`, `1E+3`, `1e-400`, `1e400`, `123456789012345`,
		`1234567890123456`, `12345678901234567890`, `9007199254740993`, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `0x10`,
		`true`, `false`, `null`, `tru`, `nul`, `nullx`, `"a\"b"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"é"`, "\"\xff\"",
		"\"a\x01\"", `"\/"`, `"\x"`, `{"a":1,"a":2}`, `{"a" : [1, {"b": null}] , "c":"d"}`, `{"a":1,}`, `[1,]`,
		`[1 2]`, `{"a" 1}`, `{1:2}`, ` {"a":1} `, `{"a":1} x`, `{"a":1}{}`, "\t[\n1\r]\n", ``, ` `,
		`{"customer": "c1", "items": [{"sku": "a", "qty": 2, "price": 12.5}]}`,
		`{"` + strings.Repeat("k", 40) + `": 1}`, `{"k\u0041": 2}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 100) + strings.Repeat("]", 100),
	} {
		checkDecode(t, []byte(s))
	}
}

// FuzzDecodeJSON checks DecodeJSON against encoding/json on any input.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,-0,"x\u00e9",true,null]}`, `"\ud83d\ude00"`, `[1e999]`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}
