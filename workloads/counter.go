package workloads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// CounterOptions configures the counter workload.
type CounterOptions struct {
	// Queue are the stream and the clients' options: Rate is increments
	// a second. NewCounter sets Counter and ReadValue.
	Queue QueueOptions
	// Counters is how many counter subjects (default 3).
	Counters int
	// MaxIncr: each increment is a random non-zero integer in
	// -MaxIncr..MaxIncr (default 100).
	MaxIncr int
	// Seed seeds each client's choices (with its id).
	Seed uint64
	// Double (tests): a client sends increment id twice (same op, two
	// messages) when it returns true, and records it once.
	Double func(id string) bool
}

// Counter is the counter workload (issue 16): clients pinned to nodes
// send Nats-Incr increments to a few counter subjects of a counter stream
// (AllowMsgCounter), open loop; each message names its increment in a
// header, and the stream keeps the running total per subject as its body.
// The queue workload's drains read every message back (with its
// increment and total), then the leader's last value of each counter.
type Counter struct {
	*Queue
	o CounterOptions
}

// NewCounter fills the defaults.
func NewCounter(o CounterOptions) *Counter {
	if o.Counters <= 0 {
		o.Counters = 3
	}
	if o.MaxIncr <= 0 {
		o.MaxIncr = 100
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	o.Queue.Counter = true
	o.Queue.ReadValue = counterReadValue
	q := NewQueue(o.Queue)
	o.Queue = q.o
	return &Counter{Queue: q, o: o}
}

func (w *Counter) Name() string { return "counter" }

// counterSubject is counter k's subject.
func (w *Counter) counterSubject(k int) string {
	return fmt.Sprintf("%s.counter.%d", w.o.Queue.Stream, k)
}

// counterValue is a counter message's body.
type counterValue struct {
	Value string `json:"val"`
}

// counterReadValue is what the drains record of a stored increment: a
// history.CounterEntry.
func counterReadValue(subject string, h nats.Header, data []byte, _ time.Time) string {
	e := history.CounterEntry{K: subjectIndex(subject), Op: "?", HasTotal: true}
	if op := h.Get(history.CounterOpHeader); op != "" && !strings.ContainsAny(op, " \t") {
		e.Op = op
	}
	e.Incr, _ = strconv.ParseInt(h.Get("Nats-Incr"), 10, 64)
	var v counterValue
	if json.Unmarshal(data, &v) == nil {
		e.Total, _ = strconv.ParseInt(v.Value, 10, 64)
	}
	if e.K < 0 {
		return "? " + string(data) // not a counter message: unexpected
	}
	return e.String()
}

func (w *Counter) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return runPinned(ctx, c, rec, w.o.Queue.Clients, w.o.Queue.Rate, w.o.Queue.Duration, w.client)
}

func (w *Counter) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := w.connectClient(node, fmt.Sprintf("jetstorm-counter-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(id)))
	process, counter := id, 0
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		e := history.CounterEntry{K: rng.IntN(w.o.Counters), Op: fmt.Sprintf("%d-%d", process, counter),
			Incr: int64(rng.IntN(2*w.o.MaxIncr) - w.o.MaxIncr)}
		if e.Incr >= 0 {
			e.Incr++ // never 0: -MaxIncr..-1, 1..MaxIncr
		}
		counter++
		at := w.nodeOf(nc, node)
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FCounterAdd,
			Value: e.String(), Node: at, Time: next.Sub(rec.Start())})
		seq, total, err := w.add(js, e, w.o.Double != nil && w.o.Double(e.Op))
		op := history.Op{Process: process, Type: Classify(err), F: history.FCounterAdd, Node: at}
		if err != nil {
			op.Err = err.Error()
		} else {
			e.Total, e.HasTotal, op.Seq = total, true, seq
		}
		op.Value = e.String()
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Queue.Clients
			counter = 0
		}
	}
	return nil
}

// add publishes one increment (twice when double) and returns the ack's
// sequence and total.
func (w *Counter) add(js jetstream.JetStream, e history.CounterEntry, double bool) (uint64, int64, error) {
	if js.Conn().IsReconnecting() {
		return 0, 0, errNotSent
	}
	m := &nats.Msg{Subject: w.counterSubject(e.K), Header: nats.Header{}}
	m.Header.Set("Nats-Incr", strconv.FormatInt(e.Incr, 10))
	m.Header.Set(history.CounterOpHeader, e.Op)
	pctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	if double {
		if _, err := js.PublishMsg(pctx, m); err != nil {
			return 0, 0, err
		}
	}
	ack, err := js.PublishMsg(pctx, m)
	if err != nil {
		return 0, 0, err
	}
	total, err := strconv.ParseInt(ack.Value, 10, 64)
	if err != nil {
		// Acked, but not as a counter: the check sees the stored total.
		return ack.Sequence, 0, fmt.Errorf("ack without a counter value (%q): %w", ack.Value, errBadAck)
	}
	return ack.Sequence, total, nil
}

// errBadAck: the stream acked, but the ack is not what it should be. The
// op is info (it was stored, its total unknown).
var errBadAck = errors.New("unexpected ack")

// Drain reads the whole stream back (the queue's drain, each message
// recorded as its increment and total), then each counter's value from
// the stream leader.
func (w *Counter) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	if err := w.Queue.Drain(ctx, c, rec); err != nil {
		return err
	}
	nc, _, err := connectAll(c, "counter finals")
	if err != nil {
		return err
	}
	defer nc.Close()
	for k := range w.o.Counters {
		var m *jetstream.RawStreamMsg
		err := retry(ctx, "counter final", func(ctx context.Context) error {
			var err error
			m, err = leaderGet(ctx, nc, w.o.Queue.Stream, msgGetRequest{LastFor: w.counterSubject(k)})
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
		if m == nil {
			continue // the counter has no message
		}
		e, _ := history.ParseCounterEntry(counterReadValue(m.Subject, m.Header, m.Data, m.Time))
		e.Op, e.Incr = "final", 0
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FCounterFinal, Value: e.String(), Seq: m.Sequence})
	}
	return nil
}

// subjectIndex is the number a subject ends with ("<stream>.counter.3":
// 3), -1 when it ends with none.
func subjectIndex(subject string) int {
	k, err := strconv.Atoi(subject[strings.LastIndexByte(subject, '.')+1:])
	if err != nil || k < 0 {
		return -1
	}
	return k
}
