package flow

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// TriggerConfig is the config of the trigger.http node. It lives here, not
// with the node types, because the flow's route is part of the format:
// the server, the gateway and the code generators all read it.
type TriggerConfig struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// TriggerMethods are the methods a trigger may serve.
var TriggerMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

var (
	segmentRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	paramRE   = regexp.MustCompile(`^:[A-Za-z_][A-Za-z0-9_]*$`)
)

// reservedPaths are answered by every instance itself.
var reservedPaths = []string{"/healthz", "/readyz", "/metrics"}

// CheckPath reports what is wrong with a trigger path, or nil.
func CheckPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must start with /", p)
	}
	trimmed := strings.TrimSuffix(p, "/")
	for _, r := range reservedPaths {
		if trimmed == r {
			return fmt.Errorf("path %s is reserved for the instance's own health and metrics", r)
		}
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
		case !segmentRE.MatchString(s):
			return fmt.Errorf("path segment %q may hold only A-Z a-z 0-9 . _ ~ -", s)
		}
	}
	return nil
}

// Trigger returns the flow's first trigger node, or nil.
func (d *Document) Trigger() *Node {
	for i := range d.Nodes {
		if d.Nodes[i].Type == TriggerType {
			return &d.Nodes[i]
		}
	}
	return nil
}

// Route returns the method and path the flow serves.
func Route(d *Document) (method, path string, err error) {
	t := d.Trigger()
	if t == nil {
		return "", "", errors.New("the flow has no trigger.http node")
	}
	var c TriggerConfig
	if err := DecodeConfig(t.Config, &c); err != nil {
		return "", "", fmt.Errorf("trigger %s: %w", t.ID, err)
	}
	return c.Method, c.Path, nil
}

// RouteKey is a method and path with parameter names erased, so that two
// flows serving GET /a/:x and GET /a/:y are seen to collide.
func RouteKey(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return method + " /" + strings.Join(segs, "/")
}
