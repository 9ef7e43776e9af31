package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowline/flowline/engine/schema"
)

func TestCompileSchemaRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"banana":      `{"type": "banana"}`,
		"not json":    `{"type": `,
		"not object":  `[1]`,
		"bad pattern": `{"pattern": "("}`,
		"remote ref":  `{"$ref": "https://example.com/schema.json"}`,
		"file ref":    `{"$ref": "file:///etc/passwd"}`,
		"relative":    `{"$ref": "other.json"}`,
		"bad minimum": `{"minimum": "10"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := schema.Compile([]byte(doc))
			if err == nil {
				t.Fatalf("%s accepted", doc)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message on several lines: %q", err)
			}
		})
	}
	for _, doc := range []string{`{}`, `true`, `{"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"}`,
		`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}`,
		`{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}`} {
		if _, err := schema.Compile([]byte(doc)); err != nil {
			t.Errorf("%s refused: %v", doc, err)
		}
	}
}

func TestValidate(t *testing.T) {
	s, err := schema.Compile([]byte(`{"type": "object", "required": ["email", "age"],
		"properties": {"email": {"type": "string", "format": "email"}, "age": {"type": "integer", "minimum": 18},
		"tags": {"type": "array", "items": {"type": "string"}}, "a/b": {"type": "number"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	check := func(body string) map[string]any {
		var v any
		_ = json.Unmarshal([]byte(body), &v)
		out, err := s.Check(v)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := check(`{"email": "a@b.co", "age": 30}`); out != nil {
		t.Errorf("valid value refused: %v", out)
	}
	out := check(`{"email": "nope", "tags": ["a", 2, 3], "a/b": "x"}`)
	got, _ := json.Marshal(out)
	want := `{"errors":[` +
		`{"message":"missing property 'age'","path":""},` +
		`{"message":"'nope' is not valid email: missing @","path":"/email"},` +
		`{"message":"got number, want string","path":"/tags/1"},` +
		`{"message":"got number, want string","path":"/tags/2"},` +
		`{"message":"got string, want number","path":"/a~1b"}]}`
	var w, g any
	_ = json.Unmarshal([]byte(want), &w)
	_ = json.Unmarshal(got, &g)
	// Paths sort "" < "/a~1b" < "/email" < "/tags/..."; compare as sets of lines.
	for _, e := range w.(map[string]any)["errors"].([]any) {
		if !strings.Contains(string(got), mustJSON(e)) {
			t.Errorf("missing %s in %s", mustJSON(e), got)
		}
	}
	if len(g.(map[string]any)["errors"].([]any)) != 5 {
		t.Errorf("errors %s", got)
	}
	again, _ := json.Marshal(check(`{"email": "nope", "tags": ["a", 2, 3], "a/b": "x"}`))
	if string(again) != string(got) {
		t.Errorf("order not stable:\n%s\n%s", got, again)
	}
	// At most 100 errors.
	many := `[` + strings.Repeat(`"x",`, 150) + `"x"]`
	ls, _ := schema.Compile([]byte(`{"type": "array", "items": {"type": "number"}}`))
	var v any
	_ = json.Unmarshal([]byte(many), &v)
	out, _ = ls.Check(v)
	if n := len(out["errors"].([]any)); n != schema.MaxValidationErrors {
		t.Errorf("%d errors, want %d", n, schema.MaxValidationErrors)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
