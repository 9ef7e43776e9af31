// Package golang generates the Go target: a flow becomes a main package of
// straight-line code that imports only Flowline's runtime package. Each node
// is a function of its own; handle calls them in the order of
// FLOW-FORMAT.md's rule 2, each behind the guard of the ports leading to it,
// and wraps every call in the same span and error handling (x.Begin, x.End,
// x.Fail), as the JS target does. Expressions are compiled once, when the
// instance starts, into package-level variables.
package golang

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"

	"github.com/flowline/flowline/codegen"
	"github.com/flowline/flowline/flow"
)

// Files of a Go bundle. The binary is built from MainFile by the build
// package; the deploy targets run it as the instance.
const (
	MainFile   = "main.go"
	BinaryFile = "flow"
)

// RuntimePackage is the import path of the runtime generated code uses.
const RuntimePackage = "github.com/flowline/flowline/engine"

// Emitter is implemented by node types that compile to this target. It
// writes the body of the node's function, which computes the node's output
// and port (or answers the request); the generator wraps the call in the
// node's guard, span and error handling, so every node is traced the same
// way.
type Emitter interface {
	EmitGo(w *Writer, n *flow.Node) error
}

// FormatError is a generated source that go/format refused: a bug in an
// emitter. Source is the unformatted code, for the bug report.
type FormatError struct {
	Flow   string
	Source []byte
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("generate go for %s: generated code does not format: %v", e.Flow, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Generate turns a valid flow into a bundle's sources: main.go and
// manifest.json. It refuses an invalid flow with a *flow.ValidationError.
func Generate(d *flow.Document, r *flow.Registry, version int) (map[string][]byte, error) {
	plan, err := codegen.NewPlan(d, r, version, "go")
	if err != nil {
		return nil, err
	}
	g := &generator{plan: plan, names: newNamer(), imports: map[string]bool{RuntimePackage: true}}
	if err := g.run(r); err != nil {
		return nil, err
	}
	src := g.file()
	formatted, err := format.Source(src)
	if err != nil {
		return nil, &FormatError{Flow: d.Name, Source: src, Err: err}
	}
	manifest, err := json.MarshalIndent(plan.Manifest, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("generate go for %s: %w", d.Name, err)
	}
	return map[string][]byte{
		MainFile:             formatted,
		codegen.ManifestFile: append(manifest, '\n'),
	}, nil
}

type generator struct {
	plan    *codegen.Plan
	names   *namer
	imports map[string]bool

	fn, port map[string]string // node id -> function and port variable names
	exprs    []exprVar
	handle   lines
	funcs    lines
}

// exprVar is a package-level variable: a compiled expression (src) or a
// prepared setting (init is its Go initializer).
type exprVar struct {
	name, src, init string
}

func (g *generator) run(r *flow.Registry) error {
	d := g.plan.Flow
	// Names first, in execution order, so that they do not depend on what
	// the emitters ask for.
	g.fn, g.port = map[string]string{}, map[string]string{}
	used := map[string]bool{} // nodes whose port a guard reads
	for _, st := range g.plan.Steps {
		for _, in := range st.In {
			used[in.From] = true
		}
	}
	for _, st := range g.plan.Steps {
		base := nodeBase(st.Node.ID)
		if st.Node.Type != flow.TriggerType {
			g.fn[st.Node.ID] = g.names.unique(base + "Node")
		}
		if used[st.Node.ID] || st.HasErrorEdge {
			g.port[st.Node.ID] = g.names.unique(base + "Port")
		}
	}

	var portVars []string
	needOK := false
	for _, st := range g.plan.Steps {
		if st.Node.Type != flow.TriggerType && g.port[st.Node.ID] != "" {
			portVars = append(portVars, g.port[st.Node.ID])
		}
		if st.HasErrorEdge {
			needOK = true
		}
	}
	h := &g.handle
	h.indent = 1
	if len(portVars) > 0 {
		h.line("var %s string", strings.Join(portVars, ", "))
	}
	if needOK {
		h.line("var ok bool")
	}

	for _, st := range g.plan.Steps {
		n := st.Node
		if n.Type == flow.TriggerType {
			if h.buf.Len() > 0 {
				h.line("")
			}
			h.line("// %s: %s", n.ID, n.Type)
			if p := g.port[n.ID]; p != "" {
				h.line("%s := x.Trigger(%s)", p, strconv.Quote(n.ID))
			} else {
				h.line("x.Trigger(%s)", strconv.Quote(n.ID))
			}
			continue
		}
		t, _ := r.Lookup(n.Type)
		em, ok := t.(Emitter)
		if !ok {
			return fmt.Errorf("generate go for %s: node type %s has no Go emitter", d.Name, n.Type)
		}
		w := &Writer{g: g, node: n, base: nodeBase(n.ID), ports: outPorts(d, n.ID)}
		w.body.indent = 1
		if err := em.EmitGo(w, n); err != nil {
			return fmt.Errorf("generate go for %s, node %s: %w", d.Name, n.ID, err)
		}
		g.writeFunc(w)
		g.writeCall(st, w)
	}
	return nil
}

// writeFunc writes the node's function.
func (g *generator) writeFunc(w *Writer) {
	n, f := w.node, &g.funcs
	name := g.fn[n.ID]
	f.line("")
	f.line("// %s runs node %s (%s).", name, strconv.Quote(n.ID), n.Type)
	if w.responds {
		f.line("func %s(x *engine.Exec) error {", name)
	} else {
		f.line("func %s(x *engine.Exec) (any, string, error) {", name)
	}
	f.buf.Write(w.body.buf.Bytes())
	f.line("}")
}

// writeCall writes the node's step in handle: its guard, its span and what
// its failure does (FLOW-FORMAT.md rules 3 to 5).
func (g *generator) writeCall(st codegen.Step, w *Writer) {
	n, h := st.Node, &g.handle
	name, port := g.fn[n.ID], g.port[n.ID]
	guard := make([]string, len(st.In))
	for i, in := range st.In {
		guard[i] = fmt.Sprintf("%s == %s", g.port[in.From], strconv.Quote(in.Port))
	}
	h.line("")
	h.line("// %s: %s", n.ID, n.Type)
	h.line("if %s {", strings.Join(guard, " || "))
	h.indent++
	h.line("x.Begin(%s)", strconv.Quote(n.ID))
	switch {
	case w.responds && st.HasErrorEdge:
		h.line("if err := %s(x); err == nil {", name)
		h.line("\treturn")
		h.line("} else if %s, ok = x.Fail(err, true); !ok {", port)
		h.line("\treturn")
		h.line("}")
	case w.responds:
		h.line("if err := %s(x); err != nil {", name)
		h.line("\tx.Fail(err, false)")
		h.line("}")
		h.line("return")
	case st.HasErrorEdge:
		h.line("if out, port, err := %s(x); err != nil {", name)
		h.line("\tif %s, ok = x.Fail(err, true); !ok {", port)
		h.line("\t\treturn")
		h.line("\t}")
		if w.mayRespond {
			h.line("} else if x.Responded() {")
			h.line("\treturn")
		}
		h.line("} else {")
		h.line("\t%s = x.End(out, port)", port)
		h.line("}")
	default:
		h.line("out, port, err := %s(x)", name)
		h.line("if err != nil {")
		h.line("\tx.Fail(err, false)")
		h.line("\treturn")
		h.line("}")
		if w.mayRespond {
			h.line("if x.Responded() {")
			h.line("\treturn")
			h.line("}")
		}
		if port != "" {
			h.line("%s = x.End(out, port)", port)
		} else {
			h.line("x.End(out, port)")
		}
	}
	h.indent--
	h.line("}")
}

// outPorts are the ports of node id that have an edge leaving them.
func outPorts(d *flow.Document, id string) map[string]bool {
	ports := map[string]bool{}
	for _, e := range d.Edges {
		if e.From == id {
			ports[e.PortOrDefault()] = true
		}
	}
	return ports
}

// file assembles main.go, unformatted.
func (g *generator) file() []byte {
	d, m := g.plan.Flow, g.plan.Manifest
	var b lines
	b.line("// Code generated by Flowline from flow %s, version %d. DO NOT EDIT.", strconv.Quote(d.Name), m.Version)
	b.line("")
	b.line("// Command %s serves flow %s, version %d: %s %s.", safeComment(d.Name), strconv.Quote(d.Name), m.Version, m.Method, strconv.Quote(m.Path))
	b.line("//")
	b.line("// Each node is a function of its own. handle runs them in the flow's")
	b.line("// execution order; a node runs when a port leading to it was taken, and")
	b.line("// its <node>Port variable keeps the port it left through (\"\" when it")
	b.line("// did not run).")
	b.line("package main")
	b.line("")
	// The standard library first, then the runtime.
	var std, other []string
	for p := range g.imports {
		if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") {
			other = append(other, p)
		} else {
			std = append(std, p)
		}
	}
	sort.Strings(std)
	sort.Strings(other)
	b.line("import (")
	for _, p := range std {
		b.line("\t%s", strconv.Quote(p))
	}
	if len(std) > 0 && len(other) > 0 {
		b.line("")
	}
	for _, p := range other {
		b.line("\t%s", strconv.Quote(p))
	}
	b.line(")")
	b.line("")
	b.line("// manifest describes the bundle to the runtime: its route and its nodes.")
	b.line("var manifest = engine.Manifest{")
	b.line("\tFlow: %s,", strconv.Quote(m.Flow))
	b.line("\tVersion: %d,", m.Version)
	b.line("\tTarget: %s,", strconv.Quote(m.Target))
	b.line("\tMethod: %s,", strconv.Quote(m.Method))
	b.line("\tPath: %s,", strconv.Quote(m.Path))
	b.line("\tNodes: []engine.NodeInfo{")
	for _, n := range m.Nodes {
		if len(n.Inputs) == 0 {
			b.line("\t\t{ID: %s, Type: %s},", strconv.Quote(n.ID), strconv.Quote(n.Type))
			continue
		}
		ins := make([]string, len(n.Inputs))
		for i, in := range n.Inputs {
			ins[i] = strconv.Quote(in)
		}
		b.line("\t\t{ID: %s, Type: %s, Inputs: []string{%s}},", strconv.Quote(n.ID), strconv.Quote(n.Type), strings.Join(ins, ", "))
	}
	b.line("\t},")
	b.line("}")
	if len(g.exprs) > 0 {
		b.line("")
		b.line("// The flow's expressions and node settings, compiled once when the")
		b.line("// instance starts.")
		b.line("var (")
		for _, e := range g.exprs {
			if e.init != "" {
				b.line("\t%s = %s", e.name, e.init)
			} else {
				b.line("\t%s = engine.MustCompile(%s)", e.name, strconv.Quote(e.src))
			}
		}
		b.line(")")
	}
	b.line("")
	b.line("func main() {")
	b.line("\tengine.Main(manifest, engine.ProgramFunc(handle))")
	b.line("}")
	b.line("")
	b.line("// handle runs one request through the flow.")
	b.line("func handle(x *engine.Exec) {")
	b.buf.Write(g.handle.buf.Bytes())
	b.line("}")
	b.buf.Write(g.funcs.buf.Bytes())
	return b.buf.Bytes()
}

// safeComment returns s when it is made of letters, digits and - only (a
// flow name always is), else "bundle": only quoted strings carry user text.
func safeComment(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "bundle"
		}
	}
	if s == "" {
		return "bundle"
	}
	return s
}

// Writer writes the body of one node's function. The function has the
// signature func(x *engine.Exec) (any, string, error), returning the
// node's output and port, or, after Responds, func(x *engine.Exec) error.
type Writer struct {
	g          *generator
	node       *flow.Node
	base       string
	ports      map[string]bool
	body       lines
	responds   bool
	mayRespond bool
}

// HasEdge reports whether an edge leaves the node through port, so an
// emitter can decide statically what a port without an edge does.
func (w *Writer) HasEdge(port string) bool { return w.ports[port] }

// Prepared adds a package-level variable set once at start-up by init, Go
// code the emitter built with Quote and Literal (an HTTP call's settings,
// a compiled JavaScript source, a schema), and returns its name: the
// node's name followed by hint.
func (w *Writer) Prepared(hint, init string) string {
	name := w.g.names.unique(w.base + upperFirst(identWords(hint)))
	w.g.exprs = append(w.g.exprs, exprVar{name: name, init: init})
	return name
}

// Line writes one line of the function body at the current indentation.
// Arguments that come from users must be rendered with Quote or Expr.
func (w *Writer) Line(format string, args ...any) { w.body.line(format, args...) }

// Indent and Dedent change the indentation of the following lines.
func (w *Writer) Indent() { w.body.indent++ }

// Dedent undoes Indent.
func (w *Writer) Dedent() { w.body.indent-- }

// Expr registers an expression, compiled once at start-up, and returns the
// name of the package-level variable holding its program. The name is the
// node's name followed by the first hint that makes an identifier (a field
// name, "condition", ...).
func (w *Writer) Expr(src string, hints ...string) string {
	hint := ""
	for _, h := range hints {
		if hint = identWords(h); hint != "" {
			break
		}
	}
	if hint == "" {
		hint = "Expr"
	}
	name := w.g.names.unique(w.base + upperFirst(hint))
	w.g.exprs = append(w.g.exprs, exprVar{name: name, src: src})
	return name
}

// Import adds a package to the file's imports.
func (w *Writer) Import(path string) { w.g.imports[path] = true }

// Responds declares that the node answers the request: its function
// returns only an error, and nothing runs after it. Call it first.
func (w *Writer) Responds() { w.responds = true }

// MayRespond declares that the node answers the request in some runs (a
// runtime method it calls may respond); handle stops after it when it did.
func (w *Writer) MayRespond() { w.mayRespond = true }

// Fail is the statement that returns err from the function.
func (w *Writer) Fail() string {
	if w.responds {
		return "return err"
	}
	return `return nil, "", err`
}

// CheckErr writes the usual `if err != nil { return ... }`.
func (w *Writer) CheckErr() {
	w.Line("if err != nil {")
	w.Line("\t%s", w.Fail())
	w.Line("}")
}

// Quote renders s as a Go string literal: the only way a user's string may
// reach generated code.
func Quote(s string) string { return strconv.Quote(s) }

// lines is an indented text buffer.
type lines struct {
	buf    bytes.Buffer
	indent int
}

func (l *lines) line(format string, args ...any) {
	if format == "" {
		l.buf.WriteByte('\n')
		return
	}
	for i := 0; i < l.indent; i++ {
		l.buf.WriteByte('\t')
	}
	if len(args) == 0 {
		l.buf.WriteString(format)
	} else {
		fmt.Fprintf(&l.buf, format, args...)
	}
	l.buf.WriteByte('\n')
}
