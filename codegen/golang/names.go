package golang

import (
	"go/token"
	"strconv"
	"strings"
)

// namer hands out package-level identifiers, each once. A name already
// taken gets the smallest number that makes it unique (calcTotal2), so the
// names depend only on the order they are asked for.
type namer struct {
	used map[string]bool
}

// reserved are the identifiers generated code uses itself, and Go's
// predeclared ones; keywords are refused by token.IsKeyword.
var reserved = []string{
	"main", "handle", "manifest", "runtime", "x", "v", "ok", "err", "out", "port",
	"any", "bool", "byte", "comparable", "complex64", "complex128", "error", "float32", "float64",
	"int", "int8", "int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
	"true", "false", "iota", "nil",
	"append", "cap", "clear", "close", "complex", "copy", "delete", "imag", "len", "make", "max", "min",
	"new", "panic", "print", "println", "real", "recover",
}

func newNamer() *namer {
	n := &namer{used: map[string]bool{}}
	for _, r := range reserved {
		n.used[r] = true
	}
	return n
}

func (n *namer) unique(name string) string {
	if !token.IsIdentifier(name) {
		name = "n" + name
	}
	try := name
	for i := 2; n.used[try]; i++ {
		try = name + strconv.Itoa(i)
	}
	n.used[try] = true
	return try
}

// nodeBase is the start of every name of a node: its id in lower camel
// case (resp_big gives respBig, HTTPCall httpCall), or "node" when the id
// has no letters or digits.
func nodeBase(id string) string {
	w := identWords(id)
	if w == "" {
		return "node"
	}
	if w[0] >= '0' && w[0] <= '9' {
		return "n" + w
	}
	return lowerFirst(w)
}

// identWords turns s into an upper camel case identifier made of its ASCII
// letters and digits ("total amount" and "total_amount" give TotalAmount,
// "user_id" UserID); everything else only separates words. It is "" when s
// has none.
func identWords(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		if initialisms[strings.ToLower(w)] {
			b.WriteString(strings.ToUpper(w))
			continue
		}
		b.WriteString(upperFirst(w))
	}
	return b.String()
}

// initialisms are written in capitals in Go names (userURL, orderID).
var initialisms = map[string]bool{
	"api": true, "html": true, "http": true, "https": true, "id": true, "ip": true, "json": true,
	"sql": true, "uri": true, "url": true, "uuid": true, "xml": true,
}

// lowerFirst lowers a leading run of capitals as Go names do: Calc gives
// calc, HTTPCall httpCall, URL url.
func lowerFirst(s string) string {
	n := 0
	for n < len(s) && s[n] >= 'A' && s[n] <= 'Z' {
		n++
	}
	switch {
	case n == 0:
		return s
	case n == len(s) || n == 1:
		return strings.ToLower(s[:n]) + s[n:]
	case s[n] >= '0' && s[n] <= '9':
		return strings.ToLower(s[:n]) + s[n:]
	}
	return strings.ToLower(s[:n-1]) + s[n-1:]
}

func upperFirst(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-('a'-'A')) + s[1:]
	}
	return s
}
