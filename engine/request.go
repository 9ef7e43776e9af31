package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/flowline/flowline/contract"
)

// readRequest builds the request object of FLOW-FORMAT.md in x's maps, or
// the error response for a body that is too large or not the JSON it
// claims to be.
func (f *Flow) readRequest(r *http.Request, method string, params map[string]any, tr contract.Trace, x *Exec) (map[string]any, *Response) {
	query := x.query
	readQuery(query, r)
	headers := x.headers
	for k, vs := range r.Header {
		if len(vs) > 0 {
			headers[lowerHeader(k)] = vs[0]
		}
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var body any
	if r.Body != nil && r.Body != http.NoBody {
		bp := ReadBuffers.Get().(*[]byte)
		data, err := ReadAll((*bp)[:0], io.LimitReader(r.Body, f.maxBody+1), r.ContentLength, f.maxBody)
		defer func() {
			if cap(data) <= 64<<10 {
				*bp = data[:0]
				ReadBuffers.Put(bp)
			}
		}()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errorResponse(http.StatusRequestEntityTooLarge, tr, fmt.Sprintf("request body larger than %d bytes", f.maxBody))
			}
			return nil, errorResponse(http.StatusBadRequest, tr, "reading request body: "+err.Error())
		}
		if int64(len(data)) > f.maxBody {
			return nil, errorResponse(http.StatusRequestEntityTooLarge, tr, fmt.Sprintf("request body larger than %d bytes", f.maxBody))
		}
		if len(data) > 0 {
			if IsJSONContentType(r.Header.Get("Content-Type")) {
				v, err := DecodeJSON(data) // copies what it keeps: data goes back to the pool
				if err != nil {
					return nil, errorResponse(http.StatusBadRequest, tr, "invalid JSON body: "+err.Error())
				}
				body = v
			} else {
				body = string(data)
			}
		}
	}
	req := x.req
	req["method"] = method
	req["path"] = r.URL.EscapedPath()
	req["params"] = params
	req["query"] = query
	req["headers"] = headers
	req["body"] = body
	return req, nil
}

// ReadBuffers hold request bodies while they are decoded.
var ReadBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// ReadAll is io.ReadAll into buf, sized for the Content-Length when known.
func ReadAll(buf []byte, r io.Reader, length, limit int64) ([]byte, error) {
	if length > 0 && length <= limit && int(length)+1 > cap(buf) {
		buf = make([]byte, 0, length+1)
	}
	if cap(buf) == 0 {
		buf = make([]byte, 0, 512)
	}
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// readQuery sets query to the first value of each query parameter, as
// r.URL.Query() gives them.
func readQuery(query map[string]any, r *http.Request) {
	raw := r.URL.RawQuery
	if raw == "" {
		return
	}
	if strings.Count(raw, "&") >= 256 {
		// Leave long queries, and net/url's limit on them, to net/url.
		for k, vs := range r.URL.Query() {
			if len(vs) > 0 {
				query[k] = vs[0]
			}
		}
		return
	}
	// url.ParseQuery's loop, keeping the first value of each key.
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" || strings.Contains(kv, ";") {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			continue
		}
		if _, seen := query[k]; !seen {
			query[k] = v
		}
	}
}

// commonHeaders are the lower-case names of headers most requests carry,
// by their canonical names, so that they need no lowering per request.
var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, h := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control", "Connection",
		"Content-Length", "Content-Type", "Cookie", "Host", "Origin", "Referer", "Traceparent", "Tracestate",
		"User-Agent", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id",
	} {
		m[h] = strings.ToLower(h)
	}
	return m
}()

func lowerHeader(k string) string {
	if l, ok := commonHeaders[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

// IsJSONContentType reports whether a Content-Type is application/json or *+json.
func IsJSONContentType(ct string) bool {
	switch ct {
	case "":
		return false
	case "application/json":
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// DecodeJSON decodes exactly one JSON value; numbers become float64. It
// keeps no reference to data.
func DecodeJSON(data []byte) (any, error) {
	p := jsonParser{data: data}
	if v, ok := p.document(); ok {
		return v, nil
	}
	var v any
	if json.Unmarshal(data, &v) == nil {
		return v, nil
	}
	// The decoder's errors are the ones users see.
	v = nil
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errors.New("unexpected end of JSON input")
		}
		return nil, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// jsonParser decodes the JSON documents requests carry into the values
// encoding/json makes of them (map[string]any, []any, string, float64,
// bool, nil), without reflection. It handles what it can decode exactly as
// encoding/json does and gives up (ok false) on anything else: a syntax
// error, a number out of range, very deep nesting. DecodeJSON then asks
// encoding/json, for its value or its error.
type jsonParser struct {
	data  []byte
	pos   int
	depth int
}

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

func (p *jsonParser) document() (any, bool) {
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	p.space()
	return v, p.pos == len(p.data)
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, bool) {
	p.space()
	if p.pos >= len(p.data) {
		return nil, false
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.string()
		return s, ok
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, false
}

func (p *jsonParser) literal(word string) bool {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return false
	}
	p.pos += len(word)
	return true
}

func (p *jsonParser) object() (any, bool) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, false
	}
	p.pos++ // {
	m := map[string]any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return m, true
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, false
		}
		k, ok := p.key()
		if !ok {
			return nil, false
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, false
		}
		p.pos++
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		p.space()
		if p.pos >= len(p.data) {
			return nil, false
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			return m, true
		default:
			return nil, false
		}
	}
}

func (p *jsonParser) array() (any, bool) {
	if p.depth++; p.depth > maxJSONDepth {
		return nil, false
	}
	p.pos++ // [
	a := []any{}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return a, true
	}
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		p.space()
		if p.pos >= len(p.data) {
			return nil, false
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			return a, true
		default:
			return nil, false
		}
	}
}

// jsonKeys interns the short object keys requests carry again and again,
// so that decoding them allocates nothing. It stops growing when full.
var jsonKeys = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

const (
	maxKeyLen     = 32
	maxInternKeys = 4096
)

// key decodes an object key at p.pos, interned when it is plain and short.
func (p *jsonParser) key() (string, bool) {
	start := p.pos + 1
	end := start
	for end < len(p.data) && end-start <= maxKeyLen {
		c := p.data[end]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return p.string()
		}
		end++
	}
	if end >= len(p.data) || p.data[end] != '"' {
		return p.string()
	}
	raw := p.data[start:end]
	jsonKeys.RLock()
	k, ok := jsonKeys.m[string(raw)]
	n := len(jsonKeys.m)
	jsonKeys.RUnlock()
	if !ok {
		k = string(raw)
		if n < maxInternKeys {
			jsonKeys.Lock()
			if len(jsonKeys.m) < maxInternKeys {
				jsonKeys.m[k] = k
			}
			jsonKeys.Unlock()
		}
	}
	p.pos = end + 1
	return k, true
}

// string decodes the string literal at p.pos. Plain ones (no escapes,
// valid UTF-8, no control characters) are copied as they are; the others
// are decoded by encoding/json itself.
func (p *jsonParser) string() (string, bool) {
	start := p.pos
	p.pos++ // "
	plain := true
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			raw := p.data[start+1 : p.pos-1]
			if plain || utf8.Valid(raw) {
				return string(raw), true
			}
			var s string
			if json.Unmarshal(p.data[start:p.pos], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return "", false
			}
			p.pos += 2
			var s string
			// Find the end, skipping escaped characters, and let
			// encoding/json decode the escapes.
			for p.pos < len(p.data) && p.data[p.pos] != '"' {
				if p.data[p.pos] == '\\' {
					p.pos++
				}
				p.pos++
			}
			if p.pos >= len(p.data) {
				return "", false
			}
			p.pos++
			if json.Unmarshal(p.data[start:p.pos], &s) != nil {
				return "", false
			}
			return s, true
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			plain = false
		}
		p.pos++
	}
	return "", false
}

// number decodes a number as encoding/json does: its JSON grammar checked,
// then strconv.ParseFloat; small integers are converted directly (the same
// float64).
func (p *jsonParser) number() (any, bool) {
	start := p.pos
	neg := p.data[p.pos] == '-'
	if neg {
		p.pos++
	}
	digits := p.pos
	if p.pos >= len(p.data) {
		return nil, false
	}
	if p.data[p.pos] == '0' {
		p.pos++
	} else if p.data[p.pos] >= '1' && p.data[p.pos] <= '9' {
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
		}
	} else {
		return nil, false
	}
	integer := true
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		integer = false
		p.pos++
		n := p.pos
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == n {
			return nil, false
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		integer = false
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		n := p.pos
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == n {
			return nil, false
		}
	}
	if integer && p.pos-digits <= 15 {
		var n int64
		for _, c := range p.data[digits:p.pos] {
			n = n*10 + int64(c-'0')
		}
		f := float64(n)
		if neg {
			f = -f // -0 stays negative zero, as ParseFloat gives it
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(p.data[start:p.pos]), 64)
	if err != nil {
		return nil, false
	}
	return f, true
}
