package sqlquery_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/engine/enginetest"
	"github.com/flowline/flowline/engine/sqlquery"
	"github.com/flowline/flowline/store/storetest"
)

// postgresDB makes a database of its own on the test Postgres (dropped at
// cleanup), runs setup in it and returns its URL. It skips when Postgres
// is unreachable, except in CI.
func postgresDB(t *testing.T, setup ...string) string {
	t.Helper()
	url, _ := storetest.Database(t, "postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range setup {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return url
}

func query(t *testing.T, s sqlquery.Spec) *sqlquery.Query {
	t.Helper()
	q, err := sqlquery.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestQuery(t *testing.T) {
	url := postgresDB(t,
		`create type mood as enum ('happy', 'sad')`,
		`create table things (
			id int primary key, big bigint, small smallint, price numeric(10,2), ratio double precision, real4 real,
			name text, code varchar(5), ok boolean, uid uuid, feel mood, doc jsonb, plain json, tags text[], nums int[],
			day date, at timestamptz, local timestamp, blob bytea, nothing text, span interval, clock time)`,
		`insert into things values (
			1, 9007199254740991, 7, 12.50, 0.25, 1.5,
			'pen', 'ab', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '{"a": [1, {"b": null}]}', '[1, 2]', '{x,y}', '{1,NULL,3}',
			'2026-01-02', '2026-01-02T03:04:05.123+02:00', '2026-01-02T03:04:05', '\xdeadbeef', null, '1 day 2 hours', '13:14:15')`,
	)
	o := engine.Options{Datasources: map[string]string{"main": url}}
	q := query(t, sqlquery.Spec{Datasource: "main", SQL: "select * from things where id = $1 and name <> $2", Params: 2})
	r := enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return q.Run(x, []any{int64(1), "x"}) })
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := json.Marshal(r.Out)
	want := `[{"at":"2026-01-02T01:04:05.123Z","big":9007199254740991,"blob":"3q2+7w==","clock":"13:14:15","code":"ab",` +
		`"day":"2026-01-02","doc":{"a":[1,{"b":null}]},"feel":"happy","id":1,"local":"2026-01-02T03:04:05Z","name":"pen",` +
		`"nothing":null,"nums":[1,null,3],"ok":true,"plain":[1,2],"price":12.5,"ratio":0.25,"real4":1.5,"small":7,` +
		`"span":"1 day 02:00:00","tags":["x","y"],"uid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}]`
	if string(got) != want {
		t.Errorf("rows\n%s\nwant\n%s", got, want)
	}
}

func TestQueryParams(t *testing.T) {
	url := postgresDB(t,
		`create table products (id int primary key, name text not null, price numeric(10,2) not null)`,
		`insert into products values (1, 'pen', 1.50), (2, 'book', 12.00), (3, 'lamp', 30.25)`)
	o := engine.Options{Datasources: map[string]string{"main": url}}
	q := query(t, sqlquery.Spec{Datasource: "main", SQL: "select id from products where price <= $1 and name <> $2 order by id", Params: 2})
	for _, c := range []struct {
		params []any
		want   string
	}{
		{[]any{20.0, ""}, `[{"id":1},{"id":2}]`},
		{[]any{int64(100), "pen' or '1'='1"}, `[{"id":1},{"id":2},{"id":3}]`},
		{[]any{1.5, "x"}, `[{"id":1}]`},
	} {
		r := enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return q.Run(x, c.params) })
		if got, _ := json.Marshal(r.Out); r.Err != nil || string(got) != c.want {
			t.Errorf("%v: %s %v, want %s", c.params, got, r.Err, c.want)
		}
	}
	// A float that is whole binds to an integer column.
	byID := query(t, sqlquery.Spec{Datasource: "main", SQL: "select name from products where id = $1", Params: 1})
	r := enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return byID.Run(x, []any{2.0}) })
	if got, _ := json.Marshal(r.Out); r.Err != nil || string(got) != `[{"name":"book"}]` {
		t.Errorf("float id: %s %v", got, r.Err)
	}
	// Nothing reaches the statement's text: the table survives.
	drop := query(t, sqlquery.Spec{Datasource: "main", SQL: "select count(*) as n from products where name = $1", Params: 1})
	r = enginetest.RunNode(t, o, "", "", func(x *engine.Exec) (any, error) { return drop.Run(x, []any{"x'; drop table products; --"}) })
	if got, _ := json.Marshal(r.Out); r.Err != nil || string(got) != `[{"n":0}]` {
		t.Errorf("injection: %s %v", got, r.Err)
	}
}

func TestQueryFailures(t *testing.T) {
	url := postgresDB(t, `create table n (i int)`, `insert into n select generate_series(1, 50)`)
	o := engine.Options{Datasources: map[string]string{"main": url}}
	for name, c := range map[string]struct {
		spec   sqlquery.Spec
		params []any
		o      engine.Options
		want   string
		status int
	}{
		"row cap":      {sqlquery.Spec{Datasource: "main", SQL: "select i from n", MaxRows: 10}, nil, o, "more than 10 rows", 500},
		"timeout":      {sqlquery.Spec{Datasource: "main", SQL: "select pg_sleep(5)", TimeoutMS: 100}, nil, o, "timed out after 100ms", 500},
		"deadline":     {sqlquery.Spec{Datasource: "main", SQL: "select pg_sleep(5)"}, nil, engine.Options{Datasources: o.Datasources, Deadline: 200 * time.Millisecond}, "", 504},
		"unknown ds":   {sqlquery.Spec{Datasource: "other", SQL: "select 1"}, nil, o, `datasource "other" is not configured`, 500},
		"sql error":    {sqlquery.Spec{Datasource: "main", SQL: "select nope from n"}, nil, o, "SQLSTATE 42703", 500},
		"bad param":    {sqlquery.Spec{Datasource: "main", SQL: "select i from n where i = $1", Params: 1}, []any{"ten"}, o, "query failed", 500},
		"unreachable":  {sqlquery.Spec{Datasource: "main", SQL: "select 1"}, nil, engine.Options{Datasources: map[string]string{"main": "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"}}, "query failed", 500},
		"unparsable":   {sqlquery.Spec{Datasource: "main", SQL: "select 1"}, nil, engine.Options{Datasources: map[string]string{"main": "mysql://x"}}, `datasource "main"`, 500},
		"param count":  {sqlquery.Spec{Datasource: "main", SQL: "select $1::int", Params: 1}, []any{}, o, "takes 1 params", 500},
		"wide row":     {sqlquery.Spec{Datasource: "main", SQL: "select repeat('x', 70 * 1024 * 1024)"}, nil, o, "row of the answer is larger than 64 MiB", 500},
		"many bytes":   {sqlquery.Spec{Datasource: "main", SQL: "select repeat('x', 1024 * 1024) from generate_series(1, 70)"}, nil, o, "more than 64 MiB", 500},
		"cap is exact": {sqlquery.Spec{Datasource: "main", SQL: "select i from n", MaxRows: 50}, nil, o, "", 200},
	} {
		t.Run(name, func(t *testing.T) {
			q := query(t, c.spec)
			r := enginetest.RunNode(t, c.o, "", "", func(x *engine.Exec) (any, error) { return q.Run(x, c.params) })
			if r.Res.Response.Status != c.status {
				t.Errorf("status %d, want %d (%v)", r.Res.Response.Status, c.status, r.Err)
			}
			if c.want != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), c.want)) {
				t.Errorf("error %v, want %q", r.Err, c.want)
			}
		})
	}
}

func TestQuerySpecCheck(t *testing.T) {
	for sql, params := range map[string]int{
		"select $1, $2, $3":     2,
		"select 1":              1,
		"select $1, $3":         3,
		"select $0":             0,
		"select 'unclosed":      0,
		`select "unclosed`:      0,
		"select 1 /* open":      0,
		"select $$ unclosed":    0,
		"select $99999999":      0,
		"select $1 -- and $2\n": 2,
	} {
		if _, err := sqlquery.New(sqlquery.Spec{Datasource: "main", SQL: sql, Params: params}); err == nil {
			t.Errorf("%q with %d params accepted", sql, params)
		}
	}
	for sql, params := range map[string]int{
		"select '$2', $1":                     1,
		`select "$2", $1`:                     1,
		"select $1 -- $2":                     1,
		"select $1 /* $2 /* $3 */ */":         1,
		"select $$ $2 $$, $tag$ $3 $tag$, $1": 1,
		"select E'\\' $2', $1":                1,
		"select a$1 from t where x = $1":      1,
		"select $1::int, $2::text, $1 + 1":    2,
		"insert into t values ($1, $2, $3)":   3,
		"select 1":                            0,
	} {
		if _, err := sqlquery.New(sqlquery.Spec{Datasource: "main", SQL: sql, Params: params}); err != nil {
			t.Errorf("%q with %d params: %v", sql, params, err)
		}
	}
	for _, s := range []sqlquery.Spec{{SQL: "select 1"}, {Datasource: "main"}, {Datasource: "main", SQL: "select 1", TimeoutMS: -1},
		{Datasource: "main", SQL: "select 1", MaxRows: sqlquery.MaxMaxRows + 1}} {
		if _, err := sqlquery.New(s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
