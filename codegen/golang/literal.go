package golang

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// modulePath is the import path prefix of the packages whose settings
// structs generated code may spell out.
const modulePath = "github.com/flowline/flowline/"

// Prepare adds a package-level variable holding the current node's
// prepared call, made once at start-up from its settings, and returns its
// name (the node's name followed by hint). settings is a struct of one of
// Flowline's packages; its constructor is that package's New for a type
// named Spec (httpcall.New(httpcall.Spec{...})), NewX for a type XSpec
// (nodes.NewHash(nodes.HashSpec{...})). Publishing validated the settings,
// so a constructor that fails is a bundle built against another version
// of Flowline, and the bundle panics at start-up (engine.Must).
func (w *Writer) Prepare(hint string, settings any) (string, error) {
	t := reflect.TypeOf(settings)
	if t == nil || t.Kind() != reflect.Struct {
		return "", fmt.Errorf("prepare %T: settings must be a struct", settings)
	}
	name, ok := strings.CutSuffix(t.Name(), "Spec")
	if !ok {
		return "", fmt.Errorf("prepare %s: the settings type's name must end in Spec", t)
	}
	lit, err := w.Literal(settings)
	if err != nil {
		return "", err
	}
	return w.Prepared(hint, "engine.Must("+packageName(t.PkgPath())+".New"+name+"("+lit+"))"), nil
}

// Literal renders v as a Go composite literal for generated code: a struct
// of one of Flowline's packages (httpcall.Spec{Method: "GET"}), which the
// file then imports, with its non-zero fields, or a string, number, bool
// or []byte. Strings go through Quote. Other kinds are refused.
func (w *Writer) Literal(v any) (string, error) {
	return literal(reflect.ValueOf(v), w.Import)
}

func literal(v reflect.Value, use func(pkg string)) (string, error) {
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
		if !strings.HasPrefix(t.PkgPath(), modulePath) {
			return "", fmt.Errorf("literal of %s: only the structs of Flowline's own packages", t)
		}
		use(t.PkgPath())
		var fields []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || v.Field(i).IsZero() {
				continue
			}
			lit, err := literal(v.Field(i), use)
			if err != nil {
				return "", err
			}
			fields = append(fields, f.Name+": "+lit)
		}
		return packageName(t.PkgPath()) + "." + t.Name() + "{" + strings.Join(fields, ", ") + "}", nil
	}
	return "", fmt.Errorf("literal of %s: unsupported kind %s", v.Type(), v.Kind())
}

// packageName is the name of the package at path: its last element, as
// every package of this module is named.
func packageName(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}
