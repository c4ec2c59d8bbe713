package workloads

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type benchCons struct {
	r    *benchRun
	nc   *nats.Conn
	cons jetstream.Consumer
	cc   jetstream.ConsumeContext
	// fetch mode: closed to stop the fetch loop; closed by it when done
	fetchStop, fetchDone chan struct{}
	count                atomic.Int64

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
	n := c.count.Add(1)
	switch c.r.b.o.AckPolicy {
	case AckExplicit:
		_ = m.Ack()
	case AckAll:
		if n%benchAckAllEvery == 0 {
			_ = m.Ack() // acks every message before it too
		}
	}
}

// benchAckAllEvery: with ack policy all, a consumer acks every this many
// messages (one ack covers those before it).
const benchAckAllEvery = 100

// benchFetchBatch is a fetch consumer's batch.
const benchFetchBatch = 256

// startFetching reads the durable with Fetch in a loop until stop.
func (c *benchCons) startFetching() {
	c.fetchStop = make(chan struct{})
	c.fetchDone = make(chan struct{})
	go func() {
		defer close(c.fetchDone)
		for {
			select {
			case <-c.fetchStop:
				return
			default:
			}
			batch, err := c.cons.Fetch(benchFetchBatch, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				c.r.errs.add(fmt.Errorf("fetch: %w", err))
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for m := range batch.Messages() {
				c.handle(m)
			}
			if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
				c.r.errs.add(fmt.Errorf("fetch: %w", err))
			}
		}
	}()
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
	if c.fetchStop != nil {
		close(c.fetchStop)
		select {
		case <-c.fetchDone:
		case <-time.After(3 * time.Second): // a Fetch waits at most 1 s
		}
	}
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
