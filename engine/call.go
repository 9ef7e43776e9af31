package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// A Call is what a node does outside the expression language: an HTTP
// request, a query, a script, a schema check, a digest. It is prepared once,
// when the bundle loads, from the node's fixed settings, and called once
// per run of the node with the values its expressions gave. It returns the
// node's output and the port it leaves by.
//
// The packages beside this one (httpcall, sqlquery, sandbox, schema) and
// the node types in flow/nodes implement it; the JS host calls it through
// $.call, and a Go bundle calls the typed methods behind it directly.
type Call interface {
	Call(x *Exec, args []any) (out any, port string, err error)
}

// A Binding prepares a node type's Call from its fixed settings in JSON:
// what a JS bundle lists, and the JS host prepares when it loads.
type Binding func(settings []byte) (Call, error)

// Bind makes a Binding of a typed constructor: the settings are decoded
// into S, strictly.
func Bind[S any, C Call](prepare func(S) (C, error)) Binding {
	return func(settings []byte) (Call, error) {
		var s S
		if err := json.Unmarshal(settings, &s); err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		return prepare(s)
	}
}

// Arg returns args[i], or nil past the end: a JS bundle may pass fewer.
func Arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// Pairs reads a [[name, value], ...] list (headers from a JS bundle, where
// every list is []any); nil or anything else gives none.
func Pairs(v any) [][2]any {
	switch v := v.(type) {
	case [][2]any:
		return v
	case []any:
		out := make([][2]any, 0, len(v))
		for _, p := range v {
			if kv, ok := p.([]any); ok && len(kv) == 2 {
				out = append(out, [2]any{kv[0], kv[1]})
			}
		}
		return out
	}
	return nil
}

// resources are what a flow's nodes keep between requests (one HTTP
// client, one database pool per datasource), made on first use and closed
// with the flow.
type resources struct {
	mu     sync.Mutex
	closed bool
	items  map[any]any
}

// Closer is a resource that holds connections; Flow.Close closes it.
type Closer interface{ Close() }

// Resource returns the flow's resource under key, made by make on first
// use. A resource that is a Closer is closed with the flow; after Close,
// Resource fails.
func (f *Flow) Resource(key any, make func() (any, error)) (any, error) {
	r := &f.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("the flow %s is closed", f.Manifest.Flow)
	}
	if v, ok := r.items[key]; ok {
		return v, nil
	}
	v, err := make()
	if err != nil {
		return nil, err
	}
	if r.items == nil {
		r.items = map[any]any{}
	}
	r.items[key] = v
	return v, nil
}

func (r *resources) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, v := range r.items {
		if c, ok := v.(Closer); ok {
			c.Close()
		}
	}
	r.items = nil
}

// JoinProblems joins a settings check's problems (field -> message) into
// one message, in field order.
func JoinProblems(probs map[string]string) string {
	keys := slices.Sorted(maps.Keys(probs))
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = probs[k]
	}
	return strings.Join(msgs, "; ")
}
