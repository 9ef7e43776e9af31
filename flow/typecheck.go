package flow

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// typeIssue is something wrong that an expression's types show, at runes
// [from, to) of its source.
type typeIssue struct {
	from, to int
	msg      string
	err      bool // an operation that cannot work; else a likely mistake
}

// exprTyper types expressions against the flow's environment: the roots
// request, nodes, env and trace.
type exprTyper struct {
	roots map[string]*Type
}

// typeOf is the type src gives, and its issues. A source that does not
// parse gives any and no issues: the compiler reports it.
func (e *exprTyper) typeOf(src string) (*Type, []typeIssue) {
	tree, err := parser.Parse(src)
	if err != nil {
		return AnyType, nil
	}
	w := &typeWalk{roots: e.roots, src: []rune(src), vars: map[string]*Type{}}
	return w.walk(tree.Node), w.issues
}

// typeWalk types one expression's tree.
type typeWalk struct {
	roots    map[string]*Type
	src      []rune
	vars     map[string]*Type // let bindings
	pointers []*Type          // the item type of each enclosing predicate (#)
	issues   []typeIssue
}

// text is the source of n, for messages.
func (w *typeWalk) text(n ast.Node) string {
	from, to := w.span(n)
	if from < 0 || to > len(w.src) || from >= to {
		return "the value"
	}
	return "`" + string(w.src[from:to]) + "`"
}

// span is the runes n covers, children included: expr locates a node by
// its operator or name only.
func (w *typeWalk) span(n ast.Node) (from, to int) {
	from, to = len(w.src), 0
	var v spanVisitor
	v.from, v.to = &from, &to
	ast.Walk(&n, v)
	if from > to {
		return 0, 0
	}
	return from, to
}

type spanVisitor struct{ from, to *int }

func (v spanVisitor) Visit(n *ast.Node) {
	l := (*n).Location()
	if l.From == 0 && l.To == 0 {
		return // a node the parser made up
	}
	*v.from = min(*v.from, l.From)
	*v.to = max(*v.to, l.To)
}

func (w *typeWalk) report(n ast.Node, err bool, format string, args ...any) {
	from, to := w.span(n)
	w.issues = append(w.issues, typeIssue{from: from, to: to, msg: fmt.Sprintf(format, args...), err: err})
}

func (w *typeWalk) walk(n ast.Node) *Type {
	switch n := n.(type) {
	case *ast.NilNode:
		return NilType
	case *ast.BoolNode:
		return BoolType
	case *ast.IntegerNode, *ast.FloatNode:
		return NumberType
	case *ast.StringNode:
		return StringType
	case *ast.IdentifierNode:
		if t, ok := w.vars[n.Value]; ok {
			return t
		}
		if t, ok := w.roots[n.Value]; ok {
			return t
		}
		return AnyType
	case *ast.PointerNode:
		if n.Name == "" && len(w.pointers) > 0 {
			return w.pointers[len(w.pointers)-1]
		}
		return AnyType
	case *ast.ChainNode:
		return w.walk(n.Node)
	case *ast.MemberNode:
		return w.member(n)
	case *ast.SliceNode:
		t := w.walk(n.Node)
		w.walkAll(n.From, n.To)
		return t
	case *ast.UnaryNode:
		t := w.walk(n.Node)
		switch n.Operator {
		case "not", "!":
			return BoolType
		case "-", "+":
			w.needNumber(n.Node, t, n.Operator)
			return NumberType
		}
		return AnyType
	case *ast.BinaryNode:
		return w.binary(n)
	case *ast.ConditionalNode:
		w.walk(n.Cond)
		return Union(w.walk(n.Exp1), w.walk(n.Exp2))
	case *ast.VariableDeclaratorNode:
		old, had := w.vars[n.Name]
		w.vars[n.Name] = w.walk(n.Value)
		t := w.walk(n.Expr)
		if had {
			w.vars[n.Name] = old
		} else {
			delete(w.vars, n.Name)
		}
		return t
	case *ast.SequenceNode:
		t := AnyType
		for _, x := range n.Nodes {
			t = w.walk(x)
		}
		return t
	case *ast.ArrayNode:
		var elem *Type
		for i, x := range n.Nodes {
			if t := w.walk(x); i == 0 {
				elem = t
			} else {
				elem = Union(elem, t)
			}
		}
		if elem == nil {
			elem = AnyType
		}
		return ListOf(elem)
	case *ast.MapNode:
		fields := map[string]*Type{}
		open := false
		for _, p := range n.Pairs {
			pair, ok := p.(*ast.PairNode)
			if !ok {
				continue
			}
			v := w.walk(pair.Value)
			if k, ok := pair.Key.(*ast.StringNode); ok {
				fields[k.Value] = v
			} else {
				w.walk(pair.Key)
				open = true
			}
		}
		return &Type{Kind: TypeMap, Fields: fields, Open: open}
	case *ast.BuiltinNode:
		return w.call(n.Name, n.Arguments)
	case *ast.CallNode:
		name := ""
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			name = id.Value
		} else {
			w.walk(n.Callee)
		}
		return w.call(name, n.Arguments)
	case *ast.PredicateNode:
		return w.walk(n.Node)
	}
	return AnyType
}

func (w *typeWalk) walkAll(ns ...ast.Node) {
	for _, n := range ns {
		if n != nil {
			w.walk(n)
		}
	}
}

// member types base.name and base[i], reporting fields a value cannot
// have and reads of what cannot have fields.
func (w *typeWalk) member(n *ast.MemberNode) *Type {
	base := w.walk(n.Node)
	prop, isName := n.Property.(*ast.StringNode)
	if !isName {
		w.walk(n.Property)
	}
	switch {
	case base.is(TypeNil):
		if !n.Optional {
			w.report(n, certain(base), "%s is always nil here, so reading a field of it fails; write %s?.%s to get nil instead",
				w.text(n.Node), strings.Trim(w.text(n.Node), "`"), w.text(n.Property))
		}
		return NilType
	case base.is(TypeString), base.is(TypeNumber), base.is(TypeBool):
		if isName {
			w.report(n, certain(base), "%s is a %s; it has no field %q", w.text(n.Node), base.Kind, prop.Value)
		}
		return AnyType
	case base.is(TypeList):
		if isName {
			w.report(n, certain(base), "%s is a list; read an item first (%s[0].%s) or use map(%s, .%s)",
				w.text(n.Node), strings.Trim(w.text(n.Node), "`"), prop.Value, strings.Trim(w.text(n.Node), "`"), prop.Value)
			return AnyType
		}
		return base.Elem
	case base.is(TypeMap) && isName:
		if t, ok := base.Fields[prop.Value]; ok {
			return t
		}
		if base.Open {
			return AnyType
		}
		w.missingField(n, base, prop.Value)
		return &Type{Kind: TypeNil, From: base.From}
	}
	return AnyType
}

// missingField reports a field a map does not have, with the nearest one.
func (w *typeWalk) missingField(n *ast.MemberNode, base *Type, name string) {
	what := w.text(n.Node)
	var msg string
	switch {
	case what == "`nodes`":
		msg = fmt.Sprintf("there is no node %q in this flow", name)
	case base.From == TypeFromSample:
		msg = fmt.Sprintf("%s had no field %q in the last test run", what, name)
	case base.From == TypeFromSchema:
		msg = fmt.Sprintf("the schema of %s has no property %q", what, name)
	default:
		msg = fmt.Sprintf("%s has no field %q", what, name)
	}
	if s := closest(name, base.fieldNames()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if len(base.Fields) > 0 && len(base.Fields) <= 8 {
		msg += "; it has " + strings.Join(quoteAll(base.fieldNames()), ", ")
	}
	w.issues = append(w.issues, typeIssue{msg: msg, err: false})
	w.issues[len(w.issues)-1].from, w.issues[len(w.issues)-1].to = w.propSpan(n)
}

// propSpan is where a member's name is: what to underline.
func (w *typeWalk) propSpan(n *ast.MemberNode) (int, int) {
	l := n.Property.Location()
	if l.From == 0 && l.To == 0 {
		return w.span(n)
	}
	return l.From, l.To
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

// binary types an operator, and reports operands it cannot work on.
func (w *typeWalk) binary(n *ast.BinaryNode) *Type {
	l, r := w.walk(n.Left), w.walk(n.Right)
	switch n.Operator {
	case "==", "!=", "and", "or", "&&", "||", "in", "not in", "matches", "contains", "startsWith", "endsWith":
		return BoolType
	case "??":
		if l.is(TypeNil) {
			return r
		}
		return Union(l, r)
	case "..":
		return ListOf(NumberType)
	case "<", ">", "<=", ">=":
		w.comparable(n, l, r)
		return BoolType
	case "+":
		switch {
		case w.nilOperand(n, l, r):
		case l.is(TypeString) && r.is(TypeString):
			return StringType
		case l.is(TypeNumber) && r.is(TypeNumber):
			return NumberType
		case (l.is(TypeString) && r.is(TypeNumber)) || (l.is(TypeNumber) && r.is(TypeString)):
			w.report(n, certain(l, r), "%s is a %s and %s a %s: + cannot add them; to join text, convert with string(...)",
				w.text(n.Left), l.Kind, w.text(n.Right), r.Kind)
		case l.is(TypeList) && r.is(TypeList):
			return ListOf(Union(l.Elem, r.Elem))
		}
		return AnyType
	case "-", "*", "/", "%", "**", "^":
		if !w.nilOperand(n, l, r) {
			w.needNumber(n.Left, l, n.Operator)
			w.needNumber(n.Right, r, n.Operator)
		}
		return NumberType
	}
	return AnyType
}

// nilOperand reports an operand that is always nil, which no arithmetic or
// ordering accepts.
func (w *typeWalk) nilOperand(n *ast.BinaryNode, l, r *Type) bool {
	for _, side := range []struct {
		n ast.Node
		t *Type
	}{{n.Left, l}, {n.Right, r}} {
		if side.t.is(TypeNil) {
			other := r
			if side.n == n.Right {
				other = l
			}
			w.report(n, certain(side.t), "%s is nil here, and nil %s %s cannot work", w.text(side.n), n.Operator, other)
			return true
		}
	}
	return false
}

func (w *typeWalk) comparable(n *ast.BinaryNode, l, r *Type) {
	if w.nilOperand(n, l, r) || !l.known() || !r.known() {
		return
	}
	ok := (l.is(TypeNumber) && r.is(TypeNumber)) || (l.is(TypeString) && r.is(TypeString))
	if !ok {
		hint := ""
		if l.is(TypeString) || r.is(TypeString) {
			hint = "; convert text to a number with float(...)"
		}
		w.report(n, certain(l, r), "%s is a %s and %s a %s: %s cannot compare them%s",
			w.text(n.Left), l.Kind, w.text(n.Right), r.Kind, n.Operator, hint)
	}
}

func (w *typeWalk) needNumber(n ast.Node, t *Type, op string) {
	if t.known() && !t.is(TypeNumber) {
		w.report(n, certain(t), "%s is a %s, and %s needs numbers", w.text(n), t.Kind, op)
	}
}

// predicates are the built-ins whose second argument runs once per item.
var predicates = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "map": true, "find": true,
	"findIndex": true, "findLast": true, "findLastIndex": true, "count": true, "sum": true,
	"groupBy": true, "sortBy": true, "reduce": true,
}

// call types a built-in function call from its documented result.
func (w *typeWalk) call(name string, args []ast.Node) *Type {
	var first *Type
	for i, a := range args {
		if i == 1 && predicates[name] {
			elem := AnyType
			if first.is(TypeList) && first.Elem != nil {
				elem = first.Elem
			}
			w.pointers = append(w.pointers, elem)
			t := w.walk(a)
			w.pointers = w.pointers[:len(w.pointers)-1]
			if name == "map" {
				return ListOf(t)
			}
			continue
		}
		t := w.walk(a)
		if i == 0 {
			first = t
		}
	}
	switch name {
	case "filter", "sort", "sortBy", "take", "reverse", "uniq":
		if first.is(TypeList) {
			return first
		}
	case "first", "last", "find", "findLast":
		if first.is(TypeList) && first.Elem != nil {
			return first.Elem
		}
	}
	if f, ok := exprFunctions[name]; ok {
		return resultType(f.Result)
	}
	return AnyType
}

func resultType(kind TypeKind) *Type {
	switch kind {
	case TypeBool:
		return BoolType
	case TypeNumber:
		return NumberType
	case TypeString:
		return StringType
	case TypeList:
		return ListOf(AnyType)
	case TypeMap:
		return OpenMapOf(nil)
	}
	return AnyType
}
