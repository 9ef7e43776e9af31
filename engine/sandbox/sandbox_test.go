package sandbox_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/sandbox"
)

func TestCodeRuns(t *testing.T) {
	r := runCode(t, `
		const a = request.body.a, b = request.body.b;
		log.info("calc", a, b, {k: [1, "x"]}, null, undefined, "s");
		log.warn(new TypeError("bad"));
		return { sum: a + b, tags: ["x", String(a)], when: new Date(0), skip: undefined, f() {}, nan: NaN, nested: [undefined, () => 1] };`,
		0, `{"a": 2, "b": 3}`)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := json.Marshal(r.Out)
	want := `{"nan":null,"nested":[null,null],"sum":5,"tags":["x","2"],"when":"1970-01-01T00:00:00.000Z"}`
	if string(got) != want {
		t.Errorf("output %s, want %s", got, want)
	}
	var lines []string
	for _, l := range r.Res.Logs {
		if l.Node == "calc" {
			lines = append(lines, l.Level+": "+l.Message)
		}
	}
	wantLines := []string{`info: calc 2 3 {"k":[1,"x"]} null undefined s`, "warn: TypeError: bad"}
	if strings.Join(lines, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("log lines\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(wantLines, "\n"))
	}
}

func TestCodeOutputs(t *testing.T) {
	for src, want := range map[string]string{
		`return undefined`:                        `null`,
		`return`:                                  `null`,
		`return 1.5`:                              `1.5`,
		`return "s"`:                              `"s"`,
		`return [1, , 3]`:                         `[1,null,3]`,
		`return {toJSON() { return "j" }}`:        `"j"`,
		`return new Map([[1, 2]])`:                `{}`,
		`return Object.create({inherited: 1})`:    `{}`,
		`return {"__proto__": 1, a: 2}`:           `{"a":2}`,
		`return JSON.parse('{"__proto__": 1}')`:   `{"__proto__":1}`,
		`return [new Number(3), new String("s")]`: `[3,"s"]`,
		`return nodes.start.method`:               `"POST"`,
		`return Object.keys(nodes)`:               `["start"]`,
		`return typeof nodes.done`:                `"undefined"`,
		`return env`:                              `{}`,
		`return /^[0-9a-f]{32}$/.test(trace.id)`:  `true`,
		`return this === undefined`:               `true`,
		"const a = 1, b = {toString() { return 'B' }, valueOf() { return 'V' }}; return `x${a}y${b}z${[1, 2]}w${`${a}${b}`}`":     `"x1yBz1,2w1B"`,
		"const o = []; const f = (x) => { o.push(x); return x }; return `${f(1)}-${f(2)}-${f(3)}` + o.join('')":                   `"1-2-3123"`,
		`return RegExp("a+").test("aa") && new RegExp(/b/g).flags === "g" && /x/ instanceof RegExp && /y/.constructor === RegExp`: `true`,
		`return new (class R extends RegExp {})("c").test("c")`:                                                                   `true`,
		`return "abc".match("b")[0] + "abcb".search("c") + [..."abab".matchAll("a")].length`:                                      `"b22"`,
		`return JSON.parse('{"a": [1, {"b": 2}]}', (k, v) => typeof v === "number" ? v * 10 : v).a[1].b`:                          `20`,
		`return [1, [2, [3]]].join("-") + [1, 2].toString() + String([null, undefined, 3]) + [1, 2].toLocaleString()`:             `"1-2,31,2,,31,2"`,
		`return "a-b-c".split("-").concat(["d"]).flat().length + "x".repeat(3).padEnd(5, "y") + "aXbX".replaceAll("X", "$&$&")`:   `"4xxxyyaXXbXX"`,
		`return JSON.stringify({a: [1, "x", {b: null}], d: new Date(0)}, null, 2).length`:                                         `95`,
		`const a = [3, 1, 2]; a.sort(); return [...a, ...new Set([1, 1]), Math.max(...a), Array.from({length: 2}, (_, i) => i)]`:  `[1,2,3,1,3,[0,1]]`,
	} {
		r := runCode(t, src, 0, `{}`)
		if r.Err != nil {
			t.Errorf("%s: %v", src, r.Err)
			continue
		}
		got, _ := json.Marshal(r.Out)
		if string(got) != want {
			t.Errorf("%s: got %s, want %s", src, got, want)
		}
	}
}

// TestCodeFailures: every way a source can go wrong fails the node with a
// message, and never the process.
func TestCodeFailures(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		timeoutMS int
		want      string // regexp of the message; allocation-heavy sources may
		// meet the memory watchdog before a builtin's own guard on a busy
		// machine, and either way the node fails, which is what counts
	}{
		{"error", `throw new Error("negative a")`, 0, `^negative a$`},
		{"type error", `null.x`, 0, `^TypeError: `},
		{"non-error", `throw {toString() { return "custom" }}`, 0, `^custom$`},
		{"string", `throw "plain"`, 0, `^plain$`},
		{"number", `throw 42`, 0, `^42$`},
		{"timeout", `while (true) {}`, 100, `longer than its timeout of 100ms`},
		{"timeout in catch", `for (;;) { try { while (true) {} } catch (e) {} }`, 100, `timeout`},
		{"recursion", `function f() { return f() + 1 } return f()`, 0, `maximum call depth`},
		{"recursion through builtins", `function f() { return [1].map(f) } return f()`, 0, `maximum call depth`},
		{"recursion caught", `function f() { try { return f() } catch (e) { return f() } } return f()`, 200, `call depth|timeout`},
		{"cycle", `const o = {}; o.o = o; return o`, 0, `cycle`},
		{"huge output", `return new Array(2000000).fill(1)`, 0, `at most`},
		{"string memory", `let s = "x"; while (true) s += s;`, 5000, `memory|at most|longer than|abandoned`},
		{"array memory", `const a = []; while (true) a.push("xxxxxxxxxxxxxxxx" + a.length);`, 5000, `memory|at most|longer than|abandoned`},
		{"object memory", `const a = []; for (let i = 0; ; i++) a[i] = {i, s: "x".repeat(100)};`, 5000, `memory|at most|longer than|abandoned`},
		{"template memory", "let s = 'x'.repeat(1 << 24); return `" + strings.Repeat("${s}", 200) + "`.length", 5000, `memory|longer than|abandoned`},
		{"repeat", `return "x".repeat(2 ** 40).length`, 0, `RangeError: .*at most`},
		{"pad", `return "".padEnd(2 ** 31, "x").length`, 0, `RangeError: .*at most`},
		{"fill", `return new Array(2 ** 32 - 1).fill(0).length`, 0, `RangeError: .*at most`},
		{"join sparse", `return new Array(2 ** 32 - 1).join("x").length`, 0, `RangeError`},
		{"join big", `return new Array(1000).fill("x".repeat(100000)).join("").length`, 5000, `RangeError|memory|abandoned`}, // one builtin call: under the race detector it may outlast the grace
		{"array from", `return Array.from({length: 2 ** 32 - 1}).length`, 0, `RangeError`},
		{"array like", `return Array.prototype.indexOf.call({length: 2 ** 53 - 1}, 1)`, 0, `RangeError`},
		{"spread", `const a = []; a.length = 2 ** 32 - 1; return [...a].length`, 0, `RangeError`},
		{"spread call", `const a = []; a.length = 2 ** 32 - 1; return Math.max(...a)`, 0, `RangeError`},
		{"apply", `return Math.max.apply(null, {length: 2 ** 32 - 1})`, 0, `RangeError`},
		{"replace quadratic", "return \"a\".repeat(1e5).replace(/(?=a)/g, \"$`\").length", 0, `RangeError|memory`},
		{"replace all", `const s = "a".repeat(1e5); return s.replaceAll("", s).length`, 0, `RangeError|memory`},
		{"replace fn", `const s = "a".repeat(1e5); return s.replaceAll("", () => s).length`, 0, `RangeError|memory`},
		{"stringify dag", `let a = [1]; for (let i = 0; i < 40; i++) a = [a, a]; return JSON.stringify(a).length`, 5000, `RangeError|longer than`},
		{"stringify deep", `let a = []; for (let i = 0; i < 5000; i++) a = [a]; return JSON.stringify(a).length`, 0, `RangeError`},
		{"join deep", `let a = []; for (let i = 0; i < 5000; i++) a = [a]; return String(a).length`, 0, `RangeError`},
		{"flat deep", `let a = []; for (let i = 0; i < 5000; i++) a = [a]; return a.flat(Infinity).length`, 0, `RangeError`},
		{"backtracking", `return /(a+)+\1$/.test("a".repeat(40) + "!")`, 5000, `^$`},
		{"regexp compile", `return new RegExp("(?=".repeat(1e5) + "a" + ")".repeat(1e5)).test("a")`, 0, `RangeError: .*regular expressions`},
		{"regexp constructor", `return /x/.constructor("(?=".repeat(1e5)).source`, 0, `RangeError: .*regular expressions`},
		{"regexp search", `return "a".search("(?=".repeat(1e5))`, 0, `RangeError: .*regular expressions`},
		{"json parse deep", `return JSON.parse("[".repeat(5e6) + "]".repeat(5e6)).length`, 0, `RangeError: .*nested`},
		{"string raw", `const s = "x".repeat(1 << 24); return String.raw({raw: ["", "", "", ""]}, s, s, s).length`, 0, `RangeError|memory`},
		{"eval", `return eval("1")`, 0, `eval is not available`},
		{"indirect eval", `return (0, eval)("1")`, 0, `eval is not available`},
		{"function", `return Function("return this")()`, 0, `Function constructor is not available`},
		{"function via constructor", `return (() => 1).constructor("return this")()`, 0, `Function constructor is not available`},
		{"generator function", `return Object.getPrototypeOf(function*(){}).constructor("yield 1")`, 0, `GeneratorFunction constructor`},
		{"async function", `return (async () => 1).constructor("return 1")`, 0, `AsyncFunction constructor`},
		{"require", `return require("fs")`, 0, `ReferenceError: require is not defined`},
		{"process", `return process.env`, 0, `ReferenceError: process is not defined`},
		{"dollar", `return $.respond(200, null, "pwned")`, 0, `ReferenceError: \$ is not defined`},
		{"globalThis dollar", `return globalThis.$.respond(200, null, "pwned")`, 0, `TypeError`},
		{"sloppy global", `return Function.prototype.constructor("return $")()`, 0, `not available`},
		{"typed arrays", `return new ArrayBuffer(2 ** 33)`, 0, `ReferenceError: ArrayBuffer is not defined`},
		{"bigint global", `return BigInt(2) ** BigInt(1e9)`, 0, `ReferenceError: BigInt is not defined`},
		{"strict", `undeclared = 1; return undeclared`, 0, `ReferenceError`},
		{"frozen input", `Object.freeze(request); request.x = 1`, 0, `TypeError`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.timeoutMS == 0 {
				tc.timeoutMS = 5000 // room for the race detector's pace
			}
			var r enginetest.NodeRun
			enginetest.WithTimeout(t, 30*time.Second, func() { r = runCode(t, tc.src, tc.timeoutMS, `{"a": 1}`) })
			if tc.want == `^$` { // must simply finish
				return
			}
			if r.Err == nil {
				t.Fatalf("succeeded with %v, want an error matching %s", r.Out, tc.want)
			}
			if !regexp.MustCompile(tc.want).MatchString(r.Err.Error()) {
				t.Errorf("error %q does not match %s", r.Err, tc.want)
			}
			if r.Res.Response.Status != 500 {
				t.Errorf("status %d, want 500", r.Res.Response.Status)
			}
		})
	}
}

// TestCodeSourcesRefused: a source that is not a function body, or that
// the sandbox cannot run safely, is refused when it compiles.
func TestCodeSourcesRefused(t *testing.T) {
	for name, src := range map[string]string{
		"empty":            "  \n",
		"closes function":  "return 1; }); $.respond(200, null, 'pwned'); (function() {",
		"closes function2": "}",
		"unbalanced paren": ")",
		"open comment":     "return 1 /*",
		"comment close":    "*/ return 1",
		"unclosed string":  "return 'x",
		"unclosed tmpl":    "return `x",
		"strict with":      "with (request) { return body }",
		"strict octal":     "return 010",
		"bigint":           "return 2n ** 64n",
		"too long":         "return 1;" + strings.Repeat(" ", sandbox.MaxSource),
		"deep nesting":     "return " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"bad utf8":         "return '\xff'",
		"import":           "import fs from 'fs'",
	} {
		t.Run(name, func(t *testing.T) {
			err := sandbox.CheckSource(src)
			if err == nil {
				t.Fatalf("source %.60q accepted", src)
			}
			if _, err := sandbox.New(sandbox.Spec{Source: src}); err == nil {
				t.Fatalf("source %.60q compiled", src)
			}
		})
	}
	for name, src := range map[string]string{
		"line comment at end": "return 1 // done",
		"script close":        "return '</script>'",
		"line separator":      "return 'a\u2028b'",
		"backticks":           "return `a${1}b`",
		"comment markers":     "/* } ) */ return '*/'",
		"use strict again":    "'use strict'; return 1",
		"directive only":      "return",
	} {
		t.Run(name, func(t *testing.T) {
			if err := sandbox.CheckSource(src); err != nil {
				t.Fatalf("source %q refused: %v", src, err)
			}
		})
	}
}

// TestCodeNoStateBetweenRuns: a run never sees what another left behind.
// Realms are reused, so everything a run could write to outside its own
// objects is frozen: the write throws, and the next run does not see it.
func TestCodeNoStateBetweenRuns(t *testing.T) {
	for name, c := range map[string]struct{ read, write string }{
		"global":      {`globalThis.counter`, `globalThis.counter = (globalThis.counter || 0) + 1`},
		"this global": {`globalThis.viaThis`, `(function() { this.viaThis = 1 }).call(globalThis)`},
		"prototype":   {`({}).leak`, `Object.prototype.leak = 1`},
		"define":      {`({}).defined`, `Object.defineProperty(Object.prototype, "defined", {value: 1})`},
		"array proto": {`[].leak`, `Array.prototype.leak = 1`},
		"builtin":     {`JSON.leak`, `JSON.leak = 1`},
		"replace":     {`Math.max(1, 2) === 7 ? 1 : undefined`, `Math.max = () => 7`},
		"delete":      {`typeof JSON.parse === "function" ? undefined : 1`, `delete JSON.parse`},
		"iterator":    {`Object.getPrototypeOf([][Symbol.iterator]()).leak`, `Object.getPrototypeOf([][Symbol.iterator]()).leak = 1`},
		"generator":   {`Object.getPrototypeOf(function*(){}).leak`, `Object.getPrototypeOf(function*(){}).leak = 1`},
		"symbol":      {`globalThis[Symbol.for("k")]`, `globalThis[Symbol.for("k")] = 1`},
		"log":         {`log.leak`, `log.leak = 1`},
		"setproto":    {`Object.getPrototypeOf(Array.prototype) === Object.prototype ? undefined : 1`, `Object.setPrototypeOf(Array.prototype, null)`},
		"error name":  {`Error.prototype.name === "Error" ? undefined : 1`, `Error.prototype.name = "Leak"`},
	} {
		t.Run(name, func(t *testing.T) {
			src := "const seen = " + c.read + ";\nlet threw = false;\ntry { " + c.write + " } catch (e) { threw = e instanceof TypeError }\nreturn {seen: seen === undefined, threw}"
			code, err := sandbox.New(sandbox.Spec{Source: src})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				r := enginetest.RunNode(t, engine.Options{}, "", `{"x": 1}`, func(x *engine.Exec) (any, error) { return code.Run(x) })
				if b, _ := json.Marshal(r.Out); r.Err != nil || string(b) != `{"seen":true,"threw":true}` {
					t.Fatalf("run %d: %s %v", i, b, r.Err)
				}
			}
		})
	}
	// What a run makes of its own is its own, and gone the next time.
	code, _ := sandbox.New(sandbox.Spec{Source: `const seen = request.body.leak; request.body.leak = 1; nodes.x = 1; return seen === undefined`})
	for i := 0; i < 3; i++ {
		r := enginetest.RunNode(t, engine.Options{}, "", `{"x": 1}`, func(x *engine.Exec) (any, error) { return code.Run(x) })
		if r.Err != nil || r.Out != true {
			t.Fatalf("run %d: %v %v", i, r.Out, r.Err)
		}
	}
}

// TestCodeOverrides: frozen builtins still let instances shadow what
// they inherit, as ordinary code expects.
func TestCodeOverrides(t *testing.T) {
	r := runCode(t, `
		class NotFound extends Error { constructor(m) { super(m); this.name = "NotFound"; } }
		const o = {}; o.toString = () => "custom"; o.valueOf = () => 7;
		const e = new NotFound("gone");
		return {str: String(o), num: +o, name: e.name, msg: String(e), frozen: Object.isFrozen(globalThis) && Object.isFrozen(Array.prototype)}`, 0, `{}`)
	if b, _ := json.Marshal(r.Out); r.Err != nil || string(b) != `{"frozen":true,"msg":"NotFound: gone","name":"NotFound","num":7,"str":"custom"}` {
		t.Fatalf("%s %v", b, r.Err)
	}
	r = runCode(t, `class NotFound extends Error { constructor(m) { super(m); this.name = "NotFound"; } }; throw new NotFound("gone")`, 0, `{}`)
	if r.Err == nil || r.Err.Error() != "NotFound: gone" {
		t.Fatalf("error %v", r.Err)
	}
}

// TestCodeRealmsRecover: after runs that were interrupted or overflowed,
// runs go on as usual.
func TestCodeRealmsRecover(t *testing.T) {
	for i := 0; i < 3; i++ {
		if r := runCode(t, `while (true) {}`, 20, `{}`); r.Err == nil {
			t.Fatal("loop ended")
		}
		if r := runCode(t, `function f() { return f() } return f()`, 0, `{}`); r.Err == nil {
			t.Fatal("recursion ended")
		}
		if r := runCode(t, `Promise.resolve().then(() => { while (true) {} }); return 1`, 20, `{}`); r.Err == nil {
			t.Fatal("job loop ended")
		}
		if r := runCode(t, `return request.body.n + 1`, 0, `{"n": 1}`); r.Err != nil || r.Out != 2.0 {
			t.Fatalf("run after failures: %v %v", r.Out, r.Err)
		}
	}
}

// TestCodeConcurrent runs sources side by side (with -race in CI).
func TestCodeConcurrent(t *testing.T) {
	code, _ := sandbox.New(sandbox.Spec{Source: `log.info("n", request.body.n); let s = 0; for (let i = 0; i < 1000; i++) s += i; return request.body.n + s`})
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		go func(n int) {
			r := enginetest.RunNode(t, engine.Options{}, "", `{"n": `+strconv.Itoa(n)+`}`, func(x *engine.Exec) (any, error) { return code.Run(x) })
			if r.Err == nil && r.Out != float64(n+499500) {
				r.Err = fmt.Errorf("run %d gave %v", n, r.Out)
			}
			errs <- r.Err
		}(i)
	}
	for i := 0; i < 32; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCodeInputsCopied: a source changes its copies, never the Go side.
func TestCodeInputsCopied(t *testing.T) {
	code, _ := sandbox.New(sandbox.Spec{Source: `request.body.items.push(9); request.body.name = "x"; env.K = "v"; return {body: nodes.start.body, same: nodes.start === request}`})
	r := enginetest.RunNode(t, engine.Options{Env: map[string]string{"K": "k"}}, "", `{"items": [1], "name": "n"}`, func(x *engine.Exec) (any, error) {
		out, err := code.Run(x)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(x.Request()["body"])
		if string(b) != `{"items":[1],"name":"n"}` {
			t.Errorf("request changed to %s", b)
		}
		if x.Env()["K"] != "k" {
			t.Errorf("env changed to %v", x.Env())
		}
		return out, nil
	})
	if b, _ := json.Marshal(r.Out); string(b) != `{"body":{"items":[1,9],"name":"x"},"same":true}` {
		t.Errorf("output %s", b)
	}
}

// TestCodeDeadline: the request's deadline stops a run, as a 504.
func TestCodeDeadline(t *testing.T) {
	code, _ := sandbox.New(sandbox.Spec{Source: `while (true) {}`, TimeoutMS: 10000})
	start := time.Now()
	r := enginetest.RunNode(t, engine.Options{Deadline: 150 * time.Millisecond}, "", `{}`, func(x *engine.Exec) (any, error) { return code.Run(x) })
	if r.Res.Response.Status != 504 || time.Since(start) > 2*time.Second {
		t.Fatalf("status %d after %v: %v", r.Res.Response.Status, time.Since(start), r.Err)
	}
}

// TestCodeLogLimits: a run logs at most so many lines, each cut to a size.
func TestCodeLogLimits(t *testing.T) {
	r := runCode(t, `log.info("x".repeat(100000)); for (let i = 0; i < 2000; i++) log.debug(i); return 1`, 0, `{}`)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	n := 0
	for _, l := range r.Res.Logs {
		if l.Node == "calc" {
			n++
			if len(l.Message) > 70000 {
				t.Errorf("line of %d bytes", len(l.Message))
			}
		}
	}
	if n != 1001 {
		t.Errorf("%d lines logged, want 1000 and a note", n)
	}
}

// runCode compiles src and runs it as node calc.
func runCode(t testing.TB, src string, timeoutMS int, body string) enginetest.NodeRun {
	t.Helper()
	code, err := sandbox.New(sandbox.Spec{Source: src, TimeoutMS: timeoutMS})
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return enginetest.RunNode(t, engine.Options{}, "", body, func(x *engine.Exec) (any, error) { return code.Run(x) })
}
