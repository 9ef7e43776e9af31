package engine

import (
	"fmt"
	"net/url"
	"strings"
)

// route is a trigger's method and path pattern, compiled.
type route struct {
	method   string
	segments []segment
}

type segment struct {
	literal string
	param   string // set for a :name segment
}

// parseRoute compiles a trigger path such as /orders/:shop.
func parseRoute(method, path string) (route, error) {
	rt := route{method: method}
	if !strings.HasPrefix(path, "/") {
		return rt, fmt.Errorf("path %q must start with /", path)
	}
	for _, s := range splitPath(path) {
		if strings.HasPrefix(s, ":") {
			rt.segments = append(rt.segments, segment{param: s[1:]})
		} else {
			rt.segments = append(rt.segments, segment{literal: s})
		}
	}
	return rt, nil
}

// splitPath splits a path into its segments, ignoring a trailing slash.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match matches an escaped request path, returning the decoded parameters.
func (rt route) match(escaped string) (map[string]any, bool) {
	parts := splitPath(escaped)
	if len(parts) != len(rt.segments) {
		return nil, false
	}
	params := make(map[string]any, len(rt.segments))
	for i, seg := range rt.segments {
		part := parts[i]
		if seg.param == "" {
			if part != seg.literal {
				// A literal may have been sent percent-encoded.
				dec, err := url.PathUnescape(part)
				if err != nil || dec != seg.literal {
					return nil, false
				}
			}
			continue
		}
		if part == "" {
			return nil, false
		}
		dec, err := url.PathUnescape(part)
		if err != nil {
			return nil, false
		}
		params[seg.param] = dec
	}
	return params, true
}

// allow is the Allow header for this route.
func (rt route) allow() string {
	if rt.method == "GET" {
		return "GET, HEAD, OPTIONS"
	}
	return rt.method + ", OPTIONS"
}
