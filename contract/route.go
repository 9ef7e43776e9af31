package contract

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// A route is a trigger's method and path pattern: /orders/:shop matches
// /orders/acme with shop = "acme". The designer, the validator, the
// gateway's route table and each instance read paths by these rules.

// Methods are the methods a trigger may serve.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

var (
	segmentRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	paramRE   = regexp.MustCompile(`^:[A-Za-z_][A-Za-z0-9_]*$`)
)

// CheckMethod reports what is wrong with a trigger's method, or nil.
func CheckMethod(m string) error {
	if !slices.Contains(Methods, m) {
		return fmt.Errorf("method %q must be one of %s", m, strings.Join(Methods, ", "))
	}
	return nil
}

// CheckPath reports what is wrong with a trigger path, or nil. A static
// segment holds only unreserved characters, so that it reads the same
// escaped or not; a parameter is : and a name; a path may not be one an
// instance answers itself (ReservedPaths).
func CheckPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must start with /", p)
	}
	trimmed := strings.TrimSuffix(p, "/")
	if slices.Contains(ReservedPaths, trimmed) {
		return fmt.Errorf("path %s is reserved for the instance's own health and metrics", trimmed)
	}
	if trimmed == "" {
		return nil
	}
	params := map[string]bool{}
	for _, s := range strings.Split(trimmed[1:], "/") {
		switch {
		case s == "":
			return fmt.Errorf("path %q has an empty segment", p)
		case strings.HasPrefix(s, ":"):
			if !paramRE.MatchString(s) {
				return fmt.Errorf("path parameter %q must be : followed by a letter or _ and letters, digits or _", s)
			}
			if params[s] {
				return fmt.Errorf("path parameter %s appears twice", s)
			}
			params[s] = true
		case s == "." || s == "..":
			return fmt.Errorf("path segment %q would be removed by a client's path cleaning", s)
		case !segmentRE.MatchString(s):
			return fmt.Errorf("path segment %q may hold only A-Z a-z 0-9 . _ ~ -", s)
		}
	}
	return nil
}

// SplitPath splits a path into its segments; one trailing slash is ignored
// and the root has none.
func SplitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Param returns the name of a :name segment.
func Param(segment string) (name string, ok bool) {
	return strings.CutPrefix(segment, ":")
}

// Shape is a path with its parameter names left out: /a/:x and /a/:y have
// the same shape, and two routes of one method and shape collide.
func Shape(path string) string {
	segs := SplitPath(path)
	for i, s := range segs {
		if _, ok := Param(s); ok {
			segs[i] = ":"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// Route is a checked method and path pattern.
type Route struct {
	Method   string
	Path     string
	segments []string
}

// ParseRoute checks a trigger's method and path.
func ParseRoute(method, path string) (Route, error) {
	if err := CheckMethod(method); err != nil {
		return Route{}, err
	}
	if err := CheckPath(path); err != nil {
		return Route{}, err
	}
	return Route{Method: method, Path: path, segments: SplitPath(path)}, nil
}

// Match matches an escaped request path, returning the decoded parameters.
// A static segment matches also when it was sent percent-encoded; a
// parameter matches any non-empty segment but . and .., which no client
// sends unchanged.
func (rt Route) Match(escaped string) (map[string]any, bool) {
	parts := SplitPath(escaped)
	if len(parts) != len(rt.segments) {
		return nil, false
	}
	params := make(map[string]any, len(rt.segments))
	for i, seg := range rt.segments {
		part := parts[i]
		name, isParam := Param(seg)
		if !isParam {
			if part != seg {
				dec, err := url.PathUnescape(part)
				if err != nil || dec != seg {
					return nil, false
				}
			}
			continue
		}
		if part == "" || part == "." || part == ".." {
			return nil, false
		}
		dec, err := url.PathUnescape(part)
		if err != nil {
			return nil, false
		}
		params[name] = dec
	}
	return params, true
}

// Allow is the Allow header of the route: its method, HEAD with GET, and
// OPTIONS.
func (rt Route) Allow() string {
	if rt.Method == "GET" {
		return "GET, HEAD, OPTIONS"
	}
	return rt.Method + ", OPTIONS"
}
