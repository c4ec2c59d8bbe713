package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"jetstorm/history"
)

func TestQueueGolden(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		stats   QueueStats
		msg     []string // substrings the message must contain
	}{
		{"valid", Valid, QueueStats{Attempted: 6, Acked: 3, Failed: 1, Indeterminate: 2, Read: 3,
			LostValues: []string{}, DrainComplete: true}, []string{"3 acked", "0 lost"}},
		{"lost", Invalid, QueueStats{Attempted: 3, Acked: 3, Read: 2, Lost: 1, LostPostfix: 1,
			LostValues: []string{"1-1"}, DrainComplete: true}, []string{"LOST 1 acknowledged writes (first: 1-1)"}},
		{"unexpected", Invalid, QueueStats{Attempted: 1, Acked: 1, Read: 2, Unexpected: 1,
			LostValues: []string{}, UnexpectedValues: []string{"9-9"}, DrainComplete: true}, []string{"UNEXPECTED", "9-9"}},
		{"duplicate", Valid, QueueStats{Attempted: 2, Acked: 2, Read: 2, Duplicated: 1,
			LostValues: []string{}, DuplicatedValues: []string{"0-2"}, DrainComplete: true}, []string{"1 duplicated", "0-2", "at-least-once"}},
		// Exactly-once publishing: a duplicate inside the window is a lie.
		{"exactly_once_duplicate", Invalid, QueueStats{Attempted: 2, Acked: 2, Read: 2, Duplicated: 1,
			LostValues: []string{}, DuplicatedValues: []string{"0-2"}, DrainComplete: true,
			ExactlyOnce: true, DuplicateWindowMs: 600000, Retries: 1, DuplicatedInWindow: 1},
			[]string{"1 values DUPLICATED inside the duplicate window: exactly-once publishing violated (first: 0-2)", "1 retry with the same Nats-Msg-Id, duplicate window 10m0s"}},
		// ... outside it (a publish span longer than the window), expected.
		{"exactly_once_outside", Valid, QueueStats{Attempted: 2, Acked: 2, Read: 2, Duplicated: 1,
			LostValues: []string{}, DuplicatedValues: []string{"0-2"}, DrainComplete: true,
			ExactlyOnce: true, DuplicateWindowMs: 2, Retries: 1, DuplicatedOutsideWindow: 1},
			[]string{"1 duplicated, possibly outside the 2ms duplicate window (expected; first: 0-2)"}},
		{"recovered", Valid, QueueStats{Attempted: 2, Acked: 1, Indeterminate: 1, Read: 2, Recovered: 1,
			LostValues: []string{}, DrainComplete: true}, []string{"1 recovered"}},
		{"failed_but_read", Invalid, QueueStats{Attempted: 2, Acked: 1, Failed: 1, Read: 2, FailedButRead: 1,
			LostValues: []string{}, FailedButReadValues: []string{"1-1"}, DrainComplete: true}, []string{"FAILED", "1-1"}},
		// An acked value not read is not proven lost when the drain stopped early.
		{"incomplete_drain", Unknown, QueueStats{Attempted: 2, Acked: 2, Read: 1, Lost: 1, LostPostfix: 1,
			LostValues: []string{"0-2"}}, []string{"incomplete", "1 acked but unread"}},
		{"no_drain", Unknown, QueueStats{Attempted: 1, Acked: 1, Lost: 1, LostPostfix: 1,
			LostValues: []string{"0-1"}}, []string{"incomplete"}},
		// ...but an unexpected read is proven by any read.
		{"incomplete_unexpected", Invalid, QueueStats{Attempted: 2, Acked: 2, Read: 2, Lost: 1, LostPostfix: 1, Unexpected: 1,
			LostValues: []string{"0-2"}, UnexpectedValues: []string{"7-7"}}, []string{"UNEXPECTED", "7-7"}},
		{"malformed", Unknown, QueueStats{Attempted: 1, Acked: 1, Read: 2, Unexpected: 1,
			LostValues: []string{}, UnexpectedValues: []string{"1-1"}, DrainComplete: true, Malformed: 1,
			MalformedExamples: []string{"op 3: publish ok by process 1 has no invoke"}}, []string{"malformed", "no invoke"}},
		// One value published three times: the OK ack wins, so reading it is fine.
		{"retry", Valid, QueueStats{Attempted: 3, Acked: 1, Failed: 1, Indeterminate: 1, Read: 1,
			LostValues: []string{}, DrainComplete: true}, nil},
		// Lost values split per process by where they fall among its read
		// values, in publish order.
		{"lost_prefix", Invalid, QueueStats{Attempted: 6, Acked: 6, Read: 4, Lost: 2, LostPrefix: 2,
			LostValues: []string{"0-0", "0-1"}, DrainComplete: true},
			[]string{"LOST 2 acknowledged writes (first: 0-0, 0-1): prefix 2, middle 0, postfix 0"}},
		// Process 0 lost 0-1 and 0-3 between read values; process 2 lost 2-1
		// before its info publish 2-2, which was read (a value of any outcome
		// that was read bounds the middle, as in Jepsen); process 1 lost its
		// tail.
		{"lost_middle", Invalid, QueueStats{Attempted: 11, Acked: 10, Indeterminate: 1, Read: 7, Lost: 4,
			LostMiddle: 3, LostPostfix: 1, Recovered: 1, LostValues: []string{"0-1", "1-1", "2-1", "0-3"}, DrainComplete: true},
			[]string{"LOST 4 acknowledged writes (first: 0-1, 1-1, 2-1, 0-3): prefix 0, middle 3, postfix 1", "later write of the same process was read"}},
		// Process 0 lost its tail; nothing of process 1 was read, so all its
		// lost values are postfix.
		{"lost_postfix", Invalid, QueueStats{Attempted: 7, Acked: 6, Failed: 1, Read: 2, Lost: 4, LostPostfix: 4,
			LostValues: []string{"1-0", "1-1", "0-2", "0-3"}, DrainComplete: true},
			[]string{"prefix 0, middle 0, postfix 4"}},
		{"order_violation", Invalid, QueueStats{Attempted: 5, Acked: 5, Read: 5, OrderViolations: 1,
			OrderExamples: []string{"process 0: 0-2 (seq 3) read before 0-1 (seq 4)"}, LostValues: []string{}, DrainComplete: true},
			[]string{"1 ORDER violations", "process 0: 0-2 (seq 3) read before 0-1 (seq 4)"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := checkOps(context.Background(), &Queue{}, h)
			if r.Name != "queue" || r.Verdict != tt.verdict {
				t.Errorf("got %s %s, want queue %s; message: %s", r.Name, r.Verdict, tt.verdict, r.Message)
			}
			if got := r.Details.(QueueStats); !reflect.DeepEqual(got, tt.stats) {
				t.Errorf("stats:\n got %+v\nwant %+v", got, tt.stats)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
			if strings.Contains(r.Message, "\n") {
				t.Errorf("message is not one line: %q", r.Message)
			}
		})
	}
}

// Lost values are listed in publish order, capped at maxValues, whatever the
// interleaving of processes; the count is not capped.
func TestQueueLostOrderAndCap(t *testing.T) {
	var h []history.Op
	var want []string
	for i := range 150 {
		v := fmt.Sprintf("%d-%d", i%7, i)
		h = append(h, history.Op{Process: i, Type: history.Invoke, F: history.FPublish, Value: v})
		want = append(want, v)
	}
	for i := 149; i >= 0; i-- { // complete in reverse: order must follow the invokes
		h = append(h, history.Op{Process: i, Type: history.OK, F: history.FPublish, Value: want[i]})
	}
	h = append(h, history.Op{Type: history.Invoke, F: history.FDrain}, history.Op{Type: history.OK, F: history.FDrain})
	s := AnalyzeQueue(h)
	if s.Lost != 150 || !reflect.DeepEqual(s.LostValues, want[:maxValues]) {
		t.Fatalf("lost=%d values=%v", s.Lost, s.LostValues)
	}
	r := checkOps(context.Background(), &Queue{}, h)
	if r.Verdict != Invalid || !strings.HasPrefix(r.Message, "LOST 150 acknowledged writes (first: 0-0, 1-1, 2-2, 3-3, 4-4, ...)") {
		t.Fatalf("%s: %s", r.Verdict, r.Message)
	}
}

func TestQueueJSON(t *testing.T) {
	b, err := json.Marshal(AnalyzeQueue(nil))
	if err != nil {
		t.Fatal(err)
	}
	// An empty history still says lost_values: [] rather than null.
	if want := `{"attempted":0,"acked":0,"failed":0,"indeterminate":0,"read":0,"lost":0,"lost_prefix":0,"lost_middle":0,"lost_postfix":0,"recovered":0,"unexpected":0,"duplicated":0,"failed_but_read":0,"order_violations":0,"lost_values":[],"drain_complete":false}`; string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		in   []Verdict
		want Verdict
	}{
		{nil, Unknown},
		{[]Verdict{Valid}, Valid},
		{[]Verdict{Valid, Valid}, Valid},
		{[]Verdict{Valid, Unknown}, Unknown},
		{[]Verdict{Unknown, Invalid, Valid}, Invalid},
		{[]Verdict{Valid, Invalid}, Invalid},
		{[]Verdict{Valid, "bogus"}, Unknown},
	}
	for _, tt := range tests {
		if got := Combine(tt.in...); got != tt.want {
			t.Errorf("Combine(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	for v, want := range map[Verdict]int{Valid: 0, Invalid: 1, Unknown: 2, "": 2} {
		if got := ExitCode(v); got != want {
			t.Errorf("ExitCode(%q) = %d, want %d", v, got, want)
		}
	}
}

type panicky struct{}

func (panicky) Name() string                  { return "panicky" }
func (panicky) Observe(history.Op)            {}
func (panicky) Result(context.Context) Result { panic("boom") }

func TestRun(t *testing.T) {
	h, err := history.ReadFile("testdata/valid.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	v, rs := Run(context.Background(), h, &Queue{})
	if v != Valid || len(rs) != 1 || rs[0].Verdict != Valid {
		t.Fatalf("%s %+v", v, rs)
	}
	v, rs = Run(context.Background(), h, &Queue{}, panicky{})
	if v != Unknown || rs[1].Name != "panicky" || !strings.Contains(rs[1].Message, "boom") {
		t.Fatalf("%s %+v", v, rs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v, rs = Run(ctx, h, &Queue{}); v != Unknown || rs[0].Verdict != Unknown {
		t.Fatalf("cancelled: %s %+v", v, rs)
	}
	if v, _ = Run(context.Background(), h); v != Unknown {
		t.Fatalf("no checkers: %s", v)
	}
}

// genHistory builds a ~n-op queue history: 8 processes publishing, a few
// info/fail completions, then a drain reading every stored value.
func genHistory(n int) []history.Op {
	pubs := (n - 2) / 3 // invoke + completion + read each
	h := make([]history.Op, 0, n)
	var stored []string
	for i := range pubs {
		p := i % 8
		v := fmt.Sprintf("%d-%d", p, i)
		h = append(h, history.Op{Index: int64(len(h)), Process: p, Type: history.Invoke, F: history.FPublish, Value: v})
		typ := history.OK
		switch i % 100 {
		case 7:
			typ = history.Info
		case 9:
			typ = history.Fail
		}
		h = append(h, history.Op{Index: int64(len(h)), Process: p, Type: typ, F: history.FPublish, Value: v, Seq: uint64(i + 1)})
		if typ != history.Fail {
			stored = append(stored, v)
		}
	}
	h = append(h, history.Op{Index: int64(len(h)), Process: -1, Type: history.Invoke, F: history.FDrain})
	for i, v := range stored {
		h = append(h, history.Op{Index: int64(len(h)), Process: -1, Type: history.OK, F: history.FRead, Value: v, Seq: uint64(i + 1)})
	}
	return append(h, history.Op{Index: int64(len(h)), Process: -1, Type: history.OK, F: history.FDrain})
}

func BenchmarkAnalyzeQueue(b *testing.B) {
	h := genHistory(1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if s := AnalyzeQueue(h); s.Lost != 0 || !s.DrainComplete || s.Recovered == 0 {
			b.Fatalf("%+v", s)
		}
	}
}

// Order violations count inversions between consecutive acked, read values
// of one process; unacked values and reads without a sequence are skipped,
// a duplicate counts at its first (lowest) sequence, examples are capped at
// 10, and any reads prove them, complete drain or not.
func TestQueueOrderViolations(t *testing.T) {
	var h []history.Op
	pub := func(p int, v string, typ history.OpType) {
		h = append(h, history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Value: v},
			history.Op{Process: p, Type: typ, F: history.FPublish, Value: v})
	}
	read := func(v string, seq uint64) {
		h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: v, Seq: seq})
	}
	// Process 0: seqs 10, 30, 20, 40 -> one inversion (30 > 20).
	for _, v := range []string{"0-0", "0-1", "0-2", "0-3"} {
		pub(0, v, history.OK)
	}
	// Process 1: 1-1 is info (skipped), 1-2 read twice (first copy at 6 counts).
	pub(1, "1-0", history.OK)
	pub(1, "1-1", history.Info)
	pub(2, "2-0", history.OK) // read without a seq: skipped
	pub(2, "2-1", history.OK)
	pub(1, "1-2", history.OK)
	pub(1, "1-3", history.OK) // at seq 8: after 1-2's first copy (6), not its second (60)
	// Process 3: twelve values stored in reverse: eleven inversions.
	for i := range 12 {
		pub(3, fmt.Sprintf("3-%d", i), history.OK)
	}
	h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	read("0-0", 10)
	read("0-1", 30)
	read("0-2", 20)
	read("0-3", 40)
	read("1-0", 5)
	read("1-1", 1) // info: not ordered
	read("1-2", 60)
	read("1-2", 6)
	read("1-3", 8)
	read("2-0", 0)
	read("2-1", 7)
	for i := range 12 {
		read(fmt.Sprintf("3-%d", i), uint64(200-i))
	}
	s := AnalyzeQueue(h)
	if s.OrderViolations != 12 || len(s.OrderExamples) != 10 {
		t.Fatalf("violations=%d examples=%q", s.OrderViolations, s.OrderExamples)
	}
	if want := []string{"process 0: 0-2 (seq 20) read before 0-1 (seq 30)", "process 3: 3-1 (seq 199) read before 3-0 (seq 200)"}; !reflect.DeepEqual(s.OrderExamples[:2], want) {
		t.Fatalf("examples %q, want prefix %q", s.OrderExamples, want)
	}
	r := checkOps(context.Background(), &Queue{}, h) // drain never completed
	if r.Verdict != Invalid || !strings.Contains(r.Message, "12 ORDER violations") {
		t.Fatalf("%s: %s", r.Verdict, r.Message)
	}
	if s.Lost != 0 || s.LostPrefix+s.LostMiddle+s.LostPostfix != 0 {
		t.Fatalf("%+v", s)
	}
}

// The breakdown always adds up to Lost, and follows each process's own
// publish order however processes interleave.
func TestQueueLostBreakdownInterleaved(t *testing.T) {
	var h []history.Op
	const procs, per = 5, 40
	for c := range per {
		for p := range procs {
			v := fmt.Sprintf("%d-%d", p, c)
			h = append(h, history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Value: v},
				history.Op{Process: p, Type: history.OK, F: history.FPublish, Value: v})
		}
	}
	h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	seq := uint64(0)
	// Process p keeps counters [10, 30) except every 5th; process 4 keeps nothing.
	for c := range per {
		for p := range procs - 1 {
			if c >= 10 && c < 30 && c%5 != 0 {
				seq++
				h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: fmt.Sprintf("%d-%d", p, c), Seq: seq})
			}
		}
	}
	h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FDrain})
	s := AnalyzeQueue(h)
	// Per kept process: read 11..29 minus 15, 20, 25 -> first 11, last 29.
	// Prefix 0..10 = 11, middle 15, 20, 25 = 3, postfix 30..39 = 10.
	want := QueueStats{Lost: procs*per - 4*16, LostPrefix: 4 * 11, LostMiddle: 4 * 3, LostPostfix: 4*10 + per}
	if s.Lost != want.Lost || s.LostPrefix != want.LostPrefix || s.LostMiddle != want.LostMiddle || s.LostPostfix != want.LostPostfix ||
		s.OrderViolations != 0 {
		t.Fatalf("got lost %d = %d+%d+%d, order %d; want %d = %d+%d+%d", s.Lost, s.LostPrefix, s.LostMiddle, s.LostPostfix,
			s.OrderViolations, want.Lost, want.LostPrefix, want.LostMiddle, want.LostPostfix)
	}
}

// The order examples are the first ten in publish order of the later value
// across all processes, not process by process: process 0 published
// first, but its one violation comes after process 1's eleven.
func TestQueueOrderExamplesInPublishOrder(t *testing.T) {
	var h []history.Op
	pub := func(v string) {
		p := int(v[0] - '0')
		h = append(h, history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Value: v},
			history.Op{Process: p, Type: history.OK, F: history.FPublish, Value: v})
	}
	pub("0-0")
	for i := range 12 {
		pub(fmt.Sprintf("1-%d", i))
	}
	pub("0-1")
	h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: "0-0", Seq: 100},
		history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: "0-1", Seq: 99})
	for i := range 12 {
		h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: fmt.Sprintf("1-%d", i), Seq: uint64(50 - i)})
	}
	s := AnalyzeQueue(h)
	if s.OrderViolations != 12 || len(s.OrderExamples) != 10 {
		t.Fatalf("violations=%d examples=%q", s.OrderViolations, s.OrderExamples)
	}
	for i, e := range s.OrderExamples {
		if want := fmt.Sprintf("process 1: 1-%d (seq %d) read before 1-%d (seq %d)", i+1, 49-i, i, 50-i); e != want {
			t.Errorf("example %d: %q, want %q", i, e, want)
		}
	}
}

// Each example list keeps its first 100 (in publish or read order) and
// counts them all, and one list filling up does not stop the others: 101
// failed-but-read, then 101 lost, then 101 unexpected and 101 duplicated
// values; and, in another history, lost values before a failed-but-read
// one.
func TestQueueExampleCaps(t *testing.T) {
	var h []history.Op
	pub := func(v string, typ history.OpType) {
		h = append(h, history.Op{Process: 0, Type: history.Invoke, F: history.FPublish, Value: v},
			history.Op{Process: 0, Type: typ, F: history.FPublish, Value: v})
	}
	read := func(v string) { h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: v}) }
	names := func(prefix string, n int) []string {
		var vs []string
		for i := range n {
			vs = append(vs, fmt.Sprintf("%s%d", prefix, i))
		}
		return vs
	}
	for _, v := range names("f", 101) {
		pub(v, history.Fail)
	}
	for _, v := range names("l", 101) {
		pub(v, history.OK)
	}
	for _, v := range names("d", 101) {
		pub(v, history.OK)
	}
	h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	for _, v := range slices.Concat(names("f", 101), names("u", 101), names("d", 101), names("d", 101)) {
		read(v)
	}
	s := AnalyzeQueue(h)
	for _, c := range []struct {
		name string
		n    int
		vs   []string
		want []string
	}{
		{"failed but read", s.FailedButRead, s.FailedButReadValues, names("f", 100)},
		{"lost", s.Lost, s.LostValues, names("l", 100)},
		{"unexpected", s.Unexpected, s.UnexpectedValues, names("u", 100)},
		{"duplicated", s.Duplicated, s.DuplicatedValues, names("d", 100)},
	} {
		if c.n != 101 || !slices.Equal(c.vs, c.want) {
			t.Errorf("%s: %d, %d examples %q..., want 101, the first 100", c.name, c.n, len(c.vs), c.vs[:min(len(c.vs), 3)])
		}
	}

	h = nil
	for _, v := range names("l", 100) {
		pub(v, history.OK)
	}
	pub("f", history.Fail)
	read("f")
	if s := AnalyzeQueue(h); len(s.LostValues) != 100 || !slices.Equal(s.FailedButReadValues, []string{"f"}) {
		t.Errorf("lost %d, failed but read %q: want 100, [f]", len(s.LostValues), s.FailedButReadValues)
	}
}

// Malformed ops are listed in history order whichever part of the check
// found them (the values' publish protocol, the queue's stale reads), the
// first 10 of them; a read that did not succeed is no read of any node.
func TestQueueMalformedOrder(t *testing.T) {
	stale := history.Op{Process: -1, Type: history.OK, F: history.FStaleRead, Node: "n1", Value: "nonsense"}
	noInvoke := func(i int64) history.Op {
		return history.Op{Index: i, Process: 7, Type: history.OK, F: history.FPublish, Value: "7-0"}
	}
	stale.Index = 1
	h := []history.Op{noInvoke(0), stale, noInvoke(2),
		{Index: 3, Process: -1, Type: history.Fail, F: history.FRead, Node: "n2", Value: "7-0"}}
	for i := range 9 {
		h = append(h, noInvoke(int64(4+i)))
	}
	s := AnalyzeQueue(h)
	if s.Malformed != 12 || len(s.MalformedExamples) != 10 {
		t.Fatalf("malformed %d, %d examples", s.Malformed, len(s.MalformedExamples))
	}
	for i, e := range s.MalformedExamples[:4] {
		want := []string{"op 0: publish ok", "op 1: stale-read", "op 2: publish ok", "op 4: publish ok"}[i]
		if !strings.HasPrefix(e, want) {
			t.Errorf("example %d: %q, want %q...", i, e, want)
		}
	}
	if s.ReadsByNode != nil {
		t.Errorf("reads by node %v, want none", s.ReadsByNode)
	}
}
