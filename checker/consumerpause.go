package checker

// Deliveries while a consumer is paused (the pause-consumer fault): the
// server must deliver nothing between PauseConsumer and ResumeConsumer,
// across leader changes.

import (
	"time"

	"jetstorm/history"
)

// pauseSlack bounds the timing doubt at the end of a pause: a sample
// saying "paused" may show the state this long before it was recorded.
// The start needs none: it is judged by consumer sequence, because a
// delivery can wait in a client's buffer (a push client's, or a fetched
// batch) for seconds after the server sent it.
const pauseSlack = 2 * time.Second

// maxPausedDeliveries bounds what one pause keeps in memory (a server that
// ignores a pause delivers at the publish rate).
const maxPausedDeliveries = 10_000

// pauseWatch is one pause of a consumer, from the fault's start (recorded
// once the server confirmed the pause) to its end. The first sample that
// says paused gives the consumer sequence the server had sent up to then
// (firstCseq); a delivery with a higher one, recorded before a later
// sample still said paused (minus the slack), was sent while paused.
type pauseWatch struct {
	sampled    bool // a paused sample with the delivered consumer sequence
	firstCseq  uint64
	lastPaused time.Duration
	delivered  []pausedDelivery
}

type pausedDelivery struct {
	t         time.Duration
	v         string
	seq, cseq uint64
}

// pauseFault is the consumer a pause-consumer fault op names, or nil.
func (a *consumerAnalysis) pauseFault(op history.Op) *consumer {
	m, ok := op.Value.(map[string]any)
	if !ok || m["kind"] != "pause-consumer" {
		return nil
	}
	name, _ := m["consumer"].(string)
	return a.cons[name]
}

// pauseEvent follows a pause-consumer fault: its start opens the watch,
// its end judges it.
func (a *consumerAnalysis) pauseEvent(op history.Op) {
	c := a.pauseFault(op)
	if c == nil {
		return
	}
	c.endPause()
	if op.Type == history.Invoke {
		c.pause = &pauseWatch{}
	}
}

// pausedDelivery keeps a delivery made during a pause.
func (c *consumer) pausedDelivery(t time.Duration, d history.Delivery) {
	if p := c.pause; p != nil && len(p.delivered) < maxPausedDeliveries {
		p.delivered = append(p.delivered, pausedDelivery{t: t, v: d.Value, seq: d.StreamSeq, cseq: d.ConsumerSeq})
	}
}

// pausedSample notes a sample that says the consumer is paused. One that
// does not record the delivered consumer sequence (0) cannot start the
// judgement.
func (c *consumer) pausedSample(t time.Duration, st history.ConsumerState) {
	p := c.pause
	if p == nil || !st.Paused || st.Final {
		return
	}
	if !p.sampled && st.DeliveredConsumer > 0 {
		p.sampled, p.firstCseq = true, st.DeliveredConsumer
	}
	if p.sampled {
		p.lastPaused = t
	}
}

// endPause judges the watch.
func (c *consumer) endPause() {
	p := c.pause
	if p == nil {
		return
	}
	c.pause = nil
	if !p.sampled {
		return
	}
	for _, d := range p.delivered {
		if d.cseq > p.firstCseq && d.t < p.lastPaused-pauseSlack {
			addEx(&c.s.DeliveredWhilePaused, &c.s.DeliveredWhilePausedExamples,
				"%s (seq %d) delivered at %.1fs with consumer seq %d: paused at consumer seq %d, still paused at %.1fs",
				d.v, d.seq, d.t.Seconds(), d.cseq, p.firstCseq, p.lastPaused.Seconds())
		}
	}
}
