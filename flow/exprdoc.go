package flow

// ExprDoc describes the expression language as a flow sees it, for people:
// the designer's completion and hover, and the docs. The compiler itself
// takes its environment from exprEnv and its functions from expr-lang; a
// test keeps this list and expr-lang's in step.
type ExprDoc struct {
	Variables []ExprVariable `json:"variables"`
	Functions []ExprFunction `json:"functions"`
}

// ExprVariable is one root of the environment (request, nodes, ...).
type ExprVariable struct {
	Name   string      `json:"name"`
	Type   string      `json:"type"`
	Doc    string      `json:"doc"`
	Fields []ExprField `json:"fields,omitempty"` // the fields it always has
}

// ExprField is a field of a variable.
type ExprField struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

// ExprFunction is one built-in function.
type ExprFunction struct {
	Name      string `json:"name"`
	Signature string `json:"signature"`
	Doc       string `json:"doc"`
	// Result is the kind of value it gives, for the type checker.
	Result TypeKind `json:"result"`
}

// Expressions is the description of the expression language that
// FLOW-FORMAT.md specifies.
var Expressions = ExprDoc{
	Variables: []ExprVariable{
		{Name: "request", Type: "map", Doc: "The HTTP request that started the run.", Fields: []ExprField{
			{"method", "string", `"GET", "POST", ...`},
			{"path", "string", "The path as received, without the query string."},
			{"params", "map", "Path parameters by name."},
			{"query", "map", "Query parameters, the first value of each."},
			{"headers", "map", "Request headers, by lower-case name."},
			{"body", "any", "The JSON body (or the text body); nil when empty."},
		}},
		{Name: "nodes", Type: "map", Doc: "The outputs of the nodes that ran, by node id."},
		{Name: "env", Type: "map", Doc: "The deployment's variables and secrets, by name."},
		{Name: "trace", Type: "map", Doc: "The run's trace.", Fields: []ExprField{
			{"id", "string", "This request's trace id, 32 hex digits."},
		}},
	},
	Functions: []ExprFunction{
		{"len", "len(v)", "Length of a string, array or map.", TypeNumber},
		{"sum", "sum(array[, predicate])", "Sum of the numbers, or of the predicate over the items: sum(xs, .qty * .price).", TypeNumber},
		{"map", "map(array, predicate)", `Each item transformed: map(xs, .sku); maps need parentheses: map(xs, ({"a": .a})).`, TypeList},
		{"filter", "filter(array, predicate)", "The items for which the predicate is true: filter(xs, .price > 10).", TypeList},
		{"all", "all(array, predicate)", "True if the predicate is true for every item.", TypeBool},
		{"any", "any(array, predicate)", "True if the predicate is true for some item.", TypeBool},
		{"one", "one(array, predicate)", "True if the predicate is true for exactly one item.", TypeBool},
		{"none", "none(array, predicate)", "True if the predicate is true for no item.", TypeBool},
		{"count", "count(array[, predicate])", "How many items satisfy the predicate.", TypeNumber},
		{"find", "find(array, predicate)", "The first item satisfying the predicate.", TypeAny},
		{"findIndex", "findIndex(array, predicate)", "Index of the first item satisfying the predicate.", TypeNumber},
		{"findLast", "findLast(array, predicate)", "The last item satisfying the predicate.", TypeAny},
		{"findLastIndex", "findLastIndex(array, predicate)", "Index of the last item satisfying the predicate.", TypeNumber},
		{"groupBy", "groupBy(array, predicate)", "Items grouped by the predicate's value.", TypeMap},
		{"sortBy", `sortBy(array, predicate[, "asc"|"desc"])`, "Items sorted by the predicate's value.", TypeList},
		{"sort", `sort(array[, "asc"|"desc"])`, "The array sorted.", TypeList},
		{"reduce", "reduce(array, predicate[, initial])", "A fold: reduce(xs, #acc + #, 0).", TypeAny},
		{"upper", "upper(s)", "Upper case.", TypeString},
		{"lower", "lower(s)", "Lower case.", TypeString},
		{"trim", "trim(s[, chars])", "Whitespace (or chars) removed at both ends.", TypeString},
		{"trimPrefix", "trimPrefix(s, prefix)", "s without the prefix.", TypeString},
		{"trimSuffix", "trimSuffix(s, suffix)", "s without the suffix.", TypeString},
		{"split", "split(s, sep[, n])", "The substrings between separators.", TypeList},
		{"splitAfter", "splitAfter(s, sep[, n])", "The substrings after each separator.", TypeList},
		{"replace", "replace(s, old, new)", "Every old replaced by new.", TypeString},
		{"repeat", "repeat(s, n)", "s repeated n times.", TypeString},
		{"indexOf", "indexOf(s, sub)", "Index of the first sub, -1 if none.", TypeNumber},
		{"lastIndexOf", "lastIndexOf(s, sub)", "Index of the last sub, -1 if none.", TypeNumber},
		{"hasPrefix", "hasPrefix(s, prefix)", "True if s starts with prefix.", TypeBool},
		{"hasSuffix", "hasSuffix(s, suffix)", "True if s ends with suffix.", TypeBool},
		{"int", "int(v)", "An integer from a number or string.", TypeNumber},
		{"float", "float(v)", "A float from a number or string.", TypeNumber},
		{"string", "string(v)", "The string form of v.", TypeString},
		{"abs", "abs(n)", "Absolute value.", TypeNumber},
		{"ceil", "ceil(n)", "Smallest integer >= n.", TypeNumber},
		{"floor", "floor(n)", "Largest integer <= n.", TypeNumber},
		{"round", "round(n)", "Nearest integer.", TypeNumber},
		{"max", "max(a, b...)", "Largest argument or item.", TypeNumber},
		{"min", "min(a, b...)", "Smallest argument or item.", TypeNumber},
		{"mean", "mean(array)", "Average.", TypeNumber},
		{"median", "median(array)", "Median.", TypeNumber},
		{"now", "now()", "The current time.", TypeAny},
		{"duration", "duration(s)", `A duration from "1h30m".`, TypeAny},
		{"date", "date(s[, layout[, tz]])", "A time parsed from a string.", TypeAny},
		{"timezone", "timezone(name)", "A time zone.", TypeAny},
		{"toJSON", "toJSON(v)", "JSON text of v.", TypeString},
		{"fromJSON", "fromJSON(s)", "The value parsed from JSON text.", TypeAny},
		{"toBase64", "toBase64(s)", "Base64 encoding.", TypeString},
		{"fromBase64", "fromBase64(s)", "Base64 decoding.", TypeString},
		{"first", "first(array)", "The first item, nil if empty.", TypeAny},
		{"last", "last(array)", "The last item, nil if empty.", TypeAny},
		{"get", "get(v, key)", "v[key], nil if missing.", TypeAny},
		{"take", "take(array, n)", "The first n items.", TypeList},
		{"keys", "keys(map)", "The keys of a map.", TypeList},
		{"values", "values(map)", "The values of a map.", TypeList},
		{"toPairs", "toPairs(map)", "[[key, value], ...].", TypeList},
		{"fromPairs", "fromPairs(array)", "A map from [[key, value], ...].", TypeMap},
		{"type", "type(v)", "The type name of v.", TypeString},
		{"concat", "concat(a, b...)", "Arrays joined.", TypeList},
		{"flatten", "flatten(array)", "Nested arrays flattened.", TypeList},
		{"uniq", "uniq(array)", "Duplicates removed.", TypeList},
		{"join", "join(array[, sep])", "Strings joined.", TypeString},
		{"reverse", "reverse(array)", "Items in reverse order.", TypeList},
		{"bitand", "bitand(a, b)", "Bitwise and of two integers.", TypeNumber},
		{"bitor", "bitor(a, b)", "Bitwise or of two integers.", TypeNumber},
		{"bitxor", "bitxor(a, b)", "Bitwise exclusive or of two integers.", TypeNumber},
		{"bitnand", "bitnand(a, b)", "Bitwise and-not: a & ^b.", TypeNumber},
		{"bitnot", "bitnot(a)", "Bitwise complement of an integer.", TypeNumber},
		{"bitshl", "bitshl(a, n)", "a shifted left by n bits.", TypeNumber},
		{"bitshr", "bitshr(a, n)", "a shifted right by n bits, keeping the sign.", TypeNumber},
		{"bitushr", "bitushr(a, n)", "a shifted right by n bits, as unsigned.", TypeNumber},
	},
}

// exprFunctions is Expressions.Functions by name.
var exprFunctions = func() map[string]ExprFunction {
	m := make(map[string]ExprFunction, len(Expressions.Functions))
	for _, f := range Expressions.Functions {
		m[f.Name] = f
	}
	return m
}()
