package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// String converts a value the way expr's string() does: 7 gives "7", true
// gives "true". Header values and log messages use it.
func String(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprintf("%v", v)
}

// JSONText renders v as compact JSON, as log lines show non-string values.
func JSONText(v any) string {
	b, err := MarshalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(bytes.TrimRight(b, "\n"))
}

// MarshalJSON encodes v without HTML escaping, so bodies keep <, > and &.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// describe names a value's type for error messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return "a bool"
	case float64, int, int64:
		return fmt.Sprintf("the number %v", v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
