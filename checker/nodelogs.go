package checker

import (
	"context"
	"encoding/json"
	"fmt"
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
//
// NodeLogs is a Checker: use a new &NodeLogs{...} per history. Of the
// history it needs only the run's start time, to say when each crash
// happened.
type NodeLogs struct {
	Dir string // the run directory
	// KnownCrashes are regular expressions (check.known_crashes) matched
	// against a crash's message and the raw stack of its goroutine.
	KnownCrashes []string
	// Skip says why there are no node logs to read (an external cluster):
	// the result is then Skipped, with that reason.
	Skip string

	// The run's start time, from the history's first meta op.
	metaSeen bool
	start    time.Time
}

func (*NodeLogs) Name() string { return "crashes" }

// Observe implements Checker: it keeps the run's start time, from the first
// meta op (to tell when each crash happened).
func (c *NodeLogs) Observe(op history.Op) {
	if !c.metaSeen && op.F == history.FMeta {
		c.metaSeen, c.start = true, runStart(op)
	}
}

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

// Result implements Checker: it reads the node logs and judges them.
func (c *NodeLogs) Result(ctx context.Context) Result {
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
	st, err := ScanNodeLogs(ctx, c.Dir, c.start)
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
	for _, n := range SortedNodes(nodes) {
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

// SortedNodes lists the nodes of m in name order, n2 before n10.
func SortedNodes(m map[string]NodeLog) []string {
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

// runStart is the run's start time from a meta op (zero when it has none).
func runStart(op history.Op) time.Time {
	var m struct {
		StartedAt string `json:"started_at"`
	}
	if b, err := json.Marshal(op.Value); err == nil && json.Unmarshal(b, &m) == nil {
		t, _ := time.Parse(time.RFC3339Nano, m.StartedAt)
		return t
	}
	return time.Time{}
}
