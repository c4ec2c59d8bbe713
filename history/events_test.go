package history

import (
	"testing"
	"time"
)

// Overlapping faults (one process each) pair by process: the fault that
// started later and ended first gets its own end.
func TestFaultWindowsOverlap(t *testing.T) {
	s := time.Second
	f := func(p int, typ OpType, at time.Duration, kind string) Op {
		return Op{Process: p, Type: typ, F: FFault, Time: at, Value: map[string]any{"kind": kind}}
	}
	h := []Op{
		f(-2, Invoke, 5*s, "partition"),
		f(-3, Invoke, 10*s, "powerloss"),
		f(-3, OK, 12*s, "powerloss"),
		f(-2, OK, 30*s, "partition"),
	}
	ws, _ := FaultWindows(h, 60*s)
	if len(ws) != 2 || ws[0].End != 30*s || ws[1].End != 12*s {
		t.Fatalf("windows %+v: want partition 5s-30s, powerloss 10s-12s", ws)
	}
	// Older histories: one process for every fault, one after another.
	h = []Op{f(-2, Invoke, 1*s, "kill"), f(-2, OK, 2*s, "kill"),
		f(-2, Invoke, 3*s, "kill"), f(-2, OK, 4*s, "kill")}
	if ws, _ := FaultWindows(h, 60*s); len(ws) != 2 || ws[0].End != 2*s || ws[1].End != 4*s {
		t.Fatalf("sequential windows %+v", ws)
	}
}

func TestFaultWindows(t *testing.T) {
	v := map[string]any{"kind": "kill", "nodes": []any{"n1"}}
	ops := []Op{
		{Process: -2, Type: Fail, F: FFault, Value: v, Time: time.Second, Err: "no leader"},
		{Process: -2, Type: Invoke, F: FFault, Value: v, Time: 2 * time.Second},
		{Process: -2, Type: OK, F: FFault, Value: v, Time: 3 * time.Second},
		{Process: -2, Type: Invoke, F: FFault, Value: map[string]any{"kind": "pause", "nodes": []any{"n2", "n3"}, "for": "1s"}, Time: 4 * time.Second},
	}
	wins, failed := FaultWindows(ops, 9*time.Second)
	if len(failed) != 1 || failed[0].Err != "no leader" {
		t.Errorf("failed %+v", failed)
	}
	if len(wins) != 2 || wins[0].End != 3*time.Second || wins[0].Status != "healed" ||
		wins[1].End != 9*time.Second || wins[1].Status != "not healed" || wins[1].Label() != "pause n2,n3" || wins[1].Params != "for=1s" {
		t.Errorf("windows %+v", wins)
	}
}
