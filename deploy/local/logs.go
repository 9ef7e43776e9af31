package local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/deploy"
)

// maxLineBytes caps one log line; the rest of a longer line is dropped.
const maxLineBytes = 64 << 10

// followBuffer is how many lines a follower may lag behind before lines
// are dropped for it (and a notice sent in their place).
const followBuffer = 512

// logStore keeps the newest lines of one deployment, at most maxLines of
// them and about maxBytes in all (a flow that logs big values must not
// grow the server), and fans new lines out to followers.
type logStore struct {
	mu        sync.Mutex
	kept      []deploy.LogLine // oldest first, from head on
	head      int
	bytes     int
	maxLines  int
	maxBytes  int
	followers map[*follower]struct{}
}

type follower struct {
	ch      chan deploy.LogLine
	filter  deploy.LogFilter
	dropped int
	closed  bool
}

func newLogStore(maxLines, maxBytes int) *logStore {
	return &logStore{maxLines: maxLines, maxBytes: maxBytes, followers: map[*follower]struct{}{}}
}

// lineSize is what a kept line costs, roughly: its strings and the struct.
func lineSize(l deploy.LogLine) int {
	return len(l.Message) + len(l.Level) + len(l.Node) + len(l.TraceID) + len(l.Instance) + 96
}

func (s *logStore) add(l deploy.LogLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kept = append(s.kept, l)
	s.bytes += lineSize(l)
	for len(s.kept)-s.head > 1 && (len(s.kept)-s.head > s.maxLines || s.bytes > s.maxBytes) {
		s.bytes -= lineSize(s.kept[s.head])
		s.kept[s.head] = deploy.LogLine{} // let its strings go
		s.head++
	}
	if s.head > len(s.kept)/2 && s.head > 64 {
		// Compact, so that the dropped lines' slots are freed too.
		s.kept = append(make([]deploy.LogLine, 0, len(s.kept)-s.head+64), s.kept[s.head:]...)
		s.head = 0
	}
	for f := range s.followers {
		if !f.filter.Match(l) {
			continue
		}
		if f.dropped > 0 {
			notice := deploy.LogLine{
				Time:    l.Time,
				Level:   deploy.LevelWarn,
				Message: fmt.Sprintf("%d log lines dropped: the reader was too slow", f.dropped),
			}
			select {
			case f.ch <- notice:
				f.dropped = 0
			default:
				f.dropped++
				continue
			}
		}
		select {
		case f.ch <- l:
		default:
			f.dropped++
		}
	}
}

// lines returns the kept lines passing f, oldest first.
func (s *logStore) lines(f deploy.LogFilter) []deploy.LogLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []deploy.LogLine{}
	for _, l := range s.kept[s.head:] {
		if f.Match(l) {
			out = append(out, l)
		}
	}
	return out
}

func (s *logStore) follow(f deploy.LogFilter) *follower {
	fl := &follower{ch: make(chan deploy.LogLine, followBuffer), filter: f}
	s.mu.Lock()
	s.followers[fl] = struct{}{}
	s.mu.Unlock()
	return fl
}

func (s *logStore) unfollow(fl *follower) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !fl.closed {
		fl.closed = true
		delete(s.followers, fl)
		close(fl.ch)
	}
}

func (s *logStore) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for fl := range s.followers {
		fl.closed = true
		close(fl.ch)
	}
	clear(s.followers)
}

// readLines calls fn with every line of r, without its line ending. A line
// longer than max is cut to max bytes and the rest of it skipped. It
// returns at EOF or on a read error.
func readLines(r io.Reader, max int, fn func(line []byte)) {
	br := bufio.NewReaderSize(r, max)
	skipping := false
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !skipping {
				fn(line)
				skipping = true
			}
			continue
		}
		if len(line) > 0 && !skipping {
			fn(bytes.TrimRight(line, "\r\n"))
		}
		skipping = false
		if err != nil {
			return
		}
	}
}

// known keys of the instances' JSON log lines; the others are appended to
// the message as key=value.
var knownKeys = map[string]bool{
	contract.LogTime: true, contract.LogLevel: true, contract.LogMessage: true, contract.LogNode: true,
	contract.LogTraceID: true, contract.LogSpanID: true, contract.LogInstance: true, contract.LogDeploy: true,
}

// parseLine turns one line of an instance's output into a LogLine. A JSON
// object (log/slog's JSONHandler) gives its time, level, msg, node and
// trace_id; any other line is kept as a plain message at plainLevel.
func parseLine(line []byte, instance, plainLevel string, now time.Time) deploy.LogLine {
	l := deploy.LogLine{Time: now, Level: plainLevel, Instance: instance}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if parseJSONLine(trimmed, &l) {
			return l
		}
	}
	l.Message = toValidUTF8(string(line))
	return l
}

func parseJSONLine(line []byte, l *deploy.LogLine) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var (
		out   = *l
		extra strings.Builder
	)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return false
		}
		var s string
		isString := json.Unmarshal(raw, &s) == nil
		switch {
		case key == contract.LogTime && isString:
			if ts, err := time.Parse(time.RFC3339Nano, s); err == nil {
				out.Time = ts
			}
		case key == contract.LogLevel && isString:
			out.Level = deploy.NormalizeLevel(s)
		case key == contract.LogMessage && isString:
			out.Message = s
		case key == contract.LogNode && isString:
			out.Node = s
		case key == contract.LogTraceID && isString:
			out.TraceID = s
		case knownKeys[key]:
		default:
			if extra.Len() > 0 {
				extra.WriteByte(' ')
			}
			extra.WriteString(key)
			extra.WriteByte('=')
			if isString {
				if s == "" || strings.ContainsAny(s, " \t\"=") {
					s = strconv.Quote(s)
				}
				extra.WriteString(s)
			} else {
				extra.Write(raw)
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || dec.InputOffset() != int64(len(line)) {
		return false
	}
	if extra.Len() > 0 {
		if out.Message != "" {
			out.Message += " "
		}
		out.Message += extra.String()
	}
	out.Message = toValidUTF8(out.Message)
	*l = out
	return true
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// listeningAddr returns the address of the instance's "listening" line.
func listeningAddr(line []byte) (string, bool) {
	if !bytes.Contains(line, []byte(`"`+contract.MsgListening+`"`)) {
		return "", false
	}
	var v map[string]any
	if json.Unmarshal(bytes.TrimSpace(line), &v) != nil || v[contract.LogMessage] != contract.MsgListening {
		return "", false
	}
	addr, _ := v[contract.LogAddr].(string)
	return addr, addr != ""
}
