package faults

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"jetstorm/clusters"
	"jetstorm/history"
)

// fakeCluster is healthy at once and counts the health waits.
type fakeCluster struct{ waits atomic.Int32 }

func (*fakeCluster) Name() string                  { return "fake" }
func (*fakeCluster) Nodes() []clusters.Node        { return nil }
func (*fakeCluster) Recover(context.Context) error { return nil }
func (*fakeCluster) Close(context.Context) error   { return nil }
func (f *fakeCluster) WaitHealthy(context.Context) error {
	f.waits.Add(1)
	return nil
}

// eventFault logs "start T" at injection and "end T" at its heal.
type eventFault struct {
	NoParams
	mu     *sync.Mutex
	events *[]string
}

func (eventFault) Name() string               { return "test-event" }
func (eventFault) Needs() Needs               { return Needs{} }
func (eventFault) Check(Spec, []string) error { return nil }
func (f eventFault) log(e string)             { f.mu.Lock(); *f.events = append(*f.events, e); f.mu.Unlock() }
func (f eventFault) Inject(_ context.Context, _ clusters.Cluster, _ Env, s Spec, _ *rand.Rand) (*Injection, error) {
	f.log("start " + s.Target)
	return &Injection{Targets: []string{s.Target}, Heal: func(context.Context) error { f.log("end " + s.Target); return nil }}, nil
}

// Timeline faults overlap: the second starts at its time while the first
// lasts (without a health wait: the cluster cannot be healthy then), each
// heals at its own time, and the history pairs each start with its end.
func TestRunPlanOverlapping(t *testing.T) {
	var mu sync.Mutex
	var events []string
	Registry["test-event"] = eventFault{mu: &mu, events: &events}
	defer delete(Registry, "test-event")

	c := &fakeCluster{}
	rec := history.NewRecorder(io.Discard, true)
	// B ends 700 ms before A: the order of the ends holds on a busy machine.
	plan := []Planned{
		{At: 0, For: 1500 * time.Millisecond, Spec: Spec{Kind: "test-event", Target: "A"}},
		{At: 400 * time.Millisecond, For: 400 * time.Millisecond, Spec: Spec{Kind: "test-event", Target: "B"}},
		{At: 1800 * time.Millisecond, For: 100 * time.Millisecond, Spec: Spec{Kind: "test-event", Target: "C"}},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := RunPlan(context.Background(), c, Env{}, plan, rec, time.Now(), log); err != nil {
		t.Fatal(err)
	}
	want := []string{"start A", "start B", "end B", "end A", "start C", "end C"}
	if !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	if n := c.waits.Load(); n != 2 {
		t.Errorf("%d health waits, want 2 (before A and C, not while A lasts)", n)
	}
	ends := map[int]string{}
	for _, op := range rec.Ops() {
		if op.F != history.FFault {
			continue
		}
		nodes := op.Value.(map[string]any)["nodes"].([]string)[0]
		if op.Type == history.Invoke {
			ends[op.Process] = nodes
		} else if ends[op.Process] != nodes {
			t.Errorf("end of %s recorded as process %d, which started %q", nodes, op.Process, ends[op.Process])
		}
	}
	if len(ends) != 3 {
		t.Errorf("%d fault processes, want one per fault: %v", len(ends), ends)
	}
}
