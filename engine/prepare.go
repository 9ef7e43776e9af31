package engine

import (
	"encoding/json"
	"fmt"
)

// Prepared node kinds: the node types whose fixed settings the runtime
// prepares once, when a bundle loads.
const (
	PrepareHTTP     = "http.request"
	PrepareCode     = "code.js"
	PrepareQuery    = "db.query"
	PrepareValidate = "validate"
)

// Prepare builds a node's prepared form from its settings, as a JS bundle
// lists them: an *HTTPCall, a *Code, a *Query or a *Schema. A Go bundle
// calls the constructors directly.
func Prepare(kind string, settings []byte) (any, error) {
	decode := func(v any) error {
		if err := json.Unmarshal(settings, v); err != nil {
			return fmt.Errorf("%s settings: %w", kind, err)
		}
		return nil
	}
	switch kind {
	case PrepareHTTP:
		var s HTTPSpec
		if err := decode(&s); err != nil {
			return nil, err
		}
		return NewHTTPCall(s)
	case PrepareCode:
		var s CodeSpec
		if err := decode(&s); err != nil {
			return nil, err
		}
		return CompileCode(s)
	case PrepareQuery:
		var s QuerySpec
		if err := decode(&s); err != nil {
			return nil, err
		}
		return NewQuery(s)
	case PrepareValidate:
		var s SchemaSpec
		if err := decode(&s); err != nil {
			return nil, err
		}
		return CompileSchema(s.Schema)
	}
	return nil, fmt.Errorf("no node kind %q to prepare", kind)
}
