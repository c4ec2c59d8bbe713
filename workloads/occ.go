package workloads

import (
	"context"
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

// OCCOptions configures the occ workload.
type OCCOptions struct {
	// Queue are the stream and the clients' options: Rate is ops a
	// second. NewOCC sets ReadValue.
	Queue QueueOptions
	// Entities is how many entity subjects (default 5).
	Entities int
	// Reads is the fraction of ops that read an entity's last message
	// (default 0.2); the rest append.
	Reads float64
	// Seed seeds each client's choices (with its id).
	Seed uint64
}

// OCC is the optimistic-concurrency workload (issue 16): clients pinned
// to nodes append to per-entity subjects with
// Nats-Expected-Last-Subject-Sequence set to the entity's last sequence as
// they last saw it (event sourcing's append), and read entities' last
// messages from the stream leader; a rejected append makes the client
// read before its next append to that entity. The queue workload's
// drains read every entity's log back.
type OCC struct {
	*Queue
	o OCCOptions
}

// NewOCC fills the defaults.
func NewOCC(o OCCOptions) *OCC {
	if o.Entities <= 0 {
		o.Entities = 5
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	o.Queue.ReadValue = occReadValue
	q := NewQueue(o.Queue)
	o.Queue = q.o
	return &OCC{Queue: q, o: o}
}

func (w *OCC) Name() string { return "occ" }

func (w *OCC) entitySubject(k int) string { return fmt.Sprintf("%s.entity.%d", w.o.Queue.Stream, k) }

// occReadValue is what the drains record of a stored append: an
// OCCEntry with the expected sequence it was stored with.
func occReadValue(subject string, h nats.Header, data []byte, _ time.Time) string {
	k := subjectIndex(subject)
	op := string(data)
	if k < 0 || op == "" || strings.ContainsAny(op, " \t") {
		return "? " + string(data)
	}
	e := history.OCCEntry{K: k, Op: op}
	e.Expect, _ = strconv.ParseUint(h.Get(jetstream.ExpectedLastSubjSeqHeader), 10, 64)
	return e.String()
}

func (w *OCC) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return runPinned(ctx, c, rec, w.o.Queue.Clients, w.o.Queue.Rate, w.o.Queue.Duration, w.client)
}

func (w *OCC) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := w.connectClient(node, fmt.Sprintf("jetstorm-occ-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(id)))
	process, counter := id, 0
	last := map[int]uint64{} // each entity's last sequence as this client last saw it
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		k := rng.IntN(w.o.Entities)
		expect, known := last[k]
		var op history.Op
		at := w.nodeOf(nc, node)
		if !known || rng.Float64() < w.o.Reads {
			rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FOCCRead, Value: strconv.Itoa(k), Node: at})
			op = w.read(nc, k)
			if op.Type == history.OK {
				last[k] = op.Seq
			}
		} else {
			e := history.OCCEntry{K: k, Op: fmt.Sprintf("%d-%d", process, counter), Expect: expect}
			counter++
			rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FOCCAppend, Value: e.String(), Node: at})
			op = w.append(js, e)
			if op.Type == history.OK {
				last[k] = op.Seq
			} else {
				delete(last, k) // read before the next append to it
			}
		}
		op.Process, op.Node = process, at
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Queue.Clients
			counter = 0
		}
	}
	return nil
}

// read asks the stream leader for entity k's last message.
func (w *OCC) read(nc *nats.Conn, k int) history.Op {
	op := history.Op{F: history.FOCCRead, Value: strconv.Itoa(k)}
	if nc.IsReconnecting() {
		op.Type, op.Err = history.Info, errNotSent.Error()
		return op
	}
	gctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	m, err := leaderGet(gctx, nc, w.o.Queue.Stream, msgGetRequest{LastFor: w.entitySubject(k)})
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		op.Type, op.Value = history.OK, fmt.Sprintf("%d -", k)
	case err != nil:
		op.Type, op.Err = history.Info, err.Error() // a failed read says nothing
	default:
		op.Type, op.Value, op.Seq = history.OK, fmt.Sprintf("%d %s", k, m.Data), m.Sequence
	}
	return op
}

// append publishes e with the expected last subject sequence.
func (w *OCC) append(js jetstream.JetStream, e history.OCCEntry) history.Op {
	op := history.Op{F: history.FOCCAppend, Value: e.String()}
	if js.Conn().IsReconnecting() {
		op.Type, op.Err = history.Fail, errNotSent.Error()
		return op
	}
	pctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	ack, err := js.PublishMsg(pctx, &nats.Msg{Subject: w.entitySubject(e.K), Data: []byte(e.Op)},
		jetstream.WithExpectLastSequencePerSubject(e.Expect))
	op.Type = Classify(err)
	if err != nil {
		op.Err = err.Error()
	} else {
		op.Seq = ack.Sequence
	}
	return op
}
