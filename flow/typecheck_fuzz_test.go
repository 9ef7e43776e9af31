package flow

import "testing"

// FuzzTypeCheck: typing any expression never panics, and its issues lie
// inside the source.
func FuzzTypeCheck(f *testing.F) {
	for _, s := range []string{
		"nodes.set_1.totl > 100", "sum(request.body.items, .qty * .price)", `{"a": nodes.x?.y, "b": [1, "x"][0]}`,
		"let x = nodes.set_1; x.total + 1", "request.params.id ?? 'none'", "map(nodes.q, {#.a}) | len()",
		"nodes.set_1.total.x.y", "-nodes.set_1.shop", "nodes['set_1'].total", "1..3", "true ? nil : 1",
		"reduce(nodes.q, #acc + #, 0)", "filter(nodes.q, .a > 1)[0].a", "upper(nodes.set_1.total)",
	} {
		f.Add(s)
	}
	typer := &exprTyper{roots: map[string]*Type{
		"request": MapOf(map[string]*Type{"params": MapOf(map[string]*Type{"id": StringType}), "body": AnyType}),
		"nodes": MapOf(map[string]*Type{
			"set_1": MapOf(map[string]*Type{"total": NumberType, "shop": StringType}),
			"q":     ListOf(TypeOf(map[string]any{"a": 1.0})),
		}),
		"env":   OpenMapOf(nil),
		"trace": MapOf(map[string]*Type{"id": StringType}),
	}}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > MaxExprLength {
			return
		}
		typ, issues := typer.typeOf(src)
		if typ == nil {
			t.Fatalf("%q: nil type", src)
		}
		n := len([]rune(src))
		for _, is := range issues {
			if is.from < 0 || is.to > n || is.from > is.to || is.msg == "" {
				t.Fatalf("%q: issue %+v outside the source (%d runes)", src, is, n)
			}
		}
	})
}
