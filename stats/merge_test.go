package stats

import (
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Two shards' windows merge into what one generator would have reported:
// counts add up, percentiles are those of the union of the raw latencies,
// windows sit on the first shard's clock, outages are the spans in which
// neither shard got an ack; shards of different benches or started apart
// are refused.
func TestMergeBench(t *testing.T) {
	origin := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	hist := func(us ...int64) (*hdrhistogram.Histogram, []byte) {
		h := NewWindowHist()
		for _, v := range us {
			_ = h.RecordValue(v)
		}
		return h, encode(h)
	}
	union := NewWindowHist()
	shard := func(off time.Duration, lats [][]int64, outages []Span) *BenchResult {
		r := &BenchResult{Origin: origin.Add(off), ScheduleStart: 2*time.Second - off,
			Steps: []BenchStepResult{{Rate: 100, Duration: 2 * time.Second}}, Outages: outages}
		for w, l := range lats {
			h, enc := hist(l...)
			if w < 2 {
				union.Merge(h)
			}
			step := 0
			if w >= 2 {
				step = -1
			}
			r.Windows = append(r.Windows, BenchWindow{Start: 2*time.Second - off + time.Duration(w)*time.Second, Step: step,
				Offered: 50, Acked: int64(len(l)), AcksReceived: int64(len(l)), PubAckHist: enc, Lag: []int64{int64(w)}})
		}
		r.Clients = []ClientSummary{{ID: "P" + off.String()}}
		return r
	}
	a := shard(0, [][]int64{{1000, 1100, 1200}, {5000}, {9000}}, []Span{{Start: 2 * time.Second, End: 4 * time.Second}})
	b := shard(30*time.Millisecond, [][]int64{{2000, 40000}, {3000, 3100, 3200, 3300}}, []Span{{Start: 3*time.Second - 30*time.Millisecond, End: 5 * time.Second}})
	m, err := MergeBench([]*BenchResult{a, b}, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Windows) != 3 || m.Windows[0].Acked != 5 || m.Windows[1].Acked != 5 || m.Windows[2].Acked != 1 || m.Windows[0].Offered != 100 {
		t.Fatalf("windows %+v", m.Windows)
	}
	if m.Windows[1].Start != 3*time.Second || m.Windows[2].Step != -1 || len(m.Windows[0].Lag) != 2 {
		t.Errorf("window 1 at %v, window 2 step %d, lags %v", m.Windows[1].Start, m.Windows[2].Step, m.Windows[0].Lag)
	}
	w0, _ := hist(1000, 1100, 1200, 2000, 40000)
	if got, want := m.Windows[0].PubAck, LatencyOf(w0); got != want {
		t.Errorf("window 0 latency %+v, want the union's %+v", got, want)
	}
	if got, want := m.Steps[0].PubAck, LatencyOf(union); got != want || m.Steps[0].AckThroughput != 5 || m.Steps[0].OfferedRate != 100 {
		t.Errorf("step %+v, want latency %+v, 5 acks/s, 100 offered/s", m.Steps[0], want)
	}
	if len(m.Outages) != 1 || m.Outages[0] != (Span{Start: 3 * time.Second, End: 4 * time.Second}) {
		t.Errorf("outages %v, want 3s-4s", m.Outages)
	}
	if len(m.Clients) != 2 {
		t.Errorf("clients %v", m.Clients)
	}
	late := shard(400*time.Millisecond, [][]int64{{1}}, nil)
	late.ScheduleStart = 2 * time.Second // its schedule began 400 ms after a's
	if _, err := MergeBench([]*BenchResult{a, late}, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "--start-at") {
		t.Errorf("shards 400 ms apart: %v", err)
	}
	other := shard(0, [][]int64{{1}}, nil)
	other.Steps[0].Rate = 200
	if _, err := MergeBench([]*BenchResult{a, other}, time.Second); err == nil || !strings.Contains(err.Error(), "not shards of one bench") {
		t.Errorf("different steps: %v", err)
	}
}

// The shards' clocks against the first's come from their offsets against
// one server: its offset minus theirs (a shard whose clock is ahead reads
// the server as earlier), their uncertainties added; against another
// server, or with no sample, the offset is unknown, never zero.
func TestShardClocks(t *testing.T) {
	clock := func(server string, off, unc time.Duration) *BenchResult {
		return &BenchResult{Clock: &ClockOffset{Server: server, Offset: off, Uncertainty: unc}}
	}
	got := shardClocks([]*BenchResult{
		clock("n1", 5*time.Millisecond, time.Millisecond),
		clock("n1", 2*time.Millisecond, 2*time.Millisecond), // 3 ms ahead of shard 1
		clock("n2", 0, time.Millisecond),
		{},
	})
	want := []ShardClock{
		{Shard: 2, Offset: 3 * time.Millisecond, Uncertainty: 3 * time.Millisecond},
		{Shard: 3, Unknown: "measured against n2, the first shard against n1 (the stream leader moved)"},
		{Shard: 4, Unknown: "a shard has no clock sample"},
	}
	if len(got) != len(want) {
		t.Fatalf("clocks %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("clock %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if c := shardClocks([]*BenchResult{{}}); c != nil {
		t.Errorf("one shard: %+v", c)
	}
}
