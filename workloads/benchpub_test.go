package workloads

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The raw publisher reports every publish exactly once: acked, no stream
// (no responders), an error answer from the stream, or no ack in time.
func TestRawPublisherOutcomes(t *testing.T) {
	url, nc, _, _ := benchServerWith(t, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.MemoryStorage, MaxMsgSize: 100})
	// A subscriber that never answers: the publish times out.
	if _, err := nc.Subscribe("silent", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	var mu sync.Mutex
	got := map[int64]error{}
	calls := 0
	p, err := newRawPublisher(0, url, rawPubOptions{Window: 8, Timeout: 300 * time.Millisecond}, func(sent int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		got[sent] = err
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	small, big := make([]byte, 32), make([]byte, 200)
	for i, c := range []struct {
		subj string
		data []byte
	}{{"s.a", small}, {"s.b", small}, {"nostream", small}, {"s.c", big}, {"silent", small}} {
		if err := p.publish(c.subj, c.data, int64(i+1), false); err != nil {
			t.Fatal(err)
		}
	}
	awaitReports(func() int { mu.Lock(); defer mu.Unlock(); return calls }, 5, 3*time.Second, 400*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if calls != 5 {
		t.Fatalf("%d completions for 5 publishes: %v", calls, got)
	}
	if got[1] != nil || got[2] != nil {
		t.Errorf("acked publishes reported %v, %v", got[1], got[2])
	}
	if !errors.Is(got[3], nats.ErrNoResponders) {
		t.Errorf("publish with no stream: %v, want no responders", got[3])
	}
	if got[4] == nil || !strings.Contains(got[4].Error(), "API error") {
		t.Errorf("message over the stream's limit: %v, want the stream's error", got[4])
	}
	if !errors.Is(got[5], errAckTimeout) {
		t.Errorf("publish nobody acks: %v, want the ack timeout", got[5])
	}
}

// An ack that comes after its publish timed out must not complete the next
// publish that reuses the slot.
func TestRawPublisherLateAck(t *testing.T) {
	url := runBenchServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Subscribe("slow", func(m *nats.Msg) {
		go func() { time.Sleep(300 * time.Millisecond); m.Respond([]byte(`{"stream":"S","seq":1}`)) }()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Subscribe("silent", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	res := make(chan error, 4)
	p, err := newRawPublisher(0, url, rawPubOptions{Window: 1, Timeout: 150 * time.Millisecond}, func(sent int64, err error) { res <- err })
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if err := p.publish("slow", make([]byte, 16), 1, false); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, errAckTimeout) {
		t.Fatalf("first publish: %v, want the ack timeout", err)
	}
	// The window is 1: this publish gets the timed-out publish's slot back
	// (the slot list is a stack) while that publish's ack is still coming.
	if err := p.publish("silent", make([]byte, 16), 2, false); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, errAckTimeout) {
		t.Fatalf("second publish: %v, want the ack timeout (the late ack of the first completed it)", err)
	}
}

// Atomic batches: every message of a batch completes when its commit is
// acked, and the stream holds them all; the publisher's last message
// commits a short batch; a batch into a stream that does not allow
// atomic publish fails as a whole, every message with the commit's error.
func TestRawPublisherBatches(t *testing.T) {
	url, _, js, ctx := benchServerWith(t,
		jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}, Storage: jetstream.MemoryStorage, AllowAtomicPublish: true},
		jetstream.StreamConfig{Name: "N", Subjects: []string{"n.>"}, Storage: jetstream.MemoryStorage})
	var mu sync.Mutex
	got := map[int64]error{}
	p, err := newRawPublisher(0, url, rawPubOptions{Window: 16, BatchSize: 4, Timeout: 2 * time.Second}, func(sent int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[sent]; dup {
			t.Errorf("message %d completed twice", sent)
		}
		got[sent] = err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	// Two batches of 4 and a last one of 2 into A.
	for i := int64(1); i <= 10; i++ {
		if err := p.publish("a.x", make([]byte, 32), i, i == 10); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d messages completed", k, n)
			}
		}
	}
	wait(10)
	for i := int64(1); i <= 10; i++ {
		if got[i] != nil {
			t.Errorf("message %d: %v", i, got[i])
		}
	}
	if info, err := js.Stream(ctx, "A"); err != nil || info.CachedInfo().State.Msgs != 10 {
		t.Errorf("stream A: %v %+v", err, info)
	}
	// A batch of 4 into N: no atomic publish there.
	for i := int64(11); i <= 14; i++ {
		if err := p.publish("n.x", make([]byte, 32), i, false); err != nil {
			t.Fatal(err)
		}
	}
	wait(14)
	for i := int64(11); i <= 14; i++ {
		if got[i] == nil {
			t.Errorf("message %d into a stream without atomic publish: acked", i)
		}
	}
	t.Logf("the batch into N: %v", got[14])
}

// benchServerWith starts a test server with the streams and connects.
func benchServerWith(t *testing.T, streams ...jetstream.StreamConfig) (string, *nats.Conn, jetstream.JetStream, context.Context) {
	t.Helper()
	url := runBenchServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	for _, sc := range streams {
		if _, err := js.CreateStream(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	return url, nc, js, ctx
}

// awaitReports waits until count() reaches want or d passes, then settle
// more, so that a report too many would be counted.
func awaitReports(count func() int, want int, d, settle time.Duration) {
	deadline := time.Now().Add(d)
	for count() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(settle)
}
