package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// RSSFile is the run directory's record of jetstorm's own memory: one line
// a second from the start of the run to the end of its check, so a long
// soak shows whether the harness stays bounded (time_s, rss_mib, heap_mib).
const RSSFile = "jetstorm-rss.csv"

// sampleRSS writes RSSFile in dir every second until stop, which returns
// the peak resident set size seen, in bytes (0 where it cannot be read).
func sampleRSS(dir string) (stop func() int64) {
	f, err := os.Create(filepath.Join(dir, RSSFile))
	if err != nil {
		return func() int64 { return 0 }
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "time_s,rss_mib,heap_mib")
	start := time.Now()
	var peak int64
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := selfRSS()
		peak = max(peak, rss)
		fmt.Fprintf(w, "%.0f,%.1f,%.1f\n", time.Since(start).Seconds(), float64(rss)/(1<<20), float64(ms.HeapAlloc)/(1<<20))
		w.Flush()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			sample()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		sample()
		f.Close()
		return peak
	}
}

// selfRSS is this process's resident set size in bytes, from
// /proc/self/statm; 0 where there is none.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
