package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	r := New("sk-live-123456", "short", "", "postgres://app:hunter22@db/x", "hunter22")
	for _, c := range []struct{ in, want string }{
		{"key sk-live-123456 used twice: sk-live-123456", "key [redacted] used twice: [redacted]"},
		{"no secret here, only short", "no secret here, only short"}, // under MinLen
		{"dial postgres://app:hunter22@db/x: refused", "dial [redacted]: refused"},
		{"password hunter22 alone", "password [redacted] alone"},
		{"", ""},
	} {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var none *Redactor
	if got := none.String("sk-live-123456"); got != "sk-live-123456" {
		t.Errorf("nil redactor changed %q", got)
	}
	if New("a", "abc", "") != nil || !New("tiny").Empty() {
		t.Error("New with only short values is not nil")
	}
}

func TestURLSecrets(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"postgres://app:s3cret-pw@db:5432/x?sslmode=disable", []string{"postgres://app:s3cret-pw@db:5432/x?sslmode=disable", "s3cret-pw"}},
		{"postgres://app:p%40ss%2Fword@db/x", []string{"postgres://app:p%40ss%2Fword@db/x", "p@ss/word", "p%40ss%2Fword"}},
		{"postgres://app@db/x", []string{"postgres://app@db/x"}},
		{"host=db user=app password=kv-secret dbname=x", []string{"host=db user=app password=kv-secret dbname=x", "kv-secret"}},
		{"::not a url", []string{"::not a url"}},
	} {
		if got := URLSecrets(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("URLSecrets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	r := New(URLSecrets("postgres://app:p%40ss%2Fword@db/x")...)
	if got := r.String(`failed: password "p@ss/word" and p%40ss%2Fword`); got != `failed: password "[redacted]" and [redacted]` {
		t.Errorf("password forms left: %q", got)
	}
}

func TestValue(t *testing.T) {
	r := New("topsecret")
	shared := map[string]any{"n": int64(1)}
	in := map[string]any{
		"plain":     "hello",
		"nested":    []any{"a topsecret b", shared, 2.5, true, nil},
		"deep":      map[string]any{"k": map[string]string{"x": "topsecret"}},
		"list":      []string{"ok", "topsecret"},
		"topsecret": "as a key",
		"err":       errors.New("boom: topsecret"),
		"typed":     struct{ Token string }{"topsecret"},
	}
	before, _ := json.Marshal(in)
	got := r.Value(in)
	after, _ := json.Marshal(in)
	if !bytes.Equal(before, after) {
		t.Fatalf("Value changed its input:\n%s\n%s", before, after)
	}
	out, _ := json.Marshal(got)
	if strings.Contains(string(out), "topsecret") {
		t.Fatalf("secret left in %s", out)
	}
	m := got.(map[string]any)
	if m["plain"] != "hello" || m[Mask] != "as a key" || m["nested"].([]any)[0] != "a [redacted] b" {
		t.Errorf("redacted value %s", out)
	}
	// What holds no secret is not copied.
	if reflect.ValueOf(m["nested"].([]any)[1]).Pointer() != reflect.ValueOf(shared).Pointer() {
		t.Error("a map without secrets was copied")
	}
	clean := map[string]any{"a": "b"}
	if reflect.ValueOf(r.Value(clean)).Pointer() != reflect.ValueOf(clean).Pointer() {
		t.Error("a value without secrets was copied")
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	r := New("sk-live-123456")
	lg := slog.New(r.Handler(slog.NewJSONHandler(&buf, nil))).With("key", "sk-live-123456")
	lg.WithGroup("g").Info("calling with sk-live-123456",
		"s", "Bearer sk-live-123456", "err", errors.New("bad key sk-live-123456"),
		slog.Group("inner", "v", "sk-live-123456"), "n", 3, "m", map[string]any{"k": "sk-live-123456"})
	if strings.Contains(buf.String(), "sk-live") {
		t.Fatalf("secret in log line: %s", buf.String())
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["msg"] != "calling with [redacted]" || line["key"] != Mask {
		t.Errorf("log line %s", buf.String())
	}
	// Wrapping again replaces the redactor instead of stacking.
	h := New("other-secret").Handler(r.Handler(slog.NewJSONHandler(&buf, nil)))
	if inner := h.(*handler).next; reflect.TypeOf(inner) == reflect.TypeOf(&handler{}) {
		t.Error("handler wrapped twice")
	}
	var none *Redactor
	base := slog.NewJSONHandler(&buf, nil)
	if none.Handler(base) != slog.Handler(base) {
		t.Error("nil redactor wrapped a handler")
	}
}

func BenchmarkStringNoMatch(b *testing.B) {
	r := New("sk-live-123456", "postgres://app:hunter22@db/x", "hunter22")
	line := strings.Repeat("a log line without anything secret in it ", 4)
	for b.Loop() {
		_ = r.String(line)
	}
}
