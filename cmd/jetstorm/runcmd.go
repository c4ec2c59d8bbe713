package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"jetstorm/scenarios"
	"jetstorm/termlog"
)

// runFlags are the flags run and bench share.
type runFlags struct {
	out, seed string
	sets      []string
	quiet     bool
	logFormat string
	compress  bool
	omb       string // bench --omb: an OpenMessaging Benchmark workload file instead of FILE
	shard     string // bench --shard I/N
	startAt   string // bench --start-at TIME
}

// shardOptions parses --shard I/N and --start-at for scenario s: shards
// of a bench run together against one external cluster.
func (f *runFlags) shardOptions(s *scenarios.Scenario, o *scenarios.RunOptions) error {
	if f.shard == "" {
		if f.startAt != "" {
			return fmt.Errorf("--start-at is for --shard")
		}
		return nil
	}
	is, ns, ok := strings.Cut(f.shard, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 2 || n > 64 || i < 1 || i > n {
		return fmt.Errorf("--shard %q: want I/N with 1 <= I <= N, 2 <= N <= 64 (e.g. 1/2)", f.shard)
	}
	if f.startAt == "" {
		return fmt.Errorf("--shard needs --start-at TIME (RFC 3339, e.g. %s): the shards start their steps together",
			time.Now().Add(30*time.Second).UTC().Format(time.RFC3339))
	}
	at, err := time.Parse(time.RFC3339Nano, f.startAt)
	if err != nil {
		return fmt.Errorf("--start-at %q: want an RFC 3339 time, e.g. %s", f.startAt, time.Now().Add(30*time.Second).UTC().Format(time.RFC3339))
	}
	switch {
	case s.Cluster.Backend != "external":
		return fmt.Errorf("%s: --shard runs against one shared cluster: cluster.backend must be external (got %s; jetstorm cluster starts one)", s.Pos("cluster.backend"), s.Cluster.Backend)
	case s.Capacity != nil:
		return fmt.Errorf("%s: a capacity search cannot be sharded (each step's verdict needs every shard's numbers)", s.Pos("capacity"))
	case s.Workload.Bench.Backlog != nil:
		return fmt.Errorf("%s: a backlog bench cannot be sharded (its drain starts on every shard's acks)", s.Pos("workload.backlog"))
	case len(s.Sweep) > 0 || len(s.Variants) > 0:
		return fmt.Errorf("a sweep cannot be sharded")
	}
	o.Shard, o.Shards, o.StartAt = i-1, n, at
	return nil
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.out, "out", "", "run directory, new or empty (default results/<name>/<UTC timestamp>)")
	cmd.Flags().StringVar(&f.seed, "seed", "", "seed for every random choice (default: the scenario's, else random; printed)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario key, e.g. --set cluster.sync_interval=always (repeatable)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "log warnings only")
	cmd.Flags().BoolVar(&f.compress, "compress", false, "write the history gzip-compressed (history.jsonl.gz, flushed every second: a killed jetstorm loses at most the last second of it), for long soaks; check and report read it")
	cmd.Flags().StringVar(&f.logFormat, "log-format", "human", "log lines on stderr: human (one line per event, seconds since the start first), text or json (slog's machine formats)")
}

// logFormats are the values of --log-format.
var logFormats = []string{"human", "text", "json"}

// newLogger returns the logger for --log-format format, writing to screen
// (through it, so that lines never land on the progress bar).
func newLogger(format string, level slog.Level, screen *termlog.Screen) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "human":
		return slog.New(termlog.NewHandler(screen, &termlog.Options{Level: level})), nil
	case "text":
		return slog.New(slog.NewTextHandler(screen, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(screen, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want one of %s", format, strings.Join(logFormats, ", "))
}

// runScenario loads FILE and runs it (once, or once per value of its sweep).
// bench requires the bench workload and prints its step table.
func (f *runFlags) runScenario(file string, bench bool) error {
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelWarn
	}
	screen := termlog.ScreenOf(os.Stderr)
	log, err := newLogger(f.logFormat, level, screen)
	if err != nil {
		return usageErr(err)
	}
	var s *scenarios.Scenario
	if f.omb != "" {
		var notes []string
		s, notes, err = scenarios.LoadOMB(f.omb, f.sets)
		for _, n := range notes {
			log.Warn(n)
		}
		file = f.omb
	} else {
		s, err = scenarios.Load(file, f.sets)
	}
	if err != nil {
		return usageErr(err)
	}
	if bench && !scenarios.Kinds[s.Workload.Type].Benchmark {
		return usageErr(fmt.Errorf("%s: jetstorm bench needs workload.type bench (got %q); use jetstorm run", s.Pos("workload.type"), s.Workload.Type))
	}
	if f.seed != "" {
		n, err := strconv.ParseUint(f.seed, 10, 64)
		if err != nil {
			return usageErr(fmt.Errorf("--seed %q: not a non-negative integer", f.seed))
		}
		s.Seed = &n
	}
	if s.Seed == nil {
		n := scenarios.RandomSeed()
		s.Seed = &n
	}
	sweep, err := scenarios.PlanSweep(file, f.sets, s)
	if err != nil {
		return usageErr(err)
	}
	ro := scenarios.RunOptions{Log: log, Summary: os.Stdout, Progress: screen, Compress: f.compress}
	if err := f.shardOptions(s, &ro); err != nil {
		return usageErr(err)
	}
	ctx, stop := interruptible(screen)
	defer stop()
	out := f.out
	if out == "" {
		out = scenarios.DefaultOutDir(s.Name)
	}
	if sweep != nil {
		sw, verdict, err := sweep.Run(ctx, out, ro, os.Stdout)
		if sw != nil && len(sw.Rows) > 0 { // this sweep wrote its table (partial if it stopped early)
			fmt.Printf("sweep table: %s\n", filepath.Join(out, "sweep.json"))
		}
		if err != nil {
			return runErr(err)
		}
		return verdictErr(scenarios.ExitCode(verdict))
	}
	ro.OutDir = out
	o, err := scenarios.Run(ctx, s, ro)
	if err != nil {
		return runErr(err)
	}
	if code := o.ExitCode(); o.Err != nil && code != exitInvalid { // a proven anomaly still says invalid
		return runErr(fmt.Errorf("the run stopped early: %w", o.Err))
	}
	return verdictErr(o.ExitCode())
}

// runErr is the exit for a run that ended without a verdict: a usage error
// when the scenario (or a saved history) itself was at fault, else unknown.
func runErr(err error) error {
	var ce *scenarios.ConfigError
	var he *scenarios.HistoryError
	if errors.As(err, &ce) || errors.As(err, &he) {
		return usageErr(err)
	}
	return &exitError{exitUnknown, err}
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a scenario: cluster, workload, faults, final drain, check",
		Long: `Run the scenario in FILE (YAML; see scenarios/*.yaml) and write a run directory
with history.jsonl (every operation, written as the run goes), results.json,
scenario.yaml (the resolved scenario, seed included) and nodes/ (configs and
logs; store dirs are kept when the verdict is not valid).

A scenario with a sweep ({cluster.sync_interval: [always, 1s, 2m]}) runs once
per value, each on a fresh cluster with the same seed, into DIR/<key>=<value>/,
and prints one table (DIR/sweep.json).

Ctrl-C stops the run cleanly: the load stops, every node is killed, and what
was recorded is checked (verdict unknown: no final drain ran). A second
Ctrl-C exits at once (nodes die with jetstorm).`,
		Example: `  jetstorm run scenarios/smoke.yaml
  jetstorm run scenarios/smoke.yaml --seed 7 --set cluster.sync_interval=always --out /tmp/run1
  jetstorm run scenarios/smoke.yaml --log-format json 2>run.log`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return f.runScenario(args[0], false) },
	}
	f.add(cmd)
	return cmd
}

func newBenchCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "bench FILE | --omb WORKLOAD",
		Short: "Run a benchmark scenario (workload.type bench): steps, capacity search or sweep",
		Long: `Run the bench scenario in FILE: P publishers and C consumers, open loop at each
step's rate, every latency measured from the message's intended send time
(publish→ack, and end to end: the send time rides in the payload), in one
HdrHistogram per second. Faults are allowed. Writes bench.json (per-second
windows and per-step summaries), bench.csv, results.json, and capacity.json
for a capacity search; prints a table per step.

With --omb, the benchmark is an OpenMessaging Benchmark workload file
(topics, partitionsPerTopic, messageSize, producersPerTopic,
subscriptionsPerTopic, consumerPerSubscription, producerRate (0: a
capacity search), consumerBacklogSizeGB, testDurationMinutes,
warmupDurationMinutes) run on a 3-node cluster with an R3 file stream
(--set changes them); keys it does not use are named, and what it cannot
do yet (more topics or subscriptions) is an error naming the line. See
the README.

With --shard I/N and --start-at TIME, this generator runs 1/N of the
bench's publishers and consumers (those whose index mod N is I-1) against
an external cluster, its steps starting at TIME, as shard I of N; shard 1
sets the stream up. Run all N (on one machine or many), then merge their
run directories with jetstorm merge: the windows' raw histograms merge
exactly, as if one generator had run.`,
		Example: `  jetstorm bench scenarios/bench.yaml
  jetstorm bench scenarios/capacity.yaml
  jetstorm bench scenarios/fsync-sweep.yaml
  jetstorm bench --omb 1-topic-1-partition-1kb.yaml --set 'workload.steps=[{rate: 50000, duration: 60s}]'
  jetstorm bench bench.yaml --shard 1/2 --start-at 2026-12-01T10:00:00Z --out /tmp/s1 &
  jetstorm bench bench.yaml --shard 2/2 --start-at 2026-12-01T10:00:00Z --out /tmp/s2; wait
  jetstorm merge --out /tmp/merged /tmp/s1 /tmp/s2`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.omb != "" && len(args) > 0:
				return fmt.Errorf("give a scenario FILE or --omb WORKLOAD, not both (got --omb %s and %q)", f.omb, args)
			case f.omb == "" && len(args) != 1:
				return fmt.Errorf("give one scenario FILE (or --omb WORKLOAD), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			file := ""
			if len(args) > 0 {
				file = args[0]
			}
			return f.runScenario(file, true)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&f.omb, "omb", "", "run an OpenMessaging Benchmark workload file (YAML) instead of a scenario")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run shard I of N (I/N) of the bench: 1/N of its publishers and consumers, against an external cluster (merge the shards with jetstorm merge)")
	cmd.Flags().StringVar(&f.startAt, "start-at", "", "with --shard: when the steps start (RFC 3339), the same for every shard; leave time for shard 1's setup")
	return cmd
}

func newMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge --out DIR SHARD_DIR...",
		Short: "Merge the run directories of a sharded bench (jetstorm bench --shard) into one run",
		Long: `Merge the run directories of the shards of one bench (jetstorm bench --shard
I/N --start-at TIME) into DIR, as if one generator had run: the windows'
counts add up and their raw HdrHistograms merge, so every percentile is that
of the union of the shards' latencies (each measured on one shard's clock).
DIR starts as a copy of the first shard's directory; its bench.json, CSVs and
OMB result are the merged ones, and results.json, the report and the plots
are rebuilt from them. Shards whose schedules started more than 250 ms apart,
or that ran different steps, are refused.

End-to-end latencies (publish to consume) whose publisher and consumer ran
on different machines also carry the offset of their clocks. Each shard
estimates its clock against the stream leader's (stream info timestamps,
the shortest of 8 round trips); merge prints each shard's clock against
the first shard's, and bench.json keeps them ("clocks").`,
		Example: `  jetstorm merge --out /tmp/merged /tmp/s1 /tmp/s2`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErr(errors.New("merge: --out DIR is required"))
			}
			res, err := scenarios.MergeShards(cmd.Context(), out, args, scenarios.FinishOptions{Log: warnLog()})
			if err == nil {
				fmt.Print(scenarios.ClocksText(out))
			}
			return finished(res, err)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the merged run directory (new or empty)")
	return cmd
}

func verdictErr(code int) error {
	if code == exitValid {
		return nil
	}
	return &exitError{code: code}
}

// interruptible returns a context cancelled by the first SIGINT/SIGTERM;
// a second one exits at once (child nodes die with us: Pdeathsig). It says
// so on w.
func interruptible(w io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		if _, ok := <-ch; !ok {
			return
		}
		fmt.Fprintln(w, "jetstorm: interrupted; stopping the cluster (Ctrl-C again to quit at once: then `jetstorm clean` removes docker containers left)")
		cancel()
		if _, ok := <-ch; ok {
			os.Exit(130)
		}
	}()
	return ctx, func() { signal.Stop(ch); close(ch); cancel() }
}
