package reports

import (
	"testing"
	"time"

	"jetstorm/history"
)

// Publishes that overlap a fault, or end within CalmMargin after it, are
// not calm; the rest are. The outage shows in the whole-run latency only.
func TestCalmPublishLatency(t *testing.T) {
	s := time.Second
	var h []history.Op
	pub := func(p int, at, took time.Duration) {
		h = append(h, history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Time: at},
			history.Op{Process: p, Type: history.OK, F: history.FPublish, Time: at + took})
	}
	pub(1, 1*s, 2*time.Millisecond) // calm
	pub(2, 2*s, 3*time.Millisecond) // calm
	h = append(h, history.Op{Process: -2, Type: history.Invoke, F: history.FFault, Time: 10 * s})
	pub(3, 9*s, 4*s) // started before the fault, acked during it
	pub(4, 11*s, 3*s)
	h = append(h, history.Op{Process: -2, Type: history.OK, F: history.FFault, Time: 15 * s})
	pub(5, 17*s, 100*time.Millisecond) // within the margin after the heal
	pub(6, 21*s, 4*time.Millisecond)   // calm again
	all, _ := DigestOf(h).PublishLatency()
	calm := DigestOf(h).CalmPublishLatency()
	if all.Count != 6 || all.Max < 3999 {
		t.Fatalf("whole run: %+v", all)
	}
	if calm.Count != 3 || calm.Max > 4.1 {
		t.Fatalf("calm: %+v, want the 3 publishes outside the fault and its margin", calm)
	}
	// A fault that never ended covers the rest of the run.
	h = append(h, history.Op{Process: -3, Type: history.Invoke, F: history.FFault, Time: 30 * s})
	pub(7, 40*s, time.Millisecond)
	if c := DigestOf(h).CalmPublishLatency(); c.Count != 3 {
		t.Fatalf("calm with an open fault: %d publishes, want 3", c.Count)
	}
}
