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

// Where a type is known from, when not from the flow itself: a test run's
// value, or a validate schema (which holds only where the value passed it).
// Problems found with such types are warnings, never errors.
const (
	TypeFromSample = "sample"
	TypeFromSchema = "schema"
)

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

// TypeOf is the type of a value seen in a test run, marked as a sample:
// another run may carry other keys and values.
func TypeOf(v any) *Type {
	t := &Type{Kind: TypeAny, From: TypeFromSample}
	switch v := v.(type) {
	case nil:
		t.Kind = TypeNil
	case bool:
		t.Kind = TypeBool
	case float64, float32, int, int64, int32, json.Number:
		t.Kind = TypeNumber
	case string:
		t.Kind = TypeString
	case []any:
		t.Kind, t.Elem = TypeList, AnyType
		if len(v) > 0 {
			t.Elem = TypeOf(v[0])
		}
	case map[string]any:
		t.Kind, t.Fields = TypeMap, make(map[string]*Type, len(v))
		for k, x := range v {
			t.Fields[k] = TypeOf(x)
		}
	}
	return t
}

// SchemaType is the type of the values a JSON Schema accepts, as far as
// it says: an object's properties are its fields; it is open only when the
// schema says additionalProperties.
func SchemaType(schema map[string]any) *Type {
	if schema == nil {
		return AnyType
	}
	t := &Type{Kind: TypeAny, From: TypeFromSchema}
	typ, _ := schema["type"].(string)
	props, hasProps := schema["properties"].(map[string]any)
	switch {
	case typ == "object" || (typ == "" && hasProps):
		t.Kind, t.Fields = TypeMap, make(map[string]*Type, len(props))
		for k, p := range props {
			ps, _ := p.(map[string]any)
			t.Fields[k] = SchemaType(ps)
		}
		if ap, ok := schema["additionalProperties"]; (ok && ap != false) || !hasProps {
			t.Open = true
		}
	case typ == "array":
		items, _ := schema["items"].(map[string]any)
		t.Kind, t.Elem = TypeList, SchemaType(items)
	case typ == "string":
		t.Kind = TypeString
	case typ == "number" || typ == "integer":
		t.Kind = TypeNumber
	case typ == "boolean":
		t.Kind = TypeBool
	case typ == "null":
		t.Kind = TypeNil
	}
	return t
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
		return &Type{Kind: TypeMap, Fields: f, Open: a.Open || b.Open, From: guessed(a, b)}
	case a.Kind == TypeList:
		return &Type{Kind: TypeList, Elem: Union(a.Elem, b.Elem), From: guessed(a, b)}
	}
	return &Type{Kind: a.Kind, From: guessed(a, b)}
}

// guessed is the From of a union: a guess when either side is one.
func guessed(a, b *Type) string {
	if a.From != "" {
		return a.From
	}
	return b.From
}

// certain reports whether problems found with ts are sure: none is known
// only from a test run or a schema.
func certain(ts ...*Type) bool {
	for _, t := range ts {
		if t.From != "" {
			return false
		}
	}
	return true
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
