package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"jetstorm/clusters"
	"jetstorm/faults"
	"jetstorm/powerfs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// serverDefaultSyncInterval is nats-server's default jetstream sync_interval.
const serverDefaultSyncInterval = 2 * time.Minute

// Load reads the scenario file at path, applies the --set overrides
// ("cluster.nodes=5", "faults.kinds=[kill]"), fills defaults and validates.
// Every error names a file:line or the --set argument at fault.
func Load(path string, sets []string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path, sets)
}

// Parse is Load on data already read; name is the file name used in
// messages and in Scenario.File.
func Parse(data []byte, name string, sets []string) (*Scenario, error) {
	p := &parser{file: name, sets: sets, pos: map[string]string{}}
	if p.file == "" {
		p.file = "<scenario>"
	}
	root, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	for i, set := range sets {
		if err := p.apply(root, i, set); err != nil {
			return nil, err
		}
	}
	// Check keys on the tree first: Decode silently ignores unknown keys and
	// its errors carry no key names.
	if err := p.walk(root, reflect.TypeFor[Scenario](), ""); err != nil {
		return nil, err
	}
	s := &Scenario{File: name}
	if err := root.Decode(s); err != nil {
		return nil, p.yamlError(err)
	}
	s.pos = p.pos
	s.fillDefaults()
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Pos returns where key (a dotted path such as "cluster.nodes" or
// "faults.kinds[1]") was set: "file:line", "--set k=v", or the file name
// when the key was not written.
func (s *Scenario) Pos(key string) string {
	if p, ok := s.pos[key]; ok {
		return p
	}
	return s.File
}

// Errorf returns an error prefixed with Pos(key), for problems found after
// loading (e.g. a fault that cannot apply to this cluster).
func (s *Scenario) Errorf(key, format string, args ...any) error {
	if p := s.Pos(key); p != "" {
		return fmt.Errorf("%s: "+format, append([]any{p}, args...)...)
	}
	return fmt.Errorf(format, args...)
}

// SyncIntervalLabel is the sync interval for humans: "always", "1s", or the
// server default marked "(default)".
func (c Cluster) SyncIntervalLabel() string {
	if c.SyncInterval.IsZero() {
		return serverDefaultSyncInterval.String() + " (default)"
	}
	return c.SyncInterval.String()
}

// parser turns node lines into positions. Nodes built from the i-th --set
// get line -(i+1), so yaml.v3's own "line N" errors can name the --set too.
type parser struct {
	file string
	sets []string
	pos  map[string]string // see Scenario.pos
}

func (p *parser) where(line int) string {
	switch {
	case line > 0:
		return fmt.Sprintf("%s:%d", p.file, line)
	case line < 0 && -line <= len(p.sets):
		return "--set " + p.sets[-line-1]
	}
	return p.file
}

// parse returns the root mapping of the single document in data.
func (p *parser) parse(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, fmt.Errorf("%s: empty scenario file", p.file)
	} else if err != nil {
		return nil, p.yamlError(err)
	}
	if err := dec.Decode(&extra); err != io.EOF {
		if err != nil {
			return nil, p.yamlError(err)
		}
		return nil, fmt.Errorf("%s: a scenario file holds one YAML document, found another", p.where(extra.Line))
	}
	if len(doc.Content) == 0 || doc.Content[0].ShortTag() == "!!null" {
		return nil, fmt.Errorf("%s: empty scenario file", p.file)
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, p.notMapping(root, "")
	}
	return root, nil
}

var lineRE = regexp.MustCompile(`^line (-?\d+): `)

// yamlError rewrites yaml.v3's "yaml: line N: msg" and type errors
// ("line N: msg", one per bad value) into "file:N: msg" lines.
func (p *parser) yamlError(err error) error {
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			out[i] = p.where(n) + ": " + m[len(sm[0]):]
		} else {
			out[i] = p.file + ": " + m
		}
	}
	return errors.New(strings.Join(out, "\n"))
}

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

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// walk checks n against type t: mappings for structs may hold only the
// struct's yaml keys, once each. It records the position of every key and
// list item in p.pos. Scalar type mismatches are left to Decode.
func (p *parser) walk(n *yaml.Node, t reflect.Type, path string) error {
	n = resolve(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.ShortTag() == "!!null" || reflect.PointerTo(t).Implements(unmarshalerType) {
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
			return fmt.Errorf("%s: a key must be a plain name, got a %s", p.where(k.Line), kindName(k.Kind))
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

func (p *parser) notMapping(n *yaml.Node, path string) error {
	what := path
	if what == "" {
		what = "a scenario"
	}
	got := "a " + kindName(n.Kind)
	if n.Kind == yaml.ScalarNode {
		got = strconv.Quote(n.Value)
	}
	return fmt.Errorf("%s: %s must be a mapping of keys, got %s", p.where(n.Line), what, got)
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
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
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
	return fields, true
}

// given reports whether key was written with a non-null value: an explicit
// zero ("nodes: 0") is then validated rather than replaced by the default.
func (s *Scenario) given(key string) bool {
	_, ok := s.pos[key]
	return ok
}

func setDefault[T comparable](s *Scenario, v *T, key string, def T) {
	var zero T
	if *v == zero && !s.given(key) {
		*v = def
	}
}

func (s *Scenario) fillDefaults() {
	if s.Name == "" && s.File != "" {
		base := filepath.Base(s.File)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	c, st, w, f, fin := &s.Cluster, &s.Stream, &s.Workload, &s.Faults, &s.Final
	setDefault(s, &c.Backend, "cluster.backend", "process")
	if c.Backend == "external" && !s.given("cluster.nodes") {
		c.Nodes = len(c.URLs)
	}
	setDefault(s, &c.Nodes, "cluster.nodes", 3)
	// max(…, 1) keeps an invalid nodes from also producing a replicas error.
	setDefault(s, &st.Replicas, "stream.replicas", min(3, max(c.Nodes, 1)))
	setDefault(s, &st.Storage, "stream.storage", "file")
	setDefault(s, &w.Type, "workload.type", "queue")
	setDefault(s, &w.Clients, "workload.clients", 6)
	setDefault(s, &w.Rate, "workload.rate", 500)
	setDefault(s, &w.Duration, "workload.duration", Duration(60*time.Second))
	setDefault(s, &w.Payload, "workload.payload", 128)
	setDefault(s, &w.Timeout, "workload.timeout", Duration(5*time.Second))
	setDefault(s, &w.Keys, "workload.keys", 5)
	if w.Type == "bench" {
		setDefault(s, &w.Publishers, "workload.publishers", 4)
		if w.Consumers == nil {
			one := 1
			w.Consumers = &one
		}
		setDefault(s, &w.Subjects, "workload.subjects", 1)
		setDefault(s, &w.Window, "workload.window", 256)
		if len(w.Steps) == 0 && !s.given("workload.steps") {
			w.Steps = []BenchStep{{Rate: w.Rate, Duration: w.Duration}}
		}
		if cp := s.Capacity; cp != nil {
			setDefault(s, &cp.Start, "capacity.start", 1000)
			setDefault(s, &cp.Factor, "capacity.factor", 1.5)
			setDefault(s, &cp.Step, "capacity.step", Duration(10*time.Second))
			setDefault(s, &cp.MaxSteps, "capacity.max_steps", 15)
			setDefault(s, &cp.Warmup, "capacity.warmup", Duration(5*time.Second))
		}
	}
	setDefault(s, &s.Check.Timeout, "check.timeout", Duration(60*time.Second))
	setDefault(s, &f.Interval, "faults.interval", Duration(10*time.Second))
	if !s.given("faults.downtime") && s.given("faults.duration") {
		f.Downtime = f.Duration // "duration" is another name for downtime
	}
	f.Duration = 0 // the resolved scenario says downtime only, so it loads again
	setDefault(s, &f.Downtime, "faults.downtime", Duration(5*time.Second))
	setDefault(s, &f.Delay, "faults.delay", Duration(50*time.Millisecond))
	for i := range s.Timeline {
		setDefault(s, &s.Timeline[i].For, fmt.Sprintf("timeline[%d].for", i), Duration(5*time.Second))
	}
	if !s.given("cluster.link_proxies") {
		c.LinkProxies = s.needs().Links
	}
	if !s.given("cluster.powerloss_fs") {
		c.PowerLossFS = s.needs().PowerFS
	}
	setDefault(s, &c.Writeback, "cluster.writeback", Duration(30*time.Second))
	if !s.given("final.per_node") {
		s.Final.PerNode = st.Replicas > 1
	}
	if len(f.Kinds) > 0 && len(f.Targets) == 0 && !s.given("faults.targets") {
		f.Targets = []string{"one"}
	}
	setDefault(s, &fin.Recover, "final.recover", Duration(20*time.Second))
	setDefault(s, &fin.DrainTimeout, "final.drain_timeout", Duration(60*time.Second))
}

// spec is the fault a timeline step describes.
func (st Step) spec() faults.Spec {
	sp := faults.Spec{Kind: st.Fault, Target: st.Target, Shape: st.Shape, Links: st.Links,
		Delay: st.Delay.D(), Rate: int64(st.Rate.Bytes()), Count: st.Count, Files: st.Files}
	if !st.SyncInterval.IsZero() {
		sp.SyncInterval = st.SyncInterval.String()
	}
	return sp
}

// needs is what the scheduled faults need from the cluster.
func (s *Scenario) needs() faults.Needs {
	kinds := slices.Clone(s.Faults.Kinds)
	for _, st := range s.Timeline {
		kinds = append(kinds, st.Fault)
	}
	var n faults.Needs
	for _, k := range kinds {
		if f, ok := faults.Registry[k]; ok {
			n.Links = n.Links || f.Needs().Links
			n.PowerFS = n.PowerFS || f.Needs().PowerFS
		}
	}
	return n
}

// Plan is the fault schedule: the timeline as written, or a random schedule
// drawn from rng.
func (s *Scenario) Plan(rng *rand.Rand) []faults.Planned {
	if len(s.Timeline) > 0 {
		var plan []faults.Planned
		for _, st := range s.Timeline {
			plan = append(plan, faults.Planned{At: st.At.D(), For: st.For.D(), Spec: st.spec(), Seed: rng.Uint64() >> 11})
		}
		return plan
	}
	f := s.Faults
	var syncs []string
	for _, v := range f.SyncIntervals {
		syncs = append(syncs, v.String())
	}
	return faults.RandomPlan(rng, faults.RandomOptions{
		Kinds: f.Kinds, Targets: f.Targets, Shapes: f.Shapes, SyncIntervals: syncs,
		Delay: f.Delay.D(), Rate: int64(f.Rate.Bytes()), Count: f.Count, Files: f.Files,
		Interval: f.Interval.D(), For: f.Downtime.D(), Total: s.Workload.Duration.D(),
	})
}

// downtimeKey is the key the fault duration was given as.
func downtimeKey(s *Scenario) string {
	if s.given("faults.duration") {
		return "faults.duration"
	}
	return "faults.downtime"
}

// validate reports every invalid value at once, each at its position.
func (s *Scenario) validate() error {
	var errs []error
	check := func(ok bool, key, format string, args ...any) {
		if !ok {
			errs = append(errs, s.Errorf(key, key+" "+format, args...))
		}
	}
	c, st, w, f, fin := s.Cluster, s.Stream, s.Workload, s.Faults, s.Final
	check(c.Backend == "process" || c.Backend == "external", "cluster.backend", "%q is not supported yet (supported: process, external)", c.Backend)
	if c.Backend == "external" {
		check(len(c.URLs) > 0, "cluster.urls", "the external backend needs the cluster's client URLs")
		check(len(c.MonitorURLs) == 0 || len(c.MonitorURLs) == len(c.URLs), "cluster.monitor_urls", "give one per client URL, in the same order")
		check(len(f.Kinds) == 0 && len(s.Timeline) == 0, "cluster.backend", "external clusters cannot take faults (jetstorm does not control their nodes)")
		check(c.Server == "", "cluster.server", "is for the process backend (an external cluster runs what it runs)")
	} else {
		check(len(c.URLs) == 0 && len(c.MonitorURLs) == 0, "cluster.urls", "urls are for the external backend")
		_, err := clusters.ServerSpecKind(c.Server)
		check(err == nil, "cluster.server", "%v", err)
	}
	check(c.Nodes >= 1 && c.Nodes <= 9, "cluster.nodes", "must be 1..9, got %d", c.Nodes)
	check(st.Replicas >= 1 && st.Replicas <= 5, "stream.replicas", "must be 1..5, got %d", st.Replicas)
	check(st.Replicas <= c.Nodes || c.Nodes < 1 || c.Nodes > 9, "stream.replicas", "(%d) must not exceed cluster.nodes (%d)", st.Replicas, c.Nodes)
	check(st.Storage == "file" || st.Storage == "memory", "stream.storage", "must be file or memory, got %q", st.Storage)
	check(w.Type == "queue" || w.Type == "kv" || w.Type == "bench", "workload.type", "%q is not supported (supported: queue, kv, bench)", w.Type)
	if w.Type == "bench" {
		check(w.Publishers >= 1 && w.Publishers <= 1000, "workload.publishers", "must be 1..1000, got %d", w.Publishers)
		check(*w.Consumers >= 0 && *w.Consumers <= 1000, "workload.consumers", "must be 0..1000, got %d", *w.Consumers)
		check(w.Subjects >= 1, "workload.subjects", "must be at least 1")
		check(w.Window >= 1, "workload.window", "must be at least 1")
		check(w.Payload >= 16, "workload.payload", "must be at least 16B for the bench workload (it carries the send time)")
		check(len(w.Steps) > 0, "workload.steps", "must not be empty")
		for i, st := range w.Steps {
			k := fmt.Sprintf("workload.steps[%d]", i)
			check(st.Rate > 0 && st.Rate <= 1e7, k, "rate must be > 0 and <= 10000000, got %v", st.Rate)
			check(st.Duration > 0, k, "duration must be positive")
		}
		if cp := s.Capacity; cp != nil {
			check(cp.SLOP99 > 0, "capacity.slo_p99", "must be positive (e.g. 20ms)")
			check(cp.Start > 0, "capacity.start", "must be positive")
			check(cp.Factor > 1, "capacity.factor", "must be > 1")
			check(cp.Step > 0, "capacity.step", "must be positive")
			check(cp.MaxSteps >= 1 && cp.MaxSteps <= 100, "capacity.max_steps", "must be 1..100")
			check(cp.Warmup >= 0, "capacity.warmup", "must not be negative")
		}
	} else {
		check(s.Capacity == nil, "capacity", "is for the bench workload only")
	}
	for k, vs := range s.Sweep {
		check(len(vs) > 0, "sweep", "%s: give at least one value", k)
	}
	check(len(s.Sweep) <= 1, "sweep", "sweep one key at a time (got %d)", len(s.Sweep))
	check(w.Keys >= 1 && w.Keys <= 1000, "workload.keys", "must be 1..1000, got %d", w.Keys)
	check(s.Check.Timeout > 0, "check.timeout", "must be positive")
	for i, pat := range s.Check.KnownCrashes {
		k := fmt.Sprintf("check.known_crashes[%d]", i)
		_, err := regexp.Compile(pat)
		check(err == nil, k, "is not a regular expression: %v", err)
		check(pat != "", k, "must not be empty (it would match every crash)")
	}
	check(w.Clients >= 1, "workload.clients", "must be at least 1, got %d", w.Clients)
	check(w.Rate > 0 && w.Rate <= 1e6, "workload.rate", "must be > 0 and <= 1000000 ops/s, got %v", w.Rate)
	check(w.Duration > 0, "workload.duration", "must be positive")
	check(w.Timeout > 0, "workload.timeout", "must be positive")
	for i, k := range f.Kinds {
		check(slices.Contains(faults.Kinds(), k), fmt.Sprintf("faults.kinds[%d]", i), "%q is not a known fault kind (known: %s)", k, strings.Join(faults.Kinds(), ", "))
	}
	// Fault parameters are checked by the faults themselves; a FieldError
	// names the spec field, which maps to the scenario key here.
	specErr := func(sp faults.Spec, key func(field string) string) {
		var fe *faults.FieldError
		if err := faults.Check(sp, c.Nodes); errors.As(err, &fe) {
			k := key(fe.Field)
			errs = append(errs, s.Errorf(k, "%s: %s", k, fe.Msg))
		} else if err != nil {
			errs = append(errs, s.Errorf(key(""), "%v", err))
		}
	}
	for i, t := range f.Targets {
		specErr(faults.Spec{Kind: "kill", Target: t}, func(string) string { return fmt.Sprintf("faults.targets[%d]", i) })
	}
	for i, sh := range f.Shapes {
		check(sh != "links", fmt.Sprintf("faults.shapes[%d]", i), "links: a shape with explicit links belongs in a timeline step")
		specErr(faults.Spec{Kind: "partition", Shape: sh}, func(string) string { return fmt.Sprintf("faults.shapes[%d]", i) })
	}
	check(len(f.Kinds) == 0 || len(f.Targets) > 0, "faults.targets", "must not be empty when faults.kinds is set")
	check(f.Interval > 0, "faults.interval", "must be positive")
	check(f.Downtime > 0, "faults.downtime", "must be positive")
	check(len(f.Kinds) == 0 || f.Downtime < f.Interval, downtimeKey(s), "(%s) must be shorter than faults.interval (%s): random faults do not overlap (timeline steps may)", f.Downtime, f.Interval)
	check(!s.given("faults.downtime") || !s.given("faults.duration"), "faults.duration", "give faults.duration or faults.downtime, not both")
	check(f.Delay >= 0, "faults.delay", "must not be negative")
	check(len(f.Kinds) == 0 || len(s.Timeline) == 0, "timeline", "give either faults.kinds (a random schedule) or a timeline, not both")
	stepKey := map[string]string{"kind": "fault"} // spec field -> step key, where they differ
	for i, st := range s.Timeline {
		base := fmt.Sprintf("timeline[%d]", i)
		check(st.At >= 0 && st.At < w.Duration, base+".at", "(%s) must be within workload.duration (%s)", st.At, w.Duration)
		check(st.For > 0, base+".for", "must be positive")
		specErr(st.spec(), func(field string) string {
			if k, ok := stepKey[field]; ok {
				field = k
			}
			if field == "" || !s.given(base+"."+field) {
				return base
			}
			return base + "." + field
		})
	}
	for i := 1; i < len(s.Timeline); i++ {
		check(s.Timeline[i].At >= s.Timeline[i-1].At, fmt.Sprintf("timeline[%d].at", i), "steps must be in time order")
	}
	// Overlapping steps of one kind would undo each other: the first heal
	// (restart, resume, delay 0) ends both. Only link cuts nest.
	for j, b := range s.Timeline {
		for i, a := range s.Timeline[:j] {
			if a.Fault == b.Fault && a.Fault != "partition" && b.At < a.At+a.For {
				check(false, fmt.Sprintf("timeline[%d].at", j), "(%s) overlaps timeline[%d] (%s at %s for %s): overlapping steps must be of different kinds (only partitions nest)", b.At, i, a.Fault, a.At, a.For)
			}
		}
	}
	check(c.LinkProxies || !s.needs().Links, "cluster.link_proxies", "is false, but partition and slowlink faults need link proxies")
	check(c.PowerLossFS || !s.needs().PowerFS, "cluster.powerloss_fs", "is false, but powerloss faults need it")
	check(c.Writeback >= 0, "cluster.writeback", "must not be negative")
	if c.PowerLossFS {
		if err := powerfs.Available(); err != nil {
			key := "cluster.powerloss_fs"
			if !s.given(key) {
				key = "faults" // turned on by a powerloss fault
				if len(s.Timeline) > 0 {
					key = "timeline"
				}
			}
			check(false, key, "needs the power-loss filesystem, which cannot run here: %v", err)
		}
	}
	check(fin.Recover > 0, "final.recover", "must be positive")
	check(fin.DrainTimeout > 0, "final.drain_timeout", "must be positive")
	return errors.Join(errs...)
}
