// Package redact hides secret values (a deployment's secret variables, its
// datasource URLs and their passwords) from what people read: log lines,
// error messages and the traces of test runs. Every occurrence of a secret
// is replaced by Mask.
//
// It works on plain text and on decoded values, so it is applied before
// anything is encoded (a JSON log line, an error answer): a secret is
// matched as the flow saw it, not in an escaped form.
//
// Values shorter than MinLen are ignored: a secret "1" or "yes" would
// otherwise redact half of every line.
package redact

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces a secret.
const Mask = "[redacted]"

// MinLen is the length below which a value is not redacted.
const MinLen = 6

// Redactor replaces secret values. A nil *Redactor redacts nothing, so
// callers need no check; its methods are safe for concurrent use.
type Redactor struct {
	values   []string // longest first
	replacer *strings.Replacer
}

// New returns a redactor of values, or nil when none is long enough to be
// redacted.
func New(values ...string) *Redactor {
	var keep []string
	for _, v := range values {
		if len(v) >= MinLen && !slices.Contains(keep, v) {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	// Longest first: the replacer prefers earlier patterns at a position,
	// so a URL is masked whole rather than around its password.
	slices.SortStableFunc(keep, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(keep))
	for _, v := range keep {
		pairs = append(pairs, v, Mask)
	}
	return &Redactor{values: keep, replacer: strings.NewReplacer(pairs...)}
}

// URLSecrets lists what a datasource URL gives away: the URL itself and its
// password, as written (percent-encoded) and decoded. A URL that does not
// parse is secret as a whole.
func URLSecrets(raw string) []string {
	out := []string{raw}
	_, rest, isURL := strings.Cut(raw, "://")
	if !isURL {
		// A key=value connection string: its password= value.
		for _, field := range strings.Fields(raw) {
			if pw, ok := strings.CutPrefix(field, "password="); ok {
				out = append(out, strings.Trim(pw, `'`))
			}
		}
		return out
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return out
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return out
	}
	out = append(out, pw)
	// The password as the URL writes it, which may differ from its
	// decoded form (p%40ss for p@ss).
	authority, _, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if _, enc, ok := strings.Cut(authority[:at], ":"); ok && enc != pw {
			out = append(out, enc)
		}
	}
	return out
}

// Empty reports whether r redacts nothing.
func (r *Redactor) Empty() bool { return r == nil }

// String returns s with every secret replaced by Mask.
func (r *Redactor) String(s string) string {
	// Most text holds no secret: strings.Contains is far cheaper than
	// the replacer's scan, so it decides first.
	if r == nil || len(s) < MinLen || !r.contains(s) {
		return s
	}
	return r.replacer.Replace(s)
}

// contains reports whether s holds a secret.
func (r *Redactor) contains(s string) bool {
	for _, v := range r.values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// Value returns v with every string in it (map keys included) redacted.
// v is the JSON-like data of flows (maps, slices, strings, numbers); it is
// never changed: what holds a secret is copied, and what holds none is
// returned as it is. A value of another type is redacted through its JSON
// form when that form holds a secret.
func (r *Redactor) Value(v any) any {
	if r == nil {
		return v
	}
	out, _ := r.value(v)
	return out
}

// value returns the redacted v and whether it differs from v.
func (r *Redactor) value(v any) (any, bool) {
	switch t := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return v, false
	case string:
		if s := r.String(t); s != t {
			return s, true
		}
		return v, false
	case map[string]any:
		return redactMap(r, t, r.value)
	case []any:
		var out []any
		for i, x := range t {
			rx, changed := r.value(x)
			if out == nil && changed {
				out = slices.Clone(t)
			}
			if out != nil {
				out[i] = rx
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case map[string]string:
		return redactMap(r, t, func(x string) (string, bool) { rx := r.String(x); return rx, rx != x })
	case []string:
		var out []string
		for i, x := range t {
			if rx := r.String(x); rx != x {
				if out == nil {
					out = slices.Clone(t)
				}
				out[i] = rx
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case error:
		return r.value(t.Error())
	}
	// Something else (a struct, a typed slice): look at its JSON form.
	b, err := json.Marshal(v)
	if err != nil || !r.contains(string(b)) {
		return v, false
	}
	var decoded any
	if err := json.Unmarshal(b, &decoded); err != nil {
		return Mask, true
	}
	out, _ := r.value(decoded)
	return out, true
}

// redactMap redacts m's keys and, with value, its values. It copies m
// only once something in it changes: most maps hold no secret.
func redactMap[V any](r *Redactor, m map[string]V, value func(V) (V, bool)) (any, bool) {
	var out map[string]V
	for k, x := range m {
		rk := r.String(k)
		rx, changed := value(x)
		if out == nil && (changed || rk != k) {
			out = maps.Clone(m)
		}
		if out != nil {
			if rk != k {
				delete(out, k)
			}
			out[rk] = rx
		}
	}
	if out == nil {
		return m, false
	}
	return out, true
}

// Handler wraps h so that every record's message and attribute values
// are redacted before h sees them. A handler of r's own is re-wrapped
// rather than wrapped twice.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	if prev, ok := h.(*handler); ok {
		h = prev.next
	}
	if r == nil {
		return h
	}
	return &handler{next: h, r: r}
}

type handler struct {
	next slog.Handler
	r    *Redactor
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.r.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.r.attr(a)
	}
	return &handler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), r: h.r}
}

// attr redacts an attribute's value, in groups too.
func (r *Redactor) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]any, len(group))
		for i, g := range group {
			red[i] = r.attr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		if rv, changed := r.value(v.Any()); changed {
			return slog.Any(a.Key, rv)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
