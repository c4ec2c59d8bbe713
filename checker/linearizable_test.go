package checker

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"jetstorm/history"
)

const wrongLastSeq = "nats: API error: code=400 err_code=10071 description=wrong last sequence: 3: nats: key revision mismatch"

func loadKV(t *testing.T, name string) []history.Op {
	t.Helper()
	h, err := history.ReadFile(filepath.Join("testdata", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func linStats(t *testing.T, r Result) LinearizableStats {
	t.Helper()
	st, ok := r.Details.(LinearizableStats)
	if !ok {
		t.Fatalf("details are %T, want LinearizableStats", r.Details)
	}
	return st
}

func TestLinearizableGolden(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		result  string
		msg     []string
	}{
		{"kv_valid", Valid, "Ok", []string{"linearizable: 16 ops on 2 keys (5 puts, 9 gets, 6 cas of which 1 failed, 3 indeterminate, 1 unresolved cas)"}},
		{"kv_stale_read", Invalid, "Illegal", []string{"NOT linearizable", "key(s) x"}},
		{"kv_lost_cas", Invalid, "Illegal", []string{"NOT linearizable", "key(s) x"}},
		// Linearizable as values (the get reads the latest value), but the
		// revision it reports is another write's.
		{"kv_rev_mismatch", Invalid, "Ok", []string{`read value "v2" of key x at rev 1 (op 5), but rev 1 wrote "v1" to key x (op 1)`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := checkOps(context.Background(), &Linearizable{}, loadKV(t, tt.file))
			st := linStats(t, r)
			if r.Name != "linearizable" || r.Verdict != tt.verdict || st.Result != tt.result {
				t.Fatalf("got %s %s (porcupine %q): %s; want %s, %q", r.Name, r.Verdict, st.Result, r.Message, tt.verdict, tt.result)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
}

func TestLinearizableValidStats(t *testing.T) {
	r := checkOps(context.Background(), &Linearizable{}, loadKV(t, "kv_valid"))
	st := linStats(t, r)
	st.Elapsed = ""
	want := LinearizableStats{Ops: 16, Keys: 2, Puts: 5, Gets: 9, Cas: 6, CasFailed: 1, Indeterminate: 3,
		UnresolvedCas: 1, Dropped: 4, Result: "Ok"}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("stats\n got %+v\nwant %+v", st, want)
	}
}

func TestLinearizableRevMismatchStats(t *testing.T) {
	st := linStats(t, checkOps(context.Background(), &Linearizable{}, loadKV(t, "kv_rev_mismatch")))
	if st.RevMismatchCount != 1 || len(st.RevMismatches) != 1 {
		t.Fatalf("mismatches %d %q", st.RevMismatchCount, st.RevMismatches)
	}
	// Other disagreements: a value read at the wrong rev, two writes on one
	// rev, two reads of one unwritten rev.
	var ops []history.Op
	ops = append(ops, kvOp(0, history.FKVPut, 0, 1, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
	ops = append(ops, kvOp(0, history.FKVPut, 2, 3, kvv("y", "w1", 0), history.OK, kvv("y", "w1", 1), "")...)
	ops = append(ops, kvOp(1, history.FKVGet, 4, 5, kvv("x", "", 0), history.OK, kvv("x", "v1", 7), "")...)
	ops = append(ops, kvOp(1, history.FKVGet, 6, 7, kvv("z", "", 0), history.OK, kvv("z", "u1", 9), "")...)
	ops = append(ops, kvOp(1, history.FKVGet, 8, 9, kvv("z", "", 0), history.OK, kvv("z", "u2", 9), "")...)
	r := checkOps(context.Background(), &Linearizable{}, index(ops))
	st = linStats(t, r)
	if r.Verdict != Invalid || st.RevMismatchCount != 3 {
		t.Fatalf("%s %q", r.Verdict, st.RevMismatches)
	}
	for i, want := range []string{"rev 1 acked for two writes", `read value "v1" at rev 7 (op 5), but "v1" was written at rev 1`, `op 7 read "u1" of key z at rev 9`} {
		if !strings.Contains(st.RevMismatches[i], want) {
			t.Errorf("mismatch %d = %q, want %q", i, st.RevMismatches[i], want)
		}
	}
}

// kvv builds an op value.
func kvv(key, value string, rev uint64) map[string]any {
	m := map[string]any{"key": key}
	if value != "" {
		m["value"] = value
	}
	if rev != 0 {
		m["rev"] = rev
	}
	return m
}

func kvcas(key, value string, expect uint64) map[string]any {
	return map[string]any{"key": key, "value": value, "expect_rev": expect}
}

// kvOp is an invoke and its completion (none when typ is "").
func kvOp(p int, f string, t0, t1 time.Duration, in any, typ history.OpType, out any, err string) []history.Op {
	ops := []history.Op{{Process: p, Type: history.Invoke, F: f, Value: in, Time: t0}}
	if typ != "" {
		if out == nil {
			out = in
		}
		ops = append(ops, history.Op{Process: p, Type: typ, F: f, Value: out, Time: t1, Err: err})
	}
	return ops
}

func index(ops []history.Op) []history.Op {
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Time < ops[j].Time })
	for i := range ops {
		ops[i].Index = int64(i)
	}
	return ops
}

// A failed cas is explained by an indeterminate put nobody read, if that
// put may have been applied before it; not if it was invoked after.
func TestLinearizableUnreadInfoExplainsFailedCas(t *testing.T) {
	base := func(infoAt time.Duration) []history.Op {
		var ops []history.Op
		ops = append(ops, kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
		ops = append(ops, kvOp(1, history.FKVGet, 25, 30, kvv("x", "", 0), history.OK, kvv("x", "v1", 1), "")...)
		ops = append(ops, kvOp(2, history.FKVPut, infoAt, infoAt+100, kvv("x", "v2", 0), history.Info, nil, "timeout")...)
		ops = append(ops, kvOp(1, history.FKVCas, 40, 50, kvcas("x", "v3", 1), history.Fail, nil, wrongLastSeq)...)
		return index(ops)
	}
	r := checkOps(context.Background(), &Linearizable{}, base(22))
	if r.Verdict != Valid {
		t.Fatalf("info put before the cas: %s: %s", r.Verdict, r.Message)
	}
	if st := linStats(t, r); st.Ops != 4 || st.CasFailed != 1 || st.Indeterminate != 1 {
		t.Fatalf("stats %+v", st)
	}
	r = checkOps(context.Background(), &Linearizable{}, base(60))
	if r.Verdict != Invalid {
		t.Fatalf("info put after the cas: %s: %s", r.Verdict, r.Message)
	}
	if st := linStats(t, r); st.Dropped != 1 {
		t.Fatalf("the unread info put invoked after every failed cas should be dropped: %+v", st)
	}
	// A never-completed put counts as indeterminate too.
	ops := base(22)
	ops = slices_delete(ops, func(o history.Op) bool { return o.F == history.FKVPut && o.Type == history.Info })
	if r := checkOps(context.Background(), &Linearizable{}, ops); r.Verdict != Valid {
		t.Fatalf("pending put before the cas: %s: %s", r.Verdict, r.Message)
	}
	// A cas failing for another reason says nothing about the revision.
	ops = base(60)
	for i := range ops {
		if ops[i].F == history.FKVCas && ops[i].Type == history.Fail {
			ops[i].Err = "nats: no responders available for request"
		}
	}
	if r := checkOps(context.Background(), &Linearizable{}, ops); r.Verdict != Valid {
		t.Fatalf("no-responders cas: %s: %s", r.Verdict, r.Message)
	}
}

func slices_delete(ops []history.Op, drop func(history.Op) bool) []history.Op {
	var out []history.Op
	for _, o := range ops {
		if !drop(o) {
			out = append(out, o)
		}
	}
	return out
}

// An unread indeterminate cas can only have been applied while the key held
// the value it expected.
func TestLinearizableUnreadInfoCasCondition(t *testing.T) {
	h := func(infoF string, expect uint64) []history.Op {
		var ops []history.Op
		ops = append(ops, kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
		ops = append(ops, kvOp(1, history.FKVGet, 21, 22, kvv("x", "", 0), history.OK, kvv("x", "v1", 1), "")...)
		ops = append(ops, kvOp(0, history.FKVPut, 25, 30, kvv("x", "v2", 0), history.OK, kvv("x", "v2", 2), "")...)
		ops = append(ops, kvOp(1, history.FKVGet, 31, 32, kvv("x", "", 0), history.OK, kvv("x", "v2", 2), "")...)
		in := kvcas("x", "v3", expect)
		if infoF == history.FKVPut {
			in = kvv("x", "v3", 0)
		}
		ops = append(ops, kvOp(2, infoF, 35, 200, in, history.Info, nil, "timeout")...)
		ops = append(ops, kvOp(1, history.FKVCas, 40, 50, kvcas("x", "v4", 2), history.Fail, nil, wrongLastSeq)...)
		return index(ops)
	}
	for _, tt := range []struct {
		name   string
		f      string
		expect uint64
		want   Verdict
	}{
		{"stale cas", history.FKVCas, 1, Invalid},     // expected v1, long gone: it cannot have changed v2
		{"current cas", history.FKVCas, 2, Valid},     // expected v2: it may have replaced it
		{"unresolved cas", history.FKVCas, 77, Valid}, // unknown expectation: may have applied
		{"put", history.FKVPut, 0, Valid},             // a put always may have
	} {
		if r := checkOps(context.Background(), &Linearizable{}, h(tt.f, tt.expect)); r.Verdict != tt.want {
			t.Errorf("%s: %s, want %s: %s", tt.name, r.Verdict, tt.want, r.Message)
		}
	}
}

// An indeterminate put whose value is read was applied before the read.
func TestLinearizableObservedInfo(t *testing.T) {
	var ops []history.Op
	ops = append(ops, kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
	ops = append(ops, kvOp(1, history.FKVPut, 22, 100, kvv("x", "v2", 0), history.Info, nil, "timeout")...)
	ops = append(ops, kvOp(2, history.FKVGet, 30, 40, kvv("x", "", 0), history.OK, kvv("x", "v2", 2), "")...)
	// After reading v2, reading v1 again is stale: the info put cannot be
	// "not applied" any more.
	ops = append(ops, kvOp(2, history.FKVGet, 50, 60, kvv("x", "", 0), history.OK, kvv("x", "v1", 1), "")...)
	r := checkOps(context.Background(), &Linearizable{}, index(ops))
	if r.Verdict != Invalid {
		t.Fatalf("%s: %s", r.Verdict, r.Message)
	}
	// Reading a value before its write was invoked is invalid too.
	ops = nil
	ops = append(ops, kvOp(2, history.FKVGet, 5, 8, kvv("x", "", 0), history.OK, kvv("x", "v2", 2), "")...)
	ops = append(ops, kvOp(1, history.FKVPut, 22, 100, kvv("x", "v2", 0), history.Info, nil, "timeout")...)
	if r := checkOps(context.Background(), &Linearizable{}, index(ops)); r.Verdict != Invalid {
		t.Fatalf("read from the future: %s: %s", r.Verdict, r.Message)
	}
}

func TestLinearizableMalformedAndEmpty(t *testing.T) {
	ops := index(kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), ""))
	ops = append(ops, history.Op{Index: 2, Process: 3, Type: history.OK, F: history.FKVGet, Value: kvv("x", "v9", 5), Time: 30})
	r := checkOps(context.Background(), &Linearizable{}, ops)
	if st := linStats(t, r); r.Verdict != Unknown || st.Malformed != 1 || !strings.Contains(r.Message, "malformed") {
		t.Fatalf("%s %+v: %s", r.Verdict, st, r.Message)
	}
	r = checkOps(context.Background(), &Linearizable{}, nil)
	if r.Verdict != Unknown {
		t.Fatalf("empty history: %s: %s", r.Verdict, r.Message)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = checkOps(ctx, &Linearizable{}, loadKV(t, "kv_valid"))
	if r.Verdict != Unknown || !strings.Contains(r.Message, "not run") {
		t.Fatalf("cancelled: %s: %s", r.Verdict, r.Message)
	}
}

func TestLinearizableHTML(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"kv_valid", "kv_lost_cas"} {
		h := loadKV(t, name)
		if name == "kv_lost_cas" { // add a fault window, as the nemesis records it
			desc := map[string]any{"kind": "kill", "nodes": []string{"n3"}, "for": "10s"}
			h = append(h,
				history.Op{Index: 100, Process: -2, Type: history.Invoke, F: history.FFault, Value: desc, Time: 12},
				history.Op{Index: 101, Process: -2, Type: history.OK, F: history.FFault, Value: desc, Time: 48})
		}
		path := filepath.Join(dir, name+".html")
		r := checkOps(context.Background(), &Linearizable{HTMLPath: path}, h)
		if !strings.Contains(r.Message, "visualization: "+path) {
			t.Errorf("%s: message %q does not name the visualization", name, r.Message)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"kv_valid": "partition n1,n2", "kv_lost_cas": "kill n3"}[name]
		if len(b) == 0 || !strings.Contains(string(b), want) || !strings.Contains(string(b), `"nemesis"`) {
			t.Errorf("%s: %d bytes, annotation %q missing", name, len(b), want)
		}
		for _, d := range map[string][]string{
			"kv_valid":    {"put a=a1 @1", "get a → a2 @3", "cas a: a1 → a3 (failed)", "put b=b2 (indeterminate, value read)", "cas a: rev 99 (unknown value) → a6"},
			"kv_lost_cas": {"cas x: v1 → v2 @2", "get x → v1 @1"},
		}[name] {
			if !strings.Contains(string(b), d) {
				t.Errorf("%s: description %q missing", name, d)
			}
		}
	}
}

// hardKV is a history porcupine cannot finish quickly: 20 processes
// hammering one key with overlapping puts (half of them indeterminate but
// read) and gets, then a read of a value never written, so the whole
// search space must be exhausted before it is proven illegal.
func hardKV() []history.Op {
	var ops []history.Op
	const n = 20
	rev := func(i int) uint64 { return uint64(i + 1) }
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("v%d", i)
		typ, out := history.OK, any(kvv("x", v, rev(i)))
		if i%2 == 0 {
			typ, out = history.Info, nil
		}
		ops = append(ops, kvOp(i, history.FKVPut, time.Duration(i), time.Duration(1000+i), kvv("x", v, 0), typ, out, "")...)
		r := (i*7 + 3) % n
		ops = append(ops, kvOp(n+i, history.FKVGet, time.Duration(2*i), time.Duration(1000+2*i),
			kvv("x", "", 0), history.OK, kvv("x", fmt.Sprintf("v%d", r), rev(r)), "")...)
		ops = append(ops, kvOp(2*n+i, history.FKVCas, time.Duration(3*i), time.Duration(1000+3*i),
			kvcas("x", fmt.Sprintf("c%d", i), rev((i+5)%n)), history.Fail, nil, wrongLastSeq)...)
	}
	ops = append(ops, kvOp(3*n, history.FKVGet, 5000, 5010, kvv("x", "", 0), history.OK, kvv("x", "never", 999), "")...)
	return index(ops)
}

func TestLinearizableTimeoutIsUnknown(t *testing.T) {
	start := time.Now()
	r := checkOps(context.Background(), &Linearizable{Timeout: time.Millisecond}, hardKV())
	if r.Verdict != Unknown || !strings.Contains(r.Message, "porcupine timed out after 1ms: verdict unknown, never a silent valid") {
		t.Fatalf("%s: %s", r.Verdict, r.Message)
	}
	if st := linStats(t, r); st.Result != "Unknown" || st.Indeterminate != 10 {
		t.Fatalf("stats %+v", st)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v despite a 1 ms timeout", d)
	}
}

// --- generated histories ---

// kvSim simulates clients of a linearizable KV store (ops take effect at a
// point inside their interval; indeterminate writes may take effect late or
// never) and records a history in the workload's format.
type kvSim struct {
	rng        *rand.Rand
	clients    int
	keys       int
	pInfo      float64 // probability an op is indeterminate
	pFail      float64 // probability an op fails before reaching the server
	maxDur     int64
	maxGap     int64
	state      map[string]string
	stateRev   map[string]uint64
	rev        uint64
	ops        []history.Op
	events     simQueue
	seq        int
	lastRev    []map[string]uint64
	process    []int
	counter    []int
	left       []int
	unresolved bool // sometimes cas with a revision nobody knows
}

type simOp struct {
	client, process int
	f, key, value   string
	expect          uint64
	start, lin, end int64
	typ             history.OpType
	apply           bool // info writes: applied at lin
	err             string
	outValue        string
	outRev          uint64
}

type simEvent struct {
	at   int64
	end  bool // completion (after lin events at the same time)
	seq  int
	op   *simOp
	last bool
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	if q[i].end != q[j].end {
		return !q[i].end
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (s *kvSim) push(at int64, end bool, op *simOp) {
	s.seq++
	heap.Push(&s.events, simEvent{at: at, end: end, seq: s.seq, op: op})
}

func (s *kvSim) record(op history.Op) {
	op.Index = int64(len(s.ops))
	s.ops = append(s.ops, op)
}

// start invokes client c's next op at time t.
func (s *kvSim) start(c int, t int64) {
	if s.left[c] == 0 {
		return
	}
	s.left[c]--
	op := &simOp{client: c, process: s.process[c], key: fmt.Sprintf("k%d", s.rng.IntN(s.keys)), start: t}
	op.value = fmt.Sprintf("%d-%d", op.process, s.counter[c])
	s.counter[c]++
	op.f = history.FKVGet
	switch r := s.rng.IntN(10); {
	case r < 3:
		op.f = history.FKVPut
	case r < 7:
		op.f = history.FKVCas
		op.expect = s.lastRev[c][op.key] // 0 (absent) when not known
		if s.unresolved && s.rng.IntN(20) == 0 {
			op.expect = 1_000_000 + uint64(s.rng.IntN(1000))
		}
	}
	op.end = t + 1 + s.rng.Int64N(s.maxDur)
	op.lin = op.start + s.rng.Int64N(op.end-op.start+1)
	op.typ = history.OK
	switch p := s.rng.Float64(); {
	case p < s.pInfo:
		op.typ = history.Info
		op.apply = s.rng.IntN(2) == 0
		op.lin = op.start + s.rng.Int64N(2*(op.end-op.start)+1) // may take effect after the client gave up
	case p < s.pInfo+s.pFail:
		op.typ, op.err = history.Fail, "nats: no responders available for request"
	}
	in := map[string]any{"key": op.key}
	if op.f != history.FKVGet {
		in["value"] = op.value
	}
	if op.f == history.FKVCas {
		in["expect_rev"] = op.expect
	}
	s.record(history.Op{Process: op.process, Type: history.Invoke, F: op.f, Value: in, Time: time.Duration(t)})
	if op.typ == history.OK || op.apply {
		s.push(op.lin, false, op)
	}
	s.push(op.end, true, op)
}

// effect applies op at its linearization point.
func (s *kvSim) effect(op *simOp) {
	switch op.f {
	case history.FKVGet:
		op.outValue, op.outRev = s.state[op.key], s.stateRev[op.key]
		return
	case history.FKVCas:
		if s.stateRev[op.key] != op.expect {
			if op.typ == history.OK {
				op.typ, op.err = history.Fail, wrongLastSeq
			}
			return
		}
	}
	s.rev++
	s.state[op.key], s.stateRev[op.key] = op.value, s.rev
	op.outValue, op.outRev = op.value, s.rev
}

// complete records op's completion and starts the client's next op.
func (s *kvSim) complete(op *simOp) {
	c := op.client
	h := history.Op{Process: op.process, Type: op.typ, F: op.f, Time: time.Duration(op.end), Err: op.err,
		Value: map[string]any{"key": op.key}}
	if op.typ == history.OK {
		h.Value = map[string]any{"key": op.key, "value": op.outValue, "rev": op.outRev}
		s.lastRev[c][op.key] = op.outRev
	} else {
		delete(s.lastRev[c], op.key)
	}
	if op.f == history.FKVGet && op.typ != history.OK {
		h.Type = history.Info
	}
	s.record(h)
	if h.Type == history.Info {
		s.process[c] += s.clients
		s.counter[c] = 0
	}
	s.start(c, op.end+1+s.rng.Int64N(s.maxGap))
}

func genKV(seed uint64, clients, keys, n int, pInfo, pFail float64, maxDur, maxGap int64) []history.Op {
	s := &kvSim{rng: rand.New(rand.NewPCG(seed, 7)), clients: clients, keys: keys, pInfo: pInfo, pFail: pFail,
		maxDur: maxDur, maxGap: maxGap, state: map[string]string{}, stateRev: map[string]uint64{}, unresolved: true}
	for c := 0; c < clients; c++ {
		s.lastRev = append(s.lastRev, map[string]uint64{})
		s.process = append(s.process, c)
		s.counter = append(s.counter, 0)
		s.left = append(s.left, n/clients)
	}
	for c := 0; c < clients; c++ {
		s.start(c, s.rng.Int64N(maxGap))
	}
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(simEvent)
		if e.end {
			s.complete(e.op)
		} else {
			s.effect(e.op)
		}
	}
	return s.ops
}

// referenceResult runs porcupine on the history without the checker's
// rewrites: every indeterminate write open until MaxInt64 with its own
// value, nothing dropped but what carries no information.
func referenceResult(h []history.Op) porcupine.CheckResult {
	var st LinearizableStats
	calls, _ := parseKV(h, &st)
	revValue := map[uint64]string{0: ""}
	for _, c := range calls {
		if c.typ == history.OK && c.rev != 0 {
			v := c.value
			if c.f == history.FKVGet {
				v = c.outValue
			}
			if _, ok := revValue[c.rev]; !ok {
				revValue[c.rev] = v
			}
		}
	}
	var ops []porcupine.Operation
	for _, c := range calls {
		in := &kvInput{key: c.key, value: c.value, shown: c.value}
		out := &kvOutput{key: c.key, value: c.outValue}
		ret := c.ret
		switch c.f {
		case history.FKVGet:
			if c.typ != history.OK {
				continue
			}
			in.kind = kvGet
		case history.FKVPut:
			in.kind = kvPut
		case history.FKVCas:
			in.kind = kvCas
			if c.hasExpect {
				in.expect, in.resolved = revValue[c.expectRev]
			}
		}
		if c.f != history.FKVGet {
			switch c.typ {
			case history.OK:
			case history.Fail:
				if c.f != history.FKVCas || !in.resolved || !casFailIsPrecondition(c.err) {
					continue
				}
				out.failed = true
			default:
				in.maybe, ret = true, math.MaxInt64
			}
		}
		ops = append(ops, porcupine.Operation{Input: in, Output: out, Call: c.call, Return: ret})
	}
	return porcupine.CheckOperationsTimeout(kvModel(), ops, 5*time.Second)
}

// mutateKV makes one OK get read another value written to its key.
func mutateKV(h []history.Op, rng *rand.Rand) []history.Op {
	written := map[string][]string{}
	var gets []int
	for i, op := range h {
		m, _ := op.Value.(map[string]any)
		if op.Type == history.Invoke && op.F != history.FKVGet {
			written[m["key"].(string)] = append(written[m["key"].(string)], m["value"].(string))
		}
		if op.Type == history.OK && op.F == history.FKVGet {
			gets = append(gets, i)
		}
	}
	out := append([]history.Op(nil), h...)
	if len(gets) == 0 {
		return out
	}
	i := gets[rng.IntN(len(gets))]
	m := out[i].Value.(map[string]any)
	ws := written[m["key"].(string)]
	if len(ws) == 0 {
		return out
	}
	out[i].Value = map[string]any{"key": m["key"], "value": ws[rng.IntN(len(ws))]} // rev unknown: porcupine's job
	return out
}

// The checker's rewrites (tightened returns, unread values merged, unread
// indeterminate writes dropped) must not change porcupine's answer.
func TestLinearizableMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	for seed := uint64(0); seed < 300; seed++ {
		h := genKV(seed, 4, 2, 40, 0.25, 0.05, 30, 20)
		if seed%2 == 1 {
			h = mutateKV(h, rng)
		}
		r := checkOps(context.Background(), &Linearizable{}, h)
		st := linStats(t, r)
		ref := referenceResult(h)
		counts["reference "+string(ref)]++
		if ref == porcupine.Unknown {
			continue // the reference timed out (it is exponential in indeterminate ops)
		}
		if st.Result != string(ref) {
			t.Fatalf("seed %d: checker says %q (%s), reference porcupine %q", seed, st.Result, r.Message, ref)
		}
		if seed%2 == 0 && r.Verdict != Valid {
			t.Fatalf("seed %d: a simulated linearizable history is %s: %s", seed, r.Verdict, r.Message)
		}
		counts[st.Result]++
	}
	t.Logf("results: %v", counts)
	if counts["Illegal"] == 0 || counts["Ok"] == 0 {
		t.Fatalf("the generator should yield both outcomes: %v", counts)
	}
}

// A 2-minute run at ~200 ops/s over 5 keys (24,000 ops, 10 clients, some
// indeterminate) must check in seconds.
func TestLinearizableLargeValid(t *testing.T) {
	n := 24000
	if testing.Short() {
		n = 4000
	}
	// Time unit: 1 µs. Ops last up to 20 ms, clients pause up to 50 ms.
	h := genKV(42, 10, 5, n, 0.01, 0.01, 20000, 50000)
	start := time.Now()
	r := checkOps(context.Background(), &Linearizable{}, h)
	d := time.Since(start)
	st := linStats(t, r)
	t.Logf("%d history ops: %s in %v (%+v)", len(h), r.Verdict, d, st)
	if r.Verdict != Valid {
		t.Fatalf("%s: %s", r.Verdict, r.Message)
	}
	if st.Ops < n*9/10 || st.Indeterminate == 0 || st.CasFailed == 0 {
		t.Fatalf("generator did not produce the intended mix: %+v", st)
	}
	if d > 20*time.Second {
		t.Fatalf("took %v", d)
	}

	// The same history with its last read of k0 returning k0's first value
	// (long overwritten): proving that takes porcupine an exhaustive search
	// of everything before, which must also finish in seconds.
	first, last := "", -1
	for i, op := range h {
		m, _ := op.Value.(map[string]any)
		if op.Type != history.OK || m["key"] != "k0" {
			continue
		}
		if op.F == history.FKVGet {
			last = i
		} else if first == "" {
			first = m["value"].(string)
		}
	}
	bad := append([]history.Op(nil), h...)
	bad[last].Value = map[string]any{"key": "k0", "value": first}
	start = time.Now()
	r = checkOps(context.Background(), &Linearizable{}, bad)
	d = time.Since(start)
	st = linStats(t, r)
	t.Logf("stale read of k0 at op %d: %s in %v: %s", bad[last].Index, r.Verdict, d, r.Message)
	if r.Verdict != Invalid || len(st.IllegalKeys) != 1 || !strings.HasPrefix(st.IllegalKeys[0], "k0 ") {
		t.Fatalf("%s %q: %s", r.Verdict, st.IllegalKeys, r.Message)
	}
	if d > 20*time.Second {
		t.Fatalf("took %v", d)
	}
}

// err_code 10164 ("wrong last sequence", no number) is the server refusing a
// cas because another write to the subject is in flight: not applied, but
// no statement about the revision. It must not make a history invalid;
// 10071 ("wrong last sequence: N") in the same place must.
func TestLinearizableInFlightConflictIsNoPrecondition(t *testing.T) {
	h := func(err string) []history.Op {
		var ops []history.Op
		ops = append(ops, kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
		ops = append(ops, kvOp(1, history.FKVGet, 25, 30, kvv("x", "", 0), history.OK, kvv("x", "v1", 1), "")...)
		// The revision is 1 for the whole cas: a precondition failure is a lie.
		ops = append(ops, kvOp(1, history.FKVCas, 40, 50, kvcas("x", "v3", 1), history.Fail, nil, err)...)
		ops = append(ops, kvOp(2, history.FKVGet, 60, 70, kvv("x", "", 0), history.OK, kvv("x", "v1", 1), "")...)
		return index(ops)
	}
	conflict := "nats: nats: API error: code=400 err_code=10164 description=wrong last sequence"
	if r := checkOps(context.Background(), &Linearizable{}, h(conflict)); r.Verdict != Valid {
		t.Errorf("in-flight conflict (10164): %s: %s", r.Verdict, r.Message)
	}
	precondition := "nats: nats: API error: code=400 err_code=10071 description=wrong last sequence: 1"
	if r := checkOps(context.Background(), &Linearizable{}, h(precondition)); r.Verdict != Invalid {
		t.Errorf("precondition failure (10071) while the revision matched: %s: %s", r.Verdict, r.Message)
	}
}
