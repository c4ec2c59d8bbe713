package workloads

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// consumerClient is one client of a durable, pinned to a node: it fetches,
// records every delivery and replies to it, and detaches and attaches
// again (by the durable's name) on a schedule or after repeated errors.
type consumerClient struct {
	w       *Consume
	rec     *history.Recorder
	node    clusters.Node
	id      int
	durable string
	rng     *rand.Rand
}

// errScheduledRestart ends an attachment when RestartEvery is due.
var errScheduledRestart = errors.New("scheduled restart")

// maxFetchErrors consecutive fetch errors make a client attach again.
const maxFetchErrors = 20

func (cl *consumerClient) process() int { return history.ConsumerProcessBase + cl.id }

func (cl *consumerClient) run(ctx context.Context) {
	cl.rng = rand.New(rand.NewPCG(cl.w.o.Seed, uint64(cl.id)))
	for {
		err := cl.attach(ctx)
		if ctx.Err() != nil {
			return
		}
		cl.rec.Record(history.Op{Process: cl.process(), Type: history.Info, F: history.FConsumerRestart,
			Value: cl.durable, Node: cl.node.Name(), Err: err.Error()})
	}
}

// attach connects to the client's node, binds to the durable and consumes
// (pull or push) until ctx ends, a restart is due or the consuming fails.
func (cl *consumerClient) attach(ctx context.Context) error {
	nc, js, err := connectPinned(cl.node, fmt.Sprintf("jetstorm-consumer-%d", cl.id))
	if err != nil {
		return err
	}
	defer nc.Close()
	var restart <-chan time.Time
	if cl.w.o.RestartEvery > 0 {
		t := time.NewTimer(cl.w.o.RestartEvery)
		defer t.Stop()
		restart = t.C
	}
	if cl.w.o.Push {
		return cl.push(ctx, js, restart)
	}
	var cons jetstream.Consumer
	err = retry(ctx, "bind "+cl.durable, func(actx context.Context) error {
		cons, err = js.Consumer(actx, cl.w.o.Queue.Stream, cl.durable)
		return err
	})
	if err != nil {
		return err
	}
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-restart:
			return errScheduledRestart
		default:
		}
		err := cl.fetch(ctx, cons)
		// A pull with a stale pin id is refused (423) once the group
		// pinned another client: the library forgets the pin, and the
		// next pull waits its turn.
		if err == nil || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrPinIDMismatch) {
			failed = 0
			continue
		}
		if failed++; failed >= maxFetchErrors {
			return fmt.Errorf("%d fetches failed, the last: %w", failed, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// push subscribes to the push durable's deliver subject (in its deliver
// group, shared by the durable's clients) and handles each message in the
// subscription's goroutine, until ctx ends, a restart is due or the
// consumer is gone.
func (cl *consumerClient) push(ctx context.Context, js jetstream.JetStream, restart <-chan time.Time) error {
	var cons jetstream.PushConsumer
	err := retry(ctx, "bind "+cl.durable, func(actx context.Context) error {
		var err error
		cons, err = js.PushConsumer(actx, cl.w.o.Queue.Stream, cl.durable)
		return err
	})
	if err != nil {
		return err
	}
	fatal := make(chan error, 1)
	cc, err := cons.Consume(func(m jetstream.Msg) { cl.handle(cons, m) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrConsumerDeleted) {
				select {
				case fatal <- err:
				default:
				}
			}
		}))
	if err != nil {
		return err
	}
	defer cc.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-restart:
		return errScheduledRestart
	case err := <-fatal:
		return err
	}
}

// fetch asks for a small batch and handles each message in turn.
func (cl *consumerClient) fetch(ctx context.Context, cons jetstream.Consumer) error {
	opts := []jetstream.FetchOpt{jetstream.FetchMaxWait(time.Second)}
	if g := cl.w.o.Group; g.Policy != "" {
		opts = []jetstream.FetchOpt{jetstream.FetchMaxWait(g.PullExpiry), jetstream.FetchPriorityGroup(g.Name)}
		if g.Policy == "overflow" && g.MinPending > 0 && cl.id%cl.w.o.ClientsPer != 0 {
			opts = append(opts, jetstream.FetchMinPending(g.MinPending))
		}
	}
	batch, err := cons.Fetch(10, opts...)
	if err != nil {
		return err
	}
	for m := range batch.Messages() {
		cl.handle(cons, m)
	}
	return batch.Error()
}

// infoer reads a consumer's info: a pull or a push consumer.
type infoer interface {
	Info(context.Context) (*jetstream.ConsumerInfo, error)
}

// handle records a delivery and replies to it.
func (cl *consumerClient) handle(cons infoer, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		cl.rec.Record(history.Op{Process: cl.process(), Type: history.Info, F: history.FNote, Node: cl.node.Name(),
			Err: fmt.Sprintf("delivery to %s without metadata: %v", cl.durable, err)})
		return
	}
	value := valueOf(m.Data())
	d := history.Delivery{
		Consumer: cl.durable, Value: value, StreamSeq: md.Sequence.Stream, ConsumerSeq: md.Sequence.Consumer,
		NumDelivered: md.NumDelivered, NumPending: md.NumPending, PinID: m.Headers().Get("Nats-Pin-Id"),
	}
	if t := cl.w.o.Group.Tamper; t != nil {
		t(cl.id, &d)
	}
	if h := cl.w.o.Hide; h != nil && h(d) {
		m.Ack() // a client that acks without processing: the history never sees it
		return
	}
	cl.rec.Record(history.Op{Process: cl.process(), Type: history.OK, F: history.FDeliver, Node: cl.node.Name(),
		Seq: md.Sequence.Stream, Value: d})
	ack := history.Ack{Consumer: cl.durable, Value: value, StreamSeq: md.Sequence.Stream, ConsumerSeq: md.Sequence.Consumer}
	o := cl.w.o
	r := cl.rng.Float64()
	var reply func() error
	switch {
	case r < o.Term:
		ack.Kind, reply = history.AckTerm, m.Term
	case r < o.Term+o.Nak:
		ack.Kind, reply = history.AckNak, m.Nak
	case r < o.Term+o.Nak+o.NakDelay:
		ack.Kind, ack.DelayMs = history.AckNakDelay, o.NakDelayFor.Milliseconds()
		reply = func() error { return m.NakWithDelay(o.NakDelayFor) }
	case r < o.Term+o.Nak+o.NakDelay+o.NoAck:
		return // no reply: ack_wait expires and the server redelivers
	default:
		ack.Kind, reply, ack.Double = history.AckAck, m.Ack, o.DoubleAck
	}
	cl.rec.Record(history.Op{Process: cl.process(), Type: history.Invoke, F: history.FAck, Node: cl.node.Name(),
		Seq: ack.StreamSeq, Value: ack})
	op := history.Op{Process: cl.process(), F: history.FAck, Node: cl.node.Name(), Seq: ack.StreamSeq}
	if ack.Double {
		err = cl.doubleAck(cons, m, &ack)
		op.Type = Classify(err)
	} else if err = reply(); err != nil {
		op.Type = history.Fail // a plain reply is only sent: an error means it was not
	} else {
		op.Type = history.OK
	}
	if err != nil {
		op.Err = err.Error()
	}
	op.Value = ack
	cl.rec.Record(op)
}

// doubleAck acks and waits for the server's confirmation, then reads the
// consumer's delivered sequence into ack.DeliveredAfter (left 0 if that
// read fails).
func (cl *consumerClient) doubleAck(cons infoer, m jetstream.Msg, ack *history.Ack) error {
	actx, cancel := context.WithTimeout(context.Background(), cl.w.o.Queue.Timeout)
	defer cancel()
	if err := m.DoubleAck(actx); err != nil {
		return err
	}
	if info, err := cons.Info(actx); err == nil {
		ack.DeliveredAfter = info.Delivered.Consumer
	}
	return nil
}
