package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/reports"
	"jetstorm/stats"
	"jetstorm/workloads"
)

// benchResults writes bench.json, bench.csv (and capacity.json) and builds
// results.json for a bench run. Window start times are shifted to the run's
// time origin, so they line up with the fault ops of the history.
func benchResults(h []history.Op, meta history.Meta, bw *workloads.BenchWorkload, runErrs []string, origin time.Time, dir string) *reports.Results {
	r := bw.Result
	if r == nil {
		r = &stats.BenchResult{}
	}
	off := bw.Started.Sub(origin)
	if bw.Started.IsZero() {
		off = 0
	}
	for i := range r.Windows {
		r.Windows[i].Start += off
	}
	write := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
		}
		if err != nil {
			runErrs = append(runErrs, fmt.Sprintf("write %s: %v", name, err))
		}
	}
	write("bench.json", r)
	var csv bytes.Buffer
	if err := r.WriteCSV(&csv); err == nil {
		os.WriteFile(filepath.Join(dir, "bench.csv"), csv.Bytes(), 0o644)
	}
	if bw.CapResult != nil {
		write("capacity.json", bw.CapResult)
	}

	offered, acked, consumed, errs := r.Totals()
	check := checker.Result{Name: "bench", Verdict: checker.Valid,
		Message: fmt.Sprintf("%d offered, %d acked, %d consumed, %d errors", offered, acked, consumed, errs)}
	if acked == 0 || len(runErrs) > 0 {
		check.Verdict = checker.Unknown // no usable numbers
	}
	if cr := bw.CapResult; cr != nil {
		check.Message += fmt.Sprintf("; capacity: %.0f msgs/s held p99 <= %.2f ms (stopped %s)", cr.BestRate, cr.SLOP99Ms, cr.Stopped)
	}
	// A benchmark of a server that crashed is no benchmark: the node-log
	// check judges bench runs too.
	logVerdict, logChecks := checker.Run(context.Background(), h, nodeLogChecker(dir))
	res := reports.Build(h, meta, checker.Combine(check.Verdict, logVerdict), append([]checker.Result{check}, logChecks...), runErrs)
	var total time.Duration
	for _, st := range r.Steps {
		total += st.Duration
	}
	if total > 0 {
		res.ThroughputAckedPerS = float64(acked) / total.Seconds()
	}
	if n := len(r.Steps); n > 0 {
		l := r.Steps[n-1].PubAck // the last (usually the highest) step
		res.PublishLatencyMs = l
	}
	res.Bench = &reports.BenchSummary{Offered: offered, Acked: acked, Consumed: consumed, Errors: errs, Steps: r.Steps}
	if bw.CapResult != nil {
		res.Bench.CapacityBestRate = bw.CapResult.BestRate
	}
	return res
}

// PrintBench prints one row per bench step (and the capacity search's answer).
func PrintBench(w io.Writer, r *reports.Results) {
	b := r.Bench
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "step\trate\toffered/s\tacks/s\tconsumed/s\terrors\tack p50\tack p99\tack p99.9\tack max\te2e p50\te2e p99\te2e p99.9\t\n")
	for i, st := range b.Steps {
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", i, st.Rate, st.OfferedRate,
			st.AckThroughput, st.ConsumedRate, st.Errors, st.PubAck.P50, st.PubAck.P99, st.PubAck.P999, st.PubAck.Max,
			st.E2E.P50, st.E2E.P99, st.E2E.P999)
	}
	tw.Flush()
	fmt.Fprintln(w, "  (latencies in ms, from each message's intended send time)")
	if len(r.Checks) > 0 {
		if i := strings.Index(r.Checks[0].Message, "capacity: "); i >= 0 {
			fmt.Fprintf(w, "  %s\n", r.Checks[0].Message[i:])
		}
	}
}
