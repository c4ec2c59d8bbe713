package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"jetstorm/checker"
)

// The crashes check takes its known crashes from the run's resolved
// scenario.yaml, and is skipped (saying why) on an external cluster.
func TestNodeLogChecker(t *testing.T) {
	write := func(text string) string {
		s, err := Parse([]byte(text), "x.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := yaml.Marshal(s) // as Run writes scenario.yaml
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir := write("check: {known_crashes: [rebuildStateLocked, 'fatal error: concurrent']}\n")
	c := nodeLogChecker(dir).(*checker.NodeLogs)
	if !reflect.DeepEqual(c.KnownCrashes, []string{"rebuildStateLocked", "fatal error: concurrent"}) || c.Skip != "" || c.Dir != dir {
		t.Errorf("process cluster: %+v", c)
	}
	dir = write("cluster: {backend: external, urls: ['nats://127.0.0.1:4222']}\n")
	r := checker.RunOne(context.Background(), nil, nodeLogChecker(dir))
	if r.Verdict != checker.Skipped || !strings.Contains(r.Message, "skipped: an external cluster: jetstorm has no node logs") {
		t.Errorf("external cluster: %s %q", r.Verdict, r.Message)
	}
	// No scenario.yaml: no known crashes, and no node logs is no pass.
	r = checker.RunOne(context.Background(), nil, nodeLogChecker(t.TempDir()))
	if r.Verdict != checker.Unknown {
		t.Errorf("empty directory: %s %q", r.Verdict, r.Message)
	}
}
