package faults

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A paused durable consumer delivers nothing, even to a client that keeps
// asking; healing resumes it and everything stored meanwhile arrives.
func TestPauseConsumer(t *testing.T) {
	c, ctx := startCluster(t, false)
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	inj, err := Registry["pause-consumer"].Inject(ctx, c, Env{Stream: "T", Consumers: []string{"d"}}, Spec{Kind: "pause-consumer"}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if inj.Params["consumer"] != "d" {
		t.Errorf("paused %v, want d", inj.Params["consumer"])
	}
	if n := publishes(ctx, js, 5, 5*time.Second); n != 5 {
		t.Fatalf("%d of 5 publishes acked", n)
	}
	// fetch acks and counts what one fetch (a second's wait) delivers.
	fetch := func() int {
		b, err := cons.Fetch(5, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range b.Messages() {
			n++
			m.Ack()
		}
		return n
	}
	// While paused: no delivery within several fetch waits.
	got := 0
	for range 3 {
		got += fetch()
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != 0 || !info.Paused || info.NumPending != 5 {
		t.Errorf("paused consumer delivered %d, paused %v, pending %d; want 0, true, 5", got, info.Paused, info.NumPending)
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for got < 5 && time.Now().Before(deadline) {
		got += fetch()
	}
	if got != 5 {
		t.Errorf("after resume: %d of 5 delivered", got)
	}
}
