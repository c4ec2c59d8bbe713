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
			log := slog.New(termlog.NewHandler(termlog.ScreenOf(os.Stderr), &termlog.Options{Level: slog.LevelWarn}))
			res, err := scenarios.Finish(cmd.Context(), args[0], scenarios.FinishOptions{CheckTimeout: checkTimeout, Log: log})
			if err != nil {
				return runErr(err)
			}
			scenarios.PrintSummary(os.Stdout, res)
			return verdictErr(scenarios.ExitCode(res.Verdict))
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
			if err := scenarios.Report(args[0]); err != nil {
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
	var dir, syncInterval, server, image, backend string
	var proxies bool
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Start a local cluster (process or docker backend) and keep it up until Ctrl-C",
		Long: `Start N nats-server nodes as child processes on 127.0.0.1 (--backend docker:
one container each), print their client and monitor URLs, and keep them
running until Ctrl-C (then kill them all; docker: remove their containers).
Point other tools at it, or a scenario with
  cluster: {backend: external, urls: [...], monitor_urls: [...]}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				dir = filepath.Join("results", "cluster", time.Now().UTC().Format("20060102T150405Z"))
			}
			ctx, stop := interruptible(os.Stderr)
			defer stop()
			o := scenarios.ServeOptions{Dir: dir, Nodes: nodes, SyncInterval: syncInterval, Server: server, Image: image, LinkProxies: proxies, Backend: backend}
			err := scenarios.Serve(ctx, o, os.Stdout, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
			if err != nil {
				return runErr(err)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for configs, logs and stores (default results/cluster/<UTC timestamp>)")
	cmd.Flags().StringVar(&syncInterval, "sync-interval", "", "jetstream sync_interval: always or a duration (default: the server's, 2m)")
	cmd.Flags().BoolVar(&proxies, "link-proxies", false, "route links through jetstorm's proxies")
	cmd.Flags().StringVar(&backend, "backend", "process", "process (child processes) or docker (a container per node; needs a Docker engine)")
	cmd.Flags().StringVar(&server, "server", "", "nats-server to run: embedded (default), a version such as v2.12.1 (built once from the Go module proxy), or a path to a binary")
	cmd.Flags().StringVar(&image, "image", "", "docker: run this image (already in the engine; entrypoint nats-server, as the official nats image) instead of --server")
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
