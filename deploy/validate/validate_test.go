package validate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// What docs/kubernetes.md sets up, and the manifests must agree with: the
// official NATS Helm chart (nats/nats) installed as release "nats" in
// namespace "nats", so its StatefulSet is "nats", its pods nats-0..N-1,
// its headless service "nats-headless"; jetstorm's own jobs in namespace
// "jetstorm".
const (
	natsNamespace  = "nats"
	natsRelease    = "nats"
	natsHeadless   = "nats-headless"
	benchNamespace = "jetstorm"
	managedBy      = "app.kubernetes.io/managed-by"
	podNameLabel   = "statefulset.kubernetes.io/pod-name" // set by the StatefulSet controller
)

// natsPodLabels are the labels the chart puts on its StatefulSet's pods
// (helm/charts/nats/templates/_helpers.tpl, nats.selectorLabels). The
// nats-box pod has the same name and instance, component "nats-box".
var natsPodLabels = map[string]string{
	"app.kubernetes.io/name":      "nats",
	"app.kubernetes.io/instance":  natsRelease,
	"app.kubernetes.io/component": "nats",
}

// Sample values for the placeholders. The Chaos Mesh templates go through
// plain envsubst in jetstorm's exec hooks, with jetstorm's environment
// (JETSTORM_FAULT_FOR is a Go duration, time.Duration.String()); the
// deploy/k8s manifests through envsubst '$JETSTORM_START_AT'. A large
// fault id and node index check the names' length.
var (
	chaosSample = map[string]string{
		"JETSTORM_FAULT_ID":   "123456",
		"JETSTORM_NODE_INDEX": "17",
		"JETSTORM_FAULT_FOR":  "1m15s",
	}
	k8sSample = map[string]string{
		"JETSTORM_START_AT": "2026-12-01T10:00:00Z",
	}
)

// chaosFiles says what each Chaos Mesh template must be. A template not
// listed here fails: add what it must be.
var chaosFiles = map[string]struct{ kind, action string }{
	"pod-kill.yaml":    {"PodChaos", string(v1alpha1.PodKillAction)},
	"pod-failure.yaml": {"PodChaos", string(v1alpha1.PodFailureAction)},
	"partition.yaml":   {"NetworkChaos", string(v1alpha1.PartitionAction)},
	"delay.yaml":       {"NetworkChaos", string(v1alpha1.DelayAction)},
}

// requiredChaos are the templates docs/kubernetes.md uses.
var requiredChaos = []string{"pod-kill.yaml", "pod-failure.yaml", "partition.yaml", "delay.yaml"}

// kinds maps apiVersion and kind to the Go type a document decodes into.
// Any other kind fails the test.
var kinds = map[string]func() any{
	"chaos-mesh.org/v1alpha1 PodChaos":     func() any { return &v1alpha1.PodChaos{} },
	"chaos-mesh.org/v1alpha1 NetworkChaos": func() any { return &v1alpha1.NetworkChaos{} },
	"v1 Namespace":                         func() any { return &corev1.Namespace{} },
	"v1 ConfigMap":                         func() any { return &corev1.ConfigMap{} },
	"v1 PersistentVolumeClaim":             func() any { return &corev1.PersistentVolumeClaim{} },
	"v1 Pod":                               func() any { return &corev1.Pod{} },
	"batch/v1 Job":                         func() any { return &batchv1.Job{} },
}

// object is one decoded document: as written (raw, placeholders kept) and
// with the sample values put in (sub), both of the same Go type.
type object struct {
	file  string // e.g. chaos-mesh/partition.yaml
	index int    // from 1, among the file's documents
	kind  string
	raw   any
	sub   any
}

func (o object) String() string { return fmt.Sprintf("%s (document %d, %s)", o.file, o.index, o.kind) }

// TestManifests decodes and checks every file in deploy/chaos-mesh and
// deploy/k8s.
func TestManifests(t *testing.T) {
	var chaos, k8s []object
	for _, dir := range []string{"chaos-mesh", "k8s"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no manifests in deploy/%s", dir)
		}
		for _, f := range files {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel := dir + "/" + filepath.Base(f)
			if dir == "chaos-mesh" {
				objs, errs := parse(rel, text, chaosSample, true)
				report(t, errs)
				chaos = append(chaos, objs...)
			} else {
				objs, errs := parse(rel, text, k8sSample, false)
				report(t, errs)
				k8s = append(k8s, objs...)
			}
		}
	}
	report(t, checkChaos(chaos))
	report(t, checkK8s(k8s, t.TempDir()))

	seen := map[string]bool{}
	for _, o := range chaos {
		seen[path.Base(o.file)] = true
	}
	for _, f := range requiredChaos {
		if !seen[f] {
			t.Errorf("deploy/chaos-mesh/%s is missing (docs/kubernetes.md uses it)", f)
		}
	}
	t.Logf("%d Chaos Mesh and %d Kubernetes documents checked", len(chaos), len(k8s))
}

// TestDocPaths checks that every file and folder under deploy/ that
// docs/kubernetes.md names exists (kubectl's deploy/NAME is no path).
func TestDocPaths(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "kubernetes.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths := regexp.MustCompile(`deploy/(?:[a-z0-9-]+/)*[A-Za-z0-9_.-]+\.(?:yaml|go|mod)\b|deploy/Dockerfile\b|deploy/(?:chaos-mesh|k8s|validate)\b`).FindAll(doc, -1)
	if len(paths) == 0 {
		t.Fatal("docs/kubernetes.md names no file under deploy/")
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(string(p)))); err != nil {
			t.Errorf("docs/kubernetes.md names %s: %v", p, err)
		}
	}
}

func report(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}

// TestBrokenRejected feeds the checks broken documents: each must fail,
// with a message that says why.
func TestBrokenRejected(t *testing.T) {
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// edit changes a real file; the edit must apply, or this test is stale.
	edit := func(rel, old, new string) string {
		s := read(rel)
		if !strings.Contains(s, old) {
			t.Fatalf("%s no longer contains %q: update this test", rel, old)
		}
		return strings.Replace(s, old, new, 1)
	}
	const inlineUnknownField = `apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata:
  name: jetstorm-kill-${JETSTORM_FAULT_ID}-${JETSTORM_NODE_INDEX}
  namespace: nats
  labels:
    app.kubernetes.io/managed-by: jetstorm
spec:
  action: pod-kill
  mode: one
  gracePeriodSeconds: 0
  selector:
    pods:
      nats:
        - nats-${JETSTORM_NODE_INDEX}
`
	cases := []struct {
		name, file, text, want string
	}{
		{"unknown field, inline", "chaos-mesh/pod-kill.yaml", inlineUnknownField, `unknown field "gracePeriodSeconds"`},
		{"unknown kind", "chaos-mesh/pod-kill.yaml", strings.Replace(inlineUnknownField, "kind: PodChaos", "kind: PodKill", 1), `kind "PodKill"`},
		{"duplicate key", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "  mode: one\n", "  mode: one\n  mode: all\n"), `key "mode" already set`},
		{"unknown field in a Job", "k8s/bench-shards-job.yaml", edit("k8s/bench-shards-job.yaml", "completionMode: Indexed", "completionsMode: Indexed"), `unknown field "completionsMode"`},
		{"unknown field in the delay", "chaos-mesh/delay.yaml", edit("chaos-mesh/delay.yaml", `latency: "100ms"`, `latency: "100ms"`+"\n    jiter: \"5ms\""), `unknown field "jiter"`},
		{"partition one way", "chaos-mesh/partition.yaml", edit("chaos-mesh/partition.yaml", "direction: both", "direction: to"), `direction "to"`},
		{"a kill of every pod", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "mode: one", "mode: all"), `mode "all"`},
		{"labels beside the pod list", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "    pods:\n", "    labelSelectors: {app.kubernetes.io/name: nats}\n    pods:\n"), `ignores`},
		{"the chart's labels wrong", "chaos-mesh/partition.yaml", edit("chaos-mesh/partition.yaml", "app.kubernetes.io/component: nats", "app.kubernetes.io/component: nats-box"), `labels`},
		{"a bad duration", "chaos-mesh/delay.yaml", edit("chaos-mesh/delay.yaml", `latency: "100ms"`, `latency: "100 ms"`), `latency`},
		{"a fixed duration", "chaos-mesh/partition.yaml", edit("chaos-mesh/partition.yaml", `duration: "${JETSTORM_FAULT_FOR}"`, `duration: "15s"`), `JETSTORM_FAULT_FOR`},
		{"a name that is no DNS label", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "name: jetstorm-kill-", "name: Jetstorm_Kill-"), `RFC 1123`},
		{"a name without the node", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "jetstorm-kill-${JETSTORM_FAULT_ID}-${JETSTORM_NODE_INDEX}", "jetstorm-kill-${JETSTORM_FAULT_ID}"), `JETSTORM_NODE_INDEX`},
		{"an unknown placeholder", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "nats-${JETSTORM_NODE_INDEX}\n", "nats-${JETSTORM_NODE}\n"), `JETSTORM_NODE`},
		{"a bare $ in a template", "chaos-mesh/pod-kill.yaml", edit("chaos-mesh/pod-kill.yaml", "nats-${JETSTORM_NODE_INDEX}\n", "nats-$JETSTORM_NODE_INDEX\n"), `envsubst`},
		{"shards and completions disagree", "k8s/bench-shards-job.yaml", edit("k8s/bench-shards-job.yaml", "completions: 3\n  parallelism: 3", "completions: 4\n  parallelism: 4"), `--shard .../3 but spec.completions 4`},
		{"no read-write-many volume", "k8s/bench-shards-job.yaml", edit("k8s/bench-shards-job.yaml", "- ReadWriteMany", "- ReadWriteOnce"), `ReadWriteMany`},
		{"a URL out of pod order", "k8s/bench-shards-job.yaml", edit("k8s/bench-shards-job.yaml", "nats://nats-0.", "nats://nats-9."), `cluster.urls[0]`},
		{"a start time placeholder misspelt", "k8s/bench-shards-job.yaml", edit("k8s/bench-shards-job.yaml", `value: "${JETSTORM_START_AT}"`, `value: "${JETSTORM_STARTAT}"`), `JETSTORM_STARTAT`},
		{"a merge of the wrong shards", "k8s/bench-merge-job.yaml", edit("k8s/bench-merge-job.yaml", `"/results/$run/shard-2"`, ""), `merges`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := checkOne(t, c.file, c.text)
			if len(errs) == 0 {
				t.Fatalf("no error; want one containing %q", c.want)
			}
			all := errors.Join(errs...).Error()
			if !strings.Contains(all, c.want) {
				t.Fatalf("errors do not mention %q:\n%s", c.want, all)
			}
			t.Logf("rejected:\n%s", all)
		})
	}
}

// checkOne checks text as if it were deploy/<file>, with the other files
// of its directory as they are.
func checkOne(t *testing.T, file, text string) []error {
	dir, base := path.Split(file)
	dir = strings.TrimSuffix(dir, "/")
	vars, plain := chaosSample, true
	if dir == "k8s" {
		vars, plain = k8sSample, false
	}
	var objs []object
	objs, errs := parse(file, []byte(text), vars, plain)
	if dir == "k8s" { // the cross-file checks need the other files
		others, _ := filepath.Glob(filepath.Join("..", "k8s", "*.yaml"))
		for _, f := range others {
			if filepath.Base(f) == base {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			o, e := parse("k8s/"+filepath.Base(f), b, vars, plain)
			if len(e) > 0 {
				t.Fatalf("%s itself is broken: %v", f, errors.Join(e...))
			}
			objs = append(objs, o...)
		}
		return append(errs, checkK8s(objs, t.TempDir())...)
	}
	return append(errs, checkChaos(objs)...)
}

// --- parsing ---

var (
	// In a Chaos Mesh template every $ must open one of the placeholders,
	// so plain envsubst (which replaces $NAME and ${NAME} of any variable
	// in the environment) changes nothing else.
	dollarRE = regexp.MustCompile(`\$(\{([A-Za-z_][A-Za-z0-9_]*)\})?`)
	// In deploy/k8s, $-words belong to the shell scripts the containers
	// run, and envsubst is told which variable to replace; any other
	// $JETSTORM_ word is a misspelt placeholder.
	jetstormVarRE = regexp.MustCompile(`\$\{?(JETSTORM_[A-Za-z0-9_]*)\}?`)
)

// parse checks a file's placeholders, puts the sample values in, splits
// it into documents and decodes each strictly, as written and substituted.
func parse(file string, text []byte, vars map[string]string, plainEnvsubst bool) ([]object, []error) {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(file+": "+format, a...)) }
	lineOf := func(i int) int { return bytes.Count(text[:i], []byte("\n")) + 1 }
	if plainEnvsubst {
		for _, m := range dollarRE.FindAllSubmatchIndex(text, -1) {
			name := ""
			if m[4] >= 0 {
				name = string(text[m[4]:m[5]])
			}
			if _, ok := vars[name]; !ok {
				fail("line %d: %q: in a template for envsubst every $ must open one of ${%s}",
					lineOf(m[0]), text[m[0]:min(m[1]+20, len(text))], strings.Join(sortedKeys(vars), "}, ${"))
			}
		}
	} else {
		for _, m := range jetstormVarRE.FindAllSubmatchIndex(text, -1) {
			if name := string(text[m[2]:m[3]]); vars[name] == "" {
				fail("line %d: $%s is no placeholder envsubst is told to replace (%s)", lineOf(m[0]), name, strings.Join(sortedKeys(vars), ", "))
			}
		}
	}
	sub := substitute(text, vars)

	rawDocs, err := splitDocs(text)
	if err != nil {
		fail("%v", err)
		return nil, errs
	}
	subDocs, err := splitDocs(sub)
	if err != nil {
		fail("after envsubst: %v", err)
		return nil, errs
	}
	if len(rawDocs) != len(subDocs) {
		fail("%d documents as written, %d after envsubst", len(rawDocs), len(subDocs))
		return nil, errs
	}
	if len(rawDocs) == 0 {
		fail("no document")
	}
	var objs []object
	for i := range rawDocs {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(rawDocs[i], &tm); err != nil {
			fail("document %d: %v", i+1, err)
			continue
		}
		newObj, ok := kinds[tm.APIVersion+" "+tm.Kind]
		if !ok {
			fail("document %d: kind %q (apiVersion %q) is not one this validator knows (%s): add its Go type and its checks",
				i+1, tm.Kind, tm.APIVersion, strings.Join(sortedKeys(kinds), ", "))
			continue
		}
		o := object{file: file, index: i + 1, kind: tm.Kind, raw: newObj(), sub: newObj()}
		if err := yaml.UnmarshalStrict(rawDocs[i], o.raw); err != nil {
			fail("document %d (%s), as written: %v", i+1, tm.Kind, err)
			continue
		}
		if err := yaml.UnmarshalStrict(subDocs[i], o.sub); err != nil {
			fail("document %d (%s), after envsubst: %v", i+1, tm.Kind, err)
			continue
		}
		objs = append(objs, o)
	}
	return objs, errs
}

// substitute does what envsubst does for the variables in vars: $NAME and
// ${NAME} become the value.
func substitute(text []byte, vars map[string]string) []byte {
	for name, v := range vars {
		re := regexp.MustCompile(`\$(\{` + name + `\}|` + name + `\b)`)
		text = re.ReplaceAllLiteral(text, []byte(v))
	}
	return text
}

// splitDocs splits a YAML stream at its --- lines, leaving out empty
// documents (nothing but comments).
func splitDocs(text []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(text)))
	var docs [][]byte
	for {
		d, err := r.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		if s := string(bytes.TrimSpace(j)); s == "null" || s == "" {
			continue
		}
		docs = append(docs, d)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// --- checks shared by all kinds ---

type checker struct {
	where string
	errs  []error
}

func (c *checker) fail(format string, a ...any) {
	c.errs = append(c.errs, fmt.Errorf(c.where+": "+format, a...))
}

// name checks an object name; label: a DNS-1123 label (63 characters at
// most: Job names become label values), else a DNS-1123 subdomain.
func (c *checker) name(what, name string, label bool) {
	msgs := validation.IsDNS1123Subdomain(name)
	if label {
		msgs = validation.IsDNS1123Label(name)
	}
	for _, m := range msgs {
		c.fail("%s %q: %s", what, name, m)
	}
}

func (c *checker) labels(what string, labels map[string]string) {
	for k, v := range labels {
		for _, m := range validation.IsQualifiedName(k) {
			c.fail("%s key %q: %s", what, k, m)
		}
		for _, m := range validation.IsValidLabelValue(v) {
			c.fail("%s %s=%q: %s", what, k, m, v)
		}
	}
}

// --- Chaos Mesh templates ---

func checkChaos(objs []object) []error {
	var errs []error
	perFile := map[string]int{}
	for _, o := range objs {
		perFile[o.file]++
	}
	for _, o := range objs {
		c := &checker{where: o.String()}
		base := path.Base(o.file)
		want, ok := chaosFiles[base]
		switch {
		case !ok:
			c.fail("no expectations for this template: add it to chaosFiles in validate_test.go")
		case perFile[o.file] != 1:
			c.fail("a template holds one object (kubectl delete of the file heals exactly what it injected); this file has %d", perFile[o.file])
		case want.kind != o.kind:
			c.fail("want a %s", want.kind)
		default:
			switch raw := o.raw.(type) {
			case *v1alpha1.PodChaos:
				checkPodChaos(c, raw, o.sub.(*v1alpha1.PodChaos), want.action)
			case *v1alpha1.NetworkChaos:
				checkNetworkChaos(c, raw, o.sub.(*v1alpha1.NetworkChaos), want.action)
			default:
				c.fail("not a Chaos Mesh kind")
			}
		}
		errs = append(errs, c.errs...)
	}
	return errs
}

// chaosMeta: the object lives beside the chart's pods, is labelled for
// clean-up, and its name is one per fault and node.
func chaosMeta(c *checker, raw, sub metav1.ObjectMeta) {
	if sub.Namespace != natsNamespace {
		c.fail("metadata.namespace %q: want %q, the chart's namespace (selectors default to the object's own)", sub.Namespace, natsNamespace)
	}
	if sub.Labels[managedBy] != "jetstorm" {
		c.fail("metadata.labels: want %s: jetstorm (docs/kubernetes.md deletes leftovers by it)", managedBy)
	}
	c.labels("metadata.labels", sub.Labels)
	for _, p := range []string{"${JETSTORM_FAULT_ID}", "${JETSTORM_NODE_INDEX}"} {
		if !strings.Contains(raw.Name, p) {
			c.fail("metadata.name %q: must contain %s (a fault on several nodes runs the hook once per node, with one fault id)", raw.Name, p)
		}
	}
	c.name("metadata.name", sub.Name, true)
}

// onePod: the selector is the pod list naming the target node's pod and
// nothing else (with a pod list, Chaos Mesh ignores every other selector).
func onePod(c *checker, what string, s v1alpha1.PodSelector) {
	if s.Mode != v1alpha1.OneMode || s.Value != "" {
		c.fail("%s: mode %q value %q: want mode one (the one pod the hook names)", what, s.Mode, s.Value)
	}
	want := map[string][]string{natsNamespace: {natsRelease + "-" + chaosSample["JETSTORM_NODE_INDEX"]}}
	if !reflect.DeepEqual(s.Selector.Pods, want) {
		c.fail("%s.selector.pods %v: want {%s: [%s-${JETSTORM_NODE_INDEX}]}", what, s.Selector.Pods, natsNamespace, natsRelease)
	}
	rest := s.Selector
	rest.Pods = nil
	if !reflect.DeepEqual(rest, v1alpha1.PodSelectorSpec{}) {
		c.fail("%s.selector has other selectors beside its pod list: Chaos Mesh ignores them then", what)
	}
}

// otherNATSPods: the target is every NATS server pod of the chart but the
// node's own.
func otherNATSPods(c *checker, t *v1alpha1.PodSelector) {
	if t == nil {
		c.fail("spec.target: want the other NATS pods")
		return
	}
	if t.Mode != v1alpha1.AllMode {
		c.fail("spec.target.mode %q: want all (every other NATS pod)", t.Mode)
	}
	s := t.Selector
	if !slices.Equal(s.Namespaces, []string{natsNamespace}) {
		c.fail("spec.target.selector.namespaces %v: want [%s]", s.Namespaces, natsNamespace)
	}
	if !reflect.DeepEqual(s.LabelSelectors, natsPodLabels) {
		c.fail("spec.target.selector.labelSelectors %v: want the chart's labels on its server pods %v", s.LabelSelectors, natsPodLabels)
	}
	wantExpr := v1alpha1.LabelSelectorRequirements{{
		Key: podNameLabel, Operator: metav1.LabelSelectorOpNotIn,
		Values: []string{natsRelease + "-" + chaosSample["JETSTORM_NODE_INDEX"]},
	}}
	if !reflect.DeepEqual(s.ExpressionSelectors, wantExpr) {
		c.fail("spec.target.selector.expressionSelectors %v: want %s NotIn [%s-${JETSTORM_NODE_INDEX}] (all but the node itself)", s.ExpressionSelectors, podNameLabel, natsRelease)
	}
	c.labels("spec.target.selector.labelSelectors", s.LabelSelectors)
	rest := s
	rest.Namespaces, rest.LabelSelectors, rest.ExpressionSelectors = nil, nil, nil
	if !reflect.DeepEqual(rest, v1alpha1.PodSelectorSpec{}) {
		c.fail("spec.target.selector: want namespaces, labelSelectors and expressionSelectors only")
	}
}

// duration: a lasting experiment carries the step's duration, as the
// safety net that ends it if jetstorm dies before its heal.
func duration(c *checker, raw, sub *string, oneShot bool) {
	switch {
	case oneShot && raw != nil:
		c.fail("spec.duration: a one-shot action takes none")
	case oneShot:
	case raw == nil || *raw != "${JETSTORM_FAULT_FOR}":
		c.fail("spec.duration: want \"${JETSTORM_FAULT_FOR}\", the step's for")
	default:
		d, err := time.ParseDuration(*sub)
		want, _ := time.ParseDuration(chaosSample["JETSTORM_FAULT_FOR"])
		if err != nil || d != want {
			c.fail("spec.duration %q after envsubst: %v (want %s)", *sub, err, want)
		}
	}
}

func checkPodChaos(c *checker, raw, sub *v1alpha1.PodChaos, action string) {
	chaosMeta(c, raw.ObjectMeta, sub.ObjectMeta)
	if string(sub.Spec.Action) != action {
		c.fail("spec.action %q: want %s", sub.Spec.Action, action)
	}
	if sub.Spec.Action == v1alpha1.PodKillAction && sub.Spec.GracePeriod != 0 {
		c.fail("spec.gracePeriod %d: want 0 (killed at once, as jetstorm's kill)", sub.Spec.GracePeriod)
	}
	if len(sub.Spec.ContainerNames) > 0 || sub.Spec.RemoteCluster != "" {
		c.fail("spec: containerNames and remoteCluster are not used")
	}
	onePod(c, "spec", sub.Spec.PodSelector)
	duration(c, raw.Spec.Duration, sub.Spec.Duration, sub.IsOneShot())
	d := sub.DeepCopy()
	if err := d.Default(context.Background(), d); err != nil {
		c.fail("Chaos Mesh's defaulting webhook: %v", err)
	}
	if _, err := d.Validate(); err != nil {
		c.fail("Chaos Mesh's validating webhook: %v", err)
	}
}

func checkNetworkChaos(c *checker, raw, sub *v1alpha1.NetworkChaos, action string) {
	chaosMeta(c, raw.ObjectMeta, sub.ObjectMeta)
	s := sub.Spec
	if string(s.Action) != action {
		c.fail("spec.action %q: want %s", s.Action, action)
	}
	onePod(c, "spec", s.PodSelector)
	otherNATSPods(c, s.Target)
	duration(c, raw.Spec.Duration, s.Duration, sub.IsOneShot())
	if len(s.ExternalTargets) > 0 || s.Device != "" || s.TargetDevice != "" || s.RemoteCluster != "" {
		c.fail("spec: externalTargets, device, targetDevice and remoteCluster are not used")
	}
	tc := s.TcParameter
	switch s.Action {
	case v1alpha1.PartitionAction:
		if s.Direction != v1alpha1.Both {
			c.fail("spec.direction %q: want both (a partition cuts both ways)", s.Direction)
		}
		if tc != (v1alpha1.TcParameter{}) {
			c.fail("spec: a partition takes no delay, loss, bandwidth, ...")
		}
	case v1alpha1.DelayAction:
		if s.Direction != v1alpha1.To {
			c.fail("spec.direction %q: want to (the node's packets to the other NATS pods: one way, as jetstorm's slowlink)", s.Direction)
		}
		dl := tc.Delay
		tc.Delay = nil
		if tc != (v1alpha1.TcParameter{}) {
			c.fail("spec: a delay takes spec.delay only")
		}
		if dl == nil {
			c.fail("spec.delay: missing")
			break
		}
		if d, err := time.ParseDuration(dl.Latency); err != nil || d <= 0 {
			c.fail("spec.delay.latency %q: want a positive duration (%v)", dl.Latency, err)
		}
		if dl.Jitter != "" {
			if _, err := time.ParseDuration(dl.Jitter); err != nil {
				c.fail("spec.delay.jitter %q: %v", dl.Jitter, err)
			}
		}
		if dl.Correlation != "" {
			if f, err := strconv.ParseFloat(dl.Correlation, 64); err != nil || f < 0 || f > 100 {
				c.fail("spec.delay.correlation %q: want a number from 0 to 100", dl.Correlation)
			}
		}
	}
	d := sub.DeepCopy()
	if err := d.Default(context.Background(), d); err != nil {
		c.fail("Chaos Mesh's defaulting webhook: %v", err)
	}
	if _, err := d.Validate(); err != nil {
		c.fail("Chaos Mesh's validating webhook: %v", err)
	}
}

// --- deploy/k8s ---

// benchScenario is the part of a jetstorm bench scenario the checks read
// (jetstorm itself checks the rest when it loads it).
type benchScenario struct {
	Cluster struct {
		Backend     string   `json:"backend"`
		URLs        []string `json:"urls"`
		MonitorURLs []string `json:"monitor_urls"`
	} `json:"cluster"`
	Workload struct {
		Type       string `json:"type"`
		Publishers int    `json:"publishers"`
		Consumers  *int   `json:"consumers"`
		Backlog    any    `json:"backlog"`
	} `json:"workload"`
	Capacity any `json:"capacity"`
	Sweep    any `json:"sweep"`
}

var (
	shardRE = regexp.MustCompile(`--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/(\d+)"`)
	benchRE = regexp.MustCompile(`jetstorm bench (\S+)`)
)

func checkK8s(objs []object, tmp string) []error {
	var errs []error
	namespaces := map[string]bool{}
	configMaps := map[string]*corev1.ConfigMap{}
	claims := map[string]bool{}
	var jobs []object
	for _, o := range objs {
		c := &checker{where: o.String()}
		var meta metav1.ObjectMeta
		switch sub := o.sub.(type) {
		case *corev1.Namespace:
			meta = sub.ObjectMeta
			c.name("metadata.name", sub.Name, true)
			namespaces[sub.Name] = true
		case *corev1.ConfigMap:
			meta = sub.ObjectMeta
			configMaps[sub.Name] = sub
			for key, text := range sub.Data {
				if strings.HasSuffix(key, ".yaml") {
					sc := &checker{where: c.where + " data." + key}
					checkBenchScenario(sc, text)
					c.errs = append(c.errs, sc.errs...)
				}
			}
		case *corev1.PersistentVolumeClaim:
			meta = sub.ObjectMeta
			claims[sub.Name] = true
			if !slices.Contains(sub.Spec.AccessModes, corev1.ReadWriteMany) {
				c.fail("spec.accessModes %v: want ReadWriteMany (the shards run on several nodes)", sub.Spec.AccessModes)
			}
			if q, ok := sub.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.Sign() <= 0 {
				c.fail("spec.resources.requests.storage: want a size")
			}
		case *batchv1.Job:
			meta = sub.ObjectMeta
			c.name("metadata.name", sub.Name, true)
			jobs = append(jobs, o)
		case *corev1.Pod:
			meta = sub.ObjectMeta
		default:
			c.fail("no checks for %T", sub)
		}
		if o.kind != "Namespace" {
			if meta.Namespace != benchNamespace {
				c.fail("metadata.namespace %q: want %q", meta.Namespace, benchNamespace)
			}
			c.name("metadata.name", meta.Name, false)
		}
		c.labels("metadata.labels", meta.Labels)
		errs = append(errs, c.errs...)
	}
	if !namespaces[benchNamespace] {
		errs = append(errs, fmt.Errorf("deploy/k8s: no Namespace %q", benchNamespace))
	}

	// The pod specs: their volumes exist; the jobs' scripts do what the
	// doc says, checked by running them with a stand-in jetstorm.
	var shardDirs []string
	var shards int
	var merges []object
	for _, o := range objs {
		var spec *corev1.PodSpec
		switch sub := o.sub.(type) {
		case *batchv1.Job:
			spec = &sub.Spec.Template.Spec
		case *corev1.Pod:
			spec = &sub.Spec
		default:
			continue
		}
		c := &checker{where: o.String()}
		c.labels("pod labels", podLabels(o.sub))
		for _, v := range spec.Volumes {
			if v.PersistentVolumeClaim != nil && !claims[v.PersistentVolumeClaim.ClaimName] {
				c.fail("volume %s: no PersistentVolumeClaim %q in deploy/k8s", v.Name, v.PersistentVolumeClaim.ClaimName)
			}
			if v.ConfigMap != nil && configMaps[v.ConfigMap.Name] == nil {
				c.fail("volume %s: no ConfigMap %q in deploy/k8s", v.Name, v.ConfigMap.Name)
			}
		}
		if len(spec.Containers) != 1 {
			c.fail("want one container")
			errs = append(errs, c.errs...)
			continue
		}
		ctr := spec.Containers[0]
		if ctr.Image == "" {
			c.fail("container %s: no image", ctr.Name)
		}
		if job, ok := o.sub.(*batchv1.Job); ok {
			if spec.RestartPolicy != corev1.RestartPolicyNever {
				c.fail("restartPolicy %q: want Never (a run directory must be new or empty)", spec.RestartPolicy)
			}
			if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
				c.fail("spec.backoffLimit: want 0 (a shard cannot be run again for the same start time)")
			}
			script := strings.Join(slices.Concat(ctr.Command, ctr.Args), " ")
			switch {
			case strings.Contains(script, "jetstorm bench"):
				n, dirs := checkShardJob(c, job, ctr, spec, configMaps, tmp)
				if shards != 0 {
					c.fail("a second shards job")
				}
				shards, shardDirs = n, dirs
			case strings.Contains(script, "jetstorm merge"):
				merges = append(merges, o)
			default:
				c.fail("a job that runs neither jetstorm bench nor jetstorm merge")
			}
		}
		errs = append(errs, c.errs...)
	}
	if shards == 0 {
		errs = append(errs, errors.New("deploy/k8s: no Indexed Job running jetstorm bench --shard"))
	}
	if len(merges) != 1 {
		errs = append(errs, fmt.Errorf("deploy/k8s: %d jobs run jetstorm merge; want one", len(merges)))
	}
	for _, o := range merges {
		c := &checker{where: o.String()}
		job := o.sub.(*batchv1.Job)
		ctr := job.Spec.Template.Spec.Containers[0]
		args := runScript(c, ctr, tmp, nil)
		if len(args) < 3 || args[0] != "merge" || args[1] != "--out" {
			c.fail("runs jetstorm %v: want merge --out DIR SHARD_DIR...", args)
		} else {
			if !slices.Equal(args[3:], shardDirs) {
				c.fail("merges %v: want the shards' run directories %v", args[3:], shardDirs)
			}
			if slices.Contains(shardDirs, args[2]) {
				c.fail("--out %s is a shard's directory", args[2])
			}
			volumeFor(c, &job.Spec.Template.Spec, ctr, args[2])
			for _, d := range args[3:] {
				volumeFor(c, &job.Spec.Template.Spec, ctr, d)
			}
		}
		errs = append(errs, c.errs...)
	}
	return errs
}

func podLabels(obj any) map[string]string {
	switch o := obj.(type) {
	case *batchv1.Job:
		return o.Spec.Template.Labels
	case *corev1.Pod:
		return o.Labels
	}
	return nil
}

// checkShardJob checks the Indexed Job of shards and returns its number
// of shards and their run directories, in shard order.
func checkShardJob(c *checker, job *batchv1.Job, ctr corev1.Container, spec *corev1.PodSpec, configMaps map[string]*corev1.ConfigMap, tmp string) (int, []string) {
	js := job.Spec
	if js.CompletionMode == nil || *js.CompletionMode != batchv1.IndexedCompletion {
		c.fail("spec.completionMode: want Indexed (JOB_COMPLETION_INDEX numbers the shards)")
	}
	if js.Completions == nil || js.Parallelism == nil || *js.Completions != *js.Parallelism || *js.Completions < 2 {
		c.fail("spec.completions and spec.parallelism: want the same number, 2 or more (every shard at once)")
		return 0, nil
	}
	n := int(*js.Completions)
	script := strings.Join(slices.Concat(ctr.Command, ctr.Args), " ")
	if m := shardRE.FindStringSubmatch(script); m == nil {
		c.fail("the command has no --shard \"$((JOB_COMPLETION_INDEX + 1))/N\"")
	} else if m[1] != strconv.Itoa(n) {
		c.fail("--shard .../%s but spec.completions %d", m[1], n)
	}
	var startAt string
	for _, e := range ctr.Env {
		if e.Name == "START_AT" {
			startAt = e.Value
		}
	}
	if _, err := time.Parse(time.RFC3339, startAt); err != nil {
		c.fail("env START_AT %q after envsubst: want an RFC 3339 time: %v", startAt, err)
	}
	if m := benchRE.FindStringSubmatch(script); m != nil {
		checkScenarioMount(c, spec, ctr, m[1], configMaps, n)
	}
	var dirs []string
	for i := range n {
		args := runScript(c, ctr, tmp, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i)})
		want := []string{"bench", "", "--shard", fmt.Sprintf("%d/%d", i+1, n), "--start-at", startAt, "--out", ""}
		if len(args) == len(want) {
			want[1], want[7] = args[1], args[7]
		}
		if !slices.Equal(args, want) {
			c.fail("shard index %d runs jetstorm %q: want %q", i, args, want)
			continue
		}
		dirs = append(dirs, args[7])
		volumeFor(c, spec, ctr, args[7])
	}
	if len(dirs) == n && len(slices.Compact(slices.Sorted(slices.Values(dirs)))) != n {
		c.fail("the shards share run directories: %v", dirs)
	}
	return n, dirs
}

// checkScenarioMount checks that the scenario file the job runs is a key
// of a mounted ConfigMap, and a bench that n shards can split.
func checkScenarioMount(c *checker, spec *corev1.PodSpec, ctr corev1.Container, file string, configMaps map[string]*corev1.ConfigMap, n int) {
	for _, m := range ctr.VolumeMounts {
		if path.Dir(file) != path.Clean(m.MountPath) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm := configMaps[v.ConfigMap.Name]
			if cm == nil {
				return // reported with the volumes
			}
			text, ok := cm.Data[path.Base(file)]
			if !ok {
				c.fail("runs %s, but ConfigMap %s has no key %s", file, cm.Name, path.Base(file))
				return
			}
			var s benchScenario
			if err := yaml.Unmarshal([]byte(text), &s); err == nil {
				if s.Workload.Publishers < n {
					c.fail("%d shards but %d publishers: a shard would have none", n, s.Workload.Publishers)
				}
				if s.Workload.Consumers != nil && *s.Workload.Consumers > 0 && *s.Workload.Consumers < n {
					c.fail("%d shards but %d consumers: a shard would have none", n, *s.Workload.Consumers)
				}
			}
			return
		}
	}
	c.fail("runs %s, which no ConfigMap volume mounts", file)
}

// checkBenchScenario checks the jetstorm scenario in a ConfigMap: an
// external cluster whose URLs name the chart's pods in pod order (so
// node n<i+1> is pod nats-<i>), and a bench that can be sharded.
func checkBenchScenario(c *checker, text string) {
	var s benchScenario
	if err := yaml.Unmarshal([]byte(text), &s); err != nil {
		c.fail("not YAML: %v", err)
		return
	}
	if s.Cluster.Backend != "external" {
		c.fail("cluster.backend %q: want external (--shard needs it)", s.Cluster.Backend)
	}
	if len(s.Cluster.URLs) < 3 {
		c.fail("cluster.urls: want one per pod, 3 or more")
	}
	if len(s.Cluster.MonitorURLs) != len(s.Cluster.URLs) {
		c.fail("cluster.monitor_urls: want one per client URL")
	}
	host := func(i int) string {
		return fmt.Sprintf("%s-%d.%s.%s.svc.cluster.local", natsRelease, i, natsHeadless, natsNamespace)
	}
	for i, u := range s.Cluster.URLs {
		if want := fmt.Sprintf("nats://%s:4222", host(i)); u != want {
			c.fail("cluster.urls[%d] %q: want %q (pod order)", i, u, want)
		}
	}
	for i, u := range s.Cluster.MonitorURLs {
		if want := fmt.Sprintf("http://%s:8222", host(i)); u != want {
			c.fail("cluster.monitor_urls[%d] %q: want %q (pod order)", i, u, want)
		}
	}
	if s.Workload.Type != "bench" {
		c.fail("workload.type %q: want bench", s.Workload.Type)
	}
	if s.Capacity != nil || s.Sweep != nil || s.Workload.Backlog != nil {
		c.fail("a capacity search, a sweep or a backlog cannot be sharded")
	}
}

// volumeFor checks that dir lies on a mounted PersistentVolumeClaim.
func volumeFor(c *checker, spec *corev1.PodSpec, ctr corev1.Container, dir string) {
	for _, m := range ctr.VolumeMounts {
		mp := path.Clean(m.MountPath)
		if dir != mp && !strings.HasPrefix(dir, mp+"/") {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.PersistentVolumeClaim != nil {
				if m.ReadOnly {
					c.fail("%s is on a read-only mount", dir)
				}
				return
			}
		}
	}
	c.fail("%s is on no mounted PersistentVolumeClaim: it would die with the pod", dir)
}

// runScript runs the container's command with the container's own
// environment (and extra) and a stand-in jetstorm first on PATH, and
// returns the arguments jetstorm got.
func runScript(c *checker, ctr corev1.Container, tmp string, extra []string) []string {
	if len(ctr.Command) == 0 || ctr.Command[0] != "/bin/sh" {
		c.fail("command %q: want /bin/sh -c SCRIPT", ctr.Command)
		return nil
	}
	bin := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		c.fail("%v", err)
		return nil
	}
	fake := "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$FAKE_ARGS\"\n"
	if err := os.WriteFile(filepath.Join(bin, "jetstorm"), []byte(fake), 0o755); err != nil {
		c.fail("%v", err)
		return nil
	}
	out := filepath.Join(tmp, "args")
	os.Remove(out)
	argv := slices.Concat(ctr.Command, ctr.Args)
	cmd := exec.Command("sh", argv[1:]...) // the host's sh stands in for the image's
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "FAKE_ARGS=" + out}
	for _, e := range ctr.Env {
		cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
	}
	cmd.Env = append(cmd.Env, extra...)
	if b, err := cmd.CombinedOutput(); err != nil {
		c.fail("its script failed (%v): %s", err, b)
		return nil
	}
	b, err := os.ReadFile(out)
	if err != nil {
		c.fail("its script did not run jetstorm: %v", err)
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
