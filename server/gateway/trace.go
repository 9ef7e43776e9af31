package gateway

import (
	"net/http"

	"github.com/flowline/flowline/contract"
)

// traceContext is the W3C trace context a request is proxied with.
type traceContext struct {
	traceID     string // 32 lower-case hex digits
	traceparent string // sent to the instance
	kept        bool   // the client's traceparent was valid and is passed on
}

// requestTrace keeps a valid W3C traceparent of the request, or makes a new
// trace: a new trace id, and a new span id as the parent the instance sees.
// Several traceparent headers make the request's trace invalid, as the spec
// says.
func requestTrace(h http.Header) traceContext {
	if vs := h.Values(contract.TraceparentHeader); len(vs) == 1 {
		if tr, ok := contract.ParseTraceparent(vs[0]); ok {
			return traceContext{traceID: tr.ID, traceparent: vs[0], kept: true}
		}
	}
	tr := contract.NewTrace()
	return traceContext{traceID: tr.ID, traceparent: tr.Traceparent(contract.NewSpanID())}
}
