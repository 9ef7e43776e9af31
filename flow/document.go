// Package flow holds the flow document of FLOW-FORMAT.md: its parsing, the
// node-type registry and validation. It depends on the standard library and
// expr only, so every other part of Flowline can use it.
package flow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// FormatVersion is the only document version this code understands.
const FormatVersion = 1

// Document is one flow: one HTTP endpoint drawn as a graph of nodes.
type Document struct {
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Nodes       []Node `json:"nodes"`
	Edges       []Edge `json:"edges"`
}

// Node is one step of a flow. Config is kept raw: its node type decodes it.
type Node struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Config   json.RawMessage `json:"config,omitempty"`
	Position *Position       `json:"position,omitempty"`
}

// Position places a node on the designer's canvas; execution ignores it.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Edge connects a node's output port to another node. An empty Port means "out".
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Port string `json:"port,omitempty"`
}

// PortOrDefault is the port the edge leaves through.
func (e Edge) PortOrDefault() string {
	if e.Port == "" {
		return PortOut
	}
	return e.Port
}

// Well-known port names.
const (
	PortOut     = "out"
	PortError   = "error"
	PortDefault = "default"
)

var (
	nameRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	idRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

// ValidName reports whether s may name a flow.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ValidID reports whether s may identify a node.
func ValidID(s string) bool { return idRE.MatchString(s) }

// ErrDocument marks a document that cannot be stored at all: it does not
// parse, has unknown fields, another version or a malformed name.
var ErrDocument = errors.New("invalid flow document")

// DocumentError lists what is wrong with a document that cannot be stored.
type DocumentError struct {
	Problems []Problem
}

func (e *DocumentError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid flow document: " + e.Problems[0].Message
	}
	return fmt.Sprintf("invalid flow document: %d problems", len(e.Problems))
}

func (e *DocumentError) Unwrap() error { return ErrDocument }

// Parse decodes a document strictly (unknown fields are refused) and checks
// what saving requires: version 1 and a well-formed name. Everything else is
// left to Validate, since a draft may be incomplete.
func Parse(data []byte) (*Document, error) {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, &DocumentError{Problems: []Problem{{Message: jsonMessage(err)}}}
	}
	if dec.More() {
		return nil, &DocumentError{Problems: []Problem{{Message: "unexpected data after the document"}}}
	}
	if probs := d.checkStorable(); len(probs) > 0 {
		return nil, &DocumentError{Problems: probs}
	}
	return &d, nil
}

func (d *Document) checkStorable() []Problem {
	var probs []Problem
	if d.Version != FormatVersion {
		probs = append(probs, Problem{Field: "version", Message: fmt.Sprintf("version must be %d, got %d", FormatVersion, d.Version)})
	}
	if !ValidName(d.Name) {
		probs = append(probs, Problem{Field: "name", Message: fmt.Sprintf("name %q must be 1-64 characters of a-z, 0-9 and -", d.Name)})
	}
	return probs
}

// Node returns the node with the given id, or nil.
func (d *Document) Node(id string) *Node {
	for i := range d.Nodes {
		if d.Nodes[i].ID == id {
			return &d.Nodes[i]
		}
	}
	return nil
}

// jsonMessage turns an encoding/json error into a sentence a user can act on.
func jsonMessage(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s must be %s, not %s", typ.Field, kindName(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", kindName(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.EOF):
		return "empty document"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end of input"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func kindName(k string) string {
	switch k {
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "string":
		return "a string"
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return k
}
