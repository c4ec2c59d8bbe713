// Command jetstorm runs chaos and benchmark scenarios against replicated
// NATS JetStream clusters and checks the recorded history for lost writes.
//
// It is a thin CLI: flags, help and exit codes. The work is in package
// scenarios (run, finish, check, cluster), reports (report, compare) and,
// for the child processes jetstorm starts, one entry point each in
// clusters (node) and powerfs (keeper).
package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"jetstorm/clusters"
)

// Exit codes.
const (
	exitValid   = 0 // also a benchmark that ran to the end (verdict none)
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
	// --pprof serves net/http/pprof while jetstorm runs: a long soak's heap
	// can be looked at mid-run (go tool pprof http://ADDR/debug/pprof/heap).
	var pprofAddr string
	root.PersistentFlags().StringVar(&pprofAddr, "pprof", "", "serve Go's pprof endpoints on `ADDR` (e.g. 127.0.0.1:6060) while running")
	_ = root.PersistentFlags().MarkHidden("pprof")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if pprofAddr != "" {
			ln, err := net.Listen("tcp", pprofAddr)
			if err != nil {
				return usageErr(fmt.Errorf("--pprof: %w", err))
			}
			go http.Serve(ln, nil) // net/http/pprof registers on the default mux
		}
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
	root.AddCommand(newRunCmd(), newBenchCmd(), newMergeCmd(), newCheckCmd(), newReportCmd(), newCompareCmd(), newClusterCmd(), newNodeCmd(), newPowerFSCmd(), newVersionCmd(), newCleanCmd())
	return root
}
