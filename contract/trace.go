package contract

import "math/rand/v2"

// TraceparentHeader is the W3C Trace Context header; Go canonicalises it
// to Traceparent.
const TraceparentHeader = "Traceparent"

// Trace identifies a request across the gateway, the bundle and upstreams,
// in W3C Trace Context terms.
type Trace struct {
	ID     string // 32 lower-case hex digits
	Parent string // the caller's span id, 16 hex digits, or ""
	Flags  string // 2 hex digits
}

// ParseTraceparent reads a traceparent header
// (https://www.w3.org/TR/trace-context/#traceparent-header). ok is false
// when it is not valid (wrong shape, upper case, version ff, all-zero
// ids), in which case the caller starts a new trace. Version 00 is
// exactly version-traceid-parentid-flags; a later version may carry more
// fields after a dash.
func ParseTraceparent(h string) (Trace, bool) {
	if len(h) < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return Trace{}, false
	}
	version, id, parent, flags := h[0:2], h[3:35], h[36:52], h[53:55]
	if !isLowerHex(version) || version == "ff" || !isLowerHex(id) || !isLowerHex(parent) || !isLowerHex(flags) {
		return Trace{}, false
	}
	if version == "00" && len(h) != 55 {
		return Trace{}, false
	}
	if len(h) > 55 && h[55] != '-' {
		return Trace{}, false
	}
	if allZero(id) || allZero(parent) {
		return Trace{}, false
	}
	return Trace{ID: id, Parent: parent, Flags: flags}, true
}

// NewTrace makes a trace with a fresh id, sampled.
func NewTrace() Trace {
	return Trace{ID: newID(16), Flags: "01"}
}

// Traceparent is the header value for a call made from span.
func (t Trace) Traceparent(span string) string {
	flags := t.Flags
	if flags == "" {
		flags = "01"
	}
	return "00-" + t.ID + "-" + span + "-" + flags
}

// NewSpanID returns 16 random hex digits, never all zero.
func NewSpanID() string { return newID(8) }

// newID returns n (8 or 16) random bytes as lower-case hex, never all
// zero, formatted without a detour through []byte: every request makes
// one. The ids must be unique, not secret (the spec asks for randomness,
// not unpredictability).
func newID(n int) string {
	var b [32]byte
	for {
		var zero = true
		for i := 0; i < n; i += 8 {
			u := rand.Uint64()
			zero = zero && u == 0
			for j := 0; j < 8; j++ {
				c := byte(u >> (8 * j))
				b[2*(i+j)], b[2*(i+j)+1] = hexDigits[c>>4], hexDigits[c&0xF]
			}
		}
		if !zero {
			return string(b[:2*n])
		}
	}
}

const hexDigits = "0123456789abcdef"

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
