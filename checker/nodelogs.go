package checker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"jetstorm/history"
)

// NodeLogs checks every node's log, over all of its restarts, for a server
// that crashed: a Go panic, a "fatal error:" (the runtime's unrecoverable
// errors: concurrent map writes, out of memory, deadlock), a data race
// report, or a [FTL] line that is not about the environment. Any crash makes
// the verdict Invalid (a server that panics is not a valid run, even when
// the cluster came back and lost nothing) unless it matches one of
// KnownCrashes; a known crash is still reported. It also counts the
// known-bad warnings (BadWarnings) each node logged, without judging them.
//
// Lines are attributed to the process that wrote them: a node's log
// (Dir/nodes/<node>/<node>.log) holds only that node's server, one section
// per start, each after a "=== jetstorm: starting <node> at <RFC 3339>" line
// jetstorm writes; the node's powerfs keeper writes <node>.keeper.log. A
// crashed keeper, a [FTL] about the environment (a port already in use,
// permission denied on the store dir, a full disk) and a missing log are
// harness errors: they make the verdict Unknown, never Invalid.
type NodeLogs struct {
	Dir string // the run directory
	// KnownCrashes are regular expressions (check.known_crashes) matched
	// against a crash's message and the raw stack of its goroutine.
	KnownCrashes []string
	// Skip says why there are no node logs to read (an external cluster):
	// the result is then Skipped, with that reason.
	Skip string
}

func (NodeLogs) Name() string { return "crashes" }

// Crash is one crash found in a node log.
type Crash struct {
	Node  string `json:"node"`
	Start int    `json:"start"` // which start of the node (1: the first), 0 before any start line
	// Kind is "panic", "fatal error", "data race" or "fatal log" ([FTL]).
	Kind string `json:"kind"`
	// Time is when it happened (RFC 3339, UTC): the nearest timestamped log
	// line before it, or the start line. At is the same since the run
	// started ("12.345s"), to compare with the fault windows.
	Time    string `json:"time,omitempty"`
	At      string `json:"at,omitempty"`
	Message string `json:"message"`
	// Stack is the first frames of the crashing goroutine ("function
	// (file.go:line)"), runtime frames left out.
	Stack []string `json:"stack,omitempty"`
	Log   string   `json:"log"` // where it starts: "nodes/n2/n2.log:57"
	// Known is the check.known_crashes pattern it matched: reported, but
	// not an anomaly.
	Known string `json:"known,omitempty"`

	raw string // message and the goroutine's whole stack, for KnownCrashes
}

// Title is a one-line description: "n2 start 2 at 12.3s: panic: ...".
func (c Crash) Title() string {
	var b strings.Builder
	b.WriteString(c.Node)
	if c.Start > 0 {
		fmt.Fprintf(&b, " start %d", c.Start)
	}
	if c.At != "" {
		b.WriteString(" at " + c.At)
	} else if c.Time != "" {
		b.WriteString(" at " + c.Time)
	}
	b.WriteString(": " + c.Message)
	return b.String()
}

// NodeLog is what one node's log shows besides crashes.
type NodeLog struct {
	Starts   int          `json:"starts"`             // start lines: the node process was started this often
	Warnings []LogWarning `json:"warnings,omitempty"` // known-bad warnings, in BadWarnings order
}

// LogWarning counts one known-bad warning in one node's log.
type LogWarning struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	First string `json:"first"` // the first such line
	Log   string `json:"log"`   // where: "nodes/n2/n2.log:88"
}

// LogStats is NodeLogs' Details.
type LogStats struct {
	Crashes []Crash            `json:"crashes,omitempty"`
	Nodes   map[string]NodeLog `json:"node_logs,omitempty"`
	// Errors are harness errors found in the logs (a crashed keeper, a
	// [FTL] about the environment): they make the verdict Unknown.
	Errors []string `json:"errors,omitempty"`
}

// BadWarnings are lines nats-server logs when it finds its own state
// damaged or throws state away (from the server's filestore.go, raft.go,
// jetstream.go, jetstream_cluster.go and stream.go). They are expected
// after corruption or power-loss faults and do not change the verdict, but
// are counted per node: a count that changes between server versions on
// the same scenario is worth a look.
var BadWarnings = []struct {
	Name string
	RE   *regexp.Regexp
}{
	{"last sequence mismatch", regexp.MustCompile(`last sequence (by subject )?mismatch`)},
	{"stream reset", regexp.MustCompile(`Resetting stream cluster state|Detected bad stream state, resetting`)},
	{"snapshot corrupt", regexp.MustCompile(`Snapshot corrupt`)},
	{"WAL corrupt", regexp.MustCompile(`(Corrupt|Misaligned) WAL, will truncate`)},
	{"WAL reset", regexp.MustCompile(`Resetting WAL state|Wrong index, ae is .*will reset|error loading \d+ index: .* - will reset`)},
	{"commit file corrupt", regexp.MustCompile(`Commit file corrupt`)},
	{"stream state corrupt", regexp.MustCompile(`Stream state (checksum did not match|too short|magic and version mismatch|bad (subject count|subject len|block count)|corrupt subject|encountered internal inconsistency|has no checksum|block does not exist or index mismatch)`)},
	{"stream metafile damaged", regexp.MustCompile(`Stream metafile .*checksums do not match|Missing stream (metafile|checksum file)|Error (unmarshalling|reading) (stream )?metafile`)},
	{"stream recreate failed", regexp.MustCompile(`Error recreating stream`)},
	{"stream assignment corrupt", regexp.MustCompile(`Stream assignment corrupt`)},
	{"block cache corrupt", regexp.MustCompile(`indexCacheBuf corrupt|Partial cache: `)},
	{"block load error", regexp.MustCompile(`loadBlock error|Error loading msg block`)},
	{"subject count skew", regexp.MustCompile(`Detected skew in subject-based total`)},
	{"catchup bad message", regexp.MustCompile(`Catchup for stream .* errored, bad message`)},
	{"catchup first sequence reset", regexp.MustCompile(`Catchup for stream .* resetting first sequence`)},
	{"critical write error", regexp.MustCompile(`critical write error`)},
	{"unsafe quorum rescue", regexp.MustCompile(`Unsafe quorum rescue applied`)},
}

// envFatal matches a [FTL] line about the machine rather than the server:
// a harness error (Unknown), not a crash.
var envFatal = regexp.MustCompile(`(?i)address already in use|cannot assign requested address|permission denied|operation not permitted|read-only file system|no space left on device|too many open files|storage directory is not (writable|a directory)|could not create storage directory|insufficient (storage )?resources`)

// StartMarker begins each section of a node log: the process backend writes
// "=== jetstorm: starting <node> at <RFC 3339 time>" before each start.
const StartMarker = "=== jetstorm: starting "

const (
	maxStackFrames = 5   // frames reported per crash
	maxCrashLines  = 400 // lines of a crash report read (the rest: other goroutines)
	maxLogLine     = 1 << 20
)

var (
	// "[1234] 2025/01/02 15:04:05.123456 [WRN] message" (logtime: true);
	// the pid and the time are optional.
	logLineRE   = regexp.MustCompile(`^(?:\[\d+\] )?(?:(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) )?\[(INF|WRN|ERR|FTL|DBG|TRC|SYS)\] (.*)$`)
	goroutineRE = regexp.MustCompile(`^goroutine \d+.*\[.*\]:$`)
	badAnyRE    = func() *regexp.Regexp {
		var alts []string
		for _, w := range BadWarnings {
			alts = append(alts, "(?:"+w.RE.String()+")")
		}
		return regexp.MustCompile(strings.Join(alts, "|"))
	}()
)

func (c NodeLogs) Check(ctx context.Context, h []history.Op) Result {
	r := Result{Name: c.Name()}
	if c.Skip != "" {
		r.Verdict, r.Message = Skipped, "skipped: "+c.Skip
		return r
	}
	known, err := compileKnown(c.KnownCrashes)
	if err != nil {
		r.Verdict, r.Message = Unknown, err.Error()
		return r
	}
	st, err := ScanNodeLogs(ctx, c.Dir, runStart(h))
	if err != nil {
		r.Verdict, r.Message = Unknown, err.Error()
		return r
	}
	r.Details = st
	var unknownCrashes, knownCrashes []Crash
	for i := range st.Crashes {
		cr := &st.Crashes[i]
		for j, re := range known {
			if re.MatchString(cr.raw) {
				cr.Known = c.KnownCrashes[j]
				break
			}
		}
		if cr.Known == "" {
			unknownCrashes = append(unknownCrashes, *cr)
		} else {
			knownCrashes = append(knownCrashes, *cr)
		}
	}
	var parts []string
	switch {
	case len(unknownCrashes) > 0:
		r.Verdict = Invalid
		parts = append(parts, countOf(len(unknownCrashes), "crash", "crashes")+": "+crashList(unknownCrashes))
	case len(st.Errors) > 0:
		r.Verdict = Unknown
	default:
		r.Verdict = Valid
		starts := 0
		for _, n := range st.Nodes {
			starts += n.Starts
		}
		none := "no crash"
		if len(knownCrashes) > 0 {
			none = "no crash but known ones"
		}
		parts = append(parts, fmt.Sprintf("%s in %d node logs (%s)", none, len(st.Nodes), countOf(starts, "start", "starts")))
	}
	if len(knownCrashes) > 0 {
		parts = append(parts, countOf(len(knownCrashes), "known crash", "known crashes")+" (check.known_crashes): "+crashList(knownCrashes))
	}
	if len(st.Errors) > 0 {
		e := st.Errors[0]
		if len(st.Errors) > 1 {
			e += fmt.Sprintf(" (and %d more)", len(st.Errors)-1)
		}
		parts = append(parts, "harness error: "+e)
	}
	if w := WarningSummary(st.Nodes); w != "" {
		parts = append(parts, "known-bad warnings: "+w)
	}
	r.Message = strings.Join(parts, "; ")
	return r
}

// countOf is "1 crash", "2 crashes".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// crashList is the first three crashes on one line.
func crashList(cs []Crash) string {
	var s []string
	for i, c := range cs {
		if i == 3 {
			s = append(s, fmt.Sprintf("… (%d in all)", len(cs)))
			break
		}
		t := c.Title()
		if len(c.Stack) > 0 {
			t += " in " + c.Stack[0]
		}
		s = append(s, t)
	}
	return strings.Join(s, "; ")
}

// WarningSummary is "n2: last sequence mismatch ×3, snapshot corrupt ×1; n3: ...",
// or "" when no node logged a known-bad warning.
func WarningSummary(nodes map[string]NodeLog) string {
	var out []string
	for _, n := range sortedNodes(nodes) {
		var ws []string
		for _, w := range nodes[n].Warnings {
			ws = append(ws, fmt.Sprintf("%s ×%d", w.Name, w.Count))
		}
		if len(ws) > 0 {
			out = append(out, n+": "+strings.Join(ws, ", "))
		}
	}
	return strings.Join(out, "; ")
}

func sortedNodes(m map[string]NodeLog) []string {
	var ns []string
	for n := range m {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool {
		if len(ns[i]) != len(ns[j]) {
			return len(ns[i]) < len(ns[j]) // n2 before n10
		}
		return ns[i] < ns[j]
	})
	return ns
}

// compileKnown compiles check.known_crashes; the error names the index of
// the first bad pattern.
func compileKnown(pats []string) ([]*regexp.Regexp, error) {
	var res []*regexp.Regexp
	for i, p := range pats {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("check.known_crashes[%d]: %v", i, err)
		}
		res = append(res, re)
	}
	return res, nil
}

// CheckKnownCrashes reports whether every pattern is a valid regular
// expression (the scenario loader checks check.known_crashes with it).
func CheckKnownCrashes(pats []string) error {
	_, err := compileKnown(pats)
	return err
}

// runStart is the run's start time from the history's meta op (zero when
// absent).
func runStart(h []history.Op) time.Time {
	for _, op := range h {
		if op.F != history.FMeta {
			continue
		}
		var m struct {
			StartedAt string `json:"started_at"`
		}
		if b, err := json.Marshal(op.Value); err == nil && json.Unmarshal(b, &m) == nil {
			t, _ := time.Parse(time.RFC3339Nano, m.StartedAt)
			return t
		}
		break
	}
	return time.Time{}
}

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

// crashBlock gathers the lines of one crash report as they come.
type crashBlock struct {
	kind        string
	msg         []string
	lines       []string // the report after the message lines
	start, line int
	time        time.Time
	race        bool
	done        bool
}

// beginCrash starts a block at a line that begins a Go crash report.
func beginCrash(line string) *crashBlock {
	switch {
	case strings.HasPrefix(line, "panic: "):
		return &crashBlock{kind: "panic", msg: []string{line}}
	case strings.HasPrefix(line, "fatal error: "):
		return &crashBlock{kind: "fatal error", msg: []string{line}}
	case strings.TrimSpace(line) == "WARNING: DATA RACE":
		return &crashBlock{kind: "data race", msg: []string{"WARNING: DATA RACE"}, race: true}
	}
	return nil
}

// add takes the next line; false when the line is not part of the report
// (it is then read as an ordinary line).
func (b *crashBlock) add(line string) bool {
	if b.done {
		return false
	}
	if logLineRE.MatchString(line) {
		return false // the server logging again (a data race does not stop it)
	}
	if b.race && strings.HasPrefix(line, "==================") {
		b.done = true
		return true
	}
	// Right after the message line, the runtime prints the further lines
	// of a multi-line panic value or error (indented by a tab), re-panics
	// ("\tpanic: ...") and the signal of a fault.
	if len(b.lines) == 0 && !b.race && (strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "[signal ")) {
		b.msg = append(b.msg, strings.TrimSpace(line))
		return true
	}
	if len(b.lines) < maxCrashLines {
		b.lines = append(b.lines, line)
	}
	return true
}

// crash makes the Crash: message, the first frames, and the raw text that
// KnownCrashes match.
func (b *crashBlock) crash() Crash {
	c := Crash{Kind: b.kind}
	var raw []string
	var frames []string
	if b.race {
		// "Write at 0x... by goroutine 8:" then "  func()" / "      file:line"
		// pairs; a blank line; "Previous read at ...:" and its frames; ...
		var heads []string
		first := true
		for i, l := range b.lines {
			t := strings.TrimSpace(l)
			switch {
			case t == "":
				if len(heads) > 0 {
					first = false
				}
			case !strings.HasPrefix(l, " ") && strings.HasSuffix(t, ":"):
				if len(heads) < 2 && !strings.HasPrefix(t, "Goroutine ") {
					heads = append(heads, strings.TrimSuffix(t, ":"))
				}
			case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "    "):
				if first {
					frames = append(frames, frame(t, nextLoc(b.lines, i)))
				}
			}
			raw = append(raw, l)
		}
		c.Message = "WARNING: DATA RACE"
		if len(heads) > 0 {
			c.Message += ": " + strings.Join(heads, "; ")
		}
	} else {
		c.Message = strings.Join(b.msg, " ")
		// The first goroutine is the one that crashed: "goroutine 1
		// [running]:", then function / "\tfile:line +0x.." pairs up to a
		// blank line.
		in := false
		for i, l := range b.lines {
			if !in {
				in = goroutineRE.MatchString(l)
				continue
			}
			if strings.TrimSpace(l) == "" {
				break
			}
			raw = append(raw, l)
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "created by ") {
				continue
			}
			frames = append(frames, frame(l, nextLoc(b.lines, i)))
		}
	}
	c.raw = strings.Join(b.msg, "\n") + "\n" + strings.Join(raw, "\n")
	c.Stack = pickFrames(frames)
	return c
}

// nextLoc is the location line after the function line at i.
func nextLoc(lines []string, i int) string {
	if i+1 < len(lines) {
		l := strings.TrimSpace(lines[i+1])
		if strings.HasPrefix(l, "/") || strings.Contains(l, ".go:") {
			return l
		}
	}
	return ""
}

// frame renders "pkg.(*T).f(0xc000, ...)" at "/src/x/file.go:12 +0x1f" as
// "pkg.(*T).f (file.go:12)".
func frame(fn, loc string) string {
	fn = strings.TrimSpace(fn)
	if strings.HasSuffix(fn, ")") { // drop the argument list
		depth := 0
		for i := len(fn) - 1; i >= 0; i-- {
			switch fn[i] {
			case ')':
				depth++
			case '(':
				depth--
			}
			if depth == 0 {
				fn = fn[:i]
				break
			}
		}
	}
	if loc == "" {
		return fn
	}
	loc, _, _ = strings.Cut(loc, " ")
	return fmt.Sprintf("%s (%s)", fn, path.Base(filepath.ToSlash(loc)))
}

// pickFrames keeps the first maxStackFrames frames that are not the Go
// runtime's own (panic, runtime.*), unless there are no others.
func pickFrames(fs []string) []string {
	var own []string
	for _, f := range fs {
		if f == "panic" || strings.HasPrefix(f, "panic (") || strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "internal/runtime/") {
			continue
		}
		own = append(own, f)
	}
	if len(own) == 0 {
		own = fs
	}
	if len(own) > maxStackFrames {
		own = own[:maxStackFrames]
	}
	return own
}
