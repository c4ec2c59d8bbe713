package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"jetstorm/clusters"
	"jetstorm/powerfs"
	"jetstorm/reports"
	"jetstorm/scenarios"
	"jetstorm/termlog"
)

func newCheckCmd() *cobra.Command {
	var checkTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "check DIR",
		Short: "Re-check a saved run directory (history.jsonl, node logs) and rewrite its results.json",
		Long: `Re-check the run in DIR on the same path a run finishes on: the checks of the
workload kind its history names, results.json (with the kind's own sections,
e.g. a benchmark's from bench.json), the report and the summary. A history cut
mid-line (jetstorm died while writing) is judged on every complete line.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return finished(scenarios.Finish(cmd.Context(), args[0], scenarios.FinishOptions{CheckTimeout: checkTimeout, Log: warnLog()}))
		},
	}
	cmd.Flags().DurationVar(&checkTimeout, "timeout", 60*time.Second, "linearizability search limit (kv runs); past it the verdict is unknown")
	return cmd
}

// warnLog logs warnings only, on stderr.
func warnLog() *slog.Logger {
	return slog.New(termlog.NewHandler(termlog.ScreenOf(os.Stderr), &termlog.Options{Level: slog.LevelWarn}))
}

// finished prints the summary of a run directory just finished (check,
// merge) and returns its exit.
func finished(res *reports.Results, err error) error {
	if err != nil {
		return runErr(err)
	}
	scenarios.PrintSummary(os.Stdout, res)
	return verdictErr(scenarios.ExitCode(res.Verdict))
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
			if err := scenarios.Report(args[0]); err != nil {
				return usageErr(err)
			}
			fmt.Println(filepath.Join(args[0], "index.html"))
			return nil
		},
	}
}

func newCompareCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compare BASE CAND | --base DIR... --cand DIR...",
		Short: "Compare runs of a baseline and a candidate; exit 1 on a regression or a verdict change",
		Long: `Print the baseline and the candidate side by side (verdict, throughput,
publish latency percentiles, lost writes) and exit 1 on a regression: the
CI gate for upgrades.

With one run a side (BASE CAND), a regression is a verdict change, a
throughput drop past --max-throughput-drop or a p99 rise past
--max-p99-rise. One run is one sample: noise can pass for a regression.

With several independent runs a side (--base DIR... --cand DIR..., at
least 4 each: with 3 a side no two-sided rank test reaches p < 0.1), it
compares the medians and runs the Mann-Whitney U test over the runs, as
benchstat does: a regression is a change past the limit that the test
finds significant (p < --alpha), or a candidate run whose verdict differs
from the baseline runs'. The per-second windows of one run are not
independent samples, so only whole runs count.

Limits are percentages ("10%") or fractions ("0.1"); a negative limit
turns that check off.`,
		Example: `  jetstorm compare results/bench/base results/bench/cand --max-throughput-drop 10% --max-p99-rise 20%
  jetstorm compare --base base-1 base-2 base-3 base-4 --cand cand-1 cand-2 cand-3 cand-4`,
		// Flags are parsed here: --base and --cand each take every
		// directory up to the next flag (a shell glob: --base runs/base-*).
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := parseCompareArgs(args)
			if errors.Is(err, errHelp) {
				return cmd.Help()
			}
			if err != nil {
				return usageErr(err)
			}
			var table string
			var regressed bool
			if o.single {
				table, regressed, err = reports.Compare(o.base[0], o.cand[0], o.opts.MaxThroughputDrop, o.opts.MaxP99Rise)
			} else {
				table, regressed, err = reports.CompareRuns(o.base, o.cand, o.opts)
			}
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
	return cmd
}

var errHelp = errors.New("help")

type compareArgs struct {
	base, cand []string
	single     bool // BASE CAND: one run a side
	opts       reports.CompareOptions
}

// parseCompareArgs reads compare's arguments: BASE CAND, or --base and
// --cand lists, and the limits (--flag value or --flag=value).
func parseCompareArgs(args []string) (compareArgs, error) {
	o := compareArgs{opts: reports.CompareOptions{MaxThroughputDrop: 0.10, MaxP99Rise: 0.20, Alpha: 0.05}}
	var pos []string
	var list *[]string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if list != nil {
				*list = append(*list, a)
			} else {
				pos = append(pos, a)
			}
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "-h", "--help":
			return o, errHelp
		case "--base":
			list = &o.base
		case "--cand":
			list = &o.cand
		case "--max-throughput-drop", "--max-p99-rise", "--alpha":
			v, err := value()
			if err != nil {
				return o, err
			}
			f, err := fraction(v)
			if err != nil {
				return o, fmt.Errorf("%s: %w", name, err)
			}
			switch name {
			case "--max-throughput-drop":
				o.opts.MaxThroughputDrop = f
			case "--max-p99-rise":
				o.opts.MaxP99Rise = f
			default:
				if f <= 0 || f >= 1 {
					return o, fmt.Errorf("--alpha must be between 0 and 1, got %s", v)
				}
				o.opts.Alpha = f
			}
			list = nil
		default:
			return o, fmt.Errorf("unknown flag %s (flags: --base, --cand, --max-throughput-drop, --max-p99-rise, --alpha)", name)
		}
		if hasVal && (name == "--base" || name == "--cand") {
			*list = append(*list, val)
		}
	}
	switch {
	case len(o.base) == 0 && len(o.cand) == 0 && len(pos) == 2:
		o.base, o.cand, o.single = pos[:1], pos[1:], true
	case len(pos) > 0:
		return o, fmt.Errorf("give BASE CAND, or --base DIR... --cand DIR...; %q is not a directory of either", pos)
	case len(o.base) == 0 || len(o.cand) == 0:
		return o, fmt.Errorf("give BASE CAND, or --base DIR... --cand DIR... (at least %d a side)", reports.MinRuns)
	}
	return o, nil
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
	var o scenarios.ServeOptions
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Start a local cluster (process or docker backend) and keep it up until Ctrl-C; --control serves a fault API",
		Long: `Start N nats-server nodes as child processes on 127.0.0.1 (--backend docker:
one container each), print their client and monitor URLs, and keep them
running until Ctrl-C (then kill them all; docker: remove their containers).
Point other tools at it, or a scenario with
  cluster: {backend: external, urls: [...], monitor_urls: [...]}

With --control HOST:PORT it also serves a fault API (JSON over HTTP), so
any test suite, in any language, can break the cluster its application
talks to, and heal it:
  GET    /nodes          names, client and monitor URLs, running, paused
  POST   /faults         {"kind": "partition", "target": "n1"} -> {"id": 1, ...}
                         the keys of a scenario's timeline step: kind (or
                         fault), target, the kind's own keys, and "for":
                         "10s" to heal on its own; "stream" names the
                         stream of a stream-leader target
  GET    /faults[/{id}]  every fault (or one): state, nodes, what it did
  DELETE /faults/{id}    heal it
  DELETE /faults         heal every active fault
Every fault and heal goes into DIR/history.jsonl as a run records them;
Ctrl-C heals what is active before the nodes stop. With --control, link
proxies, client links and the power-loss filesystem are on (where this
machine can run it), so every fault kind is on offer; a kind the cluster
was started without is refused with 409, naming the flag. The API listens
on loopback only unless --control-remote, answers only requests whose
Host is its own and whose body is Content-Type: application/json (so a
web page cannot reach it), and runs exec faults (commands of the
caller's) only with --control-exec.`,
		Example: `  jetstorm cluster --control 127.0.0.1:7070
  curl -s --json '{"kind": "powerloss", "target": "all"}' localhost:7070/faults
  curl -s -XDELETE localhost:7070/faults/1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Dir == "" {
				o.Dir = filepath.Join("results", "cluster", time.Now().UTC().Format("20060102T150405Z"))
			}
			if o.Control != "" {
				// Every fault on offer, unless turned off: a flag given wins.
				fl := cmd.Flags()
				if !fl.Changed("link-proxies") {
					o.LinkProxies = true
				}
				if !fl.Changed("client-links") {
					o.ClientLinks = o.Backend != "docker"
				}
				if !fl.Changed("powerfs") {
					o.PowerLossFS = powerfs.Available() == nil
				}
			}
			ctx, stop := interruptible(os.Stderr)
			defer stop()
			err := scenarios.Serve(ctx, o, os.Stdout, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
			if err != nil {
				return runErr(err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Nodes, "nodes", 3, "number of nodes")
	f.StringVar(&o.Dir, "dir", "", "directory for configs, logs and stores (default results/cluster/<UTC timestamp>)")
	f.StringVar(&o.SyncInterval, "sync-interval", "", "jetstream sync_interval: always or a duration (default: the server's, 2m)")
	f.BoolVar(&o.LinkProxies, "link-proxies", false, "route links through jetstorm's proxies (partition, slowlink; default on with --control)")
	f.BoolVar(&o.ClientLinks, "client-links", false, "put a proxy between each node and its clients (client-partition, client-slowlink; process backend; default on with --control)")
	f.BoolVar(&o.PowerLossFS, "powerfs", false, "serve store dirs through the power-loss filesystem (powerloss; needs root and /dev/fuse; default on with --control where it can run)")
	f.StringVar(&o.Backend, "backend", "process", "process (child processes) or docker (a container per node; needs a Docker engine)")
	f.StringVar(&o.Server, "server", "", "nats-server to run: embedded (default), a version such as v2.12.1 (built once from the Go module proxy), or a path to a binary")
	f.StringVar(&o.Image, "image", "", "docker: run this image (already in the engine; entrypoint nats-server, as the official nats image) instead of --server")
	f.StringVar(&o.Control, "control", "", "serve the fault API on HOST:PORT (loopback only; port 0 picks one)")
	f.BoolVar(&o.ControlRemote, "control-remote", false, "allow a --control address other machines can reach (anyone who reaches it can break the cluster)")
	f.BoolVar(&o.ControlExec, "control-exec", false, "allow exec faults through the API: they run the caller's commands on this machine")
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
			fmt.Printf("jetstorm (nats-server %s)\n", scenarios.ServerVersion)
		},
	}
}

func newCleanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "clean",
		Short: "Remove the docker containers and networks that dead jetstorm runs left behind",
		Long: `Remove the containers and networks of docker-backend runs whose jetstorm
process (the owner-pid label, on this host) is no longer running: what a
killed jetstorm could not remove itself. A live run's are never touched.
Every docker run does this sweep too before it starts. Exit 3 when no
Docker engine answers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			removed, err := clusters.CleanDocker(cmd.Context())
			for _, r := range removed {
				fmt.Println("removed", r)
			}
			if err != nil {
				return usageErr(err)
			}
			if len(removed) == 0 {
				fmt.Println("nothing to clean")
			}
			return nil
		},
	}
}
