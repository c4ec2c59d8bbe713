package workloads

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type benchCons struct {
	r     *benchRun
	nc    *nats.Conn
	cons  jetstream.Consumer
	cc    jetstream.ConsumeContext
	count atomic.Int64

	mu       sync.Mutex
	closed   bool
	consumed []int64 // by receive window
	lat      winHist // by intended window
}

func (c *benchCons) handle(m jetstream.Msg) {
	now := time.Since(c.r.start)
	sent := sentOf(m.Data())
	c.mu.Lock()
	if !c.closed {
		bump(&c.consumed, c.r.wins.index(now), 1)
		if sent != 0 {
			off := time.Duration(sent - c.r.startNs)
			c.lat.record(c.r.wins.index(off), now-off)
		}
	}
	c.mu.Unlock()
	c.count.Add(1)
	_ = m.Ack()
}

func (r *benchRun) attachConsumer(ctx context.Context, i int, url string) (*benchCons, error) {
	nc, err := connect(url, fmt.Sprintf("jetstorm-bench-sub-%d", i))
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// Retry for a while: the node may still be (re)connecting.
	deadline := time.Now().Add(15 * time.Second)
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := js.Consumer(actx, r.b.o.Stream, benchConsumer)
		cancel()
		if err == nil {
			return &benchCons{r: r, nc: nc, cons: cons}, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			nc.Close()
			return nil, fmt.Errorf("consumer %s/%s on %s: %w", r.b.o.Stream, benchConsumer, url, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *benchCons) stop() {
	if c.cc != nil {
		c.cc.Stop()
		select {
		case <-c.cc.Closed():
		case <-time.After(2 * time.Second):
		}
	}
	c.mu.Lock()
	c.closed = true
	c.lat.flush()
	c.mu.Unlock()
	c.nc.Close()
}
