package flow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowline/flowline/flow"
	"github.com/flowline/flowline/flow/nodes"
)

func analyze(t *testing.T, doc string, samples map[string]any) flow.Analysis {
	t.Helper()
	d, err := flow.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return flow.Analyze(d, nodes.Registry(), samples)
}

// orders is the README's orders flow with an expression to vary.
func orders(cond string) string {
	c, _ := json.Marshal(cond)
	return `{"version":1,"name":"orders","nodes":[
	 {"id":"start","type":"trigger.http","config":{"method":"POST","path":"/orders/:shop"}},
	 {"id":"set_1","type":"set","config":{"fields":[{"name":"total","value":"sum(request.body.items, .qty * .price)"},{"name":"shop","value":"request.params.shop"}]}},
	 {"id":"big","type":"if","config":{"condition":` + string(c) + `}},
	 {"id":"yes","type":"response","config":{"body":"nodes.set_1"}},
	 {"id":"no","type":"response","config":{"status":202}}],
	"edges":[{"from":"start","to":"set_1"},{"from":"set_1","to":"big"},{"from":"big","to":"yes","port":"true"},{"from":"big","to":"no","port":"false"}]}`
}

func TestAnalyzeTypes(t *testing.T) {
	a := analyze(t, orders("nodes.set_1.total > 100"), nil)
	if len(a.Problems) != 0 {
		t.Fatalf("problems: %v", a.Problems)
	}
	set := a.Types["set_1"]
	if set.Kind != flow.TypeMap || set.Fields["total"].Kind != flow.TypeNumber || set.Fields["shop"].Kind != flow.TypeString || set.Open {
		t.Errorf("set_1's type = %+v", set)
	}
	if p := a.Types["start"].Fields["params"]; p.Fields["shop"] == nil {
		t.Errorf("request.params = %+v", p)
	}
	if a.Types["big"].Kind != flow.TypeBool {
		t.Errorf("if's type = %+v", a.Types["big"])
	}
}

func TestAnalyzeProblems(t *testing.T) {
	for _, tc := range []struct {
		cond, want string
		sev        flow.Severity
		at         string // the underlined text
	}{
		{"nodes.set_1.totl > 100", `has no field "totl"; did you mean "total"?`, flow.SeverityWarning, "totl"},
		{"nodes.set_1.totl > 100", "`nodes.set_1.totl` is nil here, and nil > number cannot work", flow.SeverityError, "nodes.set_1.totl > 100"},
		{"nodes.sett_1.total > 1", `there is no node "sett_1" in this flow; did you mean "set_1"?`, flow.SeverityWarning, "sett_1"},
		{"nodes.set_1.shop > 100", "is a string and `100` a number", flow.SeverityError, "nodes.set_1.shop > 100"},
		{"nodes.set_1.total", "the condition gives a number, not a bool", flow.SeverityError, ""},
		{"nodes.set_1.total.x == 1", `is a number; it has no field "x"`, flow.SeverityError, "nodes.set_1.total.x"},
		{"request.params.shp == \"a\"", `did you mean "shop"?`, flow.SeverityWarning, "shp"},
		{"big order", `To write text, put it in quotes: "big order"`, flow.SeverityError, "order"},
		{"nodes.set_1.total >", "the expression ends too early", flow.SeverityError, ""},
	} {
		a := analyze(t, orders(tc.cond), nil)
		var found *flow.Problem
		for i, p := range a.Problems {
			if strings.Contains(p.Message, tc.want) {
				found = &a.Problems[i]
			}
		}
		if found == nil {
			t.Errorf("%s: no problem with %q in %v", tc.cond, tc.want, a.Problems)
			continue
		}
		if found.Node != "big" || found.Field != "condition" || found.Severity != tc.sev {
			t.Errorf("%s: problem %+v", tc.cond, found)
		}
		if tc.at != "" && (found.At == nil || string([]rune(tc.cond)[found.At.From:found.At.To]) != tc.at) {
			t.Errorf("%s: at %+v, want %q", tc.cond, found.At, tc.at)
		}
	}
}

func TestAnalyzeSamplesAndSchemas(t *testing.T) {
	doc := `{"version":1,"name":"v","nodes":[
	 {"id":"start","type":"trigger.http","config":{"method":"POST","path":"/v"}},
	 {"id":"check","type":"validate","config":{"schema":{"type":"object","properties":{"email":{"type":"string"},"age":{"type":"integer"}}}}},
	 {"id":"call","type":"http.request","config":{"method":"GET","url":"\"http://x\""}},
	 {"id":"done","type":"response","config":{"body":"{\"a\": request.body.emial, \"b\": nodes.call.body.nme, \"c\": nodes.call.status + 1, \"d\": request.body.age - 1}"}}],
	"edges":[{"from":"start","to":"check"},{"from":"check","to":"call"},{"from":"call","to":"done"}]}`
	a := analyze(t, doc, map[string]any{"call": map[string]any{"status": 200.0, "headers": map[string]any{}, "body": map[string]any{"name": "x"}}})
	var msgs []string
	for _, p := range a.Problems {
		msgs = append(msgs, string(p.Severity)+": "+p.Message)
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		`warning: the schema of ` + "`request.body`" + ` has no property "emial"; did you mean "email"?`,
		`warning: ` + "`nodes.call.body`" + ` had no field "nme" in the last test run; did you mean "name"?`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if len(a.Problems) != 2 {
		t.Errorf("want 2 problems, got\n%s", got)
	}
	if b := a.Types["call"].Fields["body"]; b.Fields["name"] == nil {
		t.Errorf("call's body = %+v", b)
	}
}

// TestAnalyzeGuessesWarn: types known only from a schema or a test run may
// not hold (a request that failed validation, another run), so what they
// show is a warning, never an error.
func TestAnalyzeGuessesWarn(t *testing.T) {
	doc := `{"version":1,"name":"v","nodes":[
	 {"id":"start","type":"trigger.http","config":{"method":"POST","path":"/v"}},
	 {"id":"check","type":"validate","config":{"schema":{"type":"object","properties":{"email":{"type":"string"}}}}},
	 {"id":"done","type":"response","config":{"body":"{\"a\": request.body.email > 1, \"b\": request.body.emial.x, \"c\": request.query.n > 1}"}}],
	"edges":[{"from":"start","to":"check"},{"from":"check","to":"done"}]}`
	a := analyze(t, doc, nil)
	if len(a.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", a.Problems)
	}
	for _, p := range a.Problems {
		if p.Severity != flow.SeverityWarning {
			t.Errorf("%v: want a warning", p)
		}
	}
}
