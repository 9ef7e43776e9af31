// Package flowgen makes random valid flows for tests: random DAGs of the
// node types of a registry, with every user string field and every string
// literal in an expression drawn from hostile strings (quotes, backticks,
// comment ends, newlines, U+2028, NUL, code that tries to escape its
// literal) and Go keywords as node ids. The generators' tests and fuzz
// targets use them to check that no user string changes the code around
// it.
package flowgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowline/flowline/flow"
)

// Hostile are strings that try to break out of the literal or comment they
// are written in, in Go or in JavaScript.
var Hostile = []string{
	`"); os.Exit(1); ("`,
	"`); os.Exit(1); (`",
	`*/ func init() { panic(1) } /*`,
	"line\nbreak // comment",
	"\u2028\u2029 separators",
	"nul \x00 byte",
	`\"; throw 1; //`,
	`'; process.exit(1); '`,
	"${injection} and %s %d %v",
	"</script><!--",
	`\u0022 \x22 \\`,
	"func",
	"日本語 and emoji 🎉",
	"tab\tand\rreturn",
	"}\n}\nfunc main() {",
	"",
}

// Keywords are node ids that are Go keywords or names generated code uses.
var Keywords = []string{
	"func", "type", "go", "return", "package", "import", "map", "chan", "select", "default",
	"var", "const", "range", "nil", "string", "len", "x", "err", "main", "handle", "runtime",
	"manifest", "ok", "out", "port", "_", "__", "_1", "calcNode", "Calc", "calc_", "startPort",
}

// Flow is a generated flow and its twin: the same flow with every user
// string replaced by a plain one (t0, t1, ...). Generated code for the two
// must have the same shape.
type Flow struct {
	Doc   *flow.Document
	Twin  *flow.Document
	Texts []string // the user strings of Doc that survived validation
}

// Options tune New.
type Options struct {
	// Types are the node types to draw from; every registered type but
	// the trigger when empty.
	Types []string
	// Nodes bounds the number of nodes between the trigger and the
	// responses (default 6).
	Nodes int
	// Pool are the user strings to draw from (default Hostile).
	Pool []string
}

// leaf is a user string in a config: texts[i] rendered by format.
type leaf struct {
	i      int
	format func(string) string
}

// draft is a flow before rendering, with its user strings as leaves.
type draft struct {
	nodes   []draftNode
	edges   []flow.Edge
	texts   []string
	nameSeq int
}

type draftNode struct {
	id, typ string
	config  map[string]any
}

// New makes a random valid flow for seed. It tries a few layouts and
// returns an error when none validates.
func New(r *flow.Registry, seed uint64, o Options) (*Flow, error) {
	if o.Nodes <= 0 {
		o.Nodes = 6
	}
	if len(o.Pool) == 0 {
		o.Pool = Hostile
	}
	if len(o.Types) == 0 {
		for _, s := range r.Specs() {
			if s.Type != flow.TriggerType {
				o.Types = append(o.Types, s.Type)
			}
		}
	}
	var last []flow.Problem
	for attempt := uint64(0); attempt < 8; attempt++ {
		g := &gen{r: r, o: o, rng: rand.New(rand.NewPCG(seed, attempt))}
		f, probs, err := g.flow()
		if err != nil {
			return nil, err
		}
		if len(probs) == 0 {
			return f, nil
		}
		last = probs
	}
	return nil, fmt.Errorf("%w for seed %d: %v", ErrNoFlow, seed, last)
}

type gen struct {
	r   *flow.Registry
	o   Options
	rng *rand.Rand
	d   draft
}

func (g *gen) flow() (*Flow, []flow.Problem, error) {
	// Nodes: the trigger, the middle and one or two responses.
	ids := slices.Clone(Keywords)
	g.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	nextID := func(k int) string {
		if k < len(ids) && g.rng.IntN(4) > 0 {
			return ids[k]
		}
		return fmt.Sprintf("n%d", k)
	}
	g.d.nodes = append(g.d.nodes, draftNode{id: "start", typ: flow.TriggerType,
		config: map[string]any{"method": "POST", "path": "/fuzz/:id"}})
	middle := 1 + g.rng.IntN(g.o.Nodes)
	for k := 0; k < middle; k++ {
		typ := g.o.Types[g.rng.IntN(len(g.o.Types))]
		if typ == flow.ResponseType {
			typ = g.o.Types[g.rng.IntN(len(g.o.Types))] // responses go last; fewer in the middle
		}
		g.d.nodes = append(g.d.nodes, draftNode{id: nextID(k), typ: typ})
	}
	for k := 0; k < 1+g.rng.IntN(2); k++ {
		g.d.nodes = append(g.d.nodes, draftNode{id: nextID(middle + k), typ: flow.ResponseType})
	}
	seen := map[string]bool{}
	for i := range g.d.nodes {
		for seen[g.d.nodes[i].id] || !flow.ValidID(g.d.nodes[i].id) {
			g.d.nodes[i].id = fmt.Sprintf("n%d_%d", i, g.rng.IntN(100))
		}
		seen[g.d.nodes[i].id] = true
	}
	for i := range g.d.nodes {
		n := &g.d.nodes[i]
		if n.typ == flow.TriggerType {
			continue
		}
		t, ok := g.r.Lookup(n.typ)
		if !ok {
			return nil, nil, fmt.Errorf("flowgen: unknown node type %q", n.typ)
		}
		n.config = g.fields(t.Spec().Fields)
	}

	// Repair config fields until the nodes validate on their own.
	for round := 0; round < 12; round++ {
		probs := g.configProblems()
		if len(probs) == 0 {
			break
		}
		for _, p := range probs {
			g.repair(p)
		}
	}

	// Edges: each node hangs off an earlier one; every node that does not
	// respond leads somewhere later.
	doc := g.render(g.d.texts)
	ports := func(i int) []string {
		ps := g.r.Ports(&doc.Nodes[i])
		if len(ps) == 0 {
			return []string{flow.PortOut}
		}
		return ps
	}
	for i := 1; i < len(g.d.nodes); i++ {
		var from []int
		for j := 0; j < i; j++ {
			if g.d.nodes[j].typ != flow.ResponseType {
				from = append(from, j)
			}
		}
		j := from[g.rng.IntN(len(from))]
		g.edge(j, i, ports(j))
		if g.rng.IntN(4) == 0 && len(from) > 1 { // a join
			k := from[g.rng.IntN(len(from))]
			g.edge(k, i, ports(k))
		}
	}
	for i, n := range g.d.nodes {
		if n.typ == flow.ResponseType || g.hasOut(n.id) {
			continue
		}
		later := i + 1 + g.rng.IntN(len(g.d.nodes)-i-1)
		g.edge(i, later, ports(i))
	}
	doc = g.render(g.d.texts)
	probs := flow.Errors(flow.Validate(doc, g.r))
	if len(probs) > 0 {
		return nil, probs, nil
	}
	twinTexts := make([]string, len(g.d.texts))
	for i := range twinTexts {
		twinTexts[i] = "t" + strconv.Itoa(i)
	}
	twin := g.render(twinTexts)
	if tp := flow.Errors(flow.Validate(twin, g.r)); len(tp) > 0 {
		return nil, tp, nil
	}
	return &Flow{Doc: doc, Twin: twin, Texts: g.usedTexts()}, nil, nil
}

func (g *gen) edge(from, to int, ports []string) {
	port := ports[g.rng.IntN(len(ports))]
	e := flow.Edge{From: g.d.nodes[from].id, To: g.d.nodes[to].id}
	if port != flow.PortOut {
		e.Port = port
	}
	for _, x := range g.d.edges {
		if x == e {
			return
		}
	}
	g.d.edges = append(g.d.edges, e)
}

func (g *gen) hasOut(id string) bool {
	for _, e := range g.d.edges {
		if e.From == id {
			return true
		}
	}
	return false
}

// text draws a user string, distinct from the others of the flow so that
// the twin maps them one to one.
func (g *gen) text(format func(string) string) leaf {
	s := g.o.Pool[g.rng.IntN(len(g.o.Pool))]
	for slices.Contains(g.d.texts, s) {
		s += "#" + strconv.Itoa(len(g.d.texts))
	}
	g.d.texts = append(g.d.texts, s)
	return leaf{i: len(g.d.texts) - 1, format: format}
}

func raw(s string) string { return s }

// valueExprs and boolExprs hold a user string as an expr string literal.
var valueExprs = []func(q string) string{
	func(q string) string { return q },
	func(q string) string { return q + ` + string(request.params.id ?? "")` },
	func(q string) string { return `{"text": ` + q + `, "n": len(` + q + `)}` },
	func(q string) string { return `[` + q + `, 1, true, nil]` },
	func(q string) string { return `request.query.q ?? ` + q },
	func(q string) string { return `upper(` + q + `)` },
}

var boolExprs = []func(q string) string{
	func(q string) string { return q + ` != ""` },
	func(q string) string { return `len(` + q + `) > 3` },
	func(q string) string { return `request.query.q == ` + q },
	func(q string) string { return `(request.body.flag ?? false) || ` + q + ` startsWith "x"` },
}

// exprLiteral writes s as an expr string literal (expr reads Go's escapes).
func exprLiteral(s string) string { return strconv.Quote(s) }

func (g *gen) valueExpr() leaf {
	f := valueExprs[g.rng.IntN(len(valueExprs))]
	return g.text(func(s string) string { return f(exprLiteral(s)) })
}

func (g *gen) boolExpr() leaf {
	f := boolExprs[g.rng.IntN(len(boolExprs))]
	return g.text(func(s string) string { return f(exprLiteral(s)) })
}

// fields makes a config for fields, by kind.
func (g *gen) fields(fields []flow.Field) map[string]any {
	cfg := map[string]any{}
	for _, f := range fields {
		if !f.Required && g.rng.IntN(3) == 0 {
			continue
		}
		if v, ok := g.value(f); ok {
			cfg[f.Name] = v
		}
	}
	return cfg
}

func (g *gen) value(f flow.Field) (any, bool) {
	switch f.Kind {
	case flow.KindString:
		return g.text(raw), true
	case flow.KindEnum:
		if len(f.Options) == 0 {
			return nil, false
		}
		return f.Options[g.rng.IntN(len(f.Options))], true
	case flow.KindInt:
		if f.Default != nil && g.rng.IntN(2) == 0 {
			return f.Default, true
		}
		return 1 + g.rng.IntN(3), true
	case flow.KindIntOrExpr:
		if g.rng.IntN(2) == 0 {
			return []int{200, 201, 202, 404, 418}[g.rng.IntN(5)], true
		}
		return g.text(func(s string) string { return "200 + len(" + exprLiteral(s) + ") % 100" }), true
	case flow.KindExpr:
		return g.valueExpr(), true
	case flow.KindExprList:
		var xs []any
		for range g.rng.IntN(3) {
			xs = append(xs, g.valueExpr())
		}
		return xs, true
	case flow.KindList:
		var items []any
		for range g.rng.IntN(4) {
			items = append(items, g.fields(f.Item))
		}
		return items, true
	case flow.KindSchema:
		return map[string]any{
			"type":        "object",
			"description": g.text(raw),
			"properties": map[string]any{
				"name": map[string]any{"type": "string", "default": g.text(raw)},
			},
		}, true
	case flow.KindCode:
		return g.text(func(s string) string {
			b, _ := json.Marshal(s)
			return "// a function body\nreturn {text: " + string(b) + ", n: nodes ? 1 : 0};"
		}), true
	}
	return nil, false
}

// configProblems validates the nodes without edges and keeps the problems
// of config fields.
func (g *gen) configProblems() []flow.Problem {
	var out []flow.Problem
	for _, p := range flow.Errors(flow.Validate(g.render(g.d.texts), g.r)) {
		if p.Node != "" && p.Field != "" && p.Field != "id" && !strings.HasPrefix(p.Field, "edges") {
			out = append(out, p)
		}
	}
	return out
}

var segRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$`)

// repair replaces the value at a problem's field: an expression becomes a
// condition, then a plain literal; a string becomes a plain name.
func (g *gen) repair(p flow.Problem) {
	var n *draftNode
	for i := range g.d.nodes {
		if g.d.nodes[i].id == p.Node {
			n = &g.d.nodes[i]
		}
	}
	if n == nil || n.config == nil {
		return
	}
	parent, key, ok := locate(n.config, p.Field)
	if !ok {
		// The field is not where the problem says (a missing required
		// field, or a problem about the node's whole config): start over
		// with a plain config.
		t, _ := g.r.Lookup(n.typ)
		if t != nil {
			n.config = g.plain(t.Spec().Fields)
		}
		return
	}
	cur := parent[key]
	g.d.nameSeq++
	switch v := cur.(type) {
	case leaf:
		if strings.Contains(v.format("\x01"), strconv.Quote("\x01")) && !g.isBool(v) {
			parent[key] = g.boolExpr()
			return
		}
		if strings.Contains(v.format("\x01"), strconv.Quote("\x01")) {
			parent[key] = "true"
			return
		}
		parent[key] = "s" + strconv.Itoa(g.d.nameSeq)
	case string:
		if v == "true" {
			parent[key] = `"plain"`
			return
		}
		delete(parent, key)
	default:
		delete(parent, key)
	}
}

// isBool reports whether a leaf renders as one of the bool expressions.
func (g *gen) isBool(l leaf) bool {
	out := l.format("\x01")
	for _, f := range boolExprs {
		if f(exprLiteral("\x01")) == out {
			return true
		}
	}
	return false
}

// plain is a config of safe values: names, true conditions, no options.
func (g *gen) plain(fields []flow.Field) map[string]any {
	cfg := map[string]any{}
	for _, f := range fields {
		if !f.Required {
			continue
		}
		g.d.nameSeq++
		switch f.Kind {
		case flow.KindString:
			cfg[f.Name] = "s" + strconv.Itoa(g.d.nameSeq)
		case flow.KindEnum:
			if len(f.Options) > 0 {
				cfg[f.Name] = f.Options[0]
			}
		case flow.KindExpr:
			cfg[f.Name] = "true"
		case flow.KindInt, flow.KindIntOrExpr:
			cfg[f.Name] = 1
		case flow.KindList, flow.KindExprList:
			cfg[f.Name] = []any{}
		case flow.KindSchema:
			cfg[f.Name] = map[string]any{"type": "object"}
		case flow.KindCode:
			cfg[f.Name] = "return 1;"
		}
	}
	return cfg
}

// locate finds the map holding the value at a problem's field path, like
// "headers[1].value".
func locate(cfg map[string]any, path string) (map[string]any, string, bool) {
	cur := cfg
	segs := strings.Split(path, ".")
	for i, s := range segs {
		m := segRE.FindStringSubmatch(s)
		if m == nil {
			return nil, "", false
		}
		if i == len(segs)-1 && m[2] == "" {
			_, ok := cur[m[1]]
			return cur, m[1], ok
		}
		v, ok := cur[m[1]]
		if !ok {
			return nil, "", false
		}
		if m[2] != "" {
			list, ok := v.([]any)
			idx, _ := strconv.Atoi(m[2])
			if !ok || idx >= len(list) {
				return nil, "", false
			}
			v = list[idx]
			if i == len(segs)-1 {
				return nil, "", false // a list item as a whole
			}
		}
		next, ok := v.(map[string]any)
		if !ok {
			return nil, "", false
		}
		cur = next
	}
	return nil, "", false
}

// render writes the draft as a document with the given user strings.
func (g *gen) render(texts []string) *flow.Document {
	d := &flow.Document{Version: flow.FormatVersion, Name: "fuzz"}
	for _, n := range g.d.nodes {
		cfg, _ := json.Marshal(renderValue(n.config, texts))
		d.Nodes = append(d.Nodes, flow.Node{ID: n.id, Type: n.typ, Config: cfg})
	}
	// Edge ports named by a user string (a switch case) follow it.
	byText := map[string]string{}
	for i, s := range g.d.texts {
		byText[s] = texts[i]
	}
	for _, e := range g.d.edges {
		if t, ok := byText[e.Port]; ok {
			e.Port = t
		}
		d.Edges = append(d.Edges, e)
	}
	return d
}

func renderValue(v any, texts []string) any {
	switch v := v.(type) {
	case leaf:
		return v.format(texts[v.i])
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = renderValue(x, texts)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = renderValue(x, texts)
		}
		return out
	}
	return v
}

// usedTexts are the user strings still in the draft after repairs.
func (g *gen) usedTexts() []string {
	used := map[int]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case leaf:
			used[v.i] = true
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, n := range g.d.nodes {
		walk(n.config)
	}
	var out []string
	for i, s := range g.d.texts {
		if used[i] {
			out = append(out, s)
		}
	}
	return out
}

// ErrNoFlow is returned by New when no valid flow was found for a seed.
var ErrNoFlow = errors.New("flowgen: no valid flow")
