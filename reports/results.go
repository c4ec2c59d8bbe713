// Package reports turns a checked history into what people and CI read:
// results.json (documented in docs/results.md) and the printed summary.
package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/stats"
)

// Results is results.json.
type Results struct {
	Verdict       checker.Verdict  `json:"verdict"`
	Seed          uint64           `json:"seed"`
	Scenario      string           `json:"scenario"`
	ServerVersion string           `json:"server_version"`
	SyncInterval  string           `json:"sync_interval"`
	Checks        []checker.Result `json:"checks"`
	// The checkers' sections: crashes, node_logs, queue, per_node,
	// disagreements, unrecovered_nodes.
	checker.Sections
	ThroughputAckedPerS float64       `json:"throughput_acked_per_s"`
	PublishLatencyMs    stats.Latency `json:"publish_latency_ms"`
	// PublishLatencyCalmMs counts only the publishes that started and ended
	// outside every fault (and CalmMargin after it): the price of a policy
	// in steady state, without the outages. Set when faults were injected.
	PublishLatencyCalmMs *stats.Latency `json:"publish_latency_calm_ms,omitempty"`
	Faults               any            `json:"faults"`
	FaultsInjected       int            `json:"faults_injected"`
	Bench                *BenchSummary  `json:"bench,omitempty"`
	Meta                 history.Meta   `json:"meta"`
	Errors               []string       `json:"errors,omitempty"`
}

// BenchSummary is results.json's bench section (bench.json has the
// per-second windows).
type BenchSummary struct {
	Offered          int64                   `json:"offered"`
	Acked            int64                   `json:"acked"`
	Consumed         int64                   `json:"consumed"`
	Errors           int64                   `json:"errors"`
	Steps            []stats.BenchStepResult `json:"steps"`
	CapacityBestRate float64                 `json:"capacity_best_rate,omitempty"`
	// Faults is what each fault of a bench under faults did: outages,
	// recovery time, latency before, during and after.
	Faults []stats.FaultImpact `json:"faults,omitempty"`
	// Backlog is a backlog bench's build and drain.
	Backlog *stats.BacklogResult `json:"backlog,omitempty"`
}

// Build assembles results from a history's digest (closed) and the
// checkers' output.
func Build(d *Digest, meta history.Meta, verdict checker.Verdict, checks []checker.Result, runErrs []string) *Results {
	r := &Results{
		Verdict: verdict, Seed: meta.Seed, Scenario: meta.Scenario,
		ServerVersion: meta.ServerVersion, SyncInterval: meta.SyncInterval,
		Checks: checks, Faults: meta.Faults, Meta: meta, Errors: runErrs,
	}
	r.Meta.Faults = nil // shown once, as results.faults
	for _, c := range checks {
		if c.Details != nil {
			c.Details.AddTo(&r.Sections)
		}
	}
	if len(r.HarnessErrors) > 0 { // found by a check (e.g. in the node logs): run errors
		r.Errors = append(r.Errors[:len(r.Errors):len(r.Errors)], r.HarnessErrors...)
	}
	lat, span := d.PublishLatency()
	r.PublishLatencyMs = lat
	// Acked publishes: the queue check's count, or (when it was skipped,
	// e.g. on a workqueue stream) the publishes whose ack came back.
	acked := lat.Count
	if r.Queue != nil {
		acked = int64(r.Queue.Acked)
	}
	if span > 0 {
		r.ThroughputAckedPerS = float64(acked) / span.Seconds()
	}
	injected, _ := d.Faults()
	r.FaultsInjected = len(injected)
	if r.FaultsInjected > 0 && lat.Count > 0 { // queue runs: bench and kv keep their own latencies
		calm := d.CalmPublishLatency()
		r.PublishLatencyCalmMs = &calm
	}
	return r
}

// CalmMargin is how long after a fault ends the cluster still counts as
// recovering (a restarted node catching up, leaders being elected).
const CalmMargin = 5 * time.Second

// WriteJSON writes results.json into dir (atomically: temp file + rename).
func (r *Results) WriteJSON(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".results.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, "results.json"))
}

// Summary prints a short human summary.
func (r *Results) Summary(w io.Writer) {
	fmt.Fprintf(w, "\n%s — verdict: %s\n", r.Scenario, strings.ToUpper(string(r.Verdict)))
	r.summaryCrashes(w)
	server := "nats-server " + r.ServerVersion
	if strings.HasPrefix(r.ServerVersion, "nats-streaming-server") { // NATS Streaming names itself
		server = r.ServerVersion
	}
	fmt.Fprintf(w, "  %s, sync_interval %s, seed %d, %d faults injected\n",
		server, r.SyncInterval, r.Seed, r.FaultsInjected)
	if q := r.Queue; q != nil {
		fmt.Fprintf(w, "  publishes: %d attempted, %d acked, %d failed, %d unknown\n", q.Attempted, q.Acked, q.Failed, q.Indeterminate)
		fmt.Fprintf(w, "  read back: %d%s; lost %d (prefix %d, middle %d, postfix %d), recovered %d, unexpected %d, duplicated %d\n",
			q.Read, servedBy(q.ReadsByNode), q.Lost, q.LostPrefix, q.LostMiddle, q.LostPostfix, q.Recovered, q.Unexpected, q.Duplicated)
		if q.Lost > 0 && q.LostOnReplicas+q.LostOnNoReplica > 0 {
			fmt.Fprintf(w, "  lost writes: %d on no replica read, %d lost to clients but still on a replica (%s): the cluster did not repair them\n",
				q.LostOnNoReplica, q.LostOnReplicas, countsByName(q.LostHolders))
		}
		for _, sr := range q.StaleReads {
			word := "stale read (allowed)"
			if sr.Hid {
				word = "STALE READ HID DATA"
			}
			fmt.Fprintf(w, "  %s: %s\n", word, sr)
		}
	}
	for _, n := range sortedKeys(r.UnrecoveredNodes) {
		fmt.Fprintf(w, "  node %s never recovered: %s\n", n, r.UnrecoveredNodes[n])
	}
	var names []string
	for n := range r.PerNode {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.PerNode[n]
		fmt.Fprintf(w, "  node %s: read %d, lost %d, unexpected %d, complete %v\n", n, s.Read, s.Lost, s.Unexpected, s.Complete)
	}
	r.summaryLogWarnings(w)
	l := r.PublishLatencyMs
	fmt.Fprintf(w, "  throughput %.0f acked/s; publish latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
		r.ThroughputAckedPerS, l.P50, l.P90, l.P99, l.P999, l.Max)
	if c := r.PublishLatencyCalmMs; c != nil {
		fmt.Fprintf(w, "  outside faults (and %s after each): %d acked, publish latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
			CalmMargin, c.Count, c.P50, c.P90, c.P99, c.P999, c.Max)
	}
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  check %-8s %-7s %s\n", c.Name, c.Verdict, c.Message)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

// servedBy renders which nodes served the drain's reads: " (n1 120, n2 5)".
func servedBy(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	return " (served by " + countsByName(m) + ")"
}

// countsByName renders "n1 3, n2 5" in name order.
func countsByName(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, n := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", n, m[n]))
	}
	return strings.Join(parts, ", ")
}
