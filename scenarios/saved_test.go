package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"jetstorm/checker"
)

// copySaved copies a saved run directory into a temporary one.
func copySaved(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := copyDir(src, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func readResults(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// `jetstorm check` and `jetstorm report` on a saved run keep its verdict
// and every section of its results.json, whatever the workload kind: the
// finish path picks the kind's checks and sections from the history's meta
// op. (Until the kinds registry, check on a bench run ran the queue check,
// found no drain, and rewrote results.json as unknown without its bench
// section.) The runs in testdata/saved are real runs of this version, with
// their node logs and without stores:
//
//	jetstorm run scenarios/smoke.yaml --seed 1 --set workload.duration=6s --set workload.rate=50 --set faults.interval=3s --set faults.downtime=1s
//	jetstorm run scenarios/kv-partition.yaml --seed 2 --set workload.duration=8s --set workload.rate=50 --set faults.interval=4s --set faults.duration=2s
//	jetstorm bench scenarios/bench.yaml --seed 3 --set 'workload.steps=[{rate: 500, duration: 2s}, {rate: 1000, duration: 2s}]'
//	jetstorm run scenarios/consume-kill.yaml --seed 4 --set workload.duration=6s --set workload.rate=50 --set faults.interval=3s --set faults.duration=1s
//	jetstorm run scenarios/counter-kill.yaml --seed 6 --set workload.duration=6s --set workload.rate=50 --set faults.interval=3s --set faults.duration=1s
//	jetstorm run scenarios/occ-partition.yaml --seed 8 --set workload.duration=6s --set workload.rate=50 --set faults.interval=3s --set faults.duration=1s
//	jetstorm run scenarios/batch-partition.yaml --seed 5 --set workload.duration=6s --set workload.rate=30 --set faults.interval=3s --set faults.duration=1s
func TestCheckAndReportKeepSavedRuns(t *testing.T) {
	for _, tt := range []struct {
		kind     string
		verdict  checker.Verdict
		sections []string // results.json keys this kind must have
	}{
		{"queue", checker.Valid, []string{"queue", "per_node", "publish_latency_calm_ms"}},
		{"kv", checker.Valid, []string{"checks"}},
		{"bench", checker.None, []string{"bench"}},
		{"consume", checker.Valid, []string{"queue", "consumers", "consumer_replicas"}},
		{"batch", checker.Valid, []string{"batches", "publish_latency_ms"}},
		{"counter", checker.Valid, []string{"counters", "publish_latency_ms"}},
		{"occ", checker.Valid, []string{"occ"}},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			dir := copySaved(t, filepath.Join("testdata", "saved", tt.kind))
			before := readResults(t, dir)
			if before["verdict"] != string(tt.verdict) {
				t.Fatalf("fixture verdict %v, want %s", before["verdict"], tt.verdict)
			}
			res, err := Finish(context.Background(), dir, FinishOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.verdict {
				t.Errorf("check: verdict %s, want %s (checks %+v)", res.Verdict, tt.verdict, res.Checks)
			}
			if ExitCode(res.Verdict) != 0 {
				t.Errorf("exit code %d", ExitCode(res.Verdict))
			}
			after := readResults(t, dir)
			for _, k := range tt.sections {
				if _, ok := after[k]; !ok {
					t.Errorf("results.json lost %q after check", k)
				}
			}
			for k, v := range before {
				if k == "checks" { // messages may hold a timing and the directory
					v, after[k] = checkVerdicts(v), checkVerdicts(after[k])
				}
				if !reflect.DeepEqual(after[k], v) {
					t.Errorf("results.json %q changed after check:\n was %v\n now %v", k, v, after[k])
				}
			}
			for k := range after {
				if _, ok := before[k]; !ok {
					t.Errorf("results.json gained %q after check", k)
				}
			}
			if err := Report(dir); err != nil {
				t.Fatal(err)
			}
			again := readResults(t, dir)
			again["checks"] = checkVerdicts(again["checks"])
			if !reflect.DeepEqual(again, after) {
				t.Errorf("report changed results.json")
			}
			html, err := os.ReadFile(filepath.Join(dir, "index.html"))
			if err != nil || !strings.Contains(string(html), `class="verdict `+string(tt.verdict)+`"`) {
				t.Errorf("index.html does not show verdict %s (%v)", tt.verdict, err)
			}
			junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.kind == "bench" && strings.Count(string(junit), `name="step `) != 2 {
				t.Errorf("junit.xml of a 2-step benchmark has not one case per step:\n%s", junit)
			}
		})
	}
}

// checkVerdicts is results.json's checks as name: verdict.
func checkVerdicts(v any) any {
	out := map[string]any{}
	cs, _ := v.([]any)
	for _, c := range cs {
		m, _ := c.(map[string]any)
		out[fmt.Sprint(m["name"])] = m["verdict"]
	}
	return out
}
