package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyRunDir copies dir's results.json and history.jsonl, letting edit
// change the results first.
func copyRunDir(t *testing.T, dir string, edit func(*Results)) string {
	t.Helper()
	var r Results
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&r)
	}
	cp := t.TempDir()
	if err := r.WriteJSON(cp); err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cp, "history.jsonl"), h, 0o644); err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestCompareIdentical(t *testing.T) {
	base := writeRunDir(t, synthHistory(false))
	cand := copyRunDir(t, base, nil)
	table, regressed, err := Compare(base, cand, 0.10, 0.20)
	if err != nil {
		t.Fatal(err)
	}
	if regressed {
		t.Errorf("identical runs regressed:\n%s", table)
	}
	for _, want := range []string{"verdict", "throughput acked/s", "p50 ms", "p99 ms", "p99.9 ms", "lost", "+0.0%", "no regression"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestCompareThroughputDrop(t *testing.T) {
	base := writeRunDir(t, synthHistory(false))
	cand := copyRunDir(t, base, func(r *Results) { r.ThroughputAckedPerS *= 0.7 })
	table, regressed, err := Compare(base, cand, 0.10, 0.20)
	if err != nil {
		t.Fatal(err)
	}
	if !regressed || !strings.Contains(table, "-30.0%") || !strings.Contains(table, "REGRESSION: throughput dropped 30.0%") {
		t.Errorf("30%% throughput drop: regressed %v\n%s", regressed, table)
	}
	// Within a looser limit it is not a regression.
	if _, regressed, _ := Compare(base, cand, 0.50, 0.20); regressed {
		t.Error("30% drop regressed with a 50% limit")
	}
}

func TestCompareP99AndVerdict(t *testing.T) {
	base := writeRunDir(t, synthHistory(false))
	slow := copyRunDir(t, base, func(r *Results) { r.PublishLatencyMs.P99 *= 1.5 })
	if table, regressed, _ := Compare(base, slow, 0.10, 0.20); !regressed || !strings.Contains(table, "p99 rose 50.0%") {
		t.Errorf("p99 +50%%: regressed %v\n%s", regressed, table)
	}
	if _, regressed, _ := Compare(base, slow, 0.10, -1); regressed {
		t.Error("p99 check disabled, still regressed")
	}
	lossy := writeRunDir(t, synthHistory(true))
	table, regressed, err := Compare(base, lossy, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !regressed || !strings.Contains(table, "verdict changed from valid to invalid") || !strings.Contains(table, "CHANGED") {
		t.Errorf("verdict change: regressed %v\n%s", regressed, table)
	}
}

func TestCompareBench(t *testing.T) {
	base := benchDir(t, 1, 1)
	same := benchDir(t, 1, 1)
	if table, regressed, err := Compare(base, same, 0.10, 0.20); err != nil || regressed {
		t.Errorf("same bench: %v %v\n%s", regressed, err, table)
	}
	slower := benchDir(t, 0.7, 1)
	table, regressed, err := Compare(base, slower, 0.10, 0.20)
	if err != nil || !regressed || !strings.Contains(table, "throughput dropped") {
		t.Errorf("bench throughput -30%%: %v %v\n%s", regressed, err, table)
	}
	laggy := benchDir(t, 1, 2)
	table, regressed, err = Compare(base, laggy, 0.10, 0.20)
	if err != nil || !regressed || !strings.Contains(table, "p99 rose 100.0%") {
		t.Errorf("bench p99 x2: %v %v\n%s", regressed, err, table)
	}
}

func TestCompareMissingDir(t *testing.T) {
	if _, _, err := Compare(t.TempDir(), t.TempDir(), 0.1, 0.1); err == nil {
		t.Error("no results.json: want an error")
	}
}

// Several runs a side: runs whose throughput spreads ±2 % around the
// same value are no regression whatever their medians say; a 30 % drop
// in every run is one (p = 2/70 with 4 a side); one slow outlier run
// among four moves the rank test no more than any run, so it is not; a
// drop past the limit the test cannot confirm is a note; a candidate run
// with another verdict regresses; fewer than 4 runs a side is an error.
func TestCompareRuns(t *testing.T) {
	runs := func(scales ...float64) []string {
		var dirs []string
		for _, s := range scales {
			dirs = append(dirs, benchDir(t, s, 1))
		}
		return dirs
	}
	o := CompareOptions{MaxThroughputDrop: 0.10, MaxP99Rise: 0.20}
	base := runs(1.00, 1.02, 0.98, 1.01)
	if table, regressed, err := CompareRuns(base, runs(0.99, 1.01, 0.97, 1.02), o); err != nil || regressed || !strings.Contains(table, "~") {
		t.Errorf("noise: %v %v\n%s", regressed, err, table)
	}
	table, regressed, err := CompareRuns(base, runs(0.70, 0.71, 0.69, 0.72), o)
	if err != nil || !regressed || !strings.Contains(table, "REGRESSION: throughput median dropped") || !strings.Contains(table, "p=0.029") {
		t.Errorf("30%% drop in every run: %v %v\n%s", regressed, err, table)
	}
	if table, regressed, _ := CompareRuns(base, runs(1.00, 1.01, 0.99, 0.30), o); regressed {
		t.Errorf("one slow run among four regressed:\n%s", table)
	}
	table, regressed, _ = CompareRuns(base, runs(0.70, 0.75, 1.02, 0.60), o)
	if regressed || !strings.Contains(table, "note: throughput median dropped") || !strings.Contains(table, "not judged") {
		t.Errorf("a drop the test cannot confirm: %v\n%s", regressed, table)
	}
	lossy := writeRunDir(t, synthHistory(true))
	table, regressed, _ = CompareRuns(base, append(runs(1, 1, 1), lossy), CompareOptions{MaxThroughputDrop: -1, MaxP99Rise: -1})
	if !regressed || !strings.Contains(table, "the baseline runs'") {
		t.Errorf("a candidate run with another verdict: %v\n%s", regressed, table)
	}
	if _, _, err := CompareRuns(base[:3], base, o); err == nil || !strings.Contains(err.Error(), "at least 4") {
		t.Errorf("3 runs a side: %v", err)
	}
}
