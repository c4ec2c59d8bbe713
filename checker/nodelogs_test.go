package checker

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"jetstorm/history"
)

// logRun makes a run directory whose nodes/<node>/ hold the given logs:
// key "n2" is nodes/n2/n2.log, "n2.keeper" nodes/n2/n2.keeper.log; a value
// starting with "@" names a file in testdata/nodelogs.
func logRun(t *testing.T, logs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for key, text := range logs {
		node, _, _ := strings.Cut(key, ".")
		if name, ok := strings.CutPrefix(text, "@"); ok {
			b, err := os.ReadFile(filepath.Join("testdata", "nodelogs", name))
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		p := filepath.Join(dir, "nodes", node, key+".log")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// metaAt is a history whose run started at t (RFC 3339).
func metaAt(t string) []history.Op {
	return []history.Op{{Process: -1, Type: history.OK, F: history.FMeta, Value: map[string]any{"started_at": t}}}
}

func checkLogs(t *testing.T, c NodeLogs, h []history.Op) (Result, LogStats) {
	t.Helper()
	r := c.Check(context.Background(), h)
	st, _ := r.Details.(LogStats)
	t.Logf("%s: %s", r.Verdict, r.Message)
	return r, st
}

// A nats-server panic at its second start (the crash loop seen on 2.12.1
// after bit flips) is a crash: node, start, time, message, first frames.
func TestNodeLogsPanic(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@clean.log", "n2": "@panic.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, metaAt("2025-11-20T10:15:00Z"))
	if r.Verdict != Invalid {
		t.Fatalf("verdict %s, want invalid", r.Verdict)
	}
	if len(st.Crashes) != 1 {
		t.Fatalf("crashes %+v, want 1", st.Crashes)
	}
	c := st.Crashes[0]
	want := Crash{
		Node: "n2", Start: 2, Kind: "panic",
		Time: "2025-11-20T10:15:14.51102Z", At: "14.511s", // the last log line before the panic
		Message: "panic: runtime error: slice bounds out of range [4:0]",
		Stack: []string{
			"github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked (filestore.go:1578)",
			"github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildState (filestore.go:1551)",
			"github.com/nats-io/nats-server/v2/server.(*fileStore).recoverMsgBlock (filestore.go:1389)",
			"github.com/nats-io/nats-server/v2/server.(*fileStore).recoverMsgs (filestore.go:2011)",
			"github.com/nats-io/nats-server/v2/server.newFileStoreWithCreated (filestore.go:481)",
		},
		Log: "nodes/n2/n2.log:24",
	}
	c.raw = ""
	if !reflect.DeepEqual(c, want) {
		t.Errorf("crash\n got %+v\nwant %+v", c, want)
	}
	if !strings.Contains(r.Message, "n2 start 2 at 14.511s: panic: runtime error: slice bounds out of range [4:0] in github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked") {
		t.Errorf("message %q", r.Message)
	}
	if st.Nodes["n2"].Starts != 2 || st.Nodes["n1"].Starts != 1 {
		t.Errorf("starts %+v", st.Nodes)
	}
}

// A runtime fatal error is a crash; runtime frames are left out of the stack.
func TestNodeLogsFatalError(t *testing.T) {
	dir := logRun(t, map[string]string{"n3": "@fatal.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Invalid || len(st.Crashes) != 1 {
		t.Fatalf("verdict %s crashes %+v", r.Verdict, st.Crashes)
	}
	c := st.Crashes[0]
	if c.Kind != "fatal error" || c.Message != "fatal error: concurrent map writes" || c.Start != 1 || c.Log != "nodes/n3/n3.log:6" {
		t.Errorf("crash %+v", c)
	}
	if c.Time != "2025-11-20T10:20:09.877311Z" || c.At != "" {
		t.Errorf("time %q at %q", c.Time, c.At)
	}
	wantStack := []string{
		"github.com/nats-io/nats-server/v2/server.(*stream).processJetStreamMsg (stream.go:5530)",
		"github.com/nats-io/nats-server/v2/server.(*jetStream).applyStreamEntries (jetstream_cluster.go:3501)",
		"github.com/nats-io/nats-server/v2/server.(*jetStream).monitorStream (jetstream_cluster.go:2780)",
		"github.com/nats-io/nats-server/v2/server.(*jetStream).processClusterCreateStream.func1 (jetstream_cluster.go:4012)",
	}
	if !reflect.DeepEqual(c.Stack, wantStack) {
		t.Errorf("stack %q", c.Stack)
	}
	// Only the crashing goroutine is matched by known_crashes.
	if strings.Contains(c.raw, "handleSignals") || !strings.Contains(c.raw, "processJetStreamMsg") {
		t.Errorf("raw text %q", c.raw)
	}
}

// A data race report is a crash, though the server keeps running.
func TestNodeLogsDataRace(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@race.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, metaAt("2025-11-20T10:30:00Z"))
	if r.Verdict != Invalid || len(st.Crashes) != 1 {
		t.Fatalf("verdict %s crashes %+v", r.Verdict, st.Crashes)
	}
	c := st.Crashes[0]
	if c.Kind != "data race" || c.Message != "WARNING: DATA RACE: Write at 0x00c0001b4010 by goroutine 88; Previous read at 0x00c0001b4010 by goroutine 121" {
		t.Errorf("crash %+v", c)
	}
	wantStack := []string{
		"github.com/nats-io/nats-server/v2/server.(*raft).sendAppendEntry (raft.go:4012)",
		"github.com/nats-io/nats-server/v2/server.(*raft).runAsLeader (raft.go:2345)",
		"github.com/nats-io/nats-server/v2/server.(*raft).run (raft.go:2101)",
	}
	if !reflect.DeepEqual(c.Stack, wantStack) || c.At != "4.4s" || c.Log != "nodes/n1/n1.log:6" {
		t.Errorf("stack %q at %q log %q", c.Stack, c.At, c.Log)
	}
	if !strings.Contains(c.raw, "(*jetStream).monitorStream") {
		t.Errorf("the previous access is not matchable: %q", c.raw)
	}
}

// A [FTL] about the environment (the port taken by another process) is a
// harness error: unknown, not a crash of the server.
func TestNodeLogsFatalPortInUse(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@ftl_port.log", "n2": "@clean.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Unknown || len(st.Crashes) != 0 {
		t.Fatalf("verdict %s crashes %+v, want unknown and none", r.Verdict, st.Crashes)
	}
	if len(st.Errors) != 1 || !strings.Contains(st.Errors[0], "n1 start 2 could not run here (nodes/n1/n1.log:7): [FTL] Error listening on port") ||
		!strings.Contains(r.Message, "address already in use") {
		t.Errorf("errors %q message %q", st.Errors, r.Message)
	}
}

// Any other [FTL]: the server refused to run on a config that started it
// before, so on its own state: a crash.
func TestNodeLogsFatalOther(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@ftl_other.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Invalid || len(st.Crashes) != 1 {
		t.Fatalf("verdict %s crashes %+v", r.Verdict, st.Crashes)
	}
	if c := st.Crashes[0]; c.Kind != "fatal log" || c.Message != "[FTL] Can't start JetStream: unexpected end of JSON input" ||
		c.Start != 2 || c.Time != "2025-11-20T10:40:12.00425Z" {
		t.Errorf("crash %+v", c)
	}
}

// The powerfs keeper writes its own log: its panic is a harness error, and
// never counted as the node's.
func TestNodeLogsKeeperKeptApart(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@clean.log", "n1.keeper": "@keeper_panic.keeper.log", "n2": "@clean.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Unknown || len(st.Crashes) != 0 {
		t.Fatalf("verdict %s crashes %+v, want unknown and no server crash", r.Verdict, st.Crashes)
	}
	if len(st.Errors) != 1 || !strings.Contains(st.Errors[0], "the powerfs keeper of n1 crashed (nodes/n1/n1.keeper.log:2): panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV") {
		t.Errorf("errors %q", st.Errors)
	}
	if st.Nodes["n1"].Starts != 1 {
		t.Errorf("n1 starts %d: keeper lines counted as the node's", st.Nodes["n1"].Starts)
	}
}

// Known-bad warnings are counted per node, in a fixed order, without
// changing the verdict; ordinary warnings (no quorum) are not counted.
func TestNodeLogsWarnings(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@clean.log", "n2": "@warnings.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Valid {
		t.Fatalf("verdict %s, want valid", r.Verdict)
	}
	counts := map[string]int{"last sequence mismatch": 2, "stream reset": 1, "snapshot corrupt": 1, "stream state corrupt": 1}
	var got []string
	for _, w := range st.Nodes["n2"].Warnings {
		got = append(got, w.Name+" "+w.Log)
		if w.Count != counts[w.Name] {
			t.Errorf("%s counted %d, want %d", w.Name, w.Count, counts[w.Name])
		}
	}
	want := []string{
		"last sequence mismatch nodes/n2/n2.log:8",
		"stream reset nodes/n2/n2.log:10",
		"snapshot corrupt nodes/n2/n2.log:7",
		"stream state corrupt nodes/n2/n2.log:6",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
	if len(st.Nodes["n1"].Warnings) != 0 {
		t.Errorf("n1 warnings %+v", st.Nodes["n1"].Warnings)
	}
	if !strings.Contains(r.Message, "no crash in 2 node logs (3 starts); known-bad warnings: n2: last sequence mismatch ×2, stream reset ×1, snapshot corrupt ×1, stream state corrupt ×1") {
		t.Errorf("message %q", r.Message)
	}
}

// check.known_crashes downgrades a matching crash: still reported, not an
// anomaly. A pattern that does not match leaves it a crash.
func TestNodeLogsKnownCrash(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@clean.log", "n2": "@panic.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir, KnownCrashes: []string{"checkMsgs", `rebuildStateLocked`}}, nil)
	if r.Verdict != Valid || len(st.Crashes) != 1 || st.Crashes[0].Known != "rebuildStateLocked" {
		t.Fatalf("verdict %s crashes %+v, want valid with a known crash", r.Verdict, st.Crashes)
	}
	if !strings.Contains(r.Message, "1 known crash (check.known_crashes): n2 start 2") {
		t.Errorf("message %q", r.Message)
	}
	r, _ = checkLogs(t, NodeLogs{Dir: dir, KnownCrashes: []string{"checkMsgs", `filestore\.go:9999`}}, nil)
	if r.Verdict != Invalid {
		t.Errorf("a pattern that does not match downgraded the crash: %s", r.Verdict)
	}
	r, _ = checkLogs(t, NodeLogs{Dir: dir, KnownCrashes: []string{"rebuild(State"}}, nil)
	if r.Verdict != Unknown || !strings.Contains(r.Message, "check.known_crashes[0]") {
		t.Errorf("bad pattern: %s %q", r.Verdict, r.Message)
	}
}

// A start line after a partial last line of a killed process still begins
// a new start; log times in another zone are placed by the start line.
func TestNodeLogsStartsAndTimes(t *testing.T) {
	log := "=== jetstorm: starting n1 at 2025-11-20T10:00:00Z\n" +
		"[100] 2025/11/20 12:00:00.004000 [INF] Starting nats-server\n" +
		"[100] 2025/11/20 12:00:05.000000 [INF] JetStream cluster new str=== jetstorm: starting n1 at 2025-11-20T10:00:10Z\n" +
		"[101] 2025/11/20 12:00:10.004000 [INF] Starting nats-server\n" +
		"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:9 +0x1d\n" +
		"=== jetstorm: starting n1 at 2025-11-20T10:00:20Z\n" +
		"fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan receive]:\nmain.main()\n\t/src/main.go:12 +0x2a\n"
	dir := logRun(t, map[string]string{"n1": log})
	_, st := checkLogs(t, NodeLogs{Dir: dir}, metaAt("2025-11-20T10:00:00Z"))
	var got []string
	for _, c := range st.Crashes {
		got = append(got, c.Title()+" | "+c.Time+" | "+strings.Join(c.Stack, ","))
	}
	want := []string{
		"n1 start 2 at 10.004s: panic: boom | 2025-11-20T10:00:10.004Z | main.main (main.go:9)",
		"n1 start 3 at 20s: fatal error: all goroutines are asleep - deadlock! | 2025-11-20T10:00:20Z | main.main (main.go:12)",
	}
	if !reflect.DeepEqual(got, want) || st.Nodes["n1"].Starts != 3 {
		t.Errorf("crashes\n got %q\nwant %q (starts %d)", got, want, st.Nodes["n1"].Starts)
	}
}

// An external cluster has no node logs: skipped, saying why, and no vote;
// a run directory without node logs cannot be called crash-free.
func TestNodeLogsSkippedAndMissing(t *testing.T) {
	r, _ := checkLogs(t, NodeLogs{Dir: t.TempDir(), Skip: "external cluster: no node logs"}, nil)
	if r.Verdict != Skipped || r.Message != "skipped: external cluster: no node logs" {
		t.Errorf("external: %s %q", r.Verdict, r.Message)
	}
	r, _ = checkLogs(t, NodeLogs{Dir: t.TempDir()}, nil)
	if r.Verdict != Unknown || !strings.Contains(r.Message, "no node logs") {
		t.Errorf("no logs: %s %q", r.Verdict, r.Message)
	}
	dir := logRun(t, map[string]string{"n1": "@clean.log"})
	os.MkdirAll(filepath.Join(dir, "nodes", "n2"), 0o755)
	r, _ = checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Unknown || !strings.Contains(r.Message, "n2 has no log") {
		t.Errorf("a node without a log: %s %q", r.Verdict, r.Message)
	}
	for _, tt := range []struct {
		in   []Verdict
		want Verdict
	}{
		{[]Verdict{Valid, Skipped}, Valid},
		{[]Verdict{Skipped}, Unknown},
		{[]Verdict{Skipped, Invalid}, Invalid},
		{[]Verdict{Unknown, Skipped, Valid}, Unknown},
	} {
		if got := Combine(tt.in...); got != tt.want {
			t.Errorf("Combine(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
