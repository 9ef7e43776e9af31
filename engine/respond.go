package engine

import (
	"fmt"
	"net/http"
)

// StatusCode checks a response status given as a number.
func StatusCode(v any) (int, error) {
	var n float64
	switch v := v.(type) {
	case nil:
		return http.StatusOK, nil
	case int:
		n = float64(v)
	case int64:
		n = float64(v)
	case float64:
		n = v
	default:
		return 0, fmt.Errorf("status must be a number, not %s", Describe(v))
	}
	if n != float64(int(n)) || n < 100 || n > 599 {
		return 0, fmt.Errorf("status %v is not an HTTP status (100-599)", n)
	}
	return int(n), nil
}

// Headers builds response headers from name/value pairs; a nil value leaves
// the header unset, any other is converted like expr's string().
func Headers(pairs [][2]any) http.Header {
	h := http.Header{}
	for _, kv := range pairs {
		if kv[1] == nil {
			continue
		}
		h.Add(String(kv[0]), String(kv[1]))
	}
	return h
}

// LogText renders a logged value: strings as they are, others as JSON.
func LogText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return JSONText(v)
}
