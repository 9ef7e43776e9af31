package gateway

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowline/flowline/contract"
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

// ValidateRoute reports whether a route with this method and path can be
// served.
func ValidateRoute(method, path string) error {
	_, err := contract.ParseRoute(method, path)
	return err
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
	if err := ValidateRoute(r.Method, r.Path); err != nil {
		return err
	}
	n := t.root
	for _, s := range contract.SplitPath(r.Path) {
		if _, ok := contract.Param(s); ok {
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
