package local

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowline/flowline/deploy"
)

func TestParseLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		line string
		want deploy.LogLine
	}{
		{
			`{"time":"2026-03-04T05:06:07.123456789Z","level":"INFO","msg":"hello","node":"calc","trace_id":"abc","span_id":"def"}`,
			deploy.LogLine{Time: time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC), Level: "info", Message: "hello", Node: "calc", TraceID: "abc"},
		},
		{
			`{"time":"2026-03-04T05:06:07Z","level":"WARN+2","msg":"slow","status":504,"error":"deadline exceeded","ok":true,"x":{"a":[1]}}`,
			deploy.LogLine{Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Level: "warn", Message: `slow status=504 error="deadline exceeded" ok=true x={"a":[1]}`},
		},
		{`{"level":"DEBUG","msg":"d"}`, deploy.LogLine{Time: now, Level: "debug", Message: "d"}},
		{`{"level":"ERROR","msg":"e","time":"not a time"}`, deploy.LogLine{Time: now, Level: "error", Message: "e"}},
		{`{"level":"weird","msg":"w"}`, deploy.LogLine{Time: now, Level: "info", Message: "w"}},
		{`plain text`, deploy.LogLine{Time: now, Level: "plain", Message: "plain text"}},
		{`{"msg": "broken"`, deploy.LogLine{Time: now, Level: "plain", Message: `{"msg": "broken"`}},
		{`{"msg":"a"} trailing`, deploy.LogLine{Time: now, Level: "plain", Message: `{"msg":"a"} trailing`}},
		{`[1,2]`, deploy.LogLine{Time: now, Level: "plain", Message: `[1,2]`}},
		{"bad \xff utf-8", deploy.LogLine{Time: now, Level: "plain", Message: "bad \uFFFD utf-8"}},
		{``, deploy.LogLine{Time: now, Level: "plain", Message: ``}},
	}
	for _, tt := range tests {
		tt.want.Instance = "i-1"
		got := parseLine([]byte(tt.line), "i-1", "plain", now)
		if got != tt.want {
			t.Errorf("parseLine(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
}

func TestListeningAddr(t *testing.T) {
	for line, want := range map[string]string{
		`{"time":"x","level":"INFO","msg":"listening","addr":"127.0.0.1:4242"}`: "127.0.0.1:4242",
		`{"msg":"listening","addr":"[::]:4242"}`:                                "127.0.0.1:4242",
		`{"msg":"listening","addr":":4242"}`:                                    "127.0.0.1:4242",
		`{"msg":"listening"}`:                                                   "",
		`{"msg":"not listening","addr":"127.0.0.1:1"}`:                          "",
		`listening on 127.0.0.1:1`:                                              "",
	} {
		got := ""
		if a, ok := listeningAddr([]byte(line)); ok {
			got, _ = loopbackAddr(a)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", line, got, want)
		}
	}
}

func TestReadLinesCapsLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*maxLineBytes+10)
	in := "first\r\n" + long + "\nafter\nno newline at the end"
	var got []string
	readLines(strings.NewReader(in), maxLineBytes, func(b []byte) { got = append(got, string(b)) })
	if len(got) != 4 || got[0] != "first" || got[1] != long[:maxLineBytes] || got[2] != "after" || got[3] != "no newline at the end" {
		t.Errorf("got %d lines: %.40q", len(got), got)
	}
}

func TestLogStoreRing(t *testing.T) {
	s := newLogStore(3, 1<<20)
	base := time.Now()
	for i := range 5 {
		s.add(deploy.LogLine{Time: base.Add(time.Duration(i)), Level: "info", Message: fmt.Sprint(i)})
	}
	var msgs []string
	for _, l := range s.lines(deploy.LogFilter{}) {
		msgs = append(msgs, l.Message)
	}
	if strings.Join(msgs, ",") != "2,3,4" {
		t.Errorf("kept %v, want the newest three, oldest first", msgs)
	}
}

// TestLogStoreBytes: big lines are bounded by their size, not only their
// count; the newest line is always kept.
func TestLogStoreBytes(t *testing.T) {
	s := newLogStore(1000, 10_000)
	big := strings.Repeat("x", 3000)
	for i := range 10 {
		s.add(deploy.LogLine{Level: "info", Message: fmt.Sprint(i) + big})
	}
	got := s.lines(deploy.LogFilter{})
	if len(got) != 3 || !strings.HasPrefix(got[2].Message, "9") || s.bytes > 10_000 {
		t.Fatalf("kept %d lines (%d bytes), want the newest 3", len(got), s.bytes)
	}
	s.add(deploy.LogLine{Level: "info", Message: strings.Repeat("y", 50_000)})
	if got := s.lines(deploy.LogFilter{}); len(got) != 1 || got[0].Message[0] != 'y' {
		t.Fatalf("a line over the budget: kept %d lines", len(got))
	}
	for range 10_000 {
		s.add(deploy.LogLine{Level: "info", Message: "small"})
	}
	if n := len(s.kept) - s.head; n < 90 || s.bytes > 10_000 || cap(s.kept) > 4*n {
		t.Fatalf("kept %d lines in a slice of %d", len(s.kept)-s.head, cap(s.kept))
	}
}

func TestFollowerTooSlow(t *testing.T) {
	s := newLogStore(10, 1<<20)
	fl := s.follow(deploy.LogFilter{})
	for i := range followBuffer + 5 {
		s.add(deploy.LogLine{Level: "info", Message: fmt.Sprint(i)})
	}
	for range followBuffer {
		<-fl.ch
	}
	s.add(deploy.LogLine{Level: "info", Message: "next"})
	if l := <-fl.ch; l.Message != "5 log lines dropped: the reader was too slow" {
		t.Errorf("notice %q", l.Message)
	}
	if l := <-fl.ch; l.Message != "next" {
		t.Errorf("line after the notice %q", l.Message)
	}
	s.unfollow(fl)
	s.unfollow(fl)
	s.closeAll()
	if _, ok := <-fl.ch; ok {
		t.Errorf("channel open after unfollow")
	}
}
