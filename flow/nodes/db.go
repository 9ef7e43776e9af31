package nodes

import (
	"fmt"
	"strings"

	"github.com/flowline/flowline/codegen/golang"
	"github.com/flowline/flowline/codegen/js"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/sqlquery"
	"github.com/flowline/flowline/flow"
)

// DBQuery runs a SQL statement on a Postgres datasource.
type DBQuery struct{}

type dbConfig struct {
	Datasource string   `json:"datasource"`
	SQL        string   `json:"sql"`
	Params     []string `json:"params"`
	TimeoutMS  *int     `json:"timeout_ms"`
	MaxRows    *int     `json:"max_rows"`
}

func (cfg *dbConfig) spec() sqlquery.Spec {
	s := sqlquery.Spec{Datasource: cfg.Datasource, SQL: cfg.SQL, Params: len(cfg.Params)}
	if cfg.TimeoutMS != nil {
		s.TimeoutMS = *cfg.TimeoutMS
	}
	if cfg.MaxRows != nil {
		s.MaxRows = *cfg.MaxRows
	}
	return s
}

// Spec describes db.query.
func (DBQuery) Spec() flow.Spec {
	return flow.Spec{
		Type:     "db.query",
		Title:    "Database query",
		Category: "Call",
		Summary:  "{sql}",
		Description: "Runs a SQL statement on a Postgres datasource of the deployment and outputs its rows. Values " +
			"reach the statement only through its $1, $2, ... placeholders, never inside its text. A statement that " +
			"takes longer than its timeout, or returns more rows than max_rows, fails the node.",
		Ports: []string{flow.PortOut, flow.PortError},
		Fields: []flow.Field{
			{Name: "datasource", Label: "Datasource", Kind: flow.KindString, Required: true, Default: "main", Placeholder: "main",
				Description: "The name of a datasource configured on the deployment (or in the test run), which gives its Postgres URL."},
			{Name: "sql", Label: "SQL", Kind: flow.KindCode, Language: "sql", Required: true,
				Placeholder: "select id, name from products where price <= $1 order by id",
				Description: "The statement, with $1, $2, ... where the params go. Every placeholder up to the highest must be used."},
			{Name: "params", Label: "Parameters", Kind: flow.KindExprList,
				Description: "Expressions giving the values of $1, $2, ... in order; there must be exactly as many as the statement uses."},
			{Name: "timeout_ms", Label: "Timeout (ms)", Kind: flow.KindInt, Default: sqlquery.DefaultQueryTimeout.Milliseconds(),
				Description: fmt.Sprintf("How long the statement may run, in milliseconds, at most %d; it is cancelled on "+
					"the server when it takes longer.", sqlquery.MaxQueryTimeoutMS)},
			{Name: "max_rows", Label: "Max rows", Kind: flow.KindInt, Default: sqlquery.DefaultMaxRows,
				Description: fmt.Sprintf("The most rows the statement may return; more fail the node rather than being cut "+
					"off silently. At most %d.", sqlquery.MaxMaxRows)},
		},
		Output: "A list with one object per row, keyed by column name. SQL null is nil; numbers are numbers; text, uuid " +
			"and enums are strings; json is its value; arrays are lists; a date is YYYY-MM-DD; a timestamp is RFC 3339 " +
			"in UTC; bytea is base64.",
		Examples: []flow.Example{
			{Title: "Products under a price", Config: []byte(`{"datasource":"main","sql":"select id, name, price from products where price <= $1 order by id","params":["float(request.query.max)"]}`)},
		},
	}
}

// Check validates the datasource, the statement's placeholders against the
// params, the params' expressions and the limits.
func (DBQuery) Check(c *flow.Checker, n *flow.Node) {
	var cfg dbConfig
	if !c.Decode(&cfg) {
		return
	}
	report(c, cfg.spec().Check())
	if cfg.TimeoutMS != nil && *cfg.TimeoutMS == 0 {
		c.Errorf("timeout_ms", "timeout_ms must be at least 1; leave it out for the default of %d", sqlquery.DefaultQueryTimeout.Milliseconds())
	}
	if cfg.MaxRows != nil && *cfg.MaxRows == 0 {
		c.Errorf("max_rows", "max_rows must be at least 1; leave it out for the default of %d", sqlquery.DefaultMaxRows)
	}
	for i, p := range cfg.Params {
		c.Expr(fmt.Sprintf("params[%d]", i), p)
	}
}

// Binding is the node's call, for the JS host.
func (DBQuery) Binding() engine.Binding { return engine.Bind(sqlquery.New) }

// EmitJS evaluates the params and runs the statement through the host.
func (DBQuery) EmitJS(w *js.Writer, n *flow.Node) error {
	var cfg dbConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	i, err := w.Prepare(n.Type, cfg.spec())
	if err != nil {
		return err
	}
	params := make([]string, len(cfg.Params))
	for j, p := range cfg.Params {
		params[j] = w.Expr(fmt.Sprintf("params[%d]", j), p)
	}
	w.EndCall(i, params...)
	return nil
}

// EmitGo evaluates the params in order and runs the statement through the
// runtime.
func (DBQuery) EmitGo(w *golang.Writer, n *flow.Node) error {
	var cfg dbConfig
	if err := flow.DecodeConfig(n.Config, &cfg); err != nil {
		return err
	}
	q, err := w.Prepare("query", cfg.spec())
	if err != nil {
		return err
	}
	params := make([]string, len(cfg.Params))
	for i, p := range cfg.Params {
		w.Line("p%d, err := x.Eval(%s)", i, w.Expr(p, fmt.Sprintf("param%d", i)))
		w.CheckErr()
		params[i] = fmt.Sprintf("p%d", i)
	}
	w.Line("out, err := %s.Run(x, []any{%s})", q, strings.Join(params, ", "))
	w.CheckErr()
	w.Line("return out, %s, nil", golang.Quote(flow.PortOut))
	return nil
}

// OutputType is a list of rows; their columns are only known from a test
// run.
func (DBQuery) OutputType(*flow.Typing, *flow.Node) *flow.Type {
	return flow.ListOf(flow.AnyType)
}
