package flow

import (
	"encoding/json"
	"sort"
)

// Type is what is known of a value before the flow runs: from node configs,
// validate schemas and the last test run. The validator checks expressions
// against it and the designer completes them from it.
type Type struct {
	Kind TypeKind `json:"kind"`
	// Fields are the known keys of a map.
	Fields map[string]*Type `json:"fields,omitempty"`
	// Open maps may hold keys besides Fields (headers, query): a missing
	// one is no mistake.
	Open bool `json:"open,omitempty"`
	// Elem is the type of a list's items.
	Elem *Type `json:"elem,omitempty"`
	// From says where a map's keys are known from, for messages: the node's
	// config, a schema, or only the last test run (TypeFromSample).
	From string `json:"from,omitempty"`
}

// TypeKind is the kind of a Type.
type TypeKind string

// The kinds of values expressions see (JSON's, as FLOW-FORMAT.md has them).
const (
	TypeAny    TypeKind = "any"
	TypeNil    TypeKind = "nil"
	TypeBool   TypeKind = "bool"
	TypeNumber TypeKind = "number"
	TypeString TypeKind = "string"
	TypeMap    TypeKind = "map"
	TypeList   TypeKind = "list"
)

// TypeFromSample marks a map whose keys come from one observed value.
const TypeFromSample = "sample"

// Shorthands for the common types.
var (
	AnyType    = &Type{Kind: TypeAny}
	NilType    = &Type{Kind: TypeNil}
	BoolType   = &Type{Kind: TypeBool}
	NumberType = &Type{Kind: TypeNumber}
	StringType = &Type{Kind: TypeString}
)

// MapOf is a closed map of the given fields.
func MapOf(fields map[string]*Type) *Type { return &Type{Kind: TypeMap, Fields: fields} }

// OpenMapOf is a map of the given fields that may hold others.
func OpenMapOf(fields map[string]*Type) *Type {
	return &Type{Kind: TypeMap, Fields: fields, Open: true}
}

// ListOf is a list of elem.
func ListOf(elem *Type) *Type { return &Type{Kind: TypeList, Elem: elem} }

// known reports whether t says something (not any).
func (t *Type) known() bool { return t != nil && t.Kind != TypeAny }

func (t *Type) is(k TypeKind) bool { return t != nil && t.Kind == k }

// fieldNames are t's known keys, sorted.
func (t *Type) fieldNames() []string {
	names := make([]string, 0, len(t.Fields))
	for k := range t.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// TypeOf is the type of a value seen in a test run. Its maps are closed
// but marked as samples: another run may carry other keys.
func TypeOf(v any) *Type {
	switch v := v.(type) {
	case nil:
		return NilType
	case bool:
		return BoolType
	case float64, float32, int, int64, int32, json.Number:
		return NumberType
	case string:
		return StringType
	case []any:
		if len(v) == 0 {
			return ListOf(AnyType)
		}
		return ListOf(TypeOf(v[0]))
	case map[string]any:
		f := make(map[string]*Type, len(v))
		for k, x := range v {
			f[k] = TypeOf(x)
		}
		return &Type{Kind: TypeMap, Fields: f, From: TypeFromSample}
	}
	return AnyType
}

// SchemaType is the type of the values a JSON Schema accepts, as far as
// it says: an object's properties are its fields; it is open only when the
// schema says additionalProperties.
func SchemaType(schema map[string]any) *Type {
	if schema == nil {
		return AnyType
	}
	typ, _ := schema["type"].(string)
	props, hasProps := schema["properties"].(map[string]any)
	switch {
	case typ == "object" || (typ == "" && hasProps):
		f := make(map[string]*Type, len(props))
		for k, p := range props {
			ps, _ := p.(map[string]any)
			f[k] = SchemaType(ps)
		}
		t := &Type{Kind: TypeMap, Fields: f, From: "schema"}
		if ap, ok := schema["additionalProperties"]; (ok && ap != false) || !hasProps {
			t.Open = true
		}
		return t
	case typ == "array":
		items, _ := schema["items"].(map[string]any)
		return ListOf(SchemaType(items))
	case typ == "string":
		return StringType
	case typ == "number" || typ == "integer":
		return NumberType
	case typ == "boolean":
		return BoolType
	case typ == "null":
		return NilType
	}
	return AnyType
}

// Union is a type for a value that is a or b.
func Union(a, b *Type) *Type {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.Kind != b.Kind:
		return AnyType
	case a.Kind == TypeMap:
		f := make(map[string]*Type, len(a.Fields)+len(b.Fields))
		for k, t := range a.Fields {
			f[k] = t
		}
		for k, t := range b.Fields {
			f[k] = Union(f[k], t)
		}
		from := a.From
		if b.From == TypeFromSample {
			from = b.From
		}
		return &Type{Kind: TypeMap, Fields: f, Open: a.Open || b.Open, From: from}
	case a.Kind == TypeList:
		return ListOf(Union(a.Elem, b.Elem))
	}
	return a
}

// String names t in messages.
func (t *Type) String() string {
	if t == nil {
		return string(TypeAny)
	}
	return string(t.Kind)
}

// closest is the name among names nearest to s, if one is near enough to
// be the one meant.
func closest(s string, names []string) string {
	best, bestD := "", len(s)/2+2
	for _, n := range names {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, case-insensitive
// for ASCII.
func editDistance(a, b string) int {
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if lower(a[i-1]) == lower(b[j-1]) {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
