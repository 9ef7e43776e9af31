package golang

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Literal renders v as a Go composite literal for generated code: a struct
// of the runtime package (engine.HTTPSpec{Method: "GET"}) with its
// non-zero fields, or a string, number, bool or []byte. Strings go through
// Quote. Other kinds are refused.
func Literal(v any) (string, error) {
	return literal(reflect.ValueOf(v))
}

func literal(v reflect.Value) (string, error) {
	switch v.Kind() {
	case reflect.String:
		return Quote(v.String()), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "[]byte(" + Quote(string(v.Bytes())) + ")", nil
		}
	case reflect.Struct:
		t := v.Type()
		if t.PkgPath() != RuntimePackage {
			return "", fmt.Errorf("literal of %s: only the runtime package's structs", t)
		}
		var fields []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || v.Field(i).IsZero() {
				continue
			}
			lit, err := literal(v.Field(i))
			if err != nil {
				return "", err
			}
			fields = append(fields, f.Name+": "+lit)
		}
		return "runtime." + t.Name() + "{" + strings.Join(fields, ", ") + "}", nil
	}
	return "", fmt.Errorf("literal of %s: unsupported kind %s", v.Type(), v.Kind())
}
