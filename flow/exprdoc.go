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
		{"len", "len(v)", "Length of a string, array or map."},
		{"sum", "sum(array[, predicate])", "Sum of the numbers, or of the predicate over the items: sum(xs, .qty * .price)."},
		{"map", "map(array, predicate)", `Each item transformed: map(xs, .sku); maps need parentheses: map(xs, ({"a": .a})).`},
		{"filter", "filter(array, predicate)", "The items for which the predicate is true: filter(xs, .price > 10)."},
		{"all", "all(array, predicate)", "True if the predicate is true for every item."},
		{"any", "any(array, predicate)", "True if the predicate is true for some item."},
		{"one", "one(array, predicate)", "True if the predicate is true for exactly one item."},
		{"none", "none(array, predicate)", "True if the predicate is true for no item."},
		{"count", "count(array[, predicate])", "How many items satisfy the predicate."},
		{"find", "find(array, predicate)", "The first item satisfying the predicate."},
		{"findIndex", "findIndex(array, predicate)", "Index of the first item satisfying the predicate."},
		{"findLast", "findLast(array, predicate)", "The last item satisfying the predicate."},
		{"findLastIndex", "findLastIndex(array, predicate)", "Index of the last item satisfying the predicate."},
		{"groupBy", "groupBy(array, predicate)", "Items grouped by the predicate's value."},
		{"sortBy", `sortBy(array, predicate[, "asc"|"desc"])`, "Items sorted by the predicate's value."},
		{"sort", `sort(array[, "asc"|"desc"])`, "The array sorted."},
		{"reduce", "reduce(array, predicate[, initial])", "A fold: reduce(xs, #acc + #, 0)."},
		{"upper", "upper(s)", "Upper case."},
		{"lower", "lower(s)", "Lower case."},
		{"trim", "trim(s[, chars])", "Whitespace (or chars) removed at both ends."},
		{"trimPrefix", "trimPrefix(s, prefix)", "s without the prefix."},
		{"trimSuffix", "trimSuffix(s, suffix)", "s without the suffix."},
		{"split", "split(s, sep[, n])", "The substrings between separators."},
		{"splitAfter", "splitAfter(s, sep[, n])", "The substrings after each separator."},
		{"replace", "replace(s, old, new)", "Every old replaced by new."},
		{"repeat", "repeat(s, n)", "s repeated n times."},
		{"indexOf", "indexOf(s, sub)", "Index of the first sub, -1 if none."},
		{"lastIndexOf", "lastIndexOf(s, sub)", "Index of the last sub, -1 if none."},
		{"hasPrefix", "hasPrefix(s, prefix)", "True if s starts with prefix."},
		{"hasSuffix", "hasSuffix(s, suffix)", "True if s ends with suffix."},
		{"int", "int(v)", "An integer from a number or string."},
		{"float", "float(v)", "A float from a number or string."},
		{"string", "string(v)", "The string form of v."},
		{"abs", "abs(n)", "Absolute value."},
		{"ceil", "ceil(n)", "Smallest integer >= n."},
		{"floor", "floor(n)", "Largest integer <= n."},
		{"round", "round(n)", "Nearest integer."},
		{"max", "max(a, b...)", "Largest argument or item."},
		{"min", "min(a, b...)", "Smallest argument or item."},
		{"mean", "mean(array)", "Average."},
		{"median", "median(array)", "Median."},
		{"now", "now()", "The current time."},
		{"duration", "duration(s)", `A duration from "1h30m".`},
		{"date", "date(s[, layout[, tz]])", "A time parsed from a string."},
		{"timezone", "timezone(name)", "A time zone."},
		{"toJSON", "toJSON(v)", "JSON text of v."},
		{"fromJSON", "fromJSON(s)", "The value parsed from JSON text."},
		{"toBase64", "toBase64(s)", "Base64 encoding."},
		{"fromBase64", "fromBase64(s)", "Base64 decoding."},
		{"first", "first(array)", "The first item, nil if empty."},
		{"last", "last(array)", "The last item, nil if empty."},
		{"get", "get(v, key)", "v[key], nil if missing."},
		{"take", "take(array, n)", "The first n items."},
		{"keys", "keys(map)", "The keys of a map."},
		{"values", "values(map)", "The values of a map."},
		{"toPairs", "toPairs(map)", "[[key, value], ...]."},
		{"fromPairs", "fromPairs(array)", "A map from [[key, value], ...]."},
		{"type", "type(v)", "The type name of v."},
		{"concat", "concat(a, b...)", "Arrays joined."},
		{"flatten", "flatten(array)", "Nested arrays flattened."},
		{"uniq", "uniq(array)", "Duplicates removed."},
		{"join", "join(array[, sep])", "Strings joined."},
		{"reverse", "reverse(array)", "Items in reverse order."},
		{"bitand", "bitand(a, b)", "Bitwise and of two integers."},
		{"bitor", "bitor(a, b)", "Bitwise or of two integers."},
		{"bitxor", "bitxor(a, b)", "Bitwise exclusive or of two integers."},
		{"bitnand", "bitnand(a, b)", "Bitwise and-not: a & ^b."},
		{"bitnot", "bitnot(a)", "Bitwise complement of an integer."},
		{"bitshl", "bitshl(a, n)", "a shifted left by n bits."},
		{"bitshr", "bitshr(a, n)", "a shifted right by n bits, keeping the sign."},
		{"bitushr", "bitushr(a, n)", "a shifted right by n bits, as unsigned."},
	},
}
