package scenarios

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"jetstorm/units"
)

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// extraKeyed is a struct whose mapping also takes keys that are not its
// fields: Faults and Step take the fault kinds' own parameter keys.
type extraKeyed interface {
	extraKeys() map[string]reflect.Type
}

// leaf reports whether t parses itself and has no keys to walk.
func leaf(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(unmarshalerType) && !pt.Implements(reflect.TypeFor[extraKeyed]())
}

// walk checks n against type t: mappings for structs may hold only the
// struct's yaml keys, once each. It records the position of every key and
// list item in p.pos. Scalar type mismatches are left to Decode.
func (p *parser) walk(n *yaml.Node, t reflect.Type, path string) error {
	n = resolve(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.ShortTag() == "!!null" || leaf(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return p.walkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, item := range n.Content {
			ip := fmt.Sprintf("%s[%d]", path, i)
			p.pos[ip] = p.where(item.Line)
			if err := p.walk(item, t.Elem(), ip); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) walkStruct(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return p.notMapping(n, path)
	}
	fields, _ := structFields(t)
	// Merged mappings ("<<: *base") first, so keys written here win in pos.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].ShortTag() == "!!merge" {
			v := resolve(n.Content[i+1])
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				if err := p.walkStruct(resolve(m), t, path); err != nil {
					return err
				}
			}
		}
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: a key must be a plain name, got a %s", p.where(k.Line), units.KindName(k.Kind))
		}
		f, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("%s: %s", p.where(k.Line), unknownKey(k.Value, path, fields))
		}
		if first, dup := seen[k.Value]; dup {
			return fmt.Errorf("%s: duplicate key %q %s (first at line %d)", p.where(k.Line), k.Value, in(path), first.Line)
		}
		seen[k.Value] = k
		kp := k.Value
		if path != "" {
			kp = path + "." + k.Value
		}
		switch line := k.Line; {
		case resolve(v).ShortTag() == "!!null":
			delete(p.pos, kp) // null means "use the default": not given
		case v.Line < 0: // value replaced by a --set
			p.pos[kp] = p.where(v.Line)
		default:
			p.pos[kp] = p.where(line)
		}
		if err := p.walk(v, f.Type, kp); err != nil {
			return err
		}
	}
	return nil
}

func in(path string) string {
	if path == "" {
		return "at top level"
	}
	return "in " + path
}

func unknownKey(key, path string, fields map[string]reflect.StructField) string {
	return fmt.Sprintf("unknown key %q %s (known keys: %s)", key, in(path), strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
}

// structFields maps the yaml keys of struct t (after pointers) to its
// fields, as yaml.v3 does: unexported and `yaml:"-"` fields are not keys,
// untagged fields use the lowercased name, ",inline" structs are flattened.
func structFields(t reflect.Type) (map[string]reflect.StructField, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || leaf(t) {
		return nil, false
	}
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, flags, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(flags, "inline"):
			inner, _ := structFields(f.Type)
			maps.Copy(fields, inner)
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		fields[name] = f
	}
	if e, ok := reflect.New(t).Interface().(extraKeyed); ok {
		for name, typ := range e.extraKeys() {
			if _, dup := fields[name]; !dup {
				fields[name] = reflect.StructField{Name: name, Type: typ}
			}
		}
	}
	return fields, true
}
