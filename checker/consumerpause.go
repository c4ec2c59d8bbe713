package checker

// Deliveries while a consumer is paused (the pause-consumer fault): the
// server must deliver nothing between PauseConsumer and ResumeConsumer,
// across leader changes.

import (
	"time"

	"jetstorm/history"
)

// pauseSlack bounds the timing doubt at both ends of a pause: a delivery
// sent just before the pause was applied may be recorded this long after
// it, and a sample saying "paused" may show the state this long before it
// was recorded.
const pauseSlack = 2 * time.Second

// maxPausedDeliveries bounds what one pause keeps in memory (a server that
// ignores a pause delivers at the publish rate).
const maxPausedDeliveries = 10_000

// pauseWatch is one pause of a consumer, from the fault's start (recorded
// once the server confirmed the pause) to its end.
type pauseWatch struct {
	from       time.Duration
	lastPaused time.Duration // the last non-final sample saying paused; 0: none
	delivered  []pausedDelivery
}

type pausedDelivery struct {
	t   time.Duration
	v   string
	seq uint64
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
	switch op.Type {
	case history.Invoke:
		c.endPause()
		c.pause = &pauseWatch{from: op.Time}
	case history.OK, history.Info:
		c.endPause()
	}
}

// pausedDelivery keeps a delivery made well after the pause began.
func (c *consumer) pausedDelivery(t time.Duration, d history.Delivery) {
	if p := c.pause; p != nil && t > p.from+pauseSlack && len(p.delivered) < maxPausedDeliveries {
		p.delivered = append(p.delivered, pausedDelivery{t: t, v: d.Value, seq: d.StreamSeq})
	}
}

// pausedSample notes a sample that says the consumer is paused.
func (c *consumer) pausedSample(t time.Duration, st history.ConsumerState) {
	if p := c.pause; p != nil && st.Paused && !st.Final {
		p.lastPaused = t
	}
}

// endPause judges the watch: a delivery made after the pause began (plus
// the slack) and before a later sample still said paused (minus the slack)
// was made while paused.
func (c *consumer) endPause() {
	p := c.pause
	if p == nil {
		return
	}
	c.pause = nil
	for _, d := range p.delivered {
		if d.t < p.lastPaused-pauseSlack {
			addEx(&c.s.DeliveredWhilePaused, &c.s.DeliveredWhilePausedExamples,
				"%s (seq %d) delivered at %.1fs: paused from %.1fs, still paused at %.1fs",
				d.v, d.seq, d.t.Seconds(), p.from.Seconds(), p.lastPaused.Seconds())
		}
	}
}
