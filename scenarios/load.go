package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"jetstorm/units"
)

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
		return "--set " + redactSet(p.sets[-line-1])
	}
	return p.file
}

var (
	urlPassword = regexp.MustCompile(`(://[^:/@\s'"]*):[^@\s'"]*@`)
	keyPassword = regexp.MustCompile(`(password\s*[:=]\s*)[^,}\s]+`)
)

// redactSet is a --set as error messages show it: passwords, in a URL's
// user info or as a password key's value, REDACTED.
func redactSet(set string) string {
	set = urlPassword.ReplaceAllString(set, "${1}:REDACTED@")
	return keyPassword.ReplaceAllString(set, "${1}REDACTED")
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

func (p *parser) notMapping(n *yaml.Node, path string) error {
	what := path
	if what == "" {
		what = "a scenario"
	}
	got := "a " + units.KindName(n.Kind)
	if n.Kind == yaml.ScalarNode {
		got = strconv.Quote(n.Value)
	}
	return fmt.Errorf("%s: %s must be a mapping of keys, got %s", p.where(n.Line), what, got)
}
