package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"jetstorm/units"
)

// Fault parameters in scenario files, history and results: the YAML keys of
// a timeline step and of the faults: section are the union of the
// registered kinds' parameter structs' yaml tags; a key two kinds share
// (count, files) must have one type. Each kind decodes the whole mapping
// into its own struct: keys of other kinds are ignored by it, and unknown
// keys are rejected by the scenario loader against the union.

// NoParams is embedded by faults without parameters.
type NoParams struct{}

func (NoParams) StepParams() any                 { return nil }
func (NoParams) RandomParams() any               { return nil }
func (NoParams) Draw(*rand.Rand, any) Params     { return nil }
func (NoParams) CheckRandom(any, []string) error { return nil }

// paramsOf returns a spec's parameters as the kind's struct T (zero when
// the spec has none).
func paramsOf[T any](s Spec) T {
	switch p := s.Params.(type) {
	case T:
		return p
	case *T:
		if p != nil {
			return *p
		}
	}
	var zero T
	return zero
}

// nonZero is the struct *v, nil when v is nil or points to a zero struct
// (Spec.Params is nil for zero parameters, so a JSON round trip keeps it).
func nonZero(v any) Params {
	if v == nil {
		return nil
	}
	p := reflect.ValueOf(v)
	if p.Kind() == reflect.Pointer {
		if p.IsNil() {
			return nil
		}
		p = p.Elem()
	}
	if p.IsZero() {
		return nil
	}
	return p.Interface()
}

// pick draws one of xs (def when xs is empty) with one rng.IntN call.
func pick[T any](rng *rand.Rand, xs []T, def ...T) T {
	if len(xs) == 0 {
		xs = def
	}
	return xs[rng.IntN(len(xs))]
}

// RandomSection is the faults: section's parameters, by kind: what each
// kind's RandomParams returned, decoded from the section. A kind missing
// from it has its defaults.
type RandomSection map[string]any

// Random returns kind's random parameters from r, or its defaults.
func (r RandomSection) Random(kind string) any {
	if v, ok := r[kind]; ok {
		return v
	}
	if f, ok := Registry[kind]; ok {
		return f.RandomParams()
	}
	return nil
}

// FillRandom returns r with every registered kind that has random
// parameters present (missing kinds get their defaults).
func FillRandom(r RandomSection) RandomSection {
	out := RandomSection{}
	for _, k := range Kinds() {
		if v := r.Random(k); v != nil {
			out[k] = v
		}
	}
	return out
}

// DecodeRandom decodes the faults: section mapping into every kind's random
// parameters. Errors are line-numbered *yaml.TypeError values, once each.
func DecodeRandom(n *yaml.Node) (RandomSection, error) {
	r := RandomSection{}
	var errs []error
	for _, k := range Kinds() {
		v := Registry[k].RandomParams()
		if v == nil {
			continue
		}
		errs = append(errs, n.Decode(v))
		r[k] = v
	}
	return r, units.JoinTypeErrors(errs...)
}

// DecodeStep decodes a timeline step mapping into kind's step parameters.
// Every kind's parameter type decodes it, so a bad value is reported
// whichever kind the step is. An unknown kind has no parameters.
func DecodeStep(kind string, n *yaml.Node) (Params, error) {
	var p Params
	var errs []error
	seen := map[reflect.Type]bool{}
	for _, k := range Kinds() {
		v := Registry[k].StepParams()
		if v == nil {
			continue
		}
		if k != kind && seen[reflect.TypeOf(v)] {
			continue
		}
		seen[reflect.TypeOf(v)] = true
		errs = append(errs, n.Decode(v))
		if k == kind {
			p = nonZero(v)
		}
	}
	return p, units.JoinTypeErrors(errs...)
}

// RandomKeys are the keys the faults' random parameters take in the
// faults: section, and their types.
func RandomKeys() map[string]reflect.Type {
	return paramKeys(func(f Fault) any { return f.RandomParams() })
}

// StepKeys are the keys the faults' step parameters take in a timeline
// step, and their types.
func StepKeys() map[string]reflect.Type {
	return paramKeys(func(f Fault) any { return f.StepParams() })
}

// KindStepKeys are the step keys kind's parameters take, sorted (none
// for an unknown kind).
func KindStepKeys(kind string) []string {
	f, ok := Registry[kind]
	if !ok || f.StepParams() == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(yamlKeys(reflect.TypeOf(f.StepParams()).Elem())))
}

func paramKeys(params func(Fault) any) map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	for _, k := range Kinds() {
		if v := params(Registry[k]); v != nil {
			for name, t := range yamlKeys(reflect.TypeOf(v).Elem()) {
				keys[name] = t
			}
		}
	}
	return keys
}

// yamlKeys maps the yaml keys of a flat parameter struct to their types.
func yamlKeys(t reflect.Type) map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = f.Type
	}
	return keys
}

// YAMLPairs are the key and value nodes of every kind's random parameters,
// each key once, for writing the section back (a run's scenario.yaml).
func (r RandomSection) YAMLPairs() ([]*yaml.Node, error) {
	var out []*yaml.Node
	seen := map[string]bool{}
	for _, k := range Kinds() {
		v := r.Random(k)
		if v == nil {
			continue
		}
		pairs, err := mappingPairs(v)
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			if !seen[pairs[i].Value] {
				seen[pairs[i].Value] = true
				out = append(out, pairs[i], pairs[i+1])
			}
		}
	}
	return out, nil
}

// StepYAMLPairs are the key and value nodes of a step's parameters.
func StepYAMLPairs(p Params) ([]*yaml.Node, error) {
	if p == nil {
		return nil, nil
	}
	return mappingPairs(p)
}

func mappingPairs(v any) ([]*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("fault parameters %T do not encode as a mapping", v)
	}
	return n.Content, nil
}

// CheckRandom validates every kind's random parameters in r; each error is
// a *FieldError naming a key of the faults: section, reported once.
func CheckRandom(r RandomSection, nodes []string) []error {
	var out []error
	seen := map[string]bool{}
	for _, k := range Kinds() {
		v := r.Random(k)
		if v == nil {
			continue
		}
		for _, err := range flatten(Registry[k].CheckRandom(v, nodes)) {
			if !seen[err.Error()] {
				seen[err.Error()] = true
				out = append(out, err)
			}
		}
	}
	return out
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// specHead is the part of a spec's JSON every kind has.
type specHead struct {
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
}

// MarshalJSON writes {"kind":..,"target":..,<the params' own keys>}.
func (s Spec) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(specHead{s.Kind, s.Target})
	if err != nil || s.Params == nil {
		return b, err
	}
	p, err := json.Marshal(s.Params)
	if err != nil {
		return nil, err
	}
	if len(p) < 2 || p[0] != '{' {
		return nil, fmt.Errorf("%s parameters %T do not marshal to a JSON object", s.Kind, s.Params)
	}
	if bytes.Equal(p, []byte("{}")) {
		return b, nil
	}
	return append(append(b[:len(b)-1], ','), p[1:]...), nil
}

// UnmarshalJSON reads what MarshalJSON wrote: the params of a known kind
// into its StepParams struct (an unknown kind keeps none).
func (s *Spec) UnmarshalJSON(b []byte) error {
	var h specHead
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	*s = Spec{Kind: h.Kind, Target: h.Target}
	f, ok := Registry[h.Kind]
	if !ok {
		return nil
	}
	v := f.StepParams()
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s parameters: %w", h.Kind, err)
	}
	s.Params = nonZero(v)
	return nil
}

// CheckKeys reports parameter keys that two kinds give different types,
// or that collide with the given keys of a step or the section (for tests).
func CheckKeys(stepBase, randomBase []string) error {
	var errs []error
	for _, side := range []struct {
		base   []string
		params func(Fault) any
	}{{stepBase, Fault.StepParams}, {randomBase, Fault.RandomParams}} {
		types := map[string]reflect.Type{}
		for _, k := range Kinds() {
			v := side.params(Registry[k])
			if v == nil {
				continue
			}
			for name, t := range yamlKeys(reflect.TypeOf(v).Elem()) {
				if prev, ok := types[name]; ok && prev != t {
					errs = append(errs, fmt.Errorf("%s: key %q is a %v, another kind's is a %v", k, name, t, prev))
				}
				if slices.Contains(side.base, name) {
					errs = append(errs, fmt.Errorf("%s: key %q is not the kind's own", k, name))
				}
				types[name] = t
			}
		}
	}
	return errors.Join(errs...)
}
