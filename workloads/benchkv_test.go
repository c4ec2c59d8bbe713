package workloads

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The KV bench on a real server: kv-put stores a revision per acked put
// (history 2 keeps two per key); kv-get gets a value for every request
// (every key was put in setup), each a direct get answered with the value;
// a get of a key that is not there fails (the server's 404).
func TestBenchKV(t *testing.T) {
	url := runBenchServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run := func(kv BenchKV) (offered, acked, errs int64) {
		t.Helper()
		res := runBench(t, ctx, url, BenchOptions{Publishers: 2, Payload: 64, KV: &kv, Steps: []BenchStep{{Rate: 1000, Duration: 2 * time.Second}}})
		offered, acked, _, errs = res.Totals()
		t.Logf("%+v: offered %d acked %d errors %d %v", kv, offered, acked, errs, res.ErrorSamples())
		return offered, acked, errs
	}
	offered, acked, errs := run(BenchKV{Op: KVPut, Keys: 10, Dist: "zipf", History: 2})
	if offered < 1900 || acked != offered || errs != 0 {
		t.Errorf("kv-put: offered %d acked %d errors %d", offered, acked, errs)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, "KV_bench")
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n > 20 || n < 2 {
		t.Errorf("KV_bench holds %d messages, want at most 2 revisions of 10 keys", n)
	}
	offered, acked, errs = run(BenchKV{Op: KVGet, Keys: 50})
	if offered < 1900 || acked != offered || errs != 0 {
		t.Errorf("kv-get: offered %d acked %d errors %d", offered, acked, errs)
	}
	// A direct get of a key never put: the 404 is a failed get.
	got := make(chan error, 1)
	p, err := newRawPublisher(0, url, rawPubOptions{Window: 4, Timeout: time.Second, NoPayload: true}, func(sent int64, err error) { got <- err })
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if err := p.publish("$JS.API.DIRECT.GET.KV_bench.$KV.bench.nokey", make([]byte, 16), 1, false); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("get of a missing key: %v, want the 404", err)
	}
}

// Zipf picks the first keys far more often than uniform does.
func TestKeyChooser(t *testing.T) {
	count := func(dist string) []int {
		b := NewBench(BenchOptions{KV: &BenchKV{Op: KVPut, Keys: 1000, Dist: dist}})
		pick := b.keyChooser(0, 1000)
		n := make([]int, 1000)
		for range 100000 {
			n[pick()]++
		}
		return n
	}
	z, u := count("zipf"), count("uniform")
	if z[0] < 10000 || z[0] < 5*u[0] {
		t.Errorf("zipf: key 0 picked %d times (uniform: %d), want far more", z[0], u[0])
	}
	if u[0] > 200 || u[999] < 50 {
		t.Errorf("uniform: key 0 %d, key 999 %d times of 100000", u[0], u[999])
	}
	if NewBench(BenchOptions{}).keyChooser(0, 5) != nil {
		t.Error("a plain bench must go round robin")
	}
}

// The consume modes and ack policies on a real server: a fetch, callback
// and push consumer read everything acked, with each ack policy (and
// double acks); with ack policy explicit or all the durable ends with
// nothing awaiting an ack (all: the last message of each hundred acks the
// rest). Ordered and direct consumers each read every message. Every
// consumer reports its lag (num_pending) in some window.
func TestBenchConsumeModes(t *testing.T) {
	url := runBenchServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, tt := range []struct {
		mode, ack string
		double    bool
	}{
		{ConsumeFetch, AckExplicit, false}, {ConsumeFetch, AckAll, false}, {ConsumeFetch, AckNone, false}, {ConsumeCallback, AckAll, false},
		{ConsumePush, AckExplicit, false}, {ConsumeCallback, AckExplicit, true}, {ConsumeOrdered, AckNone, false}, {ConsumeDirect, AckNone, false},
		{ConsumeDirect + "1", AckNone, false},
	} {
		mode, directBatch := tt.mode, 0
		if mode == ConsumeDirect+"1" { // one direct get by sequence per message
			mode, directBatch = ConsumeDirect, 1
		}
		name := tt.mode + "/" + tt.ack
		if tt.double {
			name += "/double"
		}
		res := runBench(t, ctx, url, BenchOptions{Publishers: 2, Consumers: 2, Payload: 64, ConsumeMode: mode, AckPolicy: tt.ack,
			DoubleAck: tt.double, DirectBatch: directBatch, Steps: []BenchStep{{Rate: 1000, Duration: 2 * time.Second}}})
		offered, acked, consumed, errs := res.Totals()
		t.Logf("%s: offered %d acked %d consumed %d errors %d max lag %d %v", name, offered, acked, consumed, errs, res.Steps[0].MaxLag, res.ErrorSamples())
		want := acked
		if FanOut(mode) {
			want = 2 * acked
		}
		if acked != offered || consumed != want || errs != 0 {
			t.Errorf("%s: offered %d acked %d consumed %d (want %d) errors %d", name, offered, acked, consumed, want, errs)
		}
		for c := 0; c < 2 && directBatch != 1; c++ { // single direct gets carry no num_pending
			sampled := false
			for _, w := range res.Windows {
				sampled = sampled || (len(w.Lag) == 2 && w.Lag[c] >= 0)
			}
			if !sampled {
				t.Errorf("%s: consumer %d has no lag sample", name, c)
			}
		}
		if tt.ack == AckNone {
			continue
		}
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		var info *jetstream.ConsumerInfo
		if tt.mode == ConsumePush {
			var pc jetstream.PushConsumer
			if pc, err = js.PushConsumer(ctx, "bench", "bench"); err == nil {
				info = pc.CachedInfo()
			}
		} else {
			var pc jetstream.Consumer
			if pc, err = js.Consumer(ctx, "bench", "bench"); err == nil {
				info = pc.CachedInfo()
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if info.NumAckPending > 2*benchAckAllEvery || info.AckFloor.Stream < uint64(acked)-2*benchAckAllEvery {
			t.Errorf("%s: %d awaiting an ack, ack floor %d of %d", name, info.NumAckPending, info.AckFloor.Stream, acked)
		}
		nc.Close()
	}
}
