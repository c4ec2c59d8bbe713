package workloads

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats-server/v2/server"

	"jetstorm/internal/natstest"
	"jetstorm/stats"
)

// stallPublisher is a fake asyncPublisher: each publish is acked 1 ms after
// it is sent, except that acks due in [stallFrom, stallTo) (since start) are
// held until stallTo, as by a server that pauses. It also measures what a
// closed-loop tool would report: ack time minus actual send time.
type stallPublisher struct {
	start              time.Time
	stallFrom, stallTo time.Duration
	done               func(sent int64, err error)
	q                  chan fakeAck
	wg                 sync.WaitGroup

	mu         sync.Mutex
	closedLoop *hdrhistogram.Histogram
}

type fakeAck struct {
	sent       int64         // intended send time, unix ns
	sentAt, at time.Duration // actual send time, ack time (since start)
}

func newStallPublisher(start time.Time, from, to time.Duration, done func(int64, error)) *stallPublisher {
	p := &stallPublisher{start: start, stallFrom: from, stallTo: to, done: done,
		q: make(chan fakeAck, 1024), closedLoop: newHist()}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for a := range p.q { // acks are due in send order
			if d := a.at - time.Since(p.start); d > 0 {
				time.Sleep(d)
			}
			p.mu.Lock()
			_ = p.closedLoop.RecordValue(toMicros(time.Since(p.start) - a.sentAt))
			p.mu.Unlock()
			p.done(a.sent, nil)
		}
	}()
	return p
}

func (p *stallPublisher) publish(_ string, _ []byte, sent int64, _ bool) error {
	now := time.Since(p.start)
	at := now + time.Millisecond
	if at >= p.stallFrom && at < p.stallTo {
		at = p.stallTo
	}
	p.q <- fakeAck{sent: sent, sentAt: now, at: at}
	return nil
}

func (p *stallPublisher) close() { close(p.q); p.wg.Wait() }

func (p *stallPublisher) closedLoopLatency() stats.Latency {
	p.mu.Lock()
	defer p.mu.Unlock()
	return stats.LatencyOf(p.closedLoop)
}

func fakeBench(t *testing.T, o BenchOptions, start time.Time, from, to time.Duration) (*Bench, func() *stallPublisher) {
	t.Helper()
	b := NewBench(o)
	var mu sync.Mutex
	var fake *stallPublisher
	b.newPub = func(i int, url string, done func(int64, error)) (asyncPublisher, error) {
		mu.Lock()
		defer mu.Unlock()
		fake = newStallPublisher(start, from, to, done)
		return fake, nil
	}
	return b, func() *stallPublisher { mu.Lock(); defer mu.Unlock(); return fake }
}

// A 1 s stall with a full window: the open-loop p99 must show the stall.
func TestBenchCoordinatedOmission(t *testing.T) {
	start := time.Now().Add(100 * time.Millisecond)
	b, fake := fakeBench(t, BenchOptions{Publishers: 1, Consumers: 0, Window: 10,
		Steps: []BenchStep{{Rate: 1000, Duration: 3 * time.Second}}}, start, time.Second, 2*time.Second)
	res, err := b.Run(context.Background(), []string{"fake"}, start)
	if err != nil {
		t.Fatal(err)
	}
	offered, acked, _, errs := res.Totals()
	if offered != 3000 || acked != 3000 || errs != 0 {
		t.Fatalf("offered %d acked %d errors %d, want 3000 3000 0", offered, acked, errs)
	}
	// 3 windows of the schedule, then maybe one (step -1) for the last acks.
	if len(res.Windows) < 3 || len(res.Windows) > 4 || len(res.Steps) != 1 {
		t.Fatalf("%d windows, %d steps; want 3 or 4, 1", len(res.Windows), len(res.Steps))
	}
	for i, w := range res.Windows {
		if want := map[bool]int{true: 0, false: -1}[i < 3]; w.Step != want || w.Start != time.Duration(i)*time.Second {
			t.Errorf("window %d: step %d start %v", i, w.Step, w.Start)
		}
	}
	var recv int64
	for _, w := range res.Windows {
		recv += w.AcksReceived
	}
	if recv != 3000 {
		t.Errorf("%d acks received, want 3000", recv)
	}
	open := res.Steps[0].PubAck
	closed := fake().closedLoopLatency()
	t.Logf("publish->ack over 3 s at 1000/s with a 1 s stall (ms):")
	t.Logf("  open loop (from intended time):  n=%d p50=%.2f p90=%.2f p99=%.2f p99.9=%.2f max=%.2f",
		open.Count, open.P50, open.P90, open.P99, open.P999, open.Max)
	t.Logf("  closed loop (from actual send):  n=%d p50=%.2f p90=%.2f p99=%.2f p99.9=%.2f max=%.2f",
		closed.Count, closed.P50, closed.P90, closed.P99, closed.P999, closed.Max)
	for _, w := range res.Windows {
		t.Logf("  window %v (step %d): offered %d acked %d (received %d) p50 %.2f p99 %.2f max %.2f",
			w.Start, w.Step, w.Offered, w.Acked, w.AcksReceived, w.PubAck.P50, w.PubAck.P99, w.PubAck.Max)
	}
	if open.Count != 3000 {
		t.Errorf("pub ack count %d, want 3000", open.Count)
	}
	if open.P99 < 500 {
		t.Errorf("open-loop p99 %.2f ms hides the 1 s stall (want >= 500 ms)", open.P99)
	}
	if open.Max < 900 || open.Max > 1500 {
		t.Errorf("open-loop max %.2f ms, want about 1000", open.Max)
	}
	if open.P50 > 50 {
		t.Errorf("open-loop p50 %.2f ms, want about 1 ms (2/3 of the run is unaffected)", open.P50)
	}
	// The point of the comparison: a closed-loop tool sees only the few
	// messages that were in flight when the stall began.
	if closed.P99 > 100 {
		t.Errorf("closed-loop p99 %.2f ms; the fake should ack in about 1 ms outside the stall", closed.P99)
	}
	if w := res.Windows[1].PubAck; w.P50 < 200 {
		t.Errorf("stall window p50 %.2f ms, want hundreds of ms", w.P50)
	}
}

// Intended sends more than the backlog cap behind are skipped and counted
// as offered and as errors; the rest of the backlog is sent at once.
func TestBenchBacklogCap(t *testing.T) {
	start := time.Now().Add(100 * time.Millisecond)
	b, _ := fakeBench(t, BenchOptions{Window: 10,
		Steps: []BenchStep{{Rate: 1000, Duration: 2 * time.Second}}}, start, 500*time.Millisecond, 1500*time.Millisecond)
	b.backlogCap = 300 * time.Millisecond
	res, err := b.Run(context.Background(), []string{"fake"}, start)
	if err != nil {
		t.Fatal(err)
	}
	offered, acked, _, errs := res.Totals()
	t.Logf("offered %d acked %d errors %d; step %+v", offered, acked, errs, res.Steps[0])
	for _, w := range res.Windows {
		t.Logf("  window %v: %+v", w.Start, w)
	}
	if offered != 2000 || acked+errs != offered {
		t.Fatalf("offered %d acked %d errors %d: want 2000 offered = acked + errors", offered, acked, errs)
	}
	// Blocked from ~0.51 s to 1.5 s; intended sends before ~1.2 s are skipped.
	if errs < 640 || errs > 1000 { // more if the machine is busy
		t.Errorf("%d skipped, want about 690", errs)
	}
	if res.Steps[0].Errors != errs {
		t.Errorf("step errors %d, windows %d", res.Steps[0].Errors, errs)
	}
}

func TestBenchWindows(t *testing.T) {
	bw := newBenchWindows([]BenchStep{{Rate: 1, Duration: 1500 * time.Millisecond}, {Rate: 0, Duration: 0}, {Rate: 2, Duration: time.Second}})
	if bw.n() != 3 {
		t.Fatalf("%d windows, want 3", bw.n())
	}
	for _, c := range []struct {
		off  time.Duration
		w    int
		step int
	}{{0, 0, 0}, {999 * time.Millisecond, 0, 0}, {time.Second, 1, 0}, {1499 * time.Millisecond, 1, 0},
		{1500 * time.Millisecond, 2, 2}, {2499 * time.Millisecond, 2, 2}, {2500 * time.Millisecond, 3, -1}, {4 * time.Second, 4, -1}} {
		w := bw.index(c.off)
		_, step := bw.window(w)
		if w != c.w || step != c.step {
			t.Errorf("index(%v) = %d (step %d), want %d (step %d)", c.off, w, step, c.w, c.step)
		}
	}
	// Late and out-of-ring records land in the right windows.
	var h winHist
	for _, w := range []int{0, 1, 2, 3, 4, 5, 0, 9, 1} {
		h.record(w, time.Duration(w+1)*time.Millisecond)
	}
	h.flush()
	want := map[int]int64{0: 2, 1: 2, 2: 1, 3: 1, 4: 1, 5: 1, 9: 1}
	for w, n := range want {
		p := h.packed[w]
		if p == nil || p.TotalCount() != n {
			t.Errorf("window %d: %v, want %d values", w, p, n)
			continue
		}
		if v := p.Max(); v < int64(w+1)*1000-10 || v > int64(w+1)*1000+10 {
			t.Errorf("window %d max %d µs", w, v)
		}
	}
}

func runBenchServer(t *testing.T) string {
	t.Helper()
	return natstest.Run(t, server.Options{JetStream: true}).ClientURL()
}

func TestBenchEmbeddedServer(t *testing.T) {
	url := runBenchServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := runBench(t, ctx, url, BenchOptions{Subjects: 3, Publishers: 2, Consumers: 1, Payload: 64,
		Steps: []BenchStep{{Rate: 2000, Duration: 2 * time.Second}}})
	offered, acked, consumed, errs := res.Totals()
	t.Logf("offered %d acked %d consumed %d errors %d %v", offered, acked, consumed, errs, res.ErrorSamples())
	st := res.Steps[0]
	t.Logf("step: offered %.0f/s acked %.0f/s (throughput %.0f/s) consumed %.0f/s; pub ack %+v; e2e %+v",
		st.OfferedRate, st.AckedRate, st.AckThroughput, st.ConsumedRate, st.PubAck, st.E2E)
	near := func(name string, got, want int64) {
		if math.Abs(float64(got-want)) > 0.05*float64(want) {
			t.Errorf("%s %d, want %d ± 5%%", name, got, want)
		}
	}
	var recv int64
	for _, w := range res.Windows {
		recv += w.AcksReceived
	}
	if recv != acked {
		t.Errorf("%d acks received, %d acked", recv, acked)
	}
	near("offered", offered, 4000)
	near("acked", acked, offered)
	near("consumed", consumed, offered)
	if math.Abs(st.OfferedRate-2000) > 100 {
		t.Errorf("offered rate %.0f", st.OfferedRate)
	}
	if len(res.Windows) < 2 {
		t.Fatalf("%d windows", len(res.Windows))
	}
	for i, w := range res.Windows[:2] {
		if w.Step != 0 || w.Start != time.Duration(i)*time.Second {
			t.Errorf("window %d: start %v step %d", i, w.Start, w.Step)
		}
		for name, l := range map[string]stats.Latency{"pub ack": w.PubAck, "e2e": w.E2E} {
			if l.Count < 900 || l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max || l.Max > 2000 {
				t.Errorf("window %d %s latency not sane: %+v", i, name, l)
			}
		}
	}
	near("e2e count", st.E2E.Count, offered)

	var buf bytes.Buffer
	if err := res.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("CSV:\n%s", buf.String())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(res.Windows)+1 || rows[0][0] != "start_s" || !strings.Contains(strings.Join(rows[0], ","), "e2e_p999_ms") {
		t.Errorf("CSV: %d rows for %d windows, header %v", len(rows), len(res.Windows), rows[0])
	}
	j, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"pub_ack"`, `"p999"`, `"offered_rate"`, `"consumed"`} {
		if !bytes.Contains(j, []byte(k)) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

// instantPublisher acks every publish at once, inline: what is left is
// the generator's own cost per message.
type instantPublisher struct{ done func(int64, error) }

func (p instantPublisher) publish(_ string, _ []byte, sent int64, _ bool) error {
	p.done(sent, nil)
	return nil
}
func (instantPublisher) close() {}

// BenchmarkBenchGenerator measures the generator's cost per message with
// a publisher that costs nothing (go test -run X -bench BenchGenerator).
func BenchmarkBenchGenerator(b *testing.B) {
	const rate = 1e9 // far above what it can do: it runs flat out, always behind
	d := time.Duration(float64(b.N) / rate * float64(time.Second))
	bn := NewBench(BenchOptions{Steps: []BenchStep{{Rate: rate, Duration: max(d, time.Nanosecond)}}})
	bn.newPub = func(i int, url string, done func(int64, error)) (asyncPublisher, error) {
		return instantPublisher{done}, nil
	}
	b.ResetTimer()
	res, err := bn.Run(context.Background(), []string{"fake"}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if offered, acked, _, _ := res.Totals(); offered != int64(b.N) || acked != offered {
		b.Fatalf("offered %d acked %d, want %d", offered, acked, b.N)
	}
}

// runBench sets up and runs a bench with o against the server at url.
func runBench(t *testing.T, ctx context.Context, url string, o BenchOptions) *stats.BenchResult {
	t.Helper()
	b := NewBench(o)
	urls := []string{url}
	if err := b.Setup(ctx, urls); err != nil {
		t.Fatal(err)
	}
	res, err := b.Run(ctx, urls, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
