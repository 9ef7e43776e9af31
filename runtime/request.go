package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// readRequest builds the request object of FLOW-FORMAT.md, or the error
// response for a body that is too large or not the JSON it claims to be.
func (f *Flow) readRequest(r *http.Request, method string, params map[string]any, tr Trace) (map[string]any, *Response) {
	query := map[string]any{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			query[k] = vs[0]
		}
	}
	headers := make(map[string]any, len(r.Header)+1)
	for k, vs := range r.Header {
		if len(vs) > 0 {
			headers[strings.ToLower(k)] = vs[0]
		}
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	var body any
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(io.LimitReader(r.Body, f.maxBody+1))
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
				v, err := DecodeJSON(data)
				if err != nil {
					return nil, errorResponse(http.StatusBadRequest, tr, "invalid JSON body: "+err.Error())
				}
				body = v
			} else {
				body = string(data)
			}
		}
	}
	return map[string]any{
		"method":  method,
		"path":    r.URL.EscapedPath(),
		"params":  params,
		"query":   query,
		"headers": headers,
		"body":    body,
	}, nil
}

// IsJSONContentType reports whether a Content-Type is application/json or *+json.
func IsJSONContentType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// DecodeJSON decodes exactly one JSON value; numbers become float64.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
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
