// Command benchcheck measures `jetstorm check` on a large synthetic queue
// history: it writes the history (deterministic: the same flags give the
// same bytes) into a run directory, unless one is there already, then runs
// the jetstorm binary's check on it as a child and prints its wall time and
// peak RSS (the child's rusage). make bench-check runs it at 10 M lines.
//
// The history is a queue run's, as histgen writes it: -clients processes
// publishing at -rate per second, a fault every 30 s, and -lost
// acknowledged values the final drain does not read.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"jetstorm/history"
	"jetstorm/history/histgen"
)

func main() {
	lines := flag.Int("lines", 10_000_000, "history lines, about (publishes are a third of them)")
	lost := flag.Int("lost", 1000, "acknowledged values the drain does not read")
	clients := flag.Int("clients", 6, "publishing processes")
	rate := flag.Int("rate", 10_000, "publishes per second")
	nodes := flag.Int("nodes", 0, "nodes whose own copies are read back after the drain (per-node reads: 3+N lines a publish)")
	dir := flag.String("dir", "", "run directory (default: $TMPDIR/jetstorm-bench-check-LINES)")
	bin := flag.String("jetstorm", "bin/jetstorm", "the jetstorm binary to measure")
	genOnly := flag.Bool("gen", false, "write the history only")
	compress := flag.Bool("compress", false, "write it gzip-compressed (history.jsonl.gz), as run --compress does")
	flag.Parse()
	if *dir == "" {
		*dir = filepath.Join(os.TempDir(), fmt.Sprintf("jetstorm-bench-check-%d", *lines))
		if *nodes > 0 {
			*dir += fmt.Sprintf("-n%d", *nodes)
		}
		if *compress {
			*dir += "-gz"
		}
	}
	hist := filepath.Join(*dir, history.FileName)
	if *compress {
		hist = filepath.Join(*dir, history.CompressedFileName)
	}
	if _, err := os.Stat(hist); err != nil {
		start := time.Now()
		if err := generate(hist, *compress, histgen.Options{Publishes: *lines / (3 + *nodes), Lost: *lost, Clients: *clients, Rate: *rate, Nodes: *nodes}); err != nil {
			fail(err)
		}
		fi, _ := os.Stat(hist)
		fmt.Printf("wrote %s: %.2f GB in %.1f s\n", hist, float64(fi.Size())/1e9, time.Since(start).Seconds())
	}
	if *genOnly {
		return
	}
	// Only the history: what an earlier check wrote goes.
	for _, f := range []string{"results.json", "index.html", "junit.xml", "plots"} {
		os.RemoveAll(filepath.Join(*dir, f))
	}
	cmd := exec.Command(*bin, "check", *dir)
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fail(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Printf("%s", out)
	fmt.Printf("check: %.1f s wall, %.1f s cpu, peak RSS %d MiB, exit %d\n", wall.Seconds(),
		time.Duration(ru.Utime.Nano()+ru.Stime.Nano()).Seconds(), ru.Maxrss/1024, cmd.ProcessState.ExitCode())
}

func generate(path string, compress bool, o histgen.Options) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if compress {
		zw = gzip.NewWriter(f)
		w = zw
	}
	if _, err = histgen.Queue(w, o); err == nil && zw != nil {
		err = zw.Close()
	}
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchcheck:", err)
	os.Exit(1)
}
