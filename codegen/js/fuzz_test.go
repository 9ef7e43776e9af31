package js_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/jshost"
	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
)

// hostile are strings that try to break out of the literal, comment or
// function they are written in.
var hostile = []string{
	`"); $.respond(200, null, "pwned"); ("`,
	"`); $.respond(200, null, 'pwned'); (`",
	`*/ $.respond(200, null, "pwned"); /*`,
	"line\nbreak // comment",
	"\u2028\u2029 separators",
	"nul \x00 byte",
	`\"; throw 1; //`,
	`'; $.fail(null, false); '`,
	"${$.respond(200, null, 1)}",
	"</script><!--",
	`\u0022 \x22 \\`,
	"}); $.respond(200, null, 'pwned'); (function() {",
	"})\n$.respond(200, null, 'pwned');\n(function() {",
	"return 1; } function handle() { $.respond(200, null, 'pwned'); } function x() {",
	"日本語 and emoji 🎉",
	"tab\tand\rreturn",
	"$1 $2 '; drop table t; --",
	"",
}

// place is one config field of one node type where a user string goes,
// written into a valid config by put in the form the field's kind needs.
type place struct {
	typ, field string
	kind       flow.FieldKind
	put        func(cfg map[string]any, s string)
}

// baseConfigs are valid configs of every node type but the trigger: its
// examples merged, with one entry in every list field.
func baseConfigs() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, s := range nodes.Registry().Specs() {
		if s.Type == flow.TriggerType {
			continue
		}
		cfg := map[string]any{}
		for _, ex := range s.Examples {
			_ = json.Unmarshal(ex.Config, &cfg)
		}
		for _, f := range s.Fields {
			if list, _ := cfg[f.Name].([]any); f.Kind == flow.KindList && len(list) == 0 {
				item := map[string]any{}
				for _, it := range f.Item {
					item[it.Name] = it.Placeholder
				}
				cfg[f.Name] = []any{item}
			}
		}
		out[s.Type] = cfg
	}
	return out
}

func q(s string) string { return strconv.Quote(s) } // an expr string literal

func sqlLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// places lists every config field of every node type, in the forms a user
// string can take there: derived from the specs, so a new node type is
// fuzzed without a line here.
func places() []place {
	var out []place
	for _, s := range nodes.Registry().Specs() {
		if s.Type == flow.TriggerType {
			continue // its path and method are checked strictly; see flow's fuzz tests
		}
		for _, f := range s.Fields {
			if f.Kind != flow.KindList {
				for _, form := range forms(f) {
					out = append(out, place{s.Type, f.Name + form.name, f.Kind, func(cfg map[string]any, v string) { cfg[f.Name] = form.put(v) }})
				}
				continue
			}
			for _, it := range f.Item {
				for _, form := range forms(it) {
					out = append(out, place{s.Type, f.Name + "[]." + it.Name + form.name, it.Kind, func(cfg map[string]any, v string) {
						cfg[f.Name].([]any)[0].(map[string]any)[it.Name] = form.put(v)
					}})
				}
			}
		}
	}
	return out
}

// form is one way a user string is written into a field.
type form struct {
	name string
	put  func(s string) any
}

// forms are the ways a user string goes into a field of f's kind: as it
// is, and inside the literal, comment or statement the kind is written in.
func forms(f flow.Field) []form {
	raw := form{"", func(s string) any { return s }}
	switch f.Kind {
	case flow.KindString, flow.KindEnum:
		return []form{raw}
	case flow.KindExpr:
		return []form{
			{"", func(s string) any { return q(s) }},
			{" compared", func(s string) any { return q(s) + ` != ""` }},
			{" raw", raw.put},
		}
	case flow.KindIntOrExpr:
		return []form{{"", func(s string) any { return "200 + len(" + q(s) + ") % 100" }}}
	case flow.KindExprList:
		return []form{{"[]", func(s string) any { return []any{q(s)} }}}
	case flow.KindSchema:
		return []form{raw, {" object", func(s string) any {
			return map[string]any{"type": "object", "description": s, "properties": map[string]any{s: map[string]any{"const": s}}, "required": []any{s}}
		}}}
	case flow.KindCode:
		if f.Language == "sql" {
			return []form{{"", func(s string) any { return "select $1, " + sqlLiteral(s) }}, {" raw", raw.put}}
		}
		return []form{
			{"", func(s string) any { b, _ := json.Marshal(s); return "return " + string(b) + ";" }},
			{" comment", func(s string) any { return "// " + strings.ReplaceAll(s, "\n", " ") + "\nreturn 1;" }},
			{" raw", raw.put},
		}
	}
	return nil // numbers take no text
}

// document puts a node of typ with cfg between a trigger and a response.
func document(typ string, cfg map[string]any) *flow.Document {
	b, _ := json.Marshal(cfg)
	d := &flow.Document{Version: 1, Name: "fuzz", Nodes: []flow.Node{
		{ID: "start", Type: flow.TriggerType, Config: json.RawMessage(`{"method": "POST", "path": "/fuzz"}`)},
		{ID: "node", Type: typ, Config: b},
	}, Edges: []flow.Edge{{From: "start", To: "node"}}}
	if typ != flow.ResponseType {
		d.Nodes = append(d.Nodes, flow.Node{ID: "done", Type: flow.ResponseType, Config: json.RawMessage(`{"body": "nodes.node"}`)})
		for _, p := range nodes.Registry().Ports(&d.Nodes[1]) {
			e := flow.Edge{From: "node", To: "done"}
			if p != flow.PortOut {
				e.Port = p
			}
			d.Edges = append(d.Edges, e)
		}
	}
	return d
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// FuzzGenerateHostile writes a user string into every config field of
// every node type and generates the bundle. Whenever the flow is valid,
// the bundle must parse, load in the host, and have exactly the shape of
// the bundle of the same flow with a plain string: outside string literals
// not one character differs, so no user string changes the code around it.
// The seed corpus runs with go test.
func FuzzGenerateHostile(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	reg := nodes.Registry()
	all := places()
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("flow documents are JSON: their strings are valid UTF-8")
		}
		for _, p := range all {
			hostileCfg, plainCfg := deepCopy(baseConfigs()[p.typ]), deepCopy(baseConfigs()[p.typ])
			p.put(hostileCfg, s)
			p.put(plainCfg, "plain")
			hd, pd := document(p.typ, hostileCfg), document(p.typ, plainCfg)
			if len(flow.Errors(flow.Validate(hd, reg))) > 0 || len(flow.Errors(flow.Validate(pd, reg))) > 0 {
				continue
			}
			checkTwins(t, reg, p.typ+"."+p.field, hd, pd, s)
		}
	})
}

func checkTwins(t *testing.T, reg *flow.Registry, where string, hd, pd *flow.Document, s string) {
	t.Helper()
	hf, err := js.Generate(hd, reg, 1)
	if err != nil {
		t.Fatalf("%s: generate: %v", where, err)
	}
	pf, err := js.Generate(pd, reg, 1)
	if err != nil {
		t.Fatalf("%s: generate the plain twin: %v", where, err)
	}
	src, twin := string(hf[js.BundleFile]), string(pf[js.BundleFile])
	prg, err := parser.ParseFile(nil, "bundle.js", src, 0)
	if err != nil {
		t.Fatalf("%s: bundle does not parse: %v\n%s", where, err, src)
	}
	if _, err := goja.Compile("bundle.js", src, true); err != nil {
		t.Fatalf("%s: bundle does not compile: %v\n%s", where, err, src)
	}
	if a, b := stripStrings(src), stripStrings(twin); a != b {
		t.Fatalf("%s: the user string changed the code outside string literals:\n%s\n--- plain twin:\n%s", where, src, twin)
	}
	tp, err := parser.ParseFile(nil, "bundle.js", twin, 0)
	if err != nil {
		t.Fatalf("%s: twin does not parse: %v", where, err)
	}
	if a, b := shape(reflect.ValueOf(prg.Body)), shape(reflect.ValueOf(tp.Body)); !slices.Equal(a, b) {
		t.Fatalf("%s: the user string changed the program's shape:\n%s\n--- plain twin:\n%s", where, src, twin)
	}
	// The bundle loads: the host compiles its expressions, code.js
	// sources and schemas.
	fl, err := jshost.Load(hf, engine.Options{}, nodes.Bindings())
	if err != nil {
		t.Fatalf("%s: bundle does not load: %v\n%s", where, err, src)
	}
	fl.Close()
}

// stripStrings blanks every string literal of generated code, which writes
// only double-quoted JSON strings. A string that broke out of its literal
// would shift what is blanked, and the twins would differ.
func stripStrings(src string) string {
	var b strings.Builder
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '"' {
			b.WriteByte(c)
			continue
		}
		b.WriteString(`""`)
		for i++; i < len(src) && src[i] != '"'; i++ {
			if src[i] == '\\' {
				i++
			}
		}
	}
	return b.String()
}

// shape lists the AST's node types in order, with string literals blanked
// and everything else (identifiers, numbers, operators) kept.
func shape(v reflect.Value) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if v.IsNil() {
				return
			}
			if l, ok := v.Interface().(*ast.StringLiteral); ok {
				_ = l
				out = append(out, "string")
				return
			}
			walk(v.Elem())
		case reflect.Struct:
			out = append(out, v.Type().Name())
			for i := 0; i < v.NumField(); i++ {
				fv := v.Field(i)
				if !v.Type().Field(i).IsExported() {
					continue
				}
				switch fv.Kind() {
				case reflect.String:
					if v.Type().Field(i).Name != "Source" {
						out = append(out, fv.String())
					}
				case reflect.Int, reflect.Int64:
					if !strings.HasSuffix(fv.Type().Name(), "Idx") {
						out = append(out, fmt.Sprint(fv.Int()))
					}
				default:
					walk(fv)
				}
			}
		case reflect.Slice:
			out = append(out, "[")
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
			out = append(out, "]")
		}
	}
	walk(v)
	return out
}

// TestHostileEverywhere: the seeds reach every field at least once with a
// valid flow, in one of its forms, so the fuzz target checks what it
// claims to.
func TestHostileEverywhere(t *testing.T) {
	reg := nodes.Registry()
	valid := map[string]int{}
	for _, p := range places() {
		field, _, _ := strings.Cut(p.typ+"."+p.field, " ")
		valid[field] += 0
		for _, s := range hostile {
			cfg := deepCopy(baseConfigs()[p.typ])
			p.put(cfg, s)
			if len(flow.Errors(flow.Validate(document(p.typ, cfg), reg))) == 0 {
				valid[field]++
			}
		}
		// Fields of restricted shape (enums, identifiers, header names,
		// ports, JSON Schemas) refuse hostile strings: that the validator
		// does is the protection there.
		if p.kind == flow.KindEnum || p.kind == flow.KindSchema || p.kind == flow.KindString {
			valid[field]++
		}
	}
	for field, n := range valid {
		if n == 0 {
			t.Errorf("%s: no hostile seed gives a valid flow", field)
		}
	}
	for typ := range baseConfigs() {
		if _, ok := reg.Lookup(typ); !ok {
			t.Errorf("%s is not registered", typ)
		}
	}
	for _, s := range reg.Specs() {
		if _, ok := baseConfigs()[s.Type]; !ok && s.Type != flow.TriggerType {
			t.Errorf("node type %s has no place in the fuzz target", s.Type)
		}
	}
}
