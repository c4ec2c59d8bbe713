package workloads

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// ScheduleOptions configures the schedule workload.
type ScheduleOptions struct {
	// Queue are the stream and the clients' options: Rate is schedules
	// a second. NewSchedule sets ReadValue and Configure.
	Queue QueueOptions
	// Delays: an @at schedule is due this long after its publish (drawn
	// at random), rounded up to the second (the header's resolution).
	Delays []time.Duration
	// Every > 0: the first Repeating clients each publish one @every
	// schedule of this interval first.
	Every     time.Duration
	Repeating int
	// Slack: how long the load goes on after the last publish for the
	// last schedules to fire (with the longest delay).
	Slack time.Duration
	// Tolerance: how far from its time a firing may land (recorded for
	// the check).
	Tolerance time.Duration
	Seed      uint64
}

// Schedule is the schedule workload (issue 21): clients pinned to nodes
// publish message schedules (Nats-Schedule "@at <time>", a few "@every
// <interval>"), each on a subject of its own with a target subject of its
// own, open loop. The drains read every copy back; a firing is recorded
// with its stored time (history.Firing).
type Schedule struct {
	*Queue
	o     ScheduleOptions
	start time.Time // the history's time origin
	// Double, when set (tests), makes a client publish a second schedule
	// with the same target (on subject <name>x) when it returns true.
	Double func(id string) bool
}

// NewSchedule fills the defaults.
func NewSchedule(o ScheduleOptions) *Schedule {
	if len(o.Delays) == 0 {
		o.Delays = []time.Duration{2 * time.Second, 5 * time.Second}
	}
	if o.Slack <= 0 {
		o.Slack = 5 * time.Second
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 500 * time.Millisecond
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	w := &Schedule{}
	o.Queue.ReadValue = w.readValue
	o.Queue.Configure = func(cfg *jetstream.StreamConfig) { cfg.AllowMsgSchedules = true }
	w.Queue = NewQueue(o.Queue)
	o.Queue = w.Queue.o
	w.o = o
	return w
}

func (w *Schedule) Name() string { return "schedule" }

// Tail is how long the load goes on after the last publish.
func (w *Schedule) Tail() time.Duration { return slices.Max(w.o.Delays) + w.o.Slack + time.Second }

// readValue is what the drains record of a message: a firing (it has
// Nats-Scheduler) as history.Firing, a schedule not yet fired as its
// name, anything else as history.ForeignPrefix and its subject.
func (w *Schedule) readValue(subject string, h nats.Header, _ []byte, stored time.Time) string {
	name := subject[strings.LastIndexByte(subject, '.')+1:]
	switch {
	case strings.HasPrefix(subject, w.o.Queue.Stream+".fire.") && h.Get("Nats-Scheduler") != "":
		return history.Firing(name, stored.Sub(w.start))
	case strings.HasPrefix(subject, w.o.Queue.Stream+".sched."):
		return name
	}
	return history.ForeignPrefix + subject
}

func (w *Schedule) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	w.start = rec.Start()
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FTimeRules, Value: history.TimeRules{
		SlackMs: w.o.Slack.Milliseconds(), ToleranceMs: w.o.Tolerance.Milliseconds()}})
	err := runPinned(ctx, c, rec, w.o.Queue.Clients, w.o.Queue.Rate, w.o.Queue.Duration, w.client)
	select {
	case <-ctx.Done():
	case <-time.After(w.Tail()):
	}
	return err
}

func (w *Schedule) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	w.start = rec.Start()
	return w.Queue.Drain(ctx, c, rec)
}

func (w *Schedule) DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	w.start = rec.Start()
	return w.Queue.DrainNodes(ctx, c, rec)
}

func (w *Schedule) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := w.connectClient(node, fmt.Sprintf("jetstorm-schedule-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(id)))
	process, counter := id, 0
	repeating := w.o.Every > 0 && id < w.o.Repeating
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		e := history.ScheduleEntry{Op: fmt.Sprintf("%d-%d", process, counter)}
		counter++
		opts := []jetstream.PublishOpt{jetstream.WithScheduleTarget(w.o.Queue.Stream + ".fire." + e.Op)}
		if repeating {
			repeating = false
			e.Every = w.o.Every
			opts = append(opts, jetstream.WithScheduleEvery(e.Every))
		} else {
			// The header holds whole seconds: round up, so it is never
			// due before the delay.
			at := time.Now().Add(w.o.Delays[rng.IntN(len(w.o.Delays))]).Add(time.Second - 1).Truncate(time.Second)
			e.At = at.Sub(rec.Start())
			opts = append(opts, jetstream.WithScheduleAt(at))
		}
		at := w.nodeOf(nc, node)
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FScheduleAdd, Value: e.String(), Node: at})
		seq, err := w.publish(js, e.Op, opts)
		if err == nil && w.Double != nil && w.Double(e.Op) {
			_, err = w.publish(js, e.Op+"x", opts)
		}
		op := history.Op{Process: process, Type: Classify(err), F: history.FScheduleAdd, Value: e.String(), Node: at, Seq: seq}
		if err != nil {
			op.Err = err.Error()
		}
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Queue.Clients
			counter = 0
		}
	}
	return nil
}

func (w *Schedule) publish(js jetstream.JetStream, name string, opts []jetstream.PublishOpt) (uint64, error) {
	if js.Conn().IsReconnecting() {
		return 0, errNotSent
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	ack, err := js.Publish(ctx, w.o.Queue.Stream+".sched."+name, []byte(name), opts...)
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}
