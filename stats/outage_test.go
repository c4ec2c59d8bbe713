package stats

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const s = time.Second

// A publisher sending every 100 ms, acked 10 ms later, except during a
// pause from 2 s to 5 s: what it sent then is acked at 5 s. The gap
// tracker finds 2 s..5 s (from the first publish that waited), and
// nothing while acks flow. With failures
// (a leader's death: publishes failing from 2 s) the span starts at the
// first failed publish. At a low rate (one publish every 3 s, acked at
// once) there is no gap, though acks are 3 s apart.
func TestGapTracker(t *testing.T) {
	g := GapTracker{After: s}
	for at := time.Duration(0); at < 10*s; at += 100 * time.Millisecond {
		ack := at + 10*time.Millisecond
		if at >= 2*s && at < 5*s {
			ack = 5 * s
		}
		g.Acked(at, ack)
	}
	if got := g.End(10 * s); !reflect.DeepEqual(got, []Span{{2 * s, 5 * s}}) {
		t.Errorf("pause: %v", got)
	}

	g = GapTracker{After: s}
	g.Acked(1900*time.Millisecond, 1910*time.Millisecond)
	for at := 2 * s; at < 4*s; at += 100 * time.Millisecond {
		g.Failed(at)
	}
	g.Acked(4*s, 4*s+5*time.Millisecond)
	if got := g.End(10 * s); !reflect.DeepEqual(got, []Span{{2 * s, 4*s + 5*time.Millisecond}}) {
		t.Errorf("failures: %v", got)
	}

	g = GapTracker{After: s}
	for at := time.Duration(0); at < 30*s; at += 3 * s {
		g.Acked(at, at+time.Millisecond)
	}
	if got := g.End(30 * s); len(got) != 0 {
		t.Errorf("low rate: %v", got)
	}

	// Still failing at the end: the span runs to the end.
	g = GapTracker{After: s}
	g.Acked(0, time.Millisecond)
	g.Failed(3 * s)
	if got := g.End(6 * s); !reflect.DeepEqual(got, []Span{{3 * s, 6 * s}}) {
		t.Errorf("failing at the end: %v", got)
	}
	// A gap no longer than After is none.
	g = GapTracker{After: s}
	g.Acked(0, 0)
	g.Acked(s/2, s+s/2)
	if got := g.End(2 * s); len(got) != 0 {
		t.Errorf("short gap: %v", got)
	}
}

func TestIntersect(t *testing.T) {
	a := []Span{{1 * s, 4 * s}, {6 * s, 9 * s}}
	b := []Span{{2 * s, 7 * s}, {8 * s, 10 * s}}
	want := []Span{{2 * s, 4 * s}, {6 * s, 7 * s}, {8 * s, 9 * s}}
	if got := Intersect(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := Intersect(a, nil); len(got) != 0 {
		t.Errorf("one publisher never unavailable: %v", got)
	}
	if got := Intersect(a); !reflect.DeepEqual(got, a) {
		t.Errorf("one list: %v", got)
	}
	if got := Intersect(); got != nil {
		t.Errorf("no lists: %v", got)
	}
}

// A fault from 10 s to 14 s over one-second windows of 1000 acks/s: acks
// stop from 10 s to 13 s, then a burst; latency 1 ms before and after, 3 s
// during. Outages inside the fault (or right after it) are its own.
func TestFaultImpacts(t *testing.T) {
	hist := func(ms int64) []byte {
		h := hdrhistogram.New(1, 60_000_000, 3)
		for range 100 {
			h.RecordValue(ms * 1000)
		}
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	r := &BenchResult{Outages: []Span{{3 * s, 3*s + 1500*time.Millisecond}, {10 * s, 13 * s}, {25 * s, 27 * s}}}
	for i := 0; i < 20; i++ {
		w := BenchWindow{Start: time.Duration(i) * s, AcksReceived: 1000, Offered: 1000, PubAckHist: hist(1)}
		switch {
		case i >= 10 && i < 13:
			w.AcksReceived, w.Errors, w.PubAckHist = 0, 7, hist(3000)
		case i == 13:
			w.AcksReceived = 4000
		}
		r.Windows = append(r.Windows, w)
	}
	got := r.FaultImpacts([]FaultImpact{{Kind: "pause", Nodes: []string{"n1"}, Span: Span{10 * s, 14 * s}}})[0]
	if got.Unavailable != 3*s || len(got.Outages) != 1 {
		t.Errorf("unavailable %v %v, want 3s", got.Unavailable, got.Outages)
	}
	if got.Recovery != 3*s || !got.Recovered || got.Baseline != 1000 {
		t.Errorf("recovery %v %v baseline %v, want 3s after a drop from 1000", got.Recovery, got.Recovered, got.Baseline)
	}
	if got.Errors != 21 {
		t.Errorf("errors %d, want 21", got.Errors)
	}
	if got.Before.P99 != 1 || got.During.P99 < 2990 || got.After.P99 != 1 || got.During.Count != 400 {
		t.Errorf("p99 before %v during %v (%d) after %v", got.Before.P99, got.During.P99, got.During.Count, got.After.P99)
	}

	// No drop, no outage: recovery 0.
	if got := r.FaultImpacts([]FaultImpact{{Span: Span{15 * s, 16 * s}}})[0]; got.Recovery != 0 || !got.Recovered || got.Unavailable != 0 {
		t.Errorf("no drop: %+v", got)
	}
	// Never back: throughput stays down to the end.
	for i := 10; i < 20; i++ {
		r.Windows[i].AcksReceived = 10
	}
	if got := r.FaultImpacts([]FaultImpact{{Span: Span{10 * s, 14 * s}}})[0]; got.Recovered {
		t.Errorf("recovered %v after %v, want never", got.Recovered, got.Recovery)
	}
}

// The edges: a drop that starts a second into the fault still counts
// from the fault's start; exactly 90 % is back; a fault at the run's start
// has no baseline (0, not NaN) and its windows from the first; the zero
// tracker finds nothing; spans that only touch do not intersect.
func TestFaultImpactEdges(t *testing.T) {
	r := &BenchResult{}
	for i := 0; i < 12; i++ {
		w := BenchWindow{Start: time.Duration(i) * s, AcksReceived: 1000, Errors: 1}
		switch i {
		case 6, 7:
			w.AcksReceived = 0
		case 8:
			w.AcksReceived = 900
		}
		r.Windows = append(r.Windows, w)
	}
	got := r.FaultImpacts([]FaultImpact{{Span: Span{5 * s, 9 * s}}})[0]
	if got.Recovery != 3*s || !got.Recovered {
		t.Errorf("drop a second into the fault: recovery %v %v, want 3s (back at exactly 90%%)", got.Recovery, got.Recovered)
	}
	got = r.FaultImpacts([]FaultImpact{{Span: Span{0, 2 * s}}})[0]
	if got.Baseline != 0 || got.Errors != 2 || got.Recovery != 0 || !got.Recovered {
		t.Errorf("fault at the start: %+v", got)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("fault at the start: %v", err)
	}

	var g GapTracker
	g.Acked(0, 0)
	g.Acked(s, 5*s)
	if got := g.End(6 * s); len(got) != 0 {
		t.Errorf("zero tracker: %v", got)
	}
	if got := Intersect([]Span{{1 * s, 2 * s}}, []Span{{2 * s, 3 * s}}); len(got) != 0 {
		t.Errorf("touching spans: %v", got)
	}
}
