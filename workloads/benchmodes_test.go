package workloads

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/internal/natstest"
)

// The publish options on a real server: every message carries its own
// Nats-Msg-Id (the stream keeps all of them: no two collide), the text
// payload is stored S2-compressed, and random subject choice is not round
// robin yet reaches every subject.
func TestBenchPublishOptions(t *testing.T) {
	url := runBenchServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := runBench(t, ctx, url, BenchOptions{Publishers: 1, Subjects: 4, Payload: 200, MsgID: true, TextPayload: true,
		Compression: true, SubjectChoice: SubjectsRandom, Steps: []BenchStep{{Rate: 500, Duration: 2 * time.Second}}})
	offered, acked, _, errs := res.Totals()
	if offered < 900 || acked != offered || errs != 0 {
		t.Fatalf("offered %d acked %d errors %d %v", offered, acked, errs, res.ErrorSamples())
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.State.Msgs != uint64(acked) {
		t.Errorf("stream holds %d messages, %d acked: message ids collided", info.State.Msgs, acked)
	}
	if info.Config.Compression != jetstream.S2Compression {
		t.Errorf("stream compression %v, want s2", info.Config.Compression)
	}
	ids := map[string]bool{}
	var subjects []string
	for seq := uint64(1); seq <= 40; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		id := m.Header.Get("Nats-Msg-Id")
		if id == "" || ids[id] {
			t.Fatalf("message %d has Nats-Msg-Id %q (seen before: %v)", seq, id, ids[id])
		}
		ids[id] = true
		if !bytes.Equal(m.Data[8:40], []byte(benchText[8:40])) {
			t.Fatalf("message %d payload %q, want the text", seq, m.Data[:40])
		}
		subjects = append(subjects, m.Subject)
	}
	robin, seen := true, map[string]bool{}
	for i, s := range subjects {
		seen[s] = true
		if i >= 4 && s != subjects[i-4] {
			robin = false
		}
	}
	if robin || len(seen) != 4 {
		t.Errorf("random subject choice gave %v", subjects)
	}
}

// Fast batches on a real server: every message acked by a flow ack or its
// batch's commit and stored once, at a normal rate and at a rate so low
// that only pings bring the flow acks within the timeout.
func TestBenchFastBatch(t *testing.T) {
	url := runBenchServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, tt := range []struct {
		rate          float64
		batch, window int
	}{{4000, 300, 64}, {20, 1000, 64}} {
		res := runBench(t, ctx, url, BenchOptions{Publishers: 2, Payload: 64, FastBatch: true, BatchSize: tt.batch, Window: tt.window,
			Timeout: 3 * time.Second, Steps: []BenchStep{{Rate: tt.rate, Duration: 3 * time.Second}}})
		offered, acked, _, errs := res.Totals()
		t.Logf("rate %v batch %d: offered %d acked %d errors %d p99 %.1f ms %v", tt.rate, tt.batch, offered, acked, errs, res.Steps[0].PubAck.P99, res.ErrorSamples())
		if offered < int64(tt.rate*3*0.95) || acked != offered || errs != 0 {
			t.Errorf("rate %v: offered %d acked %d errors %d %v", tt.rate, offered, acked, errs, res.ErrorSamples())
		}
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		st, err := js.Stream(ctx, "bench")
		if err != nil {
			t.Fatal(err)
		}
		if n := st.CachedInfo().State.Msgs; n != uint64(acked) || !st.CachedInfo().Config.AllowBatchPublish {
			t.Errorf("rate %v: stream holds %d messages for %d acked (allow_batched %v)", tt.rate, n, acked, st.CachedInfo().Config.AllowBatchPublish)
		}
		nc.Close()
	}
}

// A fast batch to a stream that does not allow batched publish fails, and
// each of its messages is reported once, as an error.
func TestFastPublisherRefused(t *testing.T) {
	url, _, _, _ := benchServerWith(t, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage})
	var mu sync.Mutex
	var got []error
	p, err := newFastPublisher(0, url, rawPubOptions{Window: 8, BatchSize: 10, Timeout: time.Second}, func(sent int64, err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for i := int64(1); i <= 3; i++ {
		if err := p.publish("s.a", make([]byte, 16), i, i == 3); err != nil {
			t.Fatal(err)
		}
	}
	awaitReports(func() int { mu.Lock(); defer mu.Unlock(); return len(got) }, 3, 5*time.Second, 300*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("%d reports for 3 messages: %v", len(got), got)
	}
	for _, err := range got {
		if err == nil || !strings.Contains(err.Error(), "10205") {
			t.Errorf("got %v, want batch publish disabled (10205)", err)
		}
	}
}

// A backlog bench on a real server: nothing is consumed until the backlog
// is built, then the consumer reads it (its lag first near the backlog,
// then caught up) and everything acked; told to, the publishers stop when
// the drain begins.
func TestBenchBacklog(t *testing.T) {
	url := runBenchServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, stop := range []bool{false, true} {
		res := runBench(t, ctx, url, BenchOptions{Publishers: 2, Consumers: 1, Payload: 64,
			Backlog: &BenchBacklog{Bytes: 64 * 1000, StopPublishing: stop}, Steps: []BenchStep{{Rate: 1000, Duration: 3 * time.Second}}})
		offered, acked, consumed, errs := res.Totals()
		bl := res.Backlog
		if bl == nil {
			t.Fatal("no backlog result")
		}
		t.Logf("stop %v: offered %d acked %d consumed %d errors %d backlog %+v", stop, offered, acked, consumed, errs, *bl)
		if errs != 0 || consumed != acked || !bl.Built || bl.Msgs < 1000 || !bl.CaughtUp || bl.DrainRate <= 0 {
			t.Errorf("stop %v: acked %d consumed %d errors %d backlog %+v", stop, acked, consumed, errs, *bl)
		}
		if bl.BuildTime < 900*time.Millisecond || bl.BuildTime > 2500*time.Millisecond {
			t.Errorf("stop %v: the backlog of 1000 messages at 1000/s took %v to build", stop, bl.BuildTime)
		}
		var maxLag int64
		for _, w := range res.Windows {
			if w.Start+time.Second <= bl.BuildTime && w.Consumed != 0 {
				t.Errorf("stop %v: %d consumed in the window at %v, before the drain began at %v", stop, w.Consumed, w.Start, bl.BuildTime)
			}
			for _, l := range w.Lag {
				maxLag = max(maxLag, l)
			}
		}
		if maxLag < 500 {
			t.Errorf("stop %v: the consumer's lag was at most %d, want near the backlog's 1000", stop, maxLag)
		}
		if stop && offered > acked+10 || stop && offered > 1500 {
			t.Errorf("stop %v: %d offered: the publishers did not stop at the drain", stop, offered)
		}
		if !stop && offered < 2900 {
			t.Errorf("stop %v: %d offered: the publishers stopped", stop, offered)
		}
	}
}

// A capacity search over streams on a real server: each step adds streams
// (kept from step to step) and offers rate_per_stream to each; every
// stream gets messages; the search stops at the first stream the server
// refuses (here its max_streams account limit), reporting the last step
// that held. Setup removes the streams an earlier multi-stream bench left.
func TestCapacityStreams(t *testing.T) {
	s := natstest.Run(t, server.Options{JetStream: true, JetStreamMaxStore: 1 << 30, JetStreamMaxMemory: 1 << 28})
	// Limit the global account to 7 streams.
	acc := s.GlobalAccount()
	if err := acc.UpdateJetStreamLimits(map[string]server.JetStreamAccountLimits{"": {MaxStreams: 7, MaxMemory: -1, MaxStore: -1, MaxConsumers: -1}}); err != nil {
		t.Fatal(err)
	}
	url := s.ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "bench-6", Subjects: []string{"bench-6.>"}}); err != nil {
		t.Fatal(err) // left by an earlier run
	}
	c, err := clusters.NewExternal([]string{url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &BenchWorkload{B: NewBench(BenchOptions{Streams: 2, Publishers: 2, Payload: 32}),
		Capacity: &CapacityOptions{Axis: AxisStreams, Start: 2, Factor: 2, RatePerStream: 50, SLOP99: 5 * time.Second, Step: time.Second, MaxSteps: 5}}
	if err := w.Setup(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Stream(ctx, "bench-6"); err == nil {
		t.Error("setup kept bench-6")
	}
	if err := w.Run(ctx, c, history.NewRecorder(io.Discard, false)); err != nil {
		t.Fatal(err)
	}
	cr := w.CapResult
	t.Logf("capacity %+v", *cr)
	// 2, 4 streams held; 8 cannot be created (7 allowed).
	if len(cr.Steps) != 2 || cr.BestStreams != 4 || cr.BestRate != 200 || cr.Steps[1].Streams != 4 || !strings.Contains(cr.Stopped, "at 8 streams") {
		t.Errorf("capacity %+v", *cr)
	}
	for k := 0; k < 4; k++ {
		name := "bench"
		if k > 0 {
			name += "-" + strconv.Itoa(k)
		}
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if n := st.CachedInfo().State.Msgs; n == 0 {
			t.Errorf("stream %s got no messages", name)
		}
	}
}
