package checker

import (
	"fmt"
	"time"

	"jetstorm/history"
)

// Consumer checks the consume workload's durable consumers (issue 13), each
// against its own config (its FConsumer op), from its deliveries, acks and
// state samples, the publishes, the final drain and the dead letters:
//
//   - lost-to-consumer: a stored message (an acked publish, or one that a
//     delivery or the final drain read) that the consumer should see (its
//     filter matches the publish's Op.Subject; by_start_sequence: at or
//     after StartSeq; new: after CreatedAtSeq; by_start_time: published at
//     or after StartTime; interest retention: published after the consumer
//     was created) was never delivered to it. Proven only when it caught
//     up: a state sample (its own, not a lagging replica's) with nothing
//     pending and nothing awaiting an ack, taken after every publish had
//     completed; else the consumer is unknown. A lost message between two
//     delivered stream sequences is also a cursor skip, reported with the
//     gap.
//   - dead-lettered (counted): Term'd (ok), or delivered max_deliver times
//     and never acked; advisory-missing (counted): no dead-letter op for it.
//   - redelivered-after-ack: delivered again with a consumer sequence above
//     the one read after its double ack (ack or term) was confirmed.
//   - max-deliver exceeded: NumDelivered, or the count of deliveries of
//     one message, above max_deliver.
//   - retention: workqueue: a message whose double ack was confirmed is
//     read by the final drain after it (acked but not removed), or one no
//     consumer ever tried to ack or term, nor exhausted, is missing from a
//     complete drain (removed without ack); interest: one missing from a
//     complete drain that an interested consumer never tried to ack or
//     term, nor exhausted. Limits: nothing (a missing acked publish is the
//     queue check's lost write). Removal is judged only on a healed cluster.
//   - delivered-while-paused: a delivery during a pause-consumer fault
//     on it, after the pause began and before a later sample still said
//     paused (each with a slack: consumerpause.go).
//   - stall: after the last fault ended, a state sample (not a final
//     one) with messages pending taken more than StallAfter after the
//     consumer's last delivery (or the fault's end): reported with its
//     window, to the consumer's last sample or delivery; invalid, but not
//     a lost write. No sample is taken during a fault.
//   - delivered-outside: a delivery the consumer provably should not get
//     (outside: its filter does not match, a sequence below its first,
//     or a publish acked more than startTimeSlack before StartTime).
//   - unacked-dropped: delivered, never acked, Term'd nor exhausted, never
//     back, yet a caught-up sample after its last delivery showed nothing
//     awaiting an ack.
//
// Reported, not judged: late redeliveries (more than redeliverySlack past
// the nak, the nak's delay, or ack_wait; not timed across a fault, a
// restart or a pause), and each consumer's catch-up after each fault.
//
// Consumer is a Checker: use a new &Consumer{} per history.
type Consumer struct {
	// StallAfter is how long a consumer with pending messages may receive
	// nothing after the last heal; 0 means 30 s.
	StallAfter time.Duration
	a          consumerAnalysis
}

func (*Consumer) Name() string { return "consumer" }

// Observe implements Checker.
func (c *Consumer) Observe(op history.Op) {
	if c.a.msgIdx == nil {
		c.a.init(c.StallAfter)
	}
	c.a.observe(op)
}

// cmsg is what the history says about one published (or delivered, or
// read) value.
type cmsg struct {
	v       string
	seq     uint64        // stream sequence (publish ack, delivery or read); 0: unknown
	pubT    time.Duration // first publish invoke
	okT     time.Duration // first publish ok (out == outOK)
	pubIdx  int64
	readIdx int64 // last final-drain read of it; -1: never read
	readBy  string
	subj    int32 // index into subjects; -1: not recorded
	out     outcome
	pub     bool
	seen    bool // delivered to some consumer
}

func (m *cmsg) stored() bool { return m.out == outOK || m.readIdx >= 0 || m.seen }

// cm is one consumer's view of one message.
type cm struct {
	n          int32  // deliveries
	maxND      uint64 // highest NumDelivered
	maxCseq    uint64 // highest consumer sequence it was delivered with
	confirmedD uint64 // lowest DeliveredAfter of a confirmed double ack or term; 0: none
	ackedAt    int64  // op index of the first confirmed double ack; -1: none
	first      time.Duration
	lastIdx    int64         // op index of its last delivery
	due        time.Duration // when that delivery's redelivery is due; noDue: none is owed
	ackMaybe   bool          // an ack that did not fail: it may have been applied
	termMaybe  bool
	termOK     bool
}

// consumer is one durable consumer's state between ops.
type consumer struct {
	cfg     history.ConsumerConfig
	cfgIdx  int64
	s       ConsumerStats
	msgs    []cm     // by message index
	seqs    []uint64 // stream sequences delivered
	zeroIdx int64    // last caught-up sample; -1: none
	lat     []time.Duration
	adv     map[uint64]string // stream sequence -> kind of its dead-letter op (max_deliveries wins)
	match   map[int32]bool    // filter match by subject index
	// stall: the window starts at the last delivery or heal
	winStart, stallFrom time.Duration
	lastSeen            time.Duration // its last sample (not final) or delivery
	stallOpen           bool
	stallPending        uint64
	stalls              []StallWindow
	pause               *pauseWatch        // an open pause-consumer fault on it
	cseqs               map[uint64]cseqUse // consumer sequence -> its first delivery
	// redelivery timing is not judged across these (op indices; -1: none)
	restartIdx int64 // its last restart
	pausedTo   int64 // the sample that saw its last pause end; pausedNow: still paused

	catch []time.Duration // by a.wins: its catch-up after that fault; -1: never
}

func (c *consumer) at(i int) *cm {
	for len(c.msgs) <= i {
		c.msgs = append(c.msgs, cm{ackedAt: -1})
	}
	return &c.msgs[i]
}

// openAck is a consumer client's outstanding ack.
type openAck struct {
	ack history.Ack
	idx int64
}

// consumerAnalysis is the Consumer check's state between ops.
type consumerAnalysis struct {
	stallAfter time.Duration
	stallGiven bool // set on the checker: the history's stall_after does not apply
	cons       map[string]*consumer
	names      []string // in FConsumer order
	msgIdx     map[string]int
	seqIdx     map[uint64]int
	msgs       []cmsg
	subjIdx    map[string]int32
	subjects   []string
	pubOpen    map[int]int // process -> message of its outstanding publish
	acks       map[int]openAck
	lastPubIdx int64
	faults     int                   // faults (and heals) begun and not ended
	faultOps   []history.Op          // a few: paired into windows at the end
	faultEnd   int64                 // op index of the last fault end; -1: none
	wins       []history.FaultWindow // the faults that ended, for catch-up
	drained    bool
	unhealed   bool
	malformed  []string
	nMalformed int
	stranger   map[string]int // deliveries, acks and samples of consumers never configured
}

func (a *consumerAnalysis) init(stallAfter time.Duration) {
	a.stallGiven = stallAfter > 0
	if stallAfter <= 0 {
		stallAfter = 30 * time.Second
	}
	a.stallAfter = stallAfter
	a.cons, a.msgIdx, a.seqIdx, a.subjIdx = map[string]*consumer{}, map[string]int{}, map[uint64]int{}, map[string]int32{}
	a.pubOpen, a.acks, a.stranger = map[int]int{}, map[int]openAck{}, map[string]int{}
	a.lastPubIdx, a.faultEnd = -1, -1
}

func (a *consumerAnalysis) bad(format string, args ...any) {
	a.nMalformed++
	if len(a.malformed) < 10 {
		a.malformed = append(a.malformed, fmt.Sprintf(format, args...))
	}
}

func (a *consumerAnalysis) lookup(v string) int {
	i, ok := a.msgIdx[v]
	if !ok {
		i = len(a.msgs)
		a.msgIdx[v] = i
		a.msgs = append(a.msgs, cmsg{v: v, readIdx: -1, subj: -1})
	}
	return i
}

// found is the message of value v (or, when v is "", of stream sequence
// seq), and learns its sequence; -1 when neither names one.
func (a *consumerAnalysis) found(v string, seq uint64) int {
	if v == "" {
		if i, ok := a.seqIdx[seq]; ok && seq > 0 {
			return i
		}
		return -1
	}
	i := a.lookup(v)
	if seq > 0 {
		if a.msgs[i].seq == 0 {
			a.msgs[i].seq = seq
		}
		if _, ok := a.seqIdx[seq]; !ok {
			a.seqIdx[seq] = i
		}
	}
	return i
}

// consumer is the configured consumer named name, or nil (counted).
func (a *consumerAnalysis) consumer(name string) *consumer {
	c := a.cons[name]
	if c == nil {
		a.stranger[name]++
	}
	return c
}

// decodeAs reads op's Value as a T (a struct in memory, a map from JSON).
func decodeAs[T any](op history.Op) (T, bool) {
	switch v := op.Value.(type) {
	case T:
		return v, true
	case *T:
		if v != nil {
			return *v, true
		}
	}
	var t T
	if op.Value == nil {
		return t, false
	}
	return t, op.Decode(&t) == nil
}

func (a *consumerAnalysis) observe(op history.Op) {
	switch op.F {
	case history.FConsumer:
		a.config(op)
	case history.FPublish:
		a.publish(op)
	case history.FDeliver:
		a.deliver(op)
	case history.FAck:
		a.ack(op)
	case history.FConsumerState:
		a.sample(op)
	case history.FConsumerRestart:
		if c := a.consumer(op.ValueString()); c != nil {
			c.s.Restarts++
			c.restartIdx = op.Index
		}
	case history.FDeadLetter:
		d, ok := decodeAs[history.DeadLetter](op)
		if !ok || d.StreamSeq == 0 {
			a.bad("op %d: dead-letter %v is not a DeadLetter", op.Index, op.Value)
			return
		}
		if c := a.consumer(d.Consumer); c != nil && c.adv[d.StreamSeq] != advMaxDeliveries {
			c.adv[d.StreamSeq] = d.Kind
		}
	case history.FRead:
		if v, ok := op.Value.(string); ok && op.Type == history.OK {
			m := &a.msgs[a.found(v, op.Seq)]
			m.readIdx, m.readBy = op.Index, op.Node
		}
	case history.FDrain:
		if op.Type == history.OK {
			a.drained = true
		}
	case history.FRecover:
		// The final heal comes after the consumer clients stopped: it
		// ends no stall window (their samples end before it).
		a.unhealed = op.Type == history.Info
	case history.FFault:
		a.pauseEvent(op)
		a.faultOps = append(a.faultOps, op)
		if op.Type == history.Invoke {
			a.faults++
			return
		}
		a.faults = max(a.faults-1, 0)
		a.faultEnd = op.Index
		// Stalls count from the end of the last fault.
		for _, c := range a.cons {
			c.stalls, c.stallOpen, c.winStart = nil, false, op.Time
		}
	}
}

func (a *consumerAnalysis) config(op history.Op) {
	cfg, ok := decodeAs[history.ConsumerConfig](op)
	if !ok || cfg.Name == "" || op.Type != history.OK {
		a.bad("op %d: consumer %s %v is not a ConsumerConfig", op.Index, op.Type, op.Value)
		return
	}
	if old := a.cons[cfg.Name]; old != nil {
		if old.cfg != cfg {
			a.bad("op %d: consumer %s configured again, differently (op %d)", op.Index, cfg.Name, old.cfgIdx)
		}
		return
	}
	for _, n := range a.names {
		if r := a.cons[n].cfg.Retention; r != cfg.Retention {
			a.bad("op %d: consumer %s says retention %q, %s says %q", op.Index, cfg.Name, cfg.Retention, n, r)
		}
	}
	if !a.stallGiven && cfg.StallAfterMs > 0 {
		// The run's stall_after, recorded with each consumer before any
		// sample is judged.
		a.stallAfter = time.Duration(cfg.StallAfterMs) * time.Millisecond
	}
	a.cons[cfg.Name] = &consumer{cfg: cfg, cfgIdx: op.Index, zeroIdx: -1, winStart: op.Time,
		adv: map[uint64]string{}, cseqs: map[uint64]cseqUse{}, match: map[int32]bool{}, restartIdx: -1, pausedTo: -1}
	a.names = append(a.names, cfg.Name)
}

func (a *consumerAnalysis) publish(op history.Op) {
	a.lastPubIdx = op.Index
	if op.Type == history.Invoke {
		// A malformed publish is the queue check's to report.
		v, ok := op.Value.(string)
		if !ok {
			return
		}
		if p, busy := a.pubOpen[op.Process]; busy {
			a.msgs[p].out = max(a.msgs[p].out, outInfo)
		}
		i := a.lookup(v)
		m := &a.msgs[i]
		if !m.pub {
			m.pub, m.pubT, m.pubIdx = true, op.Time, op.Index
			if op.Subject != "" {
				s, ok := a.subjIdx[op.Subject]
				if !ok {
					s = int32(len(a.subjects))
					a.subjIdx[op.Subject] = s
					a.subjects = append(a.subjects, op.Subject)
				}
				m.subj = s
			}
		}
		a.pubOpen[op.Process] = i
		return
	}
	i, ok := a.pubOpen[op.Process]
	if !ok {
		return
	}
	delete(a.pubOpen, op.Process)
	o := outInfo
	switch op.Type {
	case history.OK:
		o = outOK
		if a.msgs[i].out != outOK {
			a.msgs[i].okT = op.Time
		}
		a.found(a.msgs[i].v, op.Seq)
	case history.Fail:
		o = outFail
	}
	a.msgs[i].out = max(a.msgs[i].out, o)
}

func (a *consumerAnalysis) deliver(op history.Op) {
	d, ok := decodeAs[history.Delivery](op)
	if !ok || op.Type != history.OK || d.Value == "" || d.StreamSeq == 0 {
		a.bad("op %d: deliver %s %v is not a Delivery", op.Index, op.Type, op.Value)
		return
	}
	c := a.consumer(d.Consumer)
	if c == nil {
		return
	}
	i := a.found(d.Value, d.StreamSeq)
	m := &a.msgs[i]
	m.seen = true
	x := c.at(i)
	x.n++
	c.s.Delivered++
	if x.n == 1 {
		x.first = op.Time
		if m.pub {
			c.lat = append(c.lat, op.Time-m.pubT)
		}
	} else {
		c.s.Redelivered++
		a.redelivered(c, m, x, op.Time)
	}
	x.lastIdx, x.due = op.Index, op.Time+c.ackWait()
	if d.NumDelivered >= x.maxND {
		x.maxND = d.NumDelivered
	}
	x.maxCseq = max(x.maxCseq, d.ConsumerSeq)
	c.seqs = append(c.seqs, d.StreamSeq)
	c.pausedDelivery(op.Time, d)
	c.noteCseq(d, op.Index)
	if c.stallOpen {
		c.closeStall(op.Time)
	}
	c.winStart, c.lastSeen = op.Time, op.Time
}

func (c *consumer) closeStall(t time.Duration) {
	c.stallOpen = false
	c.stalls = append(c.stalls, StallWindow{FromS: c.stallFrom.Seconds(), ToS: t.Seconds(),
		Pending: c.stallPending})
}
