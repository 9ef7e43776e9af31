package gateway

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Route is one published endpoint: the trigger's method and path, served
// by the ready instances of a deployment.
type Route struct {
	DeploymentID string
	FlowID       string // whose access rules (SetAccess) apply
	Flow         string
	Method       string // GET, POST, ... (upper case)
	Path         string // like /orders/:shop
	// Backends returns the addresses (host:port, or http://host:port) of
	// the deployment's ready instances. It is called on every request, so
	// it must be cheap and safe for concurrent use; the gateway does not
	// modify the slice.
	Backends func() []string
	// Deadline is the deployment's request deadline (zero: 30s). The
	// gateway gives up on an instance that has not answered a little after
	// it, and allows a slow client that long to read the response.
	Deadline time.Duration
}

// table is an immutable route table: a trie over path segments.
type table struct {
	routes []Route
	root   *node
}

type node struct {
	static    map[string]*node
	param     *node
	endpoints map[string]*endpoint // by method, on nodes where a route ends
}

type endpoint struct {
	route Route
	next  atomic.Uint64 // round-robin counter
}

var (
	methodPattern = regexp.MustCompile(`^[A-Z]{1,16}$`)
	paramPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ValidateRoute reports whether a route with this method and path can be
// served. The server checks a deployment's route with it (and Conflicts)
// before deploying, so that SetRoutes does not refuse the table later.
func ValidateRoute(method, path string) error {
	if !methodPattern.MatchString(method) {
		return fmt.Errorf("invalid method %q", method)
	}
	_, err := routeSegments(path)
	return err
}

// routeSegments splits a route's path into its segments, checking each.
func routeSegments(path string) ([]string, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q does not start with /", path)
	}
	segs := splitPath(path)
	for _, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			if !paramPattern.MatchString(name) {
				return nil, fmt.Errorf("path %q: invalid parameter %q", path, s)
			}
			continue
		}
		if err := checkStatic(s); err != nil {
			return nil, fmt.Errorf("path %q: %w", path, err)
		}
	}
	return segs, nil
}

// checkStatic accepts a segment as a client sends it: RFC 3986 pchar
// characters and percent escapes.
func checkStatic(s string) error {
	if s == "" {
		return errors.New("empty segment")
	}
	if s == "." || s == ".." {
		return fmt.Errorf("segment %q", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return fmt.Errorf("segment %q has a character that must be escaped", s)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// splitPath splits a path into segments; one trailing slash is ignored
// and the root is no segment at all. The path must start with /.
func splitPath(p string) []string {
	p = p[1:]
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// shape is a path with its parameter names left out: /a/:x and /a/:y have
// the same shape.
func shape(path string) string {
	if !strings.HasPrefix(path, "/") {
		return path
	}
	segs := splitPath(path)
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// Conflicts returns a route of routes that has the given method and the
// same path shape (parameter names ignored), which a new route with that
// method and path would collide with.
func Conflicts(routes []Route, method, path string) (Route, bool) {
	method, sh := strings.ToUpper(method), shape(path)
	for _, r := range routes {
		if strings.ToUpper(r.Method) == method && shape(r.Path) == sh {
			return r, true
		}
	}
	return Route{}, false
}

// newTable builds and checks a route table.
func newTable(routes []Route) (*table, error) {
	t := &table{routes: slices.Clone(routes), root: &node{}}
	var errs []error
	for _, r := range t.routes {
		if err := t.add(r); err != nil {
			errs = append(errs, fmt.Errorf("route %s %s (deployment %s): %w", r.Method, r.Path, r.DeploymentID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *table) add(r Route) error {
	if r.Backends == nil {
		return errors.New("no backends function")
	}
	if !methodPattern.MatchString(r.Method) {
		return fmt.Errorf("invalid method %q", r.Method)
	}
	segs, err := routeSegments(r.Path)
	if err != nil {
		return err
	}
	n := t.root
	for _, s := range segs {
		if strings.HasPrefix(s, ":") {
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
			continue
		}
		if n.static == nil {
			n.static = map[string]*node{}
		}
		c := n.static[s]
		if c == nil {
			c = &node{}
			n.static[s] = c
		}
		n = c
	}
	if n.endpoints == nil {
		n.endpoints = map[string]*endpoint{}
	}
	if old, ok := n.endpoints[r.Method]; ok {
		return fmt.Errorf("same method and path as deployment %s (%s)", old.route.DeploymentID, old.route.Path)
	}
	n.endpoints[r.Method] = &endpoint{route: r}
	return nil
}

// lookup finds the endpoint for a request path (escaped segments) and
// method. Static segments beat parameters, segment by segment from the
// left. HEAD is served by a GET route. When no endpoint has the method,
// allowed gathers the methods of every route whose path matches (matched
// reports whether there is one).
func (t *table) lookup(segs []string, method string) (ep *endpoint, allowed map[string]bool, matched bool) {
	var walk func(n *node, i int) *endpoint
	walk = func(n *node, i int) *endpoint {
		if i == len(segs) {
			if len(n.endpoints) == 0 {
				return nil
			}
			matched = true
			if ep := n.endpoints[method]; ep != nil {
				return ep
			}
			if method == "HEAD" {
				if ep := n.endpoints["GET"]; ep != nil {
					return ep
				}
			}
			if allowed == nil {
				allowed = map[string]bool{}
			}
			for m := range n.endpoints {
				allowed[m] = true
			}
			return nil
		}
		s := segs[i]
		if c := n.static[s]; c != nil {
			if ep := walk(c, i+1); ep != nil {
				return ep
			}
		}
		if n.param != nil && s != "" && s != "." && s != ".." {
			return walk(n.param, i+1)
		}
		return nil
	}
	ep = walk(t.root, 0)
	return ep, allowed, matched
}

// methodOrder is the order of methods in Allow headers.
var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// allowHeader lists the methods for an Allow header: the routes' methods,
// HEAD when GET is there, and OPTIONS.
func allowHeader(methods map[string]bool) string {
	m := map[string]bool{"OPTIONS": true}
	for k := range methods {
		m[k] = true
	}
	if m["GET"] {
		m["HEAD"] = true
	}
	var out []string
	for _, k := range methodOrder {
		if m[k] {
			out = append(out, k)
			delete(m, k)
		}
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	return strings.Join(append(out, rest...), ", ")
}
