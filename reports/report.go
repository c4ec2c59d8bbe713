package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/stats"
)

// Files of a run directory that Write reads (besides results.json and
// history.jsonl) when they are present.
const (
	BenchFile    = "bench.json" // stats.BenchResult as JSON
	BenchCSVFile = "bench.csv"  // BenchResult.WriteCSV (only linked)
	// NatsBenchCSVFile is the clients in `nats bench --csv`'s layout and
	// OMBFile the run in the OpenMessaging Benchmark's result format
	// (both only linked).
	NatsBenchCSVFile = "natsbench.csv"
	OMBFile          = "omb-result.json"
	SweepFile        = "sweep.json"    // Sweep
	CapacityFile     = "capacity.json" // stats.CapacityResult
	HistoryHTML      = "history.html"  // porcupine's timeline (only linked)
	IndexFile        = "index.html"
	JUnitFile        = "junit.xml"
)

// Sweep is sweep.json: one benchmark per value of one setting (e.g. the
// fsync interval), each row a separate run. Example:
//
//	{"key": "sync_interval",
//	 "rows": [{"value": "always", "throughput": 812.5,
//	           "pub_ack": {"count": 40000, "p50": 2.1, "p90": 3.0, "p99": 7.9, "p999": 12.4, "max": 30.2},
//	           "e2e": {...}, "errors": 0, "verdict": "valid", "message": ""}]}
//
// Throughput is acknowledged publishes per second; latencies are in
// milliseconds (stats.Latency). Verdict and Message are optional: a row
// with verdict "invalid" is a failed junit testcase, "unknown" an errored one.
type Sweep struct {
	Key  string     `json:"key"`
	Rows []SweepRow `json:"rows"`
}

// SweepRow is one value of the swept setting.
type SweepRow struct {
	Value      string        `json:"value"`
	Throughput float64       `json:"throughput"`
	PubAck     stats.Latency `json:"pub_ack"`
	E2E        stats.Latency `json:"e2e"`
	// Calm is the publish latency outside faults (results.json's
	// publish_latency_calm_ms), for runs with faults.
	Calm    *stats.Latency  `json:"calm,omitempty"`
	Errors  int64           `json:"errors,omitempty"`
	Verdict checker.Verdict `json:"verdict,omitempty"`
	Acked   int64           `json:"acked"`          // acknowledged publishes
	Lost    *int            `json:"lost,omitempty"` // of which lost; nil: no lost-write check (bench)
	Message string          `json:"message,omitempty"`
}

// LostText is the lost count, or "-" for a run without a lost-write check.
func (r SweepRow) LostText() string {
	if r.Lost == nil {
		return "-"
	}
	return strconv.Itoa(*r.Lost)
}

// run is everything Write reads from a run directory.
type run struct {
	dir      string
	res      *Results
	d        *Digest // nil: no history (a sweep's own directory)
	bench    *stats.BenchResult
	sweep    *Sweep
	capacity *stats.CapacityResult

	faults    []history.FaultWindow
	notFaults []history.FaultWindow // fault ops that failed to inject (Fail)
	end       time.Duration         // latest op time in the history
	span      time.Duration         // end of the time plots' axis: the workload and faults, not the drain
}

// Write renders the report of the run in dir from its files: plots (PNG
// and SVG), index.html and junit.xml, all written into dir. It needs
// results.json and history.jsonl; bench.json, sweep.json and capacity.json
// are used when present. A sweep's own directory, which has sweep.json and
// one run directory per value but no results.json, is reported from
// sweep.json alone (verdict: the rows' combined). The output depends only
// on those files, so running it again (or on a copy of the directory) gives
// the same bytes.
func Write(dir string) error { return WriteDigest(dir, nil) }

// WriteDigest is Write with the history already digested (d, closed), as
// the check that just read it has it; nil: Write reads history.jsonl.
func WriteDigest(dir string, d *Digest) error {
	r, err := load(dir, d)
	if err != nil {
		return err
	}
	figs, err := r.figures()
	if err != nil {
		return err
	}
	var made []figureFile
	for _, f := range figs {
		ff, err := f.save(dir)
		if err != nil {
			return fmt.Errorf("report: plot %s: %w", f.name, err)
		}
		made = append(made, ff)
	}
	var buf bytes.Buffer
	if err := r.writeHTML(&buf, made); err != nil {
		return fmt.Errorf("report: index.html: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, IndexFile), buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	if err := r.writeJUnit(&buf); err != nil {
		return fmt.Errorf("report: junit.xml: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, JUnitFile), buf.Bytes())
}

func load(dir string, d *Digest) (*run, error) {
	r := &run{dir: dir, d: d}
	if err := readOptional(filepath.Join(dir, SweepFile), &r.sweep); err != nil {
		return nil, err
	}
	resPath, histPath := filepath.Join(dir, "results.json"), history.File(dir)
	if r.sweep != nil && !exists(resPath) && !exists(histPath) {
		r.res = sweepResults(r.sweep)
	} else {
		r.res = &Results{}
		if err := readJSON(resPath, r.res); err != nil {
			return nil, err
		}
		if r.d == nil {
			d, err := DigestFile(histPath)
			if err != nil && !errors.Is(err, history.ErrTruncated) {
				return nil, fmt.Errorf("report: %w", err)
			} // a cut last line: report on every complete line, as check does
			r.d = d
		}
	}
	if err := readOptional(filepath.Join(dir, BenchFile), &r.bench); err != nil {
		return nil, err
	}
	if err := readOptional(filepath.Join(dir, CapacityFile), &r.capacity); err != nil {
		return nil, err
	}
	if r.d != nil {
		r.end, r.span = r.d.end, r.d.span
		r.faults, r.notFaults = r.d.Faults()
	}
	for _, f := range r.faults {
		r.span = max(r.span, f.End)
	}
	if r.bench != nil {
		ws := r.bench.Windows
		for i := range ws {
			mid, l := windowSpan(ws, i)
			r.span = max(r.span, time.Duration((mid+l/2)*float64(time.Second)))
		}
	}
	return r, nil
}

// sweepResults stands in for results.json in a sweep's directory.
func sweepResults(s *Sweep) *Results {
	var vs []checker.Verdict
	for _, row := range s.Rows {
		if row.Verdict != "" {
			vs = append(vs, row.Verdict)
		}
	}
	return &Results{Scenario: "sweep of " + s.Key, Verdict: checker.Combine(vs...)}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return nil
}

// readOptional decodes path into a new *T stored in *dst; a missing file
// leaves *dst nil.
func readOptional[T any](path string, dst **T) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	v := new(T)
	if err := readJSON(path, v); err != nil {
		return err
	}
	*dst = v
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// isClientOp reports whether op is a workload operation whose invoke and
// completion measure the system (not metadata, faults or the final drain).
func isClientOp(op history.Op) bool {
	if op.Process < 0 {
		return false
	}
	switch op.F {
	case history.FMeta, history.FFault, history.FNote, history.FDrain, history.FRead,
		history.FNodeRead, history.FNodeDrain:
		return false
	}
	return true
}

// hasPublishes reports whether the history is a queue workload's (or a
// batch workload's: its batch publishes).
func (r *run) hasPublishes() bool { return r.d != nil && r.d.pubF != "" }

// hasQueue reports whether the history's publishes are a queue
// workload's: single values, which the loss plots follow.
func (r *run) hasQueue() bool { return r.d != nil && r.d.pubF == history.FPublish }
