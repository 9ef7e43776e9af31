package runtime

import (
	"net/http"
	"strconv"
)

// ServeHTTP serves the flow's endpoint.
func (f *Flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, f.maxBody)
	res := f.Serve(r, false)
	WriteResponse(w, r.Method == http.MethodHead, res.Trace, res.Response)
}

// WriteResponse sends resp: a string body as text/plain, any other value as
// JSON, unless the flow set Content-Type itself. Every response carries
// X-Trace-Id.
func WriteResponse(w http.ResponseWriter, head bool, tr Trace, resp *Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	h.Set("X-Trace-Id", tr.ID)
	var body []byte
	if resp.HasBody {
		switch v := resp.Body.(type) {
		case string:
			body = []byte(v)
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", "text/plain; charset=utf-8")
			}
		default:
			b, err := MarshalJSON(v)
			if err != nil {
				resp = errorResponse(http.StatusInternalServerError, tr, "response body is not JSON: "+err.Error())
				b, _ = MarshalJSON(resp.Body)
				h.Del("Content-Type")
			}
			body = b
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", "application/json")
			}
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if !head && len(body) > 0 {
		_, _ = w.Write(body)
	}
}
