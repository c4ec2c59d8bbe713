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
	all, _ := PublishLatency(h)
	calm := CalmPublishLatency(h)
	if all.Count != 6 || all.Max < 3999 {
		t.Fatalf("whole run: %+v", all)
	}
	if calm.Count != 3 || calm.Max > 4.1 {
		t.Fatalf("calm: %+v, want the 3 publishes outside the fault and its margin", calm)
	}
	// A fault that never ended covers the rest of the run.
	h = append(h, history.Op{Process: -3, Type: history.Invoke, F: history.FFault, Time: 30 * s})
	pub(7, 40*s, time.Millisecond)
	if c := CalmPublishLatency(h); c.Count != 3 {
		t.Fatalf("calm with an open fault: %d publishes, want 3", c.Count)
	}
}

// Overlapping faults (one process each) pair by process: the fault that
// started later and ended first gets its own end.
func TestFaultWindowsOverlap(t *testing.T) {
	s := time.Second
	f := func(p int, typ history.OpType, at time.Duration, kind string) history.Op {
		return history.Op{Process: p, Type: typ, F: history.FFault, Time: at, Value: map[string]any{"kind": kind}}
	}
	h := []history.Op{
		f(-2, history.Invoke, 5*s, "partition"),
		f(-3, history.Invoke, 10*s, "powerloss"),
		f(-3, history.OK, 12*s, "powerloss"),
		f(-2, history.OK, 30*s, "partition"),
	}
	ws, _ := faultWindows(h, 60*s)
	if len(ws) != 2 || ws[0].End != 30*s || ws[1].End != 12*s {
		t.Fatalf("windows %+v: want partition 5s-30s, powerloss 10s-12s", ws)
	}
	// Older histories: one process for every fault, one after another.
	h = []history.Op{f(-2, history.Invoke, 1*s, "kill"), f(-2, history.OK, 2*s, "kill"),
		f(-2, history.Invoke, 3*s, "kill"), f(-2, history.OK, 4*s, "kill")}
	if ws, _ := faultWindows(h, 60*s); len(ws) != 2 || ws[0].End != 2*s || ws[1].End != 4*s {
		t.Fatalf("sequential windows %+v", ws)
	}
}
