// Package docgen renders the node reference, docs/nodes.md, from the node
// registry's catalog, the same description the designer draws from, so the
// reference cannot drift from what the server accepts. A test keeps the
// committed file current: go test ./internal/docgen -update rewrites it.
package docgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/flowline/flowline/flow"
)

// Render writes the reference for cat as Markdown.
func Render(cat flow.Catalog) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Node reference\n\n")
	p("Generated from the node registry (`GET /api/v1/node-types`) by `internal/docgen`;\n")
	p("do not edit. Run `go test ./internal/docgen -update` after changing a node type.\n")
	p("[palette.md](palette.md) explains the choices behind them.\n\n")
	for _, c := range cat.Categories {
		p("- [%s](#%s): %s\n", c.Name, anchor(c.Name), c.Description)
	}
	p("- [Expressions](#expressions)\n")
	for _, c := range cat.Categories {
		p("\n## %s\n\n%s\n", c.Name, c.Description)
		for _, s := range cat.Types {
			if s.Category == c.Name {
				renderType(&b, s)
			}
		}
	}
	p("\n## Expressions\n\nVariables every expression sees:\n\n| name | type | what it is |\n| --- | --- | --- |\n")
	for _, v := range cat.Expr.Variables {
		p("| `%s` | %s | %s |\n", v.Name, v.Type, cell(v.Doc))
		for _, f := range v.Fields {
			p("| `%s.%s` | %s | %s |\n", v.Name, f.Name, f.Type, cell(f.Doc))
		}
	}
	p("\nBuilt-in functions:\n\n| function | what it gives |\n| --- | --- |\n")
	for _, f := range cat.Expr.Functions {
		p("| `%s` | %s |\n", cell(f.Signature), cell(f.Doc))
	}
	return b.Bytes()
}

func renderType(b *bytes.Buffer, s flow.Spec) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n### %s (`%s`)\n\n%s\n\n", s.Title, s.Type, s.Description)
	ports := make([]string, 0, len(s.Ports)+1)
	if d := s.DynamicPorts; d != nil {
		ports = append(ports, fmt.Sprintf("one per `%s` item, named by its `%s`", d.Field, d.Item))
	}
	for _, port := range s.Ports {
		ports = append(ports, "`"+port+"`")
	}
	if len(ports) == 0 {
		ports = append(ports, "none: it ends the run")
	}
	p("- Ports: %s.\n- Output: %s\n", strings.Join(ports, ", "), s.Output)
	if len(s.Fields) > 0 {
		p("\n| field | kind | required | default | what it is |\n| --- | --- | --- | --- | --- |\n")
		renderFields(b, "", s.Fields)
	}
	for _, ex := range s.Examples {
		p("\nExample, %s:\n\n```json\n%s\n```\n", strings.ToLower(ex.Title), indent(ex.Config))
	}
}

func renderFields(b *bytes.Buffer, prefix string, fields []flow.Field) {
	for _, f := range fields {
		kind := string(f.Kind)
		if len(f.Options) > 0 {
			kind += ": " + strings.Join(f.Options, ", ")
		}
		if f.Language != "" {
			kind += " (" + f.Language + ")"
		}
		required, def := "", ""
		if f.Required {
			required = "yes"
		}
		if f.Default != nil {
			d, _ := json.Marshal(f.Default)
			def = "`" + cell(string(d)) + "`"
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s | %s | %s |\n", prefix, f.Name, kind, required, def, cell(f.Description))
		renderFields(b, prefix+f.Name+"[].", f.Item)
	}
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// anchor is GitHub's heading anchor for a one-word heading.
func anchor(s string) string { return strings.ToLower(s) }

func indent(raw json.RawMessage) string {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return string(raw)
	}
	return out.String()
}

// TypeScript renders TypeScript interfaces for the catalog's Go types, by
// their JSON encoding, so the designer's types follow the server's.
func TypeScript() []byte {
	var b bytes.Buffer
	b.WriteString("// Generated from the Go types of GET /api/v1/node-types by internal/docgen; do not edit.\n")
	b.WriteString("// Run `go test ./internal/docgen -update` after changing them.\n")
	seen := map[reflect.Type]bool{}
	var queue []reflect.Type
	queue = append(queue, reflect.TypeFor[flow.Catalog]())
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if seen[t] {
			continue
		}
		seen[t] = true
		fmt.Fprintf(&b, "\nexport interface %s {\n", t.Name())
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			optional := ""
			if strings.Contains(opts, "omitempty") || f.Type.Kind() == reflect.Pointer {
				optional = "?"
			}
			fmt.Fprintf(&b, "  %s%s: %s;\n", name, optional, tsType(f.Type, &queue))
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

func tsType(t reflect.Type, queue *[]reflect.Type) string {
	switch {
	case t == rawMessage || t.Kind() == reflect.Interface:
		return "unknown"
	case t.Kind() == reflect.Pointer:
		return tsType(t.Elem(), queue)
	case t.Kind() == reflect.Slice:
		return tsType(t.Elem(), queue) + "[]"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "number"
	case t.Kind() == reflect.Struct:
		*queue = append(*queue, t)
		return t.Name()
	case t.Kind() == reflect.Map:
		return "Record<string, " + tsType(t.Elem(), queue) + ">"
	}
	panic("docgen: no TypeScript type for " + t.String())
}
