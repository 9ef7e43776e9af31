// Package schema is the validate node's runtime: JSON Schema documents
// compiled once, values checked against them with every error listed.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// Limits of validate.
const (
	MaxValidationErrors = 100     // errors a validate node reports
	MaxSchemaBytes      = 1 << 20 // the size of a schema document
	MaxSchemaDepth      = 64      // how deep objects and lists nest in one
)

// schemaURL names a node's schema inside its compiler; nothing is ever
// loaded from it.
const (
	schemaBase = "mem://flowline/"
	schemaURL  = schemaBase + "schema.json"
)

var schemaPrinter = message.NewPrinter(language.English)

// Schema is a compiled JSON Schema (draft 2020-12 unless it says otherwise).
type Schema struct {
	s *jsonschema.Schema
}

// Spec is a validate node's fixed settings.
type Spec struct {
	Schema json.RawMessage `json:"schema"` // the schema document
}

// Compile compiles a schema document. Formats are asserted (an
// "email" that is not one is an error), as users of form validators
// expect. References may only point inside the document: nothing is
// loaded from the network or the file system.
func Compile(doc []byte) (*Schema, error) {
	// Compiling costs more than the square of the nesting: bound it first.
	if len(doc) > MaxSchemaBytes {
		return nil, fmt.Errorf("the schema is %d bytes; at most %d", len(doc), MaxSchemaBytes)
	}
	if d := engine.JSONDepth(doc); d > MaxSchemaDepth {
		return nil, fmt.Errorf("the schema nests %d levels deep; at most %d", d, MaxSchemaDepth)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("the schema is not JSON: %w", err)
	}
	switch v.(type) {
	case map[string]any, bool:
	default:
		return nil, errors.New("the schema must be a JSON object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, v); err != nil {
		return nil, fmt.Errorf("the schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, schemaError(err)
	}
	return &Schema{s: s}, nil
}

// noLoader refuses every reference outside the schema itself.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s: references outside the schema are not loaded", url)
}

// schemaError turns a compile error into one sentence per problem.
func schemaError(err error) error {
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if errors.As(err, &sve) && errors.As(sve.Err, &ve) {
		issues := Issues(ve, 10)
		msgs := make([]string, len(issues))
		for i, is := range issues {
			at := is.Path
			if at == "" {
				at = "the top level"
			}
			msgs[i] = fmt.Sprintf("at %s: %s", at, is.Message)
		}
		return fmt.Errorf("the schema is not a valid JSON Schema: %s", strings.Join(msgs, "; "))
	}
	var le *jsonschema.LoadURLError
	if errors.As(err, &le) {
		return fmt.Errorf("the schema refers to %s, which is not loaded: only references inside the schema work", strings.TrimPrefix(le.URL, schemaBase))
	}
	msg := strings.ReplaceAll(err.Error(), schemaURL, "the schema")
	return fmt.Errorf("the schema does not compile: %s", msg)
}

// Issue is one way a value fails its schema.
type Issue struct {
	Path    string `json:"path"` // JSON Pointer into the value; "" for the value itself
	Message string `json:"message"`
}

// Issues flattens a validation error to its leaf errors, sorted by path
// then message, without duplicates, at most max of them.
func Issues(ve *jsonschema.ValidationError, max int) []Issue {
	var out []Issue
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, Issue{Path: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(schemaPrinter)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Message < out[j].Message
	})
	uniq := out[:0]
	for i, is := range out {
		if i > 0 && is == out[i-1] {
			continue
		}
		uniq = append(uniq, is)
	}
	if len(uniq) > max {
		uniq = uniq[:max]
	}
	return uniq
}

// pointer renders a JSON Pointer (RFC 6901).
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}

// New compiles a validate node's schema.
func New(s Spec) (*Schema, error) { return Compile(s.Schema) }

// Check checks value against s. It returns nil when the value matches,
// else the invalid port's output: {"errors": [{"path", "message"}, ...]}.
func (s *Schema) Check(value any) (map[string]any, error) {
	err := s.s.Validate(value)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("validate: %w", err)
	}
	issues := Issues(ve, MaxValidationErrors)
	list := make([]any, len(issues))
	for i, is := range issues {
		list[i] = map[string]any{"path": is.Path, "message": is.Message}
	}
	return map[string]any{"errors": list}, nil
}

// Call checks args[0]: the value leaves by out, or its errors by invalid.
func (s *Schema) Call(x *engine.Exec, args []any) (any, string, error) {
	v := engine.Arg(args, 0)
	invalid, err := s.Check(v)
	switch {
	case err != nil:
		return nil, "", err
	case invalid != nil:
		return invalid, engine.PortInvalid, nil
	}
	return v, flow.PortOut, nil
}
