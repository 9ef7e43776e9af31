// Package codegen turns a validated flow into a bundle. The targets live in
// sub-packages (js, golang); this package holds what they share: the
// execution plan of FLOW-FORMAT.md's rules 2 and 3 and the manifest.
package codegen

import (
	"fmt"

	"github.com/flowline/flowline/contract"
	"github.com/flowline/flowline/engine"
	"github.com/flowline/flowline/flow"
)

// ManifestFile is the manifest's name in every bundle.
const ManifestFile = contract.ManifestFile

// Plan is a flow laid out for straight-line code.
type Plan struct {
	Flow     *flow.Document
	Steps    []Step // in execution order
	Manifest engine.Manifest
}

// Step is one node with what decides whether it runs.
type Step struct {
	Node *flow.Node
	// In are the distinct (node, port) pairs whose activity runs this node.
	In []Port
	// HasErrorEdge is true when a failure takes the node's error port.
	HasErrorEdge bool
}

// Port is a node's output port.
type Port struct {
	From, Port string
}

// NewPlan validates d and orders its nodes. It refuses a flow with errors
// with a *flow.ValidationError listing every problem, warnings included.
func NewPlan(d *flow.Document, r *flow.Registry, version int, target string) (*Plan, error) {
	if probs := flow.Validate(d, r); len(flow.Errors(probs)) > 0 {
		return nil, &flow.ValidationError{Problems: probs}
	}
	order, err := flow.Order(d)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", d.Name, err)
	}
	method, path, err := flow.Route(d)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", d.Name, err)
	}
	p := &Plan{Flow: d, Manifest: engine.Manifest{
		Flow: d.Name, Version: version, Target: target, Method: method, Path: path,
	}}
	for _, i := range order {
		n := &d.Nodes[i]
		st := Step{Node: n}
		seen := map[Port]bool{}
		var inputs []string
		for _, e := range d.Edges {
			if e.From == n.ID && e.PortOrDefault() == flow.PortError {
				st.HasErrorEdge = true
			}
			if e.To != n.ID {
				continue
			}
			pt := Port{From: e.From, Port: e.PortOrDefault()}
			if !seen[pt] {
				seen[pt] = true
				st.In = append(st.In, pt)
				if !contains(inputs, e.From) {
					inputs = append(inputs, e.From)
				}
			}
		}
		p.Steps = append(p.Steps, st)
		p.Manifest.Nodes = append(p.Manifest.Nodes, engine.NodeInfo{ID: n.ID, Type: n.Type, Inputs: inputs})
	}
	return p, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
