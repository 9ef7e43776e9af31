package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// traceContext is the W3C trace context a request is proxied with.
type traceContext struct {
	traceID     string // 32 lower-case hex digits
	traceparent string // sent to the instance
	kept        bool   // the client's traceparent was valid and is passed on
}

// requestTrace keeps a valid W3C traceparent of the request, or makes a new
// trace: a new trace id, and a new span id as the parent the instance sees.
func requestTrace(h http.Header) traceContext {
	if vs := h.Values("Traceparent"); len(vs) == 1 {
		if id, ok := parseTraceparent(vs[0]); ok {
			return traceContext{traceID: id, traceparent: vs[0], kept: true}
		}
	}
	var b [24]byte
	for {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		if !allZero(b[:16]) && !allZero(b[16:]) {
			break
		}
	}
	id := hex.EncodeToString(b[:16])
	return traceContext{traceID: id, traceparent: "00-" + id + "-" + hex.EncodeToString(b[16:]) + "-01"}
}

// parseTraceparent returns the trace id of a valid traceparent header
// (https://www.w3.org/TR/trace-context/#traceparent-header): version
// 00 is exactly version-traceid-parentid-flags; a later version may carry
// more fields after a dash; version ff is invalid; ids are lower-case hex
// and not all zero.
func parseTraceparent(v string) (string, bool) {
	if len(v) < 55 || (len(v) > 55 && v[55] != '-') {
		return "", false
	}
	if v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return "", false
	}
	version, trace, parent, flags := v[0:2], v[3:35], v[36:52], v[53:55]
	if !lowerHex(version) || version == "ff" || (version == "00" && len(v) != 55) {
		return "", false
	}
	if !lowerHex(trace) || !lowerHex(parent) || !lowerHex(flags) {
		return "", false
	}
	if allZeroHex(trace) || allZeroHex(parent) {
		return "", false
	}
	return trace, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func allZeroHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
