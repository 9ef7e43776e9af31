package flow

import (
	"errors"
	"fmt"
)

// TriggerConfig is the config of the trigger.http node. It lives here, not
// with the node types, because the flow's route is part of the format:
// the server, the gateway and the code generators all read it.
type TriggerConfig struct {
	Method string `json:"method"`
	Path   string `json:"path"`
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
