package checker

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

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
	r := checkOps(context.Background(), &c, h)
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

// localTime is how a log time reads when no start line tells its zone: in
// the checking machine's zone, as Crash.Time (RFC 3339, UTC).
func localTime(t *testing.T, logTime string) string {
	t.Helper()
	lt, err := time.ParseInLocation(logTimeLayout, logTime, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return lt.UTC().Format(time.RFC3339Nano)
}

// With GOTRACEBACK=system the runtime shows its own frames (the panic,
// runtime.sigpanic, runtime.goexit); the stack leaves them out. The server
// is built with -trimpath (as jetstorm installs it), so its file paths do
// not start with "/".
func TestNodeLogsRuntimeFramesLeftOut(t *testing.T) {
	dir := logRun(t, map[string]string{"n3": "@panic_system.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, metaAt("2025-11-20T10:50:00Z"))
	if r.Verdict != Invalid || len(st.Crashes) != 1 {
		t.Fatalf("verdict %s crashes %+v", r.Verdict, st.Crashes)
	}
	c := st.Crashes[0]
	wantStack := []string{
		"github.com/nats-io/nats-server/v2/server.(*consumer).processAckMsg (consumer.go:3105)",
		"github.com/nats-io/nats-server/v2/server.(*consumer).processAck (consumer.go:2441)",
		"github.com/nats-io/nats-server/v2/server.(*consumer).processInboundAcks (consumer.go:5620)",
		"github.com/nats-io/nats-server/v2/server.(*consumer).setLeader.gowrap4 (consumer.go:1421)",
	}
	if !reflect.DeepEqual(c.Stack, wantStack) {
		t.Errorf("stack %q\nwant  %q", c.Stack, wantStack)
	}
	want := "1 crash: n3 start 1 at 7.912s: panic: runtime error: invalid memory address or nil pointer dereference [signal SIGSEGV: segmentation violation code=0x1 addr=0x30 pc=0x8c4a1f] in github.com/nats-io/nats-server/v2/server.(*consumer).processAckMsg (consumer.go:3105)"
	if r.Message != want {
		t.Errorf("message %q\nwant    %q", r.Message, want)
	}
}

// The runtime prints a multi-line panic value with its further lines
// indented by a tab, then the re-panic of a deferred recover: all of it is
// the message, which check.known_crashes matches.
func TestNodeLogsMultiLinePanic(t *testing.T) {
	dir := logRun(t, map[string]string{"n2": "@panic_multiline.log"})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Invalid || len(st.Crashes) != 1 {
		t.Fatalf("verdict %s crashes %+v", r.Verdict, st.Crashes)
	}
	c := st.Crashes[0]
	wantMsg := `panic: stream state checksum did not match message block 12 corrupt [recovered] panic: recovering stream "jetstorm": stream state checksum did not match message block 12 corrupt`
	if c.Message != wantMsg || c.Log != "nodes/n2/n2.log:6" {
		t.Errorf("message %q log %q\nwant    %q", c.Message, c.Log, wantMsg)
	}
	wantStack := []string{
		"github.com/nats-io/nats-server/v2/server.(*stream).setupStore.func1 (stream.go:5240)",
		"github.com/nats-io/nats-server/v2/server.(*fileStore).recoverMsgs (filestore.go:2011)",
		"github.com/nats-io/nats-server/v2/server.newFileStoreWithCreated (filestore.go:481)",
		"github.com/nats-io/nats-server/v2/server.(*stream).setupStore (stream.go:5262)",
		"github.com/nats-io/nats-server/v2/server.(*Account).addStreamWithAssignment (stream.go:889)",
	}
	if !reflect.DeepEqual(c.Stack, wantStack) {
		t.Errorf("stack %q\nwant  %q", c.Stack, wantStack)
	}
	r, st = checkLogs(t, NodeLogs{Dir: dir, KnownCrashes: []string{`message block \d+ corrupt \[recovered\]`}}, nil)
	if r.Verdict != Valid || len(st.Crashes) != 1 || st.Crashes[0].Known == "" {
		t.Errorf("a pattern for the second line of the message: %s %q", r.Verdict, r.Message)
	}
}

// Output before any start line (a node started by hand, without jetstorm's
// start lines) is start 0, which the title leaves out; with no start line
// to learn the zone from, its log times are local.
func TestNodeLogsBeforeAnyStart(t *testing.T) {
	log := "[3104] 2025/11/20 09:59:58.120000 [INF] Starting nats-server\n" +
		"[3104] 2025/11/20 09:59:58.125000 [INF] Server is ready\n" +
		"panic: close of closed channel\n\n" +
		"goroutine 57 [running]:\n" +
		"github.com/nats-io/nats-server/v2/server.(*Server).Shutdown(0xc0001d6008)\n" +
		"\tgithub.com/nats-io/nats-server/v2/server/server.go:2446 +0x2f5\n"
	dir := logRun(t, map[string]string{"n1": log})
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Invalid || len(st.Crashes) != 1 {
		t.Fatalf("verdict %s crashes %+v", r.Verdict, st.Crashes)
	}
	at := localTime(t, "2025/11/20 09:59:58.125000")
	if c := st.Crashes[0]; c.Start != 0 || c.Time != at {
		t.Errorf("start %d time %q, want 0 and %q", c.Start, c.Time, at)
	}
	want := "1 crash: n1 at " + at + ": panic: close of closed channel in github.com/nats-io/nats-server/v2/server.(*Server).Shutdown (server.go:2446)"
	if r.Message != want {
		t.Errorf("message %q\nwant    %q", r.Message, want)
	}
}

// The zone is learnt once, from the first line after a start: a server
// that ran 14 minutes (near a quarter hour) before it crashed is not moved
// to another zone.
func TestNodeLogsZoneLearntOnce(t *testing.T) {
	log := "=== jetstorm: starting n1 at 2025-11-20T10:00:00Z\n" +
		"[100] 2025/11/20 12:00:00.004000 [INF] Starting nats-server\n" +
		"[100] 2025/11/20 12:14:00.500000 [WRN] JetStream cluster stream '$G > jetstorm' has NO quorum, stalled\n" +
		"fatal error: concurrent map writes\n"
	sc := scanLog(strings.NewReader(log), "n1", "nodes/n1/n1.log", time.Time{})
	if len(sc.crashes) != 1 || sc.crashes[0].Time != "2025-11-20T10:14:00.5Z" {
		t.Errorf("crashes %+v, want one at 10:14:00.5Z", sc.crashes)
	}
}

// The zone is learnt only from a line less than 2 minutes from a whole
// quarter hour after the start line. A first line further off (the process
// stopped right after it started) teaches nothing: local time is assumed.
func TestNodeLogsZoneWindow(t *testing.T) {
	for _, logTime := range []string{"2025/11/20 10:13:00.000000", "2025/11/20 10:17:00.000000", "2025/11/20 10:08:00.000000"} {
		log := "=== jetstorm: starting n1 at 2025-11-20T10:00:00Z\n" +
			"[100] " + logTime + " [INF] Starting nats-server\n" +
			"fatal error: concurrent map writes\n"
		sc := scanLog(strings.NewReader(log), "n1", "nodes/n1/n1.log", time.Time{})
		if want := localTime(t, logTime); len(sc.crashes) != 1 || sc.crashes[0].Time != want {
			t.Errorf("first line at %s: crashes %+v, want one at %s", logTime, sc.crashes, want)
		}
	}
}

// The verdict message names the first harness error and counts the others.
func TestNodeLogsHarnessErrors(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@ftl_port.log", "n2": "@clean.log"})
	first := `harness error: n1 start 2 could not run here (nodes/n1/n1.log:7): [FTL] Error listening on port: 127.0.0.1:20111, "listen tcp 127.0.0.1:20111: bind: address already in use"`
	r, _ := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if r.Verdict != Unknown || r.Message != first {
		t.Errorf("one error: %s %q\nwant %q", r.Verdict, r.Message, first)
	}
	if err := os.MkdirAll(filepath.Join(dir, "nodes", "n3"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	if want := first + " (and 1 more)"; r.Verdict != Unknown || r.Message != want || len(st.Errors) != 2 {
		t.Errorf("two errors: %s %q %q\nwant %q", r.Verdict, r.Message, st.Errors, want)
	}
}

// Nodes are listed in numeric order: n2 before n10.
func TestNodeLogsWarningNodeOrder(t *testing.T) {
	start := func(n string) string { return "=== jetstorm: starting " + n + " at 2025-11-20T11:00:00Z\n" }
	dir := logRun(t, map[string]string{
		"n10": start("n10") + "[4410] 2025/11/20 11:00:10.500000 [WRN] RAFT [cnrtt3eg - S-R3F-Qm7ch6Ma] Snapshot corrupt, checksums did not match\n",
		"n2":  start("n2") + "[4402] 2025/11/20 11:00:10.600000 [ERR] Error applying stream entries to '$G > jetstorm': last sequence mismatch: 1045 vs 1044\n",
		"n1":  start("n1") + "[4401] 2025/11/20 11:00:10.700000 [WRN] RAFT [yrzKKRBu - S-R3F-Qm7ch6Ma] Resetting WAL state\n",
	})
	r, _ := checkLogs(t, NodeLogs{Dir: dir}, nil)
	want := "no crash in 3 node logs (3 starts); known-bad warnings: n1: WAL reset ×1; n2: last sequence mismatch ×1; n10: snapshot corrupt ×1"
	if r.Verdict != Valid || r.Message != want {
		t.Errorf("%s %q\nwant %q", r.Verdict, r.Message, want)
	}
}

// A report cut short (the run ended and the node was killed while it
// printed): a panic's last frame has no location line, and a race report
// cut in its first header names no access.
func TestNodeLogsCutReports(t *testing.T) {
	dir := logRun(t, map[string]string{
		"n1": "=== jetstorm: starting n1 at 2025-11-20T10:15:00Z\n" +
			"panic: runtime error: slice bounds out of range [4:0]\n\n" +
			"goroutine 1 [running]:\n" +
			"github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked(0xc0003c2008)\n",
		"n2": "=== jetstorm: starting n2 at 2025-11-20T10:30:00Z\n" +
			"==================\nWARNING: DATA RACE\nWrite at 0x00c0001b4010 by ",
	})
	_, st := checkLogs(t, NodeLogs{Dir: dir}, nil)
	var got []string
	for _, c := range st.Crashes {
		got = append(got, c.Title()+" | "+strings.Join(c.Stack, ","))
	}
	want := []string{
		"n1 start 1 at 2025-11-20T10:15:00Z: panic: runtime error: slice bounds out of range [4:0] | github.com/nats-io/nats-server/v2/server.(*msgBlock).rebuildStateLocked",
		"n2 start 1 at 2025-11-20T10:30:00Z: WARNING: DATA RACE | ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("crashes\n got %q\nwant %q", got, want)
	}
}

// Only the first 400 lines of a report are read (a race in a deep
// recursion prints thousands): a known_crashes pattern that only later
// lines match does not make the crash known, and a function line whose
// location line was not read has no location.
func TestNodeLogsLongReport(t *testing.T) {
	var b strings.Builder
	b.WriteString("=== jetstorm: starting n1 at 2025-11-20T10:30:00Z\n" +
		"[9100] 2025/11/20 10:30:00.010000 [INF] Starting nats-server\n" +
		"==================\nWARNING: DATA RACE\nRead at 0x00c0004a2f18 by goroutine 143:\n")
	// Report lines 2 to 399: 199 frames of the recursion, then the 200th
	// frame's function line (the 400th line) and its location (the 401st).
	for i := 0; i < 199; i++ {
		b.WriteString("  github.com/nats-io/nats-server/v2/server/stree.(*SubjectTree[...]).match()\n" +
			"      github.com/nats-io/nats-server/v2/server/stree/stree.go:371 +0x3c4\n")
	}
	b.WriteString("  github.com/nats-io/nats-server/v2/server.(*stream).checkInterestState()\n" +
		"      github.com/nats-io/nats-server/v2/server/stream.go:6110 +0x2f1\n" +
		"  github.com/nats-io/nats-server/v2/server.(*jetStream).monitorStream()\n" +
		"      github.com/nats-io/nats-server/v2/server/jetstream_cluster.go:2802 +0x2214\n\n" +
		"Previous write at 0x00c0004a2f18 by goroutine 97:\n" +
		"  github.com/nats-io/nats-server/v2/server/stree.(*SubjectTree[...]).Insert()\n" +
		"      github.com/nats-io/nats-server/v2/server/stree/stree.go:102 +0x1b0\n\n" +
		"Goroutine 143 (running) created at:\n" +
		"  github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine()\n" +
		"      github.com/nats-io/nats-server/v2/server/server.go:3990 +0x1a5\n" +
		"==================\n" +
		"[9100] 2025/11/20 10:30:04.512000 [INF] JetStream cluster new consumer leader for '$G > jetstorm > drain'\n")
	dir := logRun(t, map[string]string{"n1": b.String()})
	r, st := checkLogs(t, NodeLogs{Dir: dir, KnownCrashes: []string{`stream\.go:6110`}}, nil)
	if r.Verdict != Invalid || len(st.Crashes) != 1 || st.Crashes[0].Known != "" {
		t.Fatalf("verdict %s crashes %+v: matched beyond the 400th line", r.Verdict, st.Crashes)
	}
	c := st.Crashes[0]
	if c.Message != "WARNING: DATA RACE: Read at 0x00c0004a2f18 by goroutine 143" || len(c.Stack) != 5 ||
		c.Stack[0] != "github.com/nats-io/nats-server/v2/server/stree.(*SubjectTree[...]).match (stree.go:371)" {
		t.Errorf("crash %+v", c)
	}
	if !strings.HasSuffix(c.raw, "\n  github.com/nats-io/nats-server/v2/server.(*stream).checkInterestState()") {
		t.Errorf("raw text ends %q", c.raw[len(c.raw)-100:])
	}
	r, _ = checkLogs(t, NodeLogs{Dir: dir, KnownCrashes: []string{`checkInterestState`}}, nil)
	if r.Verdict != Valid {
		t.Errorf("a pattern for the 400th line: %s %q", r.Verdict, r.Message)
	}
}

// The run's start is the first meta op's, wherever it is in the history;
// later meta ops and other ops do not change it.
func TestNodeLogsFirstMetaOp(t *testing.T) {
	dir := logRun(t, map[string]string{"n1": "@race.log"})
	h := []history.Op{{Type: history.OK, F: history.FNote, Value: map[string]any{"started_at": "2025-11-20T10:29:00Z"}}}
	h = append(h, metaAt("2025-11-20T10:30:00Z")...)
	h = append(h, metaAt("2025-11-20T10:29:30Z")...)
	_, st := checkLogs(t, NodeLogs{Dir: dir}, h)
	if len(st.Crashes) != 1 || st.Crashes[0].At != "4.4s" {
		t.Fatalf("crashes %+v", st.Crashes)
	}
}
