package checker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"jetstorm/history"
)

// Pinned checks the pinned workload's priority group (a durable whose
// FConsumer op has Priority pinned) from its deliveries, each stamped by
// the server with the group's current pin id (Nats-Pin-Id), the confirmed
// double acks and the publishes:
//
//   - two-pinned: the current pin at consumer sequence n is the pin whose
//     first delivery has the highest consumer sequence at or below n;
//     every delivery must carry it, and one pin id belongs to one member.
//     Consumer sequences are the server's order of sending, so bytes a link
//     proxy held during a cut and delivered after the heal (old deliveries
//     arriving late, at a lower consumer sequence than the new pin's
//     first) are not miscounted.
//   - unpinned: a delivery without a pin id.
//   - late takeover: at each pin change (old pin P to new pin Q, in
//     consumer sequence order), the takeover is timed from the old pin's
//     last delivery received before Q's first one (or, if that delivery
//     said nothing was pending, from the first acked publish after it) to
//     Q's first delivery; longer than pinned_ttl + pull_expiry + slack is
//     late. With no evidence that a message was pending before Q's first
//     delivery, the takeover is reported and not judged.
//   - redelivered after a confirmed ack: a message delivered again with a
//     consumer sequence above the one read after its double ack was
//     confirmed (as the consumer check judges it), reported with the
//     members and pins on both sides.
//
// A priority overflow group is skipped here (the consumer checks judge
// it); a history without any delivery is unknown.
//
// Pinned is a Checker: use a new &Pinned{} per history.
type Pinned struct {
	cfg   *history.ConsumerConfig
	dels  []pinDelivery
	acks  map[int]history.Ack // open acks by process
	done  []pinAck            // confirmed double acks
	pubOK []time.Duration     // ok publishes' completion times, in order
	nodes map[int]string      // member process -> its node
	bad   badOps
}

type pinDelivery struct {
	idx     int64
	t       time.Duration
	process int
	d       history.Delivery
}

type pinAck struct {
	k       history.Ack
	process int
	t       time.Duration
}

func (*Pinned) Name() string { return "pinned" }

// Observe implements Checker.
func (c *Pinned) Observe(op history.Op) {
	switch op.F {
	case history.FConsumer:
		if k, ok := decodeAs[history.ConsumerConfig](op); ok && k.Priority != "" && c.cfg == nil {
			c.cfg = &k
		}
	case history.FDeliver:
		d, ok := decodeAs[history.Delivery](op)
		if !ok || op.Type != history.OK || d.ConsumerSeq == 0 {
			c.bad.add(op, "not a delivery with a consumer sequence")
			return
		}
		if c.nodes == nil {
			c.nodes = map[int]string{}
		}
		if _, ok := c.nodes[op.Process]; !ok {
			c.nodes[op.Process] = op.Node
		}
		c.dels = append(c.dels, pinDelivery{op.Index, op.Time, op.Process, d})
	case history.FAck:
		k, ok := decodeAs[history.Ack](op)
		if !ok {
			c.bad.add(op, "not an Ack")
			return
		}
		if c.acks == nil {
			c.acks = map[int]history.Ack{}
		}
		if op.Type == history.Invoke {
			c.acks[op.Process] = k
			return
		}
		inv, ok := c.acks[op.Process]
		if !ok {
			c.bad.add(op, "ack completion without an invoke")
			return
		}
		delete(c.acks, op.Process)
		inv.DeliveredAfter = k.DeliveredAfter
		if op.Type == history.OK && inv.Double && inv.Kind == history.AckAck {
			c.done = append(c.done, pinAck{inv, op.Process, op.Time})
		}
	case history.FPublish:
		if op.Type == history.OK {
			c.pubOK = append(c.pubOK, op.Time)
		}
	}
}

// Result implements Checker.
func (c *Pinned) Result(ctx context.Context) Result {
	return judge(ctx, "pinned", c.stats, pinnedVerdict)
}

// PinnedStats are the pinned check's figures (results.json "pinned").
type PinnedStats struct {
	Priority     string `json:"priority"`
	Group        string `json:"group,omitempty"`
	Consumer     string `json:"consumer,omitempty"`
	PinnedTTLMs  int64  `json:"pinned_ttl_ms"`
	PullExpiryMs int64  `json:"pull_expiry_ms"`
	SlackMs      int64  `json:"slack_ms"`
	// BoundMs is what a takeover may take: pinned_ttl + pull_expiry + slack.
	BoundMs    int64 `json:"bound_ms"`
	Deliveries int   `json:"deliveries"`
	// Members by "<process>@<node>": deliveries and pins held.
	Members map[string]PinMember `json:"members"`
	Pins    int                  `json:"pins"` // distinct pin ids
	// Changes are the pin changes in consumer sequence order.
	Changes           []PinChange `json:"changes,omitempty"`
	TakeoversJudged   int         `json:"takeovers_judged"`
	TakeoversUnjudged int         `json:"takeovers_unjudged"`
	TakeoverMaxMs     int64       `json:"takeover_max_ms"`
	ConfirmedAcks     int         `json:"confirmed_acks"`
	// The anomalies.
	TwoPinned           int      `json:"two_pinned"`
	Unpinned            int      `json:"unpinned"`
	LateTakeovers       int      `json:"late_takeovers"`
	RedeliveredAfterAck int      `json:"redelivered_after_ack"`
	Examples            []string `json:"examples,omitempty"`
	Malformed           int      `json:"malformed,omitempty"`
	MalformedExamples   []string `json:"malformed_examples,omitempty"`
}

// PinMember is one member's part.
type PinMember struct {
	Deliveries int `json:"deliveries"`
	Pins       int `json:"pins"`
}

// PinChange is one change of the group's pin.
type PinChange struct {
	AtMs        int64  `json:"at_ms"` // the new pin's first delivery, on the run's clock
	ConsumerSeq uint64 `json:"consumer_seq"`
	From        string `json:"from"`
	To          string `json:"to"`
	FromPin     string `json:"from_pin"`
	ToPin       string `json:"to_pin"`
	// TakeoverMs is the takeover's time (see Pinned); -1: not judged.
	TakeoverMs int64 `json:"takeover_ms"`
	Late       bool  `json:"late,omitempty"`
}

// AddTo sets the pinned section.
func (s PinnedStats) AddTo(out *Sections) { out.Pinned = &s }

// pinInfo is one pin id's deliveries.
type pinInfo struct {
	id      string
	first   int // index into the deliveries by consumer sequence
	process int
}

func (c *Pinned) member(p int) string { return fmt.Sprintf("%d@%s", p, c.nodes[p]) }

func (c *Pinned) stats() PinnedStats {
	s := PinnedStats{Members: map[string]PinMember{}, Malformed: c.bad.n, MalformedExamples: c.bad.ex}
	if c.cfg == nil {
		return s
	}
	k := c.cfg
	s.Priority, s.Group, s.Consumer = k.Priority, k.Group, k.Name
	s.PinnedTTLMs, s.PullExpiryMs, s.SlackMs = k.PinnedTTLMs, k.PullExpiryMs, k.TakeoverSlackMs
	s.BoundMs = k.PinnedTTLMs + k.PullExpiryMs + k.TakeoverSlackMs
	note := noteTo(&s.Examples)
	// The group's deliveries, in the server's order of sending.
	var dels []pinDelivery
	for _, d := range c.dels {
		if d.d.Consumer == k.Name {
			dels = append(dels, d)
		}
	}
	sort.SliceStable(dels, func(i, j int) bool { return dels[i].d.ConsumerSeq < dels[j].d.ConsumerSeq })
	s.Deliveries = len(dels)
	for _, d := range dels {
		m := s.Members[c.member(d.process)]
		m.Deliveries++
		s.Members[c.member(d.process)] = m
	}
	if k.Priority != "pinned" {
		return s
	}
	pins := map[string]*pinInfo{}
	var order []*pinInfo // by first consumer sequence
	for i, d := range dels {
		id := d.d.PinID
		if id == "" {
			s.Unpinned++
			note("member %s received consumer seq %d (stream seq %d) at %s without a pin id (UNPINNED)", c.member(d.process), d.d.ConsumerSeq, d.d.StreamSeq, d.t)
			continue
		}
		p := pins[id]
		if p == nil {
			p = &pinInfo{id: id, first: i, process: d.process}
			pins[id] = p
			order = append(order, p)
			m := s.Members[c.member(d.process)]
			m.Pins++
			s.Members[c.member(d.process)] = m
		}
		if p.process != d.process {
			s.TwoPinned++
			note("pin %s delivered to member %s (consumer seq %d) and to member %s (TWO PINNED)", id, c.member(p.process), d.d.ConsumerSeq, c.member(d.process))
			continue
		}
		// Walking in consumer sequence order, the current pin is the last
		// one to start.
		if cur := order[len(order)-1]; cur != p {
			s.TwoPinned++
			note("member %s received consumer seq %d under pin %s after member %s's pin %s took over at consumer seq %d (TWO PINNED)",
				c.member(d.process), d.d.ConsumerSeq, id, c.member(cur.process), cur.id, dels[cur.first].d.ConsumerSeq)
		}
	}
	s.Pins = len(order)
	bound := time.Duration(s.BoundMs) * time.Millisecond
	for j := 1; j < len(order); j++ {
		s.Changes = append(s.Changes, c.change(dels, order[j-1], order[j], bound, &s, note))
	}
	c.redeliveries(dels, &s, note)
	return s
}

// change times the takeover from pin p to pin q.
func (c *Pinned) change(dels []pinDelivery, p, q *pinInfo, bound time.Duration, s *PinnedStats, note func(string, ...any)) PinChange {
	qd := dels[q.first]
	ch := PinChange{AtMs: qd.t.Milliseconds(), ConsumerSeq: qd.d.ConsumerSeq, From: c.member(p.process), To: c.member(q.process),
		FromPin: p.id, ToPin: q.id, TakeoverMs: -1}
	// The old pin's last delivery received before the new pin's first:
	// later ones are bytes held during a cut.
	var last *pinDelivery
	for i := range dels {
		d := &dels[i]
		if d.d.PinID == p.id && d.idx < qd.idx && (last == nil || d.t > last.t) {
			last = d
		}
	}
	if last == nil {
		s.TakeoversUnjudged++
		return ch
	}
	start := last.t
	if last.d.NumPending == 0 {
		// Nothing was pending: the clock starts with the next acked
		// publish, if one came before the new pin's first delivery.
		i, _ := slices.BinarySearch(c.pubOK, last.t+1)
		if i == len(c.pubOK) || c.pubOK[i] > qd.t {
			s.TakeoversUnjudged++
			return ch
		}
		start = c.pubOK[i]
	}
	took := qd.t - start
	ch.TakeoverMs = took.Milliseconds()
	s.TakeoversJudged++
	s.TakeoverMaxMs = max(s.TakeoverMaxMs, ch.TakeoverMs)
	if took > bound {
		ch.Late = true
		s.LateTakeovers++
		note("member %s took over from member %s %s after messages were pending at %s (pin %s, consumer seq %d), more than pinned_ttl + pull_expiry + slack = %s (LATE TAKEOVER)",
			ch.To, ch.From, took, start, q.id, qd.d.ConsumerSeq, bound)
	}
	return ch
}

// redeliveries finds deliveries of a message with a consumer sequence
// above the delivered sequence read after its confirmed double ack.
func (c *Pinned) redeliveries(dels []pinDelivery, s *PinnedStats, note func(string, ...any)) {
	bySeq := map[uint64][]int{}
	byCseq := map[uint64]int{}
	for i, d := range dels {
		bySeq[d.d.StreamSeq] = append(bySeq[d.d.StreamSeq], i)
		byCseq[d.d.ConsumerSeq] = i
	}
	counted := map[int]bool{}
	for _, a := range c.done {
		if a.k.Consumer != c.cfg.Name {
			continue
		}
		s.ConfirmedAcks++
		// A delivered sequence not read, or below the acked delivery's
		// own (read from a stale leader), bounds nothing.
		if a.k.DeliveredAfter == 0 || a.k.DeliveredAfter < a.k.ConsumerSeq {
			continue
		}
		fromPin := ""
		if i, ok := byCseq[a.k.ConsumerSeq]; ok {
			fromPin = dels[i].d.PinID
		}
		for _, i := range bySeq[a.k.StreamSeq] {
			d := dels[i]
			if d.d.ConsumerSeq <= a.k.DeliveredAfter || counted[i] {
				continue
			}
			counted[i] = true
			s.RedeliveredAfterAck++
			note("stream seq %d, acked by member %s under pin %s (confirmed at %s, delivered consumer seq then %d), was delivered again to member %s under pin %s at consumer seq %d (REDELIVERED AFTER ACK)",
				a.k.StreamSeq, c.member(a.process), fromPin, a.t, a.k.DeliveredAfter, c.member(d.process), d.d.PinID, d.d.ConsumerSeq)
		}
	}
}

func pinnedVerdict(s PinnedStats) (Verdict, string) {
	if s.Priority == "" {
		return Skipped, "no priority group in the history"
	}
	summary := fmt.Sprintf("%d deliveries to %d members", s.Deliveries, len(s.Members))
	if s.Priority != "pinned" {
		return Skipped, fmt.Sprintf("priority %s: judged by the consumer checks (%s)", s.Priority, summary)
	}
	summary += fmt.Sprintf(" under %d pins; %d pin changes, %d takeovers timed (slowest %d ms, bound %d ms), %d not timed (nothing shown pending); %d confirmed acks",
		s.Pins, len(s.Changes), s.TakeoversJudged, s.TakeoverMaxMs, s.BoundMs, s.TakeoversUnjudged, s.ConfirmedAcks)
	var p problems
	p.add(s.TwoPinned, "deliveries under a superseded or shared pin (TWO PINNED)")
	p.add(s.Unpinned, "deliveries without a pin id (UNPINNED)")
	p.add(s.LateTakeovers, "LATE TAKEOVERS (over %d ms)", s.BoundMs)
	p.add(s.RedeliveredAfterAck, "deliveries after a confirmed ack (REDELIVERED AFTER ACK)")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Examples), summary); ok {
		return v, msg
	}
	if s.Deliveries == 0 {
		return Unknown, "no deliveries: nothing judged"
	}
	return Valid, summary
}
