// Package sqlquery is the db.query node's runtime: a statement run on a
// datasource's pool with its params bound, bounded in time, rows and bytes,
// and its rows turned into JSON data.
package sqlquery

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	stdruntime "runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// db.query limits and defaults.
const (
	DefaultQueryTimeout = 10 * time.Second
	MaxQueryTimeoutMS   = 300_000
	DefaultMaxRows      = 10_000
	// MaxQueryBytes bounds what one query may return, in bytes on the wire.
	MaxQueryBytes  = 64 << 20
	MaxMaxRows     = 1_000_000
	MaxQueryParams = 65_535 // Postgres' own limit
)

// Spec is a db.query node's fixed settings.
type Spec struct {
	Datasource string `json:"datasource"`
	SQL        string `json:"sql"`
	Params     int    `json:"params"`               // how many params the node passes
	TimeoutMS  int    `json:"timeout_ms,omitempty"` // 0 means DefaultQueryTimeout
	MaxRows    int    `json:"max_rows,omitempty"`   // 0 means DefaultMaxRows
}

// Check reports what is wrong with the settings, field by field.
func (s Spec) Check() map[string]string {
	probs := map[string]string{}
	if strings.TrimSpace(s.Datasource) == "" {
		probs["datasource"] = "datasource is empty: name one configured on the deployment, such as main"
	}
	if strings.TrimSpace(s.SQL) == "" {
		probs["sql"] = "sql is empty"
	} else if max, missing, err := SQLPlaceholders(s.SQL); err != nil {
		probs["sql"] = err.Error()
	} else {
		switch {
		case max > s.Params:
			probs["params"] = fmt.Sprintf("the sql uses $%d but the node has %d params", max, s.Params)
		case s.Params > max:
			probs["params"] = fmt.Sprintf("the node has %d params but the sql uses only up to $%d", s.Params, max)
		case missing > 0:
			probs["sql"] = fmt.Sprintf("the sql uses $%d but not $%d; Postgres needs every placeholder up to the highest", max, missing)
		}
	}
	if s.Params > MaxQueryParams {
		probs["params"] = fmt.Sprintf("at most %d params", MaxQueryParams)
	}
	if s.TimeoutMS < 0 || s.TimeoutMS > MaxQueryTimeoutMS {
		probs["timeout_ms"] = fmt.Sprintf("timeout_ms %d must be between 1 and %d (0 or absent means %d)", s.TimeoutMS, MaxQueryTimeoutMS, DefaultQueryTimeout.Milliseconds())
	}
	if s.MaxRows < 0 || s.MaxRows > MaxMaxRows {
		probs["max_rows"] = fmt.Sprintf("max_rows %d must be between 1 and %d (0 or absent means %d)", s.MaxRows, MaxMaxRows, DefaultMaxRows)
	}
	return probs
}

// SQLPlaceholders scans a statement for $1..$n placeholders outside string
// literals, quoted identifiers, dollar-quoted strings and comments. It
// returns the highest placeholder and, if one below it is never used, the
// first such gap (else 0).
func SQLPlaceholders(sql string) (max, missing int, err error) {
	used := map[int]bool{}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'':
			// 'text' with '' as a quote; E'...' also allows backslash escapes.
			escapes := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i == 1 || !isIdentByte(sql[i-2]))
			j := i + 1
			for ; j < len(sql); j++ {
				if escapes && sql[j] == '\\' {
					j++
					continue
				}
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(sql) {
				return 0, 0, errors.New("the sql has a string literal that is never closed")
			}
			i = j + 1
		case c == '"':
			j := strings.IndexByte(sql[i+1:], '"')
			if j < 0 {
				return 0, 0, errors.New("the sql has a quoted identifier that is never closed")
			}
			i += j + 2
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 1
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth, j := 1, i+2
			for ; j < len(sql) && depth > 0; j++ {
				switch {
				case sql[j] == '/' && j+1 < len(sql) && sql[j+1] == '*':
					depth++
					j++
				case sql[j] == '*' && j+1 < len(sql) && sql[j+1] == '/':
					depth--
					j++
				}
			}
			if depth > 0 {
				return 0, 0, errors.New("the sql has a comment that is never closed")
			}
			i = j
		case c == '$':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j > i+1 && (i == 0 || !isIdentByte(sql[i-1])) {
				var n int
				for _, d := range sql[i+1 : j] {
					n = n*10 + int(d-'0')
					if n > MaxQueryParams {
						return 0, 0, fmt.Errorf("placeholder %s is over $%d", sql[i:j], MaxQueryParams)
					}
				}
				if n == 0 {
					return 0, 0, errors.New("placeholders start at $1, not $0")
				}
				used[n] = true
				max = maxInt(max, n)
				i = j
				continue
			}
			// $tag$ ... $tag$ (or $$ ... $$): a dollar-quoted string.
			k := i + 1
			for k < len(sql) && isIdentByte(sql[k]) && !(k == i+1 && sql[k] >= '0' && sql[k] <= '9') {
				k++
			}
			if k < len(sql) && sql[k] == '$' && (i == 0 || !isIdentByte(sql[i-1])) {
				tag := sql[i : k+1]
				end := strings.Index(sql[k+1:], tag)
				if end < 0 {
					return 0, 0, fmt.Errorf("the sql has a %s string that is never closed", tag)
				}
				i = k + 1 + end + len(tag)
				continue
			}
			i++
		default:
			i++
		}
	}
	for n := 1; n < max; n++ {
		if !used[n] {
			return max, n, nil
		}
	}
	return max, 0, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// Query is a prepared db.query node.
type Query struct {
	datasource string
	sql        string
	params     int
	timeout    time.Duration
	maxRows    int
}

// New prepares a db.query node from its settings.
func New(s Spec) (*Query, error) {
	if probs := s.Check(); len(probs) > 0 {
		return nil, fmt.Errorf("db.query: %s", engine.JoinProblems(probs))
	}
	q := &Query{datasource: s.Datasource, sql: s.SQL, params: s.Params, timeout: DefaultQueryTimeout, maxRows: DefaultMaxRows}
	if s.TimeoutMS > 0 {
		q.timeout = time.Duration(s.TimeoutMS) * time.Millisecond
	}
	if s.MaxRows > 0 {
		q.maxRows = s.MaxRows
	}
	return q, nil
}

// Call runs the statement with args as its params (engine.Call).
func (q *Query) Call(x *engine.Exec, args []any) (any, string, error) {
	out, err := q.Run(x, args)
	if err != nil {
		return nil, "", err
	}
	return out, flow.PortOut, nil
}

// Run runs a db.query node: the statement with params bound to its
// placeholders (never spliced into it), on the datasource's pool. It returns
// the rows as objects, or fails when the statement takes longer than the
// node's timeout or returns more rows than its max_rows: a cap that is hit
// fails the node rather than silently truncating the answer.
func (q *Query) Run(x *engine.Exec, params []any) ([]any, error) {
	if len(params) != q.params {
		return nil, fmt.Errorf("the query takes %d params, got %d", q.params, len(params))
	}
	pool, err := Pool(x.Flow(), q.datasource)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(x.Context(), q.timeout)
	defer cancel()
	rows, err := pool.Query(ctx, q.sql, params...)
	if err != nil {
		return nil, q.fail(ctx, x, err)
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	out := []any{}
	size := 0
	for rows.Next() {
		if len(out) >= q.maxRows {
			return nil, fmt.Errorf("the query returned more than %d rows (max_rows); narrow it with WHERE or LIMIT, or raise max_rows", q.maxRows)
		}
		// Bounded in bytes too, counted on the wire before decoding, so
		// that one wide row (select repeat('x', 1e9)) cannot fill memory.
		for _, raw := range rows.RawValues() {
			size += len(raw)
		}
		if size > MaxQueryBytes {
			return nil, fmt.Errorf("the query returned more than %d MiB; select fewer or smaller columns", MaxQueryBytes>>20)
		}
		vals, err := rows.Values()
		if err != nil {
			return nil, q.fail(ctx, x, err)
		}
		row := make(map[string]any, len(fields))
		for i, f := range fields {
			row[f.Name] = dbValue(vals[i], f.DataTypeOID)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, q.fail(ctx, x, err)
	}
	return out, nil
}

func (q *Query) fail(ctx context.Context, x *engine.Exec, err error) error {
	if x.Context().Err() != nil {
		return &engine.NodeError{Kind: engine.KindDeadline, Err: err}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the query timed out after %v", q.timeout)
	}
	var big *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &big) {
		return fmt.Errorf("a row of the answer is larger than %d MiB; select fewer or smaller columns", MaxQueryBytes>>20)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("query failed: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return fmt.Errorf("query failed: %w", err)
}

// poolKey is the flow resource of a datasource's pool.
type poolKey struct{ datasource string }

// pool is a datasource's pool; the flow closes it.
type pool struct{ *pgxpool.Pool }

// Pool returns the flow's pool for the named datasource, made on first use
// and shared by the flow's db.query nodes.
func Pool(f *engine.Flow, name string) (*pgxpool.Pool, error) {
	url, ok := f.Datasource(name)
	if !ok || url == "" {
		return nil, fmt.Errorf("datasource %q is not configured; set it on the deployment (or the test run) as a postgres:// URL", name)
	}
	v, err := f.Resource(poolKey{name}, func() (any, error) {
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("datasource %q: %w", name, err)
		}
		// The datasource URL may size its pool (?pool_max_conns=N, as pgx
		// reads it); the default suits a small instance.
		if !strings.Contains(url, "pool_max_conns=") {
			cfg.MaxConns = int32(max(4, 2*stdruntime.GOMAXPROCS(0)))
		}
		cfg.MaxConnIdleTime = 5 * time.Minute
		if cfg.ConnConfig.ConnectTimeout == 0 {
			cfg.ConnConfig.ConnectTimeout = 10 * time.Second
		}
		cfg.ConnConfig.RuntimeParams["application_name"] = "flowline " + f.Manifest.Flow
		// No single message from the database may be larger than a whole
		// answer may be: pgx would otherwise read a 1 GB row into memory.
		cfg.ConnConfig.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			fe := pgproto3.NewFrontend(r, w)
			fe.SetMaxBodyLen(MaxQueryBytes)
			return fe
		}
		// A query whose context ends is cancelled on the server too, so a
		// timed-out statement does not keep running there.
		cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: c, CancelRequestDelay: 0, DeadlineDelay: time.Second}
		}
		p, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return nil, fmt.Errorf("datasource %q: %w", name, err)
		}
		return pool{p}, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(pool).Pool, nil
}

// dbValue maps a column value to JSON data as FLOW-FORMAT.md says: numbers
// as float64, dates as YYYY-MM-DD, timestamps as RFC 3339 in UTC, bytea as
// base64, json as its value, arrays as lists.
func dbValue(v any, oid uint32) any {
	switch v := v.(type) {
	case nil:
		return nil
	case bool, string:
		return v
	case int16:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case uint32:
		return float64(v)
	case float32:
		return float64(v)
	case float64:
		return jsonFloat(v)
	case pgtype.Numeric:
		if v.NaN {
			return nil
		}
		if v.InfinityModifier != pgtype.Finite {
			return nil
		}
		f, err := v.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return jsonFloat(f.Float64)
	case time.Time:
		if oid == pgtype.DateOID || oid == pgtype.DateArrayOID {
			return v.Format(time.DateOnly)
		}
		return v.UTC().Format(time.RFC3339Nano)
	case pgtype.InfinityModifier:
		return v.String()
	case [16]byte:
		var b [36]byte
		hex.Encode(b[0:8], v[0:4])
		b[8] = '-'
		hex.Encode(b[9:13], v[4:6])
		b[13] = '-'
		hex.Encode(b[14:18], v[6:8])
		b[18] = '-'
		hex.Encode(b[19:23], v[8:10])
		b[23] = '-'
		hex.Encode(b[24:], v[10:16])
		return string(b[:])
	case []byte:
		if oid == pgtype.JSONOID || oid == pgtype.JSONBOID {
			var j any
			if json.Unmarshal(v, &j) == nil {
				return j
			}
		}
		return base64.StdEncoding.EncodeToString(v)
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = dbValue(e, 0)
		}
		return m
	case []any:
		elem := oid
		if oid == pgtype.DateArrayOID {
			elem = pgtype.DateOID
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = dbValue(e, elem)
		}
		return out
	case pgtype.Time:
		if !v.Valid {
			return nil
		}
		d := time.Duration(v.Microseconds) * time.Microsecond
		return time.Time{}.Add(d).Format("15:04:05.999999")
	case pgtype.Interval:
		if !v.Valid {
			return nil
		}
		if iv, err := v.Value(); err == nil {
			return fmt.Sprint(iv)
		}
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		return f
	case fmt.Stringer:
		return v.String()
	}
	if dv, ok := v.(interface{ Value() (any, error) }); ok {
		if val, err := dv.Value(); err == nil {
			if s, ok := val.(string); ok {
				return s
			}
		}
	}
	return fmt.Sprint(v)
}

// jsonFloat is f, or nil for NaN and infinities, which JSON cannot hold.
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}
