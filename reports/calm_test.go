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

// The per-second latency plot keeps each latency to 7 significant bits:
// at most 1.6 % below it, never above.
func TestLatencyBucket(t *testing.T) {
	for _, c := range [][2]uint32{{0, 0}, {1, 1}, {127, 127}, {128, 128}, {129, 128}, {255, 254}, {256, 256}, {1001, 1000}, {1015, 1008}, {1 << 31, 1 << 31}, {1<<32 - 1, 0xFE000000}} {
		if got := latencyBucket(c[0]); got != c[1] || float64(c[0]-got) > 0.016*float64(c[0]) {
			t.Errorf("latencyBucket(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}
