package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
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
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprintf("%v", v)
}

// JSONText renders v as compact JSON, as log lines show non-string values.
func JSONText(v any) string {
	b, err := MarshalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// MarshalJSON encodes v without HTML escaping, so bodies keep <, > and &.
func MarshalJSON(v any) ([]byte, error) {
	return AppendJSON(nil, v)
}

// AppendJSON appends v to dst as JSON, byte for byte as encoding/json
// encodes it with HTML escaping off. The values flows hold (maps, lists,
// strings, numbers, bools, nil) are written directly, without reflection;
// any other value, a value that cannot be encoded (NaN) and very deep
// values go through encoding/json, for its output and its errors.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	out, ok := appendValue(dst, v, 0)
	if ok {
		return out, nil
	}
	return appendStd(dst, v)
}

// maxFastDepth bounds the direct encoder's recursion; deeper values (and
// cycles) are left to encoding/json.
const maxFastDepth = 256

// appendValue writes v, or reports false when encoding/json must do it.
func appendValue(dst []byte, v any, depth int) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, v), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return dst, false
		}
		return appendJSONFloat(dst, v), true
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), true
		}
		if depth >= maxFastDepth {
			return dst, false
		}
		if len(v) == 0 {
			return append(dst, "{}"...), true
		}
		var small [16]string
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendValue(dst, v[k], depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case []any:
		if v == nil {
			return append(dst, "null"...), true
		}
		if depth >= maxFastDepth {
			return dst, false
		}
		dst = append(dst, '[')
		for i, x := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendValue(dst, x, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
	if depth > 0 {
		// A value of another type inside a map or list: encoding/json
		// writes it (time.Time, typed slices, ...). Its output does not
		// depend on where it is.
		b, err := appendStd(nil, v)
		if err != nil {
			return dst, false
		}
		return append(dst, b...), true
	}
	return dst, false
}

// appendStd is encoding/json with HTML escaping off, without the newline.
func appendStd(dst []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(dst, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// appendJSONFloat writes a finite float64 as encoding/json does: like
// ES6's number to string, %f or %e with the exponent cut short.
func appendJSONFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as encoding/json does with HTML escaping off:
// quotes, backslashes and control characters escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Describe names a value's type for error messages.
func Describe(v any) string {
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

// maxSafeInt is the largest integer a float64 holds exactly (2^53).
const maxSafeInt = 1 << 53

// Normalize gives an expression's result the representation a value has
// after a trip through the JS host: a whole float64 within ±2^53 (but not
// -0) and every integer kind become int64, float32 becomes float64, a nil
// map becomes nil. Values inside maps and lists are left as they are. Eval
// normalizes, so a node's output is the same value in the Go and the JS
// target, and expressions reading it (`%`, type()) agree.
func Normalize(v any) any {
	switch n := v.(type) {
	case float64:
		if n == math.Trunc(n) && n >= -maxSafeInt && n <= maxSafeInt && (n != 0 || !math.Signbit(n)) {
			return int64(n)
		}
		return n
	case int:
		return int64(n)
	case int64, string, bool, nil:
		return v
	case map[string]any:
		if n == nil {
			return nil
		}
		return v
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case uint:
		return normalizeUint(uint64(n))
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return normalizeUint(n)
	case float32:
		return Normalize(float64(n))
	}
	return v
}

func normalizeUint(n uint64) any {
	if n <= math.MaxInt64 {
		return int64(n)
	}
	return Normalize(float64(n))
}

// JSONDepth is how deep objects and arrays nest in a JSON text (strings
// skipped): what to bound before decoding or compiling a text whose cost
// grows with its nesting.
func JSONDepth(b []byte) int {
	depth, max, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			if depth > max {
				max = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return max
}
