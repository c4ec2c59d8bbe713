package workloads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consume modes and ack policies of the bench's consumers.
const (
	ConsumeCallback = "consume" // the durable pull consumer, callback API
	ConsumeFetch    = "fetch"   // the durable pull consumer, Fetch in a loop
	ConsumePush     = "push"    // the durable push consumer, a deliver group
	ConsumeOrdered  = "ordered" // each consumer its own ordered consumer: all messages
	ConsumeDirect   = "direct"  // each consumer reads every message by direct get
	AckExplicit     = "explicit"
	AckAll          = "all"
	AckNone         = "none"
	SubjectsRandom  = "random"
)

// FanOut reports whether every consumer of the mode reads every message
// (ordered, direct) rather than sharing one durable's.
func FanOut(mode string) bool { return mode == ConsumeOrdered || mode == ConsumeDirect }

const (
	// benchAckAllEvery: with ack policy all, a consumer acks every this
	// many messages (one ack covers those before it).
	benchAckAllEvery = 100
	// benchReadBatch is a fetch consumer's batch and a direct reader's.
	benchReadBatch = 256
	// lagEvery: a consumer samples its num_pending at most this often.
	lagEvery = 100 * time.Millisecond
	// benchDeliverPrefix is the push durable's deliver subject (outside
	// the stream's subjects).
	benchDeliverPrefix = "_jetstorm_deliver."
)

type benchCons struct {
	r    *benchRun
	id   int
	nc   *nats.Conn
	cons jetstream.Consumer     // callback, fetch, ordered
	push jetstream.PushConsumer // push
	cc   jetstream.ConsumeContext
	// fetch and direct: closed to stop the read loop; closed by it when done
	loopStop, loopDone chan struct{}
	count              atomic.Int64

	mu       sync.Mutex
	closed   bool
	consumed []int64 // by receive window
	lat      winHist // by intended window
	// lag is the highest num_pending seen per receive window (+1, so 0
	// is no sample); nextLag the earliest time of the next sample.
	lag      []int64
	nextLag  time.Duration
	sinceLag int // messages since the last sample
	// backlog: when it caught up (0: not yet) and its count then
	caught      time.Duration
	caughtCount int64
}

// record counts one message with payload data received now; pending is
// its num_pending if known (< 0: unknown, or not sampled).
func (c *benchCons) record(data []byte, pending func() int64) {
	now := time.Since(c.r.start)
	sent := sentOf(data)
	c.mu.Lock()
	if !c.closed {
		w := c.r.wins.index(now)
		bump(&c.consumed, w, 1)
		if sent != 0 {
			off := time.Duration(sent - c.r.startNs)
			c.lat.record(c.r.wins.index(off), now-off)
		}
		// Until a backlog's drain has caught up, every 16th message is
		// sampled too (catch-up needs a sample within the last 100).
		c.sinceLag++
		draining := c.caught == 0 && c.r.drainStart.Load() != 0 && c.sinceLag >= 16
		if (now >= c.nextLag || draining) && pending != nil {
			if n := pending(); n >= 0 {
				c.nextLag = now + lagEvery
				c.sinceLag = 0
				if w >= len(c.lag) {
					c.lag = append(c.lag, make([]int64, w+1-len(c.lag))...)
				}
				c.lag[w] = max(c.lag[w], n+1)
				c.caughtUp(now, n)
			}
		}
	}
	c.mu.Unlock()
}

// handle takes one message of a consumer (callback, fetch, push, ordered).
func (c *benchCons) handle(m jetstream.Msg) {
	c.record(m.Data(), func() int64 {
		md, err := m.Metadata()
		if err != nil {
			return -1
		}
		return int64(md.NumPending)
	})
	n := c.count.Add(1)
	o := c.r.b.o
	if FanOut(o.ConsumeMode) {
		return // ordered consumers do not ack
	}
	ack := func() {
		if o.DoubleAck {
			ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
			if err := m.DoubleAck(ctx); err != nil {
				c.r.errs.add(fmt.Errorf("double ack: %w", err))
			}
			cancel()
			return
		}
		_ = m.Ack()
	}
	switch o.AckPolicy {
	case AckExplicit:
		ack()
	case AckAll:
		if n%benchAckAllEvery == 0 {
			ack() // acks every message before it too
		}
	}
}

// start begins reading.
func (c *benchCons) start() error {
	errh := jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		c.r.errs.add(fmt.Errorf("consume: %w", err))
	})
	var err error
	switch c.r.b.o.ConsumeMode {
	case ConsumeFetch:
		c.loop(c.fetchOnce)
	case ConsumeDirect:
		next := uint64(1)
		c.loop(func() { c.directOnce(&next) })
	case ConsumePush:
		c.cc, err = c.push.Consume(c.handle, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.r.errs.add(fmt.Errorf("push consume: %w", err))
		}))
	default: // callback, ordered
		c.cc, err = c.cons.Consume(c.handle, errh)
	}
	return err
}

// loop runs once in a goroutine until stop.
func (c *benchCons) loop(once func()) {
	c.loopStop = make(chan struct{})
	c.loopDone = make(chan struct{})
	go func() {
		defer close(c.loopDone)
		for {
			select {
			case <-c.loopStop:
				return
			default:
			}
			once()
		}
	}()
}

// fetchOnce fetches one batch of the durable.
func (c *benchCons) fetchOnce() {
	batch, err := c.cons.Fetch(benchReadBatch, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		c.r.errs.add(fmt.Errorf("fetch: %w", err))
		c.pause(100 * time.Millisecond)
		return
	}
	for m := range batch.Messages() {
		c.handle(m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
		c.r.errs.add(fmt.Errorf("fetch: %w", err))
	}
}

// directOnce reads the stream from *next with one batched direct get
// ({"seq": next, "batch": DirectBatch}, answered by any replica: one message per
// stored message with its Nats-Sequence and Nats-Num-Pending, then a 204
// EOB status), or waits a little when there is nothing past *next yet.
func (c *benchCons) directOnce(next *uint64) {
	if c.r.b.o.DirectBatch == 1 {
		c.directGet(next)
		return
	}
	req, _ := json.Marshal(map[string]uint64{"seq": *next, "batch": uint64(c.r.b.o.DirectBatch)})
	inbox := c.nc.NewRespInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	if err != nil {
		c.r.errs.add(fmt.Errorf("direct get: %w", err))
		c.pause(100 * time.Millisecond)
		return
	}
	defer sub.Unsubscribe()
	if err := c.nc.PublishRequest("$JS.API.DIRECT.GET."+c.r.b.o.Stream, inbox, req); err != nil {
		c.r.errs.add(fmt.Errorf("direct get: %w", err))
		c.pause(100 * time.Millisecond)
		return
	}
	got := 0
	for {
		m, err := sub.NextMsg(c.r.b.o.Timeout)
		if err != nil {
			c.r.errs.add(fmt.Errorf("direct get from %d: %w", *next, err))
			return
		}
		if st := m.Header.Get("Status"); st != "" && len(m.Data) == 0 {
			switch st {
			case "204": // end of batch
			case "404": // nothing at or past *next yet
				c.pause(5 * time.Millisecond)
			default:
				c.r.errs.add(fmt.Errorf("direct get from %d: status %s %s", *next, st, m.Header.Get("Description")))
				c.pause(100 * time.Millisecond)
			}
			if got == 0 && st == "204" {
				c.pause(5 * time.Millisecond)
			}
			return
		}
		got++
		if seq, err := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64); err == nil && seq >= *next {
			*next = seq + 1
		}
		c.record(m.Data, func() int64 {
			n, err := strconv.ParseInt(m.Header.Get("Nats-Num-Pending"), 10, 64)
			if err != nil {
				return -1
			}
			return n
		})
		c.count.Add(1)
	}
}

// directGet reads message *next with one direct get by sequence
// ({"seq": next}: one reply, the message or a 404 status). The reply
// carries no num_pending, so this reader has no lag samples.
func (c *benchCons) directGet(next *uint64) {
	req, _ := json.Marshal(map[string]uint64{"seq": *next})
	m, err := c.nc.Request("$JS.API.DIRECT.GET."+c.r.b.o.Stream, req, c.r.b.o.Timeout)
	if err != nil {
		c.r.errs.add(fmt.Errorf("direct get %d: %w", *next, err))
		c.pause(100 * time.Millisecond)
		return
	}
	if st := m.Header.Get("Status"); st != "" && len(m.Data) == 0 {
		if st != "404" { // 404: not stored yet
			c.r.errs.add(fmt.Errorf("direct get %d: status %s %s", *next, st, m.Header.Get("Description")))
		}
		c.pause(5 * time.Millisecond)
		return
	}
	*next++
	c.record(m.Data, nil)
	c.count.Add(1)
}

// pause sleeps for d or until the consumer stops.
func (c *benchCons) pause(d time.Duration) {
	select {
	case <-c.loopStop:
	case <-time.After(d):
	}
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
	c := &benchCons{r: r, id: i, nc: nc}
	mode := r.b.o.ConsumeMode
	if mode == ConsumeDirect {
		return c, nil
	}
	// Retry for a while: the node may still be (re)connecting.
	deadline := time.Now().Add(15 * time.Second)
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		switch mode {
		case ConsumePush:
			c.push, err = js.PushConsumer(actx, r.b.o.Stream, benchConsumer)
		case ConsumeOrdered:
			c.cons, err = js.OrderedConsumer(actx, r.b.o.Stream, jetstream.OrderedConsumerConfig{})
		default:
			c.cons, err = js.Consumer(actx, r.b.o.Stream, benchConsumer)
		}
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			nc.Close()
			return nil, fmt.Errorf("consumer %s/%s on %s: %w", r.b.o.Stream, benchConsumer, url, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *benchCons) stop() {
	if c.loopStop != nil {
		close(c.loopStop)
		select {
		case <-c.loopDone:
		case <-time.After(c.r.b.o.Timeout + 2*time.Second): // a read waits at most the timeout
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
