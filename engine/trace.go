package engine

import (
	"encoding/hex"
	"math/rand/v2"
)

// Trace identifies a request across the gateway, the bundle and upstreams,
// in W3C Trace Context terms.
type Trace struct {
	ID     string // 32 lower-case hex digits
	Parent string // the caller's span id, 16 hex digits, or ""
	Flags  string // 2 hex digits
}

// ParseTraceparent reads a W3C traceparent header. ok is false when the
// header is absent or not valid W3C (wrong shape, all-zero ids), in which
// case the caller makes a new trace.
func ParseTraceparent(h string) (Trace, bool) {
	// 00-<32 hex>-<16 hex>-<2 hex>; future versions may append fields.
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

func newID(n int) string {
	var b [16]byte
	for {
		for i := 0; i < n; i += 8 {
			u := rand.Uint64()
			for j := 0; j < 8 && i+j < n; j++ {
				b[i+j] = byte(u >> (8 * j))
			}
		}
		s := hex.EncodeToString(b[:n])
		if !allZero(s) {
			return s
		}
	}
}

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
