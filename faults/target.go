package faults

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"jetstorm/units"
)

// Target is a fault's target as a scenario writes it: a TargetSpecs name
// ("one", "stream-leader", ...), a node name, or a set of nodes, written
// as a YAML list (`target: [n1, n2]`: both of them, as Jepsen's
// choreographies name them). Spec.Target holds a set joined by commas.
type Target string

// setSep joins a node set in Spec.Target.
const setSep = ","

// NodeSet is the Spec.Target of a set of nodes.
func NodeSet(names ...string) string { return strings.Join(names, setSep) }

// targetSet is the nodes of a set target; nil when target is no set.
func targetSet(target string) []string {
	if !strings.Contains(target, setSep) {
		return nil
	}
	return strings.Split(target, setSep)
}

func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = Target(strings.TrimSpace(n.Value))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return units.LineError(n, "a target must be a name or a list of node names, got a %s", units.KindName(n.Kind))
	}
	var names []string
	for _, item := range n.Content {
		name, err := units.ScalarText(item, "a node name in a node set")
		if err != nil {
			return err
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return units.LineError(n, "an empty node set: name at least one node")
	}
	*t = Target(NodeSet(names...))
	return nil
}

// MarshalYAML writes a set back as a list.
func (t Target) MarshalYAML() (any, error) {
	if set := targetSet(string(t)); set != nil {
		return set, nil
	}
	return string(t), nil
}

// checkSet validates a node set target: node names only (no spec such as
// "one"), each once.
func checkSet(set, nodes []string) error {
	for i, name := range set {
		switch {
		case name == "":
			return fieldErr("target", "a node set names an empty node")
		case !slices.Contains(nodes, name):
			return fieldErr("target", "%q in the node set is not a node of this %d-node cluster (nodes: %s; a set takes node names only)",
				name, len(nodes), strings.Join(nodes, ", "))
		case slices.Contains(set[:i], name):
			return fieldErr("target", "%q is in the node set twice", name)
		}
	}
	return nil
}
