package clusters

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Every replica reports its own copy of a durable consumer's state: after 6
// of 10 messages are acked, each node's /jsz says delivered 6, ack floor 6.
func TestConsumersPerNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartProcess(ctx, ProcessOptions{Dir: t.TempDir(), Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(c.Nodes()[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := js.Publish(ctx, "t", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	b, err := cons.Fetch(6)
	if err != nil {
		t.Fatal(err)
	}
	for m := range b.Messages() {
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.Nodes() {
		var got string
		for ctx.Err() == nil { // followers apply the acks a moment later
			cs, err := Consumers(ctx, n, "T")
			if err != nil {
				t.Fatal(err)
			}
			if d := cs["d"]; d != nil {
				if d.Delivered.Stream == 6 && d.AckFloor.Stream == 6 {
					break
				}
				got = "delivered " + itoa(d.Delivered.Stream) + ", ack floor " + itoa(d.AckFloor.Stream)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never reported delivered 6, ack floor 6 (last: %s)", n.Name(), got)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
