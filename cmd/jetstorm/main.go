// Command jetstorm runs chaos and benchmark scenarios against replicated
// NATS JetStream clusters and checks the recorded history for lost writes.
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
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/faults"
	"jetstorm/history"
	"jetstorm/powerfs"
	"jetstorm/reports"
	"jetstorm/scenarios"
	"jetstorm/termlog"
)

// Exit codes.
const (
	exitValid   = 0
	exitInvalid = 1
	exitUnknown = 2 // no verdict: cluster never healed, drain timed out, interrupted
	exitUsage   = 3 // bad flags, scenario file or saved history
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func usageErr(err error) error { return &exitError{exitUsage, err} }

// profile is the --cpuprofile file while a profile is being written.
var profile *os.File

func main() {
	clusters.RunNodeIfChild()
	os.Exit(execute(os.Args[1:]))
}

func execute(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if profile != nil { // also after a failed or invalid run (no post-run hook then)
		pprof.StopCPUProfile()
		profile.Close()
		profile = nil
	}
	if err == nil {
		return exitValid
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "jetstorm:", ee.err)
		}
		return ee.code
	}
	// Errors from cobra itself (unknown flag, missing argument) are usage errors.
	fmt.Fprintln(os.Stderr, "jetstorm:", err)
	return exitUsage
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "jetstorm",
		Short: "Chaos tests and benchmarks for replicated NATS JetStream clusters",
		Long: `jetstorm starts a NATS JetStream cluster, drives a workload while injecting
faults (process kills, ...), heals, reads everything back and checks the
recorded history for lost acknowledged writes.

Exit codes: 0 valid, 1 invalid (an anomaly was found), 2 unknown (no verdict:
the cluster never healed, the drain timed out, or the run was interrupted),
3 usage or configuration error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --cpuprofile is for jetstorm's developers: where does the generator
	// spend its CPU (docs/benchmarks.md).
	var cpuprofile string
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a Go CPU profile of this process to `FILE`")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cpuprofile == "" {
			return nil
		}
		f, err := os.Create(cpuprofile)
		if err != nil {
			return usageErr(fmt.Errorf("--cpuprofile: %w", err))
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return usageErr(fmt.Errorf("--cpuprofile: %w", err))
		}
		profile = f
		return nil
	}
	root.AddCommand(newRunCmd(), newBenchCmd(), newCheckCmd(), newReportCmd(), newCompareCmd(), newClusterCmd(), newNodeCmd(), newPowerFSCmd(), newVersionCmd())
	return root
}

// runFlags are the flags run and bench share.
type runFlags struct {
	out, seed string
	sets      []string
	quiet     bool
	logFormat string
}

func (f *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.out, "out", "", "run directory, new or empty (default results/<name>/<UTC timestamp>)")
	cmd.Flags().StringVar(&f.seed, "seed", "", "seed for every random choice (default: the scenario's, else random; printed)")
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "override a scenario key, e.g. --set cluster.sync_interval=always (repeatable)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "log warnings only")
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
	s, err := scenarios.Load(file, f.sets)
	if err != nil {
		return usageErr(err)
	}
	if bench && s.Workload.Type != "bench" {
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
	ctx, stop := interruptible(screen)
	defer stop()
	out := f.out
	if out == "" {
		out = scenarios.DefaultOutDir(s.Name)
	}
	if sweep != nil {
		sw, verdict, err := sweep.Run(ctx, out, scenarios.RunOptions{Log: log, Summary: os.Stdout, Progress: screen}, os.Stdout)
		if sw != nil && len(sw.Rows) > 0 { // this sweep wrote its table (partial if it stopped early)
			fmt.Printf("sweep table: %s\n", filepath.Join(out, "sweep.json"))
		}
		if err != nil {
			return runErr(err)
		}
		return verdictErr(checker.ExitCode(verdict))
	}
	o, err := scenarios.Run(ctx, s, scenarios.RunOptions{OutDir: out, Log: log, Summary: os.Stdout, Progress: screen})
	if err != nil {
		return runErr(err)
	}
	if b := o.Results.Bench; b != nil {
		scenarios.PrintBench(os.Stdout, o.Results)
	}
	return verdictErr(o.ExitCode())
}

// runErr is the exit for a run that ended without a verdict: a usage error
// when the scenario itself was at fault, else unknown.
func runErr(err error) error {
	var ce *scenarios.ConfigError
	if errors.As(err, &ce) {
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
		Use:   "bench FILE",
		Short: "Run a benchmark scenario (workload.type bench): steps, capacity search or sweep",
		Long: `Run the bench scenario in FILE: P publishers and C consumers, open loop at each
step's rate, every latency measured from the message's intended send time
(publish→ack, and end to end: the send time rides in the payload), in one
HdrHistogram per second. Faults are allowed. Writes bench.json (per-second
windows and per-step summaries), bench.csv, results.json, and capacity.json
for a capacity search; prints a table per step.`,
		Example: `  jetstorm bench scenarios/bench.yaml
  jetstorm bench scenarios/capacity.yaml
  jetstorm bench scenarios/fsync-sweep.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return f.runScenario(args[0], true) },
	}
	f.add(cmd)
	return cmd
}

func newCheckCmd() *cobra.Command {
	var checkTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "check DIR",
		Short: "Re-check a saved run directory (history.jsonl, node logs) and rewrite its results.json",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			h, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
			var runErrs []string
			if errors.Is(err, history.ErrTruncated) {
				// jetstorm died mid-write: judge every complete line.
				runErrs = append(runErrs, fmt.Sprintf("%v; checked the %d complete ops before it", err, len(h)))
				fmt.Fprintf(os.Stderr, "jetstorm: warning: %s\n", runErrs[0])
			} else if err != nil {
				return usageErr(err)
			}
			meta, err := history.MetaOf(h)
			if err != nil {
				return usageErr(fmt.Errorf("%s: %w", filepath.Join(dir, "history.jsonl"), err))
			}
			verdict, checks := checker.Run(cmd.Context(), h, scenarios.Checkers(h, meta.Workload, dir, checkTimeout)...)
			res := reports.Build(h, meta, verdict, checks, runErrs)
			if err := res.WriteJSON(dir); err != nil {
				return &exitError{exitUnknown, err}
			}
			if err := reports.Write(dir); err != nil {
				fmt.Fprintln(os.Stderr, "jetstorm: report:", err)
			}
			res.Summary(os.Stdout)
			return verdictErr(checker.ExitCode(verdict))
		},
	}
	cmd.Flags().DurationVar(&checkTimeout, "timeout", 60*time.Second, "linearizability search limit (kv runs); past it the verdict is unknown")
	return cmd
}

func newNodeCmd() *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   "node --config FILE",
		Short: "Run one nats-server (embedded) from a nats-server config file",
		Long: `Run the nats-server embedded in this binary with a nats-server config file,
until SIGTERM or SIGINT. The process backend starts one of these per node.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if config == "" {
				return usageErr(errors.New("node: --config FILE is required"))
			}
			if err := clusters.RunNode(config); err != nil {
				return &exitError{1, err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "nats-server config file")
	return cmd
}

func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Rebuild the plots, index.html and junit.xml of a saved run directory",
		Long: `Rebuild the plots (PNG and SVG), index.html and junit.xml of a run directory
from its results.json, history.jsonl and (bench runs) bench.json; a sweep's
directory gets its table and plot. Works on a copied directory.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := reports.Write(args[0]); err != nil {
				return usageErr(err)
			}
			fmt.Println(filepath.Join(args[0], "index.html"))
			return nil
		},
	}
}

func newCompareCmd() *cobra.Command {
	var drop, rise string
	cmd := &cobra.Command{
		Use:   "compare BASE CAND",
		Short: "Compare two run directories; exit 1 on a regression or a verdict change",
		Long: `Print BASE and CAND side by side (verdict, throughput, publish latency
percentiles, lost writes) and exit 1 when the verdict changed, throughput
dropped by more than --max-throughput-drop, or p99 rose by more than
--max-p99-rise: the CI gate for upgrades. Limits are percentages ("10%") or
fractions ("0.1"); a negative limit turns that check off.`,
		Example: `  jetstorm compare results/bench/base results/bench/cand --max-throughput-drop 10% --max-p99-rise 20%`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := fraction(drop)
			if err != nil {
				return usageErr(fmt.Errorf("--max-throughput-drop: %w", err))
			}
			r, err := fraction(rise)
			if err != nil {
				return usageErr(fmt.Errorf("--max-p99-rise: %w", err))
			}
			table, regressed, err := reports.Compare(args[0], args[1], d, r)
			if err != nil {
				return usageErr(err)
			}
			fmt.Print(table)
			if regressed {
				return &exitError{code: exitInvalid}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&drop, "max-throughput-drop", "10%", "largest allowed throughput drop")
	cmd.Flags().StringVar(&rise, "max-p99-rise", "20%", "largest allowed publish p99 rise")
	return cmd
}

// fraction reads "10%" or "0.1".
func fraction(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage or fraction", s)
	}
	if pct {
		v /= 100
	}
	return v, nil
}

func newClusterCmd() *cobra.Command {
	var nodes int
	var dir, syncInterval, server string
	var proxies bool
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Start a local cluster (process backend) and keep it up until Ctrl-C",
		Long: `Start N nats-server nodes as child processes on 127.0.0.1, print their client
and monitor URLs, and keep them running until Ctrl-C (then kill them all).
Point other tools at it, or a scenario with
  cluster: {backend: external, urls: [...], monitor_urls: [...]}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if nodes < 1 || nodes > 9 {
				return usageErr(fmt.Errorf("--nodes must be 1..9, got %d", nodes))
			}
			conf := ""
			if syncInterval != "" {
				if _, _, err := faults.ParseSyncInterval(syncInterval); err != nil {
					return usageErr(fmt.Errorf("--sync-interval: %w", err))
				}
				conf = faults.SyncIntervalConf(syncInterval)
			}
			if dir == "" {
				dir = filepath.Join("results", "cluster", time.Now().UTC().Format("20060102T150405Z"))
			}
			if _, err := clusters.ServerSpecKind(server); err != nil {
				return usageErr(fmt.Errorf("--server: %w", err))
			}
			ctx, stop := interruptible(os.Stderr)
			defer stop()
			bin, err := clusters.ServerBinary(ctx, server, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
			if err != nil {
				return usageErr(fmt.Errorf("--server: %w", err))
			}
			c, err := clusters.StartProcess(ctx, clusters.ProcessOptions{Dir: dir, Nodes: nodes, SyncInterval: conf, LinkProxies: proxies, ServerBinary: bin})
			if err != nil {
				return &exitError{exitUnknown, err}
			}
			defer c.Close(context.Background())
			if err := c.WaitHealthy(ctx); err != nil {
				return &exitError{exitUnknown, err}
			}
			var mon []string
			for _, n := range c.Nodes() {
				mon = append(mon, n.MonitorURL())
			}
			plural := "s"
			if nodes == 1 {
				plural = ""
			}
			version, err := clusters.Version(ctx, c)
			if err != nil {
				return &exitError{exitUnknown, err}
			}
			fmt.Printf("cluster up (nats-server %s, %d node%s, dir %s)\n", version, nodes, plural, dir)
			fmt.Printf("urls: [%s]\nmonitor_urls: [%s]\n", strings.Join(clusters.ClientURLs(c), ", "), strings.Join(mon, ", "))
			fmt.Printf("NATS_URL=%s\nCtrl-C to stop.\n", strings.Join(clusters.ClientURLs(c), ","))
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for configs, logs and stores (default results/cluster/<UTC timestamp>)")
	cmd.Flags().StringVar(&syncInterval, "sync-interval", "", "jetstream sync_interval: always or a duration (default: the server's, 2m)")
	cmd.Flags().BoolVar(&proxies, "link-proxies", false, "route links through jetstorm's proxies")
	cmd.Flags().StringVar(&server, "server", "", "nats-server to run: embedded (default), a version such as v2.12.1 (built once from the Go module proxy), or a path to a binary")
	return cmd
}

func newPowerFSCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "powerfs --backing DIR --mount DIR [--writeback 30s]",
		Short: "Serve a store dir through the power-loss filesystem (started by the process backend)",
		Long: `Mount the power-loss filesystem (FUSE) at --mount, passing through to --backing
but keeping written-and-not-fsynced data in this process's memory. Prints
"ready", then reads commands (stats, sync, drop) on stdin; stdin EOF or
SIGTERM syncs and unmounts. SIGKILL is a power cut. Needs root and /dev/fuse.`,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := powerfs.KeeperMain(args); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the embedded nats-server version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Printf("jetstorm (nats-server %s)\n", clusters.ServerVersion)
		},
	}
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
		fmt.Fprintln(w, "jetstorm: interrupted; stopping the cluster (Ctrl-C again to quit at once)")
		cancel()
		if _, ok := <-ch; ok {
			os.Exit(130)
		}
	}()
	return ctx, func() { signal.Stop(ch); close(ch); cancel() }
}
