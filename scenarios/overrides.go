package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// apply merges one --set "a.b=value" into the tree, creating missing
// sections. The path is checked against Scenario so a typo names the --set.
func (p *parser) apply(root *yaml.Node, i int, set string) error {
	key, val, ok := strings.Cut(set, "=")
	path := strings.Split(strings.TrimSpace(key), ".")
	if !ok || slices.Contains(path, "") {
		return fmt.Errorf("--set %s: want key=value, e.g. cluster.nodes=5", set)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(val), &doc); err != nil {
		return fmt.Errorf("--set %s: bad value: %s", set, lineRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), ""))
	}
	line := -(i + 1)
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"} // "k=": back to the default
	if len(doc.Content) > 0 {
		v = doc.Content[0]
	}
	setLine(v, line)

	m, t := root, reflect.TypeFor[Scenario]()
	for j, k := range path {
		fields, _ := structFields(t)
		f, known := fields[k]
		if !known {
			return fmt.Errorf("--set %s: %s", set, unknownKey(k, strings.Join(path[:j], "."), fields))
		}
		t = f.Type
		if _, isStruct := structFields(t); !isStruct && j < len(path)-1 {
			return fmt.Errorf("--set %s: %s is a value, not a section", set, strings.Join(path[:j+1], "."))
		}
		idx := -1
		for c := 0; c+1 < len(m.Content); c += 2 {
			if m.Content[c].Value == k && m.Content[c].ShortTag() != "!!merge" {
				idx = c + 1
				break
			}
		}
		if idx < 0 {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: line},
				&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line})
			idx = len(m.Content) - 1
		}
		if j == len(path)-1 {
			m.Content[idx] = v
			return nil
		}
		switch c := m.Content[idx]; {
		case c.Kind == yaml.AliasNode && c.Alias.Kind == yaml.MappingNode:
			// Copy so the override does not also change the anchored mapping.
			cp := *c.Alias
			cp.Anchor, cp.Content = "", slices.Clone(cp.Content)
			m.Content[idx] = &cp
		case c.ShortTag() == "!!null": // "cluster:" with nothing under it
			m.Content[idx] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
		case c.Kind != yaml.MappingNode:
			return p.notMapping(c, strings.Join(path[:j+1], "."))
		}
		m = m.Content[idx]
	}
	return nil
}

func setLine(n *yaml.Node, line int) {
	n.Line = line
	for _, c := range n.Content {
		setLine(c, line)
	}
}
