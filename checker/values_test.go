package checker

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"jetstorm/history"
)

// Values shared by several views take each op once, whichever view shows
// it first; a view of its own sees the same.
func TestValuesViews(t *testing.T) {
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: history.FPublish, Value: "0-0"},
		{Process: 1, Type: history.Invoke, F: history.FPublish, Value: "1-0"},
		{Process: 0, Type: history.OK, F: history.FPublish, Value: "0-0"},
		{Process: 1, Type: history.Info, F: history.FPublish, Value: "1-0"},
		{Process: 0, Type: history.Invoke, F: history.FPublish, Value: "0-1"},
		{Process: 0, Type: history.Fail, F: history.FPublish, Value: "0-1"},
		{Process: 3, Type: history.Invoke, F: history.FPublish, Value: "0-0"}, // a retry by another process
		{Process: 3, Type: history.OK, F: history.FPublish, Value: "0-0"},
		{Process: -1, Type: history.OK, F: history.FRead, Value: "0-0", Seq: 2},
		{Process: -1, Type: history.OK, F: history.FRead, Value: "x", Seq: 1},
		{Process: -1, Type: history.OK, F: history.FRead, Value: "0-0", Seq: 3},
		{Process: -1, Type: history.OK, F: history.FNodeRead, Node: "n1", Value: "1-0", Seq: 1},
		{Process: -1, Type: history.Fail, F: history.FNodeDrain, Node: "n2"},
		{Process: 4, Type: history.OK, F: history.FPublish, Value: "9-9"}, // no invoke
	}
	shared := &Values{}
	a, b := View{V: shared}, View{V: shared}
	var own View
	for i, op := range ops {
		if i%2 == 0 {
			a.Observe(op)
			b.Observe(op)
		} else {
			b.Observe(op)
			a.Observe(op)
		}
		own.Observe(op)
	}
	for name, v := range map[string]*Values{"shared": shared, "own": own.V} {
		v.Finish()
		v.Finish()
		if v.Attempted != 4 || v.Acked != 2 || v.Failed != 1 || v.Indeterminate != 1 || v.Read != 2 || v.Duplicated != 1 || v.BadCount != 1 {
			t.Errorf("%s: counts %+v", name, *v)
		}
		id0, _ := v.IDs.Lookup("0-0")
		id1, _ := v.IDs.Lookup("1-0")
		x, _ := v.IDs.Lookup("x")
		if !v.OK(id0) || v.OK(id1) || v.Outcome(id0) != outOK || v.Reads(id0) != 2 || v.Seq(id0) != 2 || v.Outcome(id1) != outInfo || v.Reads(id1) != 0 {
			t.Errorf("%s: 0-0 %d/%d/%d, 1-0 %d/%d", name, v.Outcome(id0), v.Reads(id0), v.Seq(id0), v.Outcome(id1), v.Reads(id1))
		}
		if v.Published(x) || len(v.ReadEarly()) != 1 || v.ReadEarly()[0] != x {
			t.Errorf("%s: x published %v, read early %v", name, v.Published(x), v.ReadEarly())
		}
		var order []int32
		for id := range v.PubOrder {
			order = append(order, id)
		}
		pos := v.PubPosition()
		if len(order) != 3 || pos(order[2]) != 2 || v.Processes() != 2 || v.Process(1) != 1 {
			t.Errorf("%s: publish order %v, processes %d", name, order, v.Processes())
		}
		var p0 []int32
		for id := range v.ProcessValues(0) {
			p0 = append(p0, id)
		}
		if len(p0) != 2 || p0[0] != id0 {
			t.Errorf("%s: process 0's values %v", name, p0)
		}
		if ns := v.Nodes(); len(ns) != 2 || !ns[0].OK || !ns[0].Has.Has(id1) || ns[1].OK || ns[1].Complete {
			t.Errorf("%s: nodes %+v", name, ns)
		}
	}
}

// Publish order is not id order when a value was read before its first
// publish (ids follow first sight): PubOrder and PubPosition follow the
// publishes, and a process's values are its own, consecutive or not.
func TestValuesPublishOrder(t *testing.T) {
	var w View
	pub := func(p int, v string) {
		w.Observe(history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Value: v})
		w.Observe(history.Op{Process: p, Type: history.OK, F: history.FPublish, Value: v})
	}
	for _, v := range []string{"5-5", "5-6", "x"} { // ids 0, 1, 2: read first
		w.Observe(history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: v, Seq: 9})
	}
	pub(0, "0-0") // id 3
	pub(0, "5-6") // id 1
	pub(1, "5-5") // id 0
	pub(0, "0-7") // id 4
	pub(0, "0-8") // id 5
	pub(1, "x")   // id 2
	pub(2, "9-5") // id 6
	pub(2, "9-4") // id 7: the key below, not above
	v := w.V
	var order []int32
	for id := range v.PubOrder {
		order = append(order, id)
	}
	want := []int32{3, 1, 0, 4, 5, 2, 6, 7}
	if !slices.Equal(order, want) {
		t.Fatalf("publish order %v, want %v", order, want)
	}
	pos := v.PubPosition()
	for i, id := range want {
		if pos(id) != i {
			t.Errorf("position of %d: %d, want %d", id, pos(id), i)
		}
	}
	for p, want := range [][]int32{{3, 1, 4, 5}, {0, 2}, {6, 7}} {
		var got []int32
		for id := range v.ProcessValues(p) {
			got = append(got, id)
		}
		if !slices.Equal(got, want) {
			t.Errorf("process %d's values %v, want %v", v.Process(p), got, want)
		}
	}
}

// Each value's start tick comes back with it, in process order, however
// the ticks go: runs of one, long runs, back in time, far apart.
func TestValuesTicks(t *testing.T) {
	v := &Values{Tick: func(d time.Duration) uint32 { return uint32(d) }}
	w := View{V: v}
	ticks := []uint32{5, 5, 5, 6, 4, 4, 1 << 30, 0, 7}
	for range 300 {
		ticks = append(ticks, 9)
	}
	ticks = append(ticks, 8)
	for c, tick := range ticks {
		val := fmt.Sprintf("0-%d", c)
		w.Observe(history.Op{Process: 0, Type: history.Invoke, F: history.FPublish, Value: val, Time: time.Duration(tick)})
		w.Observe(history.Op{Process: 0, Type: history.OK, F: history.FPublish, Value: val})
		w.Observe(history.Op{Process: 1, Type: history.Invoke, F: history.FPublish, Value: fmt.Sprintf("1-%d", c), Time: 3})
	}
	var got []uint32
	for id, tick := range v.ProcessStarts(0) {
		if want, _ := v.IDs.Lookup(fmt.Sprintf("0-%d", len(got))); id != want {
			t.Fatalf("value %d: id %d, want %d", len(got), id, want)
		}
		got = append(got, tick)
	}
	if !slices.Equal(got, ticks) {
		t.Errorf("ticks %v, want %v", got, ticks)
	}
	n := 0
	for _, tick := range v.ProcessStarts(1) {
		if n++; tick != 3 || n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("process 1: stopped after %d", n)
	}
}
