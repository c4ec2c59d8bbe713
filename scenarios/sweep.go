package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"text/tabwriter"

	"jetstorm/checker"
	"jetstorm/reports"
)

// SweepPlan is a scenario file run once per value of one key.
type SweepPlan struct {
	Key       string
	Values    []string
	Scenarios []*Scenario // one per value, loaded with --set key=value
}

// PlanSweep loads the scenario once per value of its sweep key, so a bad
// value fails before anything runs (the error names the --set). It returns
// nil when the scenario has no sweep.
func PlanSweep(file string, sets []string, s *Scenario) (*SweepPlan, error) {
	if len(s.Sweep) == 0 && len(s.Variants) == 0 {
		return nil, nil
	}
	p := &SweepPlan{}
	var overrides [][]string // each value's --sets
	for k, vs := range s.Sweep {
		p.Key, p.Values = k, vs
		for _, v := range vs {
			overrides = append(overrides, []string{k + "=" + v})
		}
	}
	if len(s.Variants) > 0 {
		p.Key = "variant"
		for _, v := range s.Variants {
			p.Values, overrides = append(p.Values, v.Name), append(overrides, v.Set)
		}
	}
	var errs []error
	for i, v := range p.Values {
		si, err := Load(file, append(append([]string(nil), sets...), overrides[i]...))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", p.Key, v, err))
			continue
		}
		si.Sweep, si.Variants, si.Seed = nil, nil, s.Seed // every value: the same seed, so the same schedule
		p.Scenarios = append(p.Scenarios, si)
	}
	return p, errors.Join(errs...)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._=-]+`)

// Run runs every value on a fresh cluster into dir/<key>=<value>/ and
// writes dir/sweep.json and the table. The verdict is every run's combined.
func (p *SweepPlan) Run(ctx context.Context, dir string, o RunOptions, table io.Writer) (*reports.Sweep, checker.Verdict, error) {
	sw := &reports.Sweep{Key: p.Key}
	if err := checkFresh(dir); err != nil {
		return sw, checker.Unknown, err
	}
	var verdicts []checker.Verdict
	for i, si := range p.Scenarios {
		if ctx.Err() != nil {
			break
		}
		oi := o
		name := p.Key + "=" + p.Values[i]
		if p.Key == "variant" {
			name = p.Values[i]
		}
		oi.OutDir = filepath.Join(dir, unsafeName.ReplaceAllString(name, "_"))
		out, err := Run(ctx, si, oi)
		if err != nil {
			return sw, checker.Unknown, fmt.Errorf("sweep %s=%s: %w", p.Key, p.Values[i], err)
		}
		r := out.Results
		row := reports.SweepRow{Value: p.Values[i], Throughput: r.ThroughputAckedPerS, Verdict: r.Verdict,
			PubAck: r.PublishLatencyMs, Calm: r.PublishLatencyCalmMs}
		if r.Queue != nil {
			row.Acked, row.Lost = int64(r.Queue.Acked), &r.Queue.Lost
		}
		if b := r.Bench; b != nil {
			row.Acked, row.Errors = b.Acked, b.Errors
			if n := len(b.Steps); n > 0 {
				row.E2E = b.Steps[n-1].E2E
			}
		}
		if len(r.Checks) > 0 {
			row.Message = r.Checks[0].Message
		}
		sw.Rows = append(sw.Rows, row)
		verdicts = append(verdicts, r.Verdict)
		if b, err := json.MarshalIndent(sw, "", "  "); err == nil {
			os.WriteFile(filepath.Join(dir, "sweep.json"), append(b, '\n'), 0o644) // after every value: nothing lost on Ctrl-C
		}
		if out.Err != nil {
			// A fault hook that failed (exit 3) or a cluster lost (exit 2)
			// would stop every later value too.
			if table != nil {
				PrintSweep(table, sw)
			}
			return sw, checker.Unknown, fmt.Errorf("%s %s: the run stopped early: %w", p.Key, p.Values[i], out.Err)
		}
	}
	if table != nil {
		PrintSweep(table, sw)
	}
	if err := reports.Write(dir); err != nil && o.Log != nil {
		o.Log.Warn("sweep report", "err", err)
	}
	if len(verdicts) < len(p.Scenarios) {
		verdicts = append(verdicts, checker.Unknown) // interrupted
	}
	return sw, checker.Combine(verdicts...), nil
}

// PrintSweep prints one row per value. With faults, "calm" columns give the
// publish latency outside them: the steady-state price of each value.
func PrintSweep(w io.Writer, sw *reports.Sweep) {
	calm, e2e := false, false
	for _, r := range sw.Rows {
		calm = calm || r.Calm != nil
		e2e = e2e || r.E2E.Count > 0 // a bench's consumers: queue runs have no end-to-end latency
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tverdict\tacked/s\tp50 ms\tp99 ms\tp99.9 ms\t", sw.Key)
	if e2e {
		fmt.Fprintf(tw, "e2e p99 ms\t")
	}
	if calm {
		fmt.Fprintf(tw, "calm p50\tcalm p99\t")
	}
	fmt.Fprintf(tw, "acked\tlost\t\n")
	for _, r := range sw.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t", r.Value, r.Verdict, r.Throughput,
			r.PubAck.P50, r.PubAck.P99, r.PubAck.P999)
		if e2e {
			fmt.Fprintf(tw, "%.2f\t", r.E2E.P99)
		}
		if calm {
			if c := r.Calm; c != nil {
				fmt.Fprintf(tw, "%.2f\t%.2f\t", c.P50, c.P99)
			} else {
				fmt.Fprintf(tw, "-\t-\t")
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t\n", r.Acked, r.LostText())
	}
	tw.Flush()
	if calm {
		fmt.Fprintf(w, "(calm: publishes outside every fault and %s after it)\n", reports.CalmMargin)
	}
}
