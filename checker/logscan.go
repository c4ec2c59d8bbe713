// Reading node logs for NodeLogs (nodelogs.go): the sections per start,
// the log clock, [FTL] lines and known-bad warnings; crash reports are
// gathered by crashreport.go.

package checker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// envFatal matches a [FTL] line about the machine rather than the server:
// a harness error (Unknown), not a crash.
var envFatal = regexp.MustCompile(`(?i)address already in use|cannot assign requested address|permission denied|operation not permitted|read-only file system|no space left on device|too many open files|storage directory is not (writable|a directory)|could not create storage directory|insufficient (storage )?resources`)

// StartMarker begins each section of a node log: the process backend writes
// "=== jetstorm: starting <node> at <RFC 3339 time>" before each start.
const StartMarker = "=== jetstorm: starting "

// maxLogLine is the longest log line read.
const maxLogLine = 1 << 20

var (
	// "[1234] 2025/01/02 15:04:05.123456 [WRN] message" (logtime: true);
	// the pid and the time are optional.
	logLineRE = regexp.MustCompile(`^(?:\[\d+\] )?(?:(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) )?\[(INF|WRN|ERR|FTL|DBG|TRC|SYS)\] (.*)$`)
	badAnyRE  = func() *regexp.Regexp {
		var alts []string
		for _, w := range BadWarnings {
			alts = append(alts, "(?:"+w.RE.String()+")")
		}
		return regexp.MustCompile(strings.Join(alts, "|"))
	}()
)

// ScanNodeLogs reads every node's log and keeper log under dir/nodes.
// runStart, if not zero, fills Crash.At. The error is for a run directory
// with no node logs at all: then no crash can be ruled out.
func ScanNodeLogs(ctx context.Context, dir string, runStart time.Time) (LogStats, error) {
	st := LogStats{Nodes: map[string]NodeLog{}}
	nodesDir := filepath.Join(dir, "nodes")
	ents, err := os.ReadDir(nodesDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, fmt.Errorf("node logs: %v", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("node logs: not checked: %v", err)
		}
		node := e.Name()
		rel := path.Join("nodes", node, node+".log")
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			st.Errors = append(st.Errors, fmt.Sprintf("%s has no log (%s)", node, rel))
			continue
		}
		if err != nil {
			st.Errors = append(st.Errors, fmt.Sprintf("%s: %v", node, err))
			continue
		}
		sc := scanLog(f, node, rel, runStart)
		f.Close()
		st.Nodes[node] = sc.log
		st.Crashes = append(st.Crashes, sc.crashes...)
		st.Errors = append(st.Errors, sc.errs...)

		krel := path.Join("nodes", node, node+".keeper.log")
		if kf, err := os.Open(filepath.Join(dir, filepath.FromSlash(krel))); err == nil {
			ks := scanLog(kf, node, krel, runStart)
			kf.Close()
			// The keeper is jetstorm's own process: its crash is the
			// harness failing, not the server.
			for _, c := range ks.crashes {
				st.Errors = append(st.Errors, fmt.Sprintf("the powerfs keeper of %s crashed (%s): %s", node, c.Log, c.Message))
			}
		}
	}
	if len(st.Nodes) == 0 && len(st.Errors) == 0 {
		return st, fmt.Errorf("no node logs in %s: crashes cannot be ruled out", nodesDir)
	}
	return st, nil
}

// logScan is what scanLog finds in one file.
type logScan struct {
	log     NodeLog
	crashes []Crash
	errs    []string
}

// scanLog reads one log. node and rel (the path shown, relative to the run
// directory) label what it finds.
func scanLog(r io.Reader, node, rel string, runStart time.Time) logScan {
	var out logScan
	warnIdx := map[string]int{} // warning name -> index in out.log.Warnings
	var clk logClock
	var (
		start    int       // sections (start lines) so far
		marker   time.Time // this section's start time
		lastTime time.Time // latest known time in this section
		block    *crashBlock
	)
	stamp := func(c *Crash, t time.Time) {
		if t.IsZero() {
			return
		}
		c.Time = t.UTC().Format(time.RFC3339Nano)
		if !runStart.IsZero() {
			c.At = t.Sub(runStart).Round(time.Millisecond).String()
		}
	}
	flush := func() {
		if block == nil {
			return
		}
		c := block.crash()
		c.Node, c.Start, c.Log = node, block.start, fmt.Sprintf("%s:%d", rel, block.line)
		stamp(&c, block.time)
		out.crashes = append(out.crashes, c)
		block = nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLogLine)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if i := strings.Index(line, StartMarker); i >= 0 {
			// A start line ends the previous process's output. It may
			// follow a partial last line of that process (killed mid-write).
			flush()
			start++
			out.log.Starts++
			marker, lastTime = parseMarker(line[i+len(StartMarker):]), time.Time{}
			if !marker.IsZero() {
				lastTime = marker
			}
			continue
		}
		if block != nil {
			if block.add(line) {
				continue
			}
			flush()
		}
		if b := beginCrash(line); b != nil {
			b.start, b.line, b.time = start, lineNo, lastTime
			block = b
			continue
		}
		m := logLineRE.FindStringSubmatch(line)
		if m != nil && m[1] != "" {
			if t := clk.at(m[1], marker); !t.IsZero() {
				lastTime = t
			}
		}
		if m != nil && m[2] == "FTL" {
			where := fmt.Sprintf("%s:%d", rel, lineNo)
			if envFatal.MatchString(m[3]) {
				out.errs = append(out.errs, fmt.Sprintf("%s start %d could not run here (%s): [FTL] %s", node, start, where, m[3]))
				continue
			}
			c := Crash{Node: node, Start: start, Kind: "fatal log", Message: "[FTL] " + m[3], Log: where, raw: line}
			stamp(&c, lastTime)
			out.crashes = append(out.crashes, c)
			continue
		}
		if badAnyRE.MatchString(line) {
			for _, w := range BadWarnings {
				if !w.RE.MatchString(line) {
					continue
				}
				i, ok := warnIdx[w.Name]
				if !ok {
					i = len(out.log.Warnings)
					warnIdx[w.Name] = i
					out.log.Warnings = append(out.log.Warnings, LogWarning{Name: w.Name, First: line, Log: fmt.Sprintf("%s:%d", rel, lineNo)})
				}
				out.log.Warnings[i].Count++
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		out.errs = append(out.errs, fmt.Sprintf("%s: reading %s: %v", node, rel, err))
	}
	// Keep warnings in BadWarnings order.
	order := map[string]int{}
	for i, w := range BadWarnings {
		order[w.Name] = i
	}
	sort.SliceStable(out.log.Warnings, func(i, j int) bool {
		return order[out.log.Warnings[i].Name] < order[out.log.Warnings[j].Name]
	})
	return out
}

// parseMarker reads the time of "n2 at 2025-01-02T03:04:05.123Z".
func parseMarker(s string) time.Time {
	_, ts, ok := strings.Cut(s, " at ")
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(ts))
	if err != nil {
		return time.Time{}
	}
	return t
}

// logClock turns the server's log times (local time, no zone) into
// absolute times. The zone offset is learnt from the first timestamped line
// after a start line (written in UTC just before the process started), so
// a log checked on another machine still reads right; before that, the
// local zone is assumed.
type logClock struct {
	off   time.Duration
	known bool
}

const logTimeLayout = "2006/01/02 15:04:05.999999999"

func (c *logClock) at(s string, marker time.Time) time.Time {
	asUTC, err := time.Parse(logTimeLayout, s)
	if err != nil {
		return time.Time{}
	}
	if !c.known && !marker.IsZero() {
		d := asUTC.Sub(marker)
		off := d.Round(15 * time.Minute)
		if diff := d - off; diff > -2*time.Minute && diff < 2*time.Minute {
			c.off, c.known = off, true
		}
	}
	if c.known {
		return asUTC.Add(-c.off)
	}
	t, err := time.ParseInLocation(logTimeLayout, s, time.Local)
	if err != nil {
		return time.Time{}
	}
	return t
}
