package workloads

import (
	"time"

	"jetstorm/stats"
)

// A backlog bench (OMB's backlog test, with JetStream's own lag numbers):
// the consumers are attached but do not read until the publishers' acked
// payload reaches the backlog size; then they start, and the drain is
// timed until every consumer has caught up: its num_pending (sampled from
// the messages it receives) at most a tenth of a second of publishing
// (100 messages at least).
type backlogWatch struct {
	r         *benchRun
	startCons func() error
	stopCh    chan struct{}
	doneCh    chan struct{}

	// Set by begin, read after stop.
	began bool
	built bool          // the size was reached (not the end of the schedule)
	at    time.Duration // the drain's start, from the run's start
	acked int64         // acks when it began
	err   error
}

func (r *benchRun) watchBacklog(startCons func() error) *backlogWatch {
	w := &backlogWatch{r: r, startCons: startCons, stopCh: make(chan struct{}), doneCh: make(chan struct{})}
	r.catchUp = max(100, int64(r.b.o.Steps[0].Rate/10))
	go func() {
		defer close(w.doneCh)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stopCh:
				return
			case <-t.C:
				if r.acks.Load()*int64(r.b.o.Payload) >= r.b.o.Backlog.Bytes {
					w.built = true
					w.begin()
					return
				}
			}
		}
	}()
	return w
}

// begin starts the drain: the consumers read, the publishers stop if told.
func (w *backlogWatch) begin() {
	w.began = true
	w.at = time.Since(w.r.start)
	w.acked = w.r.acks.Load()
	w.r.drainStart.Store(int64(w.at) + 1)
	w.err = w.startCons()
	if w.r.stopPub != nil {
		close(w.r.stopPub)
	}
}

// stop ends the watch (the schedule is over); if the backlog was never
// built the drain starts now with what there is.
func (w *backlogWatch) stop() error {
	close(w.stopCh)
	<-w.doneCh
	if !w.began {
		w.begin()
	}
	return w.err
}

// caughtUp notes, for a consumer's lag sample n taken at now, whether it
// has caught up (the first time only); c.mu is held.
func (c *benchCons) caughtUp(now time.Duration, n int64) {
	if c.caught == 0 && c.r.drainStart.Load() != 0 && n <= c.r.catchUp {
		c.caught = now
		c.caughtCount = c.count.Load()
	}
}

func (w *backlogWatch) result(cons []*benchCons) *stats.BacklogResult {
	o := w.r.b.o
	res := &stats.BacklogResult{TargetBytes: o.Backlog.Bytes, Built: w.built, Msgs: w.acked, Bytes: w.acked * int64(o.Payload),
		BuildTime: w.at, StopPublishing: o.Backlog.StopPublishing, CatchUpLag: w.r.catchUp, CaughtUp: true}
	end := time.Since(w.r.start)
	var read int64
	var last time.Duration
	for _, c := range cons {
		c.mu.Lock()
		if c.caught == 0 {
			res.CaughtUp = false
			read += c.count.Load()
		} else {
			read += c.caughtCount
			last = max(last, c.caught)
		}
		c.mu.Unlock()
	}
	if res.CaughtUp {
		end = last
		res.CatchUp = last - w.at
	}
	if d := (end - w.at).Seconds(); d > 0 {
		res.DrainRate = float64(read) / d
	}
	return res
}
