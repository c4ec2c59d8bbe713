// Command benchcheck measures `jetstorm check` on a large synthetic queue
// history: it writes the history (deterministic: the same flags give the
// same bytes) into a run directory, unless one is there already, then runs
// the jetstorm binary's check on it as a child and prints its wall time and
// peak RSS (the child's rusage). make bench-check runs it at 10 M lines.
//
// The history is a valid-looking queue run: a meta op, publishes by
// -clients processes at -rate per second as invoke+ok pairs (stream
// sequences in ack order), a fault every 30 s for 10 s, and the final
// drain's reads of every acknowledged value but -lost of them, spread over
// the prefix, the middle and the postfix of the stream.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func main() {
	lines := flag.Int("lines", 10_000_000, "history lines, about (publishes are a third of them)")
	lost := flag.Int("lost", 1000, "acknowledged values the drain does not read")
	clients := flag.Int("clients", 6, "publishing processes")
	rate := flag.Int("rate", 10_000, "publishes per second")
	dir := flag.String("dir", "", "run directory (default: $TMPDIR/jetstorm-bench-check-LINES)")
	bin := flag.String("jetstorm", "bin/jetstorm", "the jetstorm binary to measure")
	genOnly := flag.Bool("gen", false, "write the history only")
	flag.Parse()
	if *dir == "" {
		*dir = filepath.Join(os.TempDir(), fmt.Sprintf("jetstorm-bench-check-%d", *lines))
	}
	hist := filepath.Join(*dir, "history.jsonl")
	if _, err := os.Stat(hist); err != nil {
		start := time.Now()
		if err := generate(hist, *lines/3, *lost, *clients, *rate); err != nil {
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

func generate(path string, publishes, lost, clients, rate int) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	var idx int64
	b := make([]byte, 0, 256)
	line := func(process int, typ, fn, value string, seq uint64, t time.Duration, rest string) {
		b = b[:0]
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, idx, 10)
		b = append(b, `,"process":`...)
		b = strconv.AppendInt(b, int64(process), 10)
		b = append(b, `,"type":"`...)
		b = append(b, typ...)
		b = append(b, `","f":"`...)
		b = append(b, fn...)
		b = append(b, '"')
		if value != "" {
			b = append(b, `,"value":`...)
			b = append(b, value...)
		}
		if seq > 0 {
			b = append(b, `,"seq":`...)
			b = strconv.AppendUint(b, seq, 10)
		}
		b = append(b, `,"time":`...)
		b = strconv.AppendInt(b, int64(t), 10)
		b = append(b, rest...)
		b = append(b, "}\n"...)
		w.Write(b)
		idx++
	}
	line(-1, "ok", "meta", `{"workload":"queue","scenario":"bench-check","seed":1,"server_version":"synthetic"}`, 0, time.Millisecond, "")
	step := time.Second / time.Duration(rate)
	counters := make([]int, clients)
	values := make([]string, 0, publishes)
	t := 10 * time.Millisecond
	nextFault, faultEnd, faultProc := 30*time.Second, time.Duration(0), -2
	for i := range publishes {
		if faultEnd > 0 && t >= faultEnd {
			line(faultProc, "ok", "fault", `{"kind":"kill","nodes":["n2"],"for":"10s"}`, 0, t, "")
			faultEnd = 0
		}
		if t >= nextFault {
			line(faultProc, "invoke", "fault", `{"kind":"kill","nodes":["n2"],"for":"10s"}`, 0, t, "")
			faultEnd, nextFault = t+10*time.Second, nextFault+30*time.Second
		}
		p := i % clients
		counters[p]++
		v := strconv.Quote(fmt.Sprintf("%d-%d", p, counters[p]))
		line(p, "invoke", "publish", v, 0, t, "")
		lat := time.Duration(500+rng.IntN(2500)) * time.Microsecond
		line(p, "ok", "publish", v, uint64(i+1), t+lat, "")
		values = append(values, v)
		t += step
	}
	if faultEnd > 0 {
		line(faultProc, "ok", "fault", `{"kind":"kill","nodes":["n2"],"for":"10s"}`, 0, t, "")
	}
	// The lost: a tenth in the prefix, a tenth in the postfix, the rest in
	// the middle.
	skip := map[int]bool{}
	for i := range lost {
		switch {
		case i < lost/10:
			skip[i] = true
		case i < lost/5:
			skip[publishes-1-(i-lost/10)] = true
		default:
			skip[publishes/10+rng.IntN(publishes*8/10)] = true
		}
	}
	t += time.Second
	line(-1, "invoke", "drain", "", 0, t, "")
	for i, v := range values {
		if !skip[i] {
			t += time.Microsecond
			line(-1, "ok", "read", v, uint64(i+1), t, "")
		}
	}
	line(-1, "ok", "drain", "", 0, t+time.Millisecond, "")
	line(-1, "invoke", "recover", "", 0, t+2*time.Millisecond, "")
	line(-1, "ok", "recover", "", 0, t+3*time.Millisecond, "")
	return w.Flush()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchcheck:", err)
	os.Exit(1)
}
