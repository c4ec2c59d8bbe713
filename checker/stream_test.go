package checker

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// checkOps shows h to c, op by op, and asks for its Result: the checker
// alone, without Run's context check and panic recovery.
func checkOps(ctx context.Context, c Checker, h []history.Op) Result {
	for _, op := range h {
		c.Observe(op)
	}
	return c.Result(ctx)
}

// counted yields h, counting how often it is ranged over and how many ops
// it yielded.
func counted(h []history.Op, ranges, yielded *int) iter.Seq2[history.Op, error] {
	return func(yield func(history.Op, error) bool) {
		*ranges++
		for _, op := range h {
			*yielded++
			if !yield(op, nil) {
				return
			}
		}
	}
}

// Run reads the history once, whatever the number of checkers, and every
// checker sees every op, in order.
func TestRunStreamReadsOnce(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "lost_on_replicas.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ranges, yielded := 0, 0
	v, rs, err := RunStream(context.Background(), counted(h, &ranges, &yielded), &Queue{}, &PerNode{}, &Recovery{}, rec)
	if err != nil || ranges != 1 || yielded != len(h) {
		t.Fatalf("err %v, ranged %d times, yielded %d of %d ops", err, ranges, yielded, len(h))
	}
	if len(rec.seen) != len(h) {
		t.Fatalf("checker saw %d of %d ops", len(rec.seen), len(h))
	}
	for i, op := range h {
		if rec.seen[i] != op.Index {
			t.Fatalf("op %d: saw index %d, want %d", i, rec.seen[i], op.Index)
		}
	}
	// The same verdicts as each checker shown the slice on its own.
	want := []Result{checkOps(context.Background(), &Queue{}, h), checkOps(context.Background(), &PerNode{}, h),
		checkOps(context.Background(), &Recovery{}, h)}
	for i, w := range want {
		if rs[i].Verdict != w.Verdict || rs[i].Message != w.Message {
			t.Errorf("%s: %s %q, want %s %q", rs[i].Name, rs[i].Verdict, rs[i].Message, w.Verdict, w.Message)
		}
	}
	if v != Invalid || rs[3].Name != "recorder" || rs[3].Verdict != Valid {
		t.Fatalf("%s %+v", v, rs)
	}
}

// recorder records the indexes of the ops it is shown.
type recorder struct{ seen []int64 }

func (*recorder) Name() string                  { return "recorder" }
func (r *recorder) Observe(op history.Op)       { r.seen = append(r.seen, op.Index) }
func (*recorder) Result(context.Context) Result { return Result{Verdict: Valid} }

// A truncated history file reaches the checkers up to the cut: every
// complete op, then RunStream returns the ErrTruncated error with the
// verdicts of that prefix, for the caller to keep (as jetstorm check does).
func TestRunStreamTruncated(t *testing.T) {
	full, err := os.ReadFile(filepath.Join("testdata", "lost.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(full), "\n"), "\n")
	// Cut the history in the middle of its last drain op.
	cut := strings.Join(lines[:len(lines)-1], "") + lines[len(lines)-1][:10]
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.WriteFile(path, []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix, err := history.ReadFile(path)
	if !errors.Is(err, history.ErrTruncated) || len(prefix) != len(lines)-1 {
		t.Fatalf("ReadFile: %d ops, %v", len(prefix), err)
	}
	rec := &recorder{}
	v, rs, err := RunStream(context.Background(), history.Stream(path), &Queue{}, rec)
	if !errors.Is(err, history.ErrTruncated) || !strings.Contains(err.Error(), fmt.Sprintf("history.jsonl:%d:", len(lines))) {
		t.Fatalf("err %v, want a truncated history at line %d", err, len(lines))
	}
	if len(rec.seen) != len(prefix) {
		t.Fatalf("checker saw %d ops, want the %d before the cut", len(rec.seen), len(prefix))
	}
	want := checkOps(context.Background(), &Queue{}, prefix)
	if v != want.Verdict || rs[0].Message != want.Message {
		t.Fatalf("%s %q, want %s %q", v, rs[0].Message, want.Verdict, want.Message)
	}
}

// A malformed line ends the stream too: its error is returned, and the
// checkers judge the ops before it.
func TestRunStreamError(t *testing.T) {
	text := `{"index":0,"type":"ok","f":"note"}` + "\n" + `{"index":1,"type":"maybe","f":"note"}` + "\n" + `{"index":2,"type":"ok","f":"note"}` + "\n"
	rec := &recorder{}
	v, _, err := RunStream(context.Background(), history.StreamFrom(strings.NewReader(text), "h.jsonl"), rec)
	if err == nil || !strings.Contains(err.Error(), "h.jsonl:2: unknown op type") || len(rec.seen) != 1 || v != Valid {
		t.Fatalf("%s, %v, saw %v", v, err, rec.seen)
	}
}

// observePanicky panics on its second op.
type observePanicky struct{ n int }

func (*observePanicky) Name() string { return "observe-panicky" }
func (c *observePanicky) Observe(history.Op) {
	if c.n++; c.n == 2 {
		panic("bad op")
	}
}
func (*observePanicky) Result(context.Context) Result { panic("asked after it panicked") }

// A checker that panics in Observe is Unknown, is shown no more ops and is
// not asked for a Result; the others see the whole history.
func TestRunStreamObservePanic(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	p, rec := &observePanicky{}, &recorder{}
	v, rs := Run(context.Background(), h, p, &Queue{}, rec)
	if v != Unknown || rs[0].Verdict != Unknown || rs[0].Name != "observe-panicky" || rs[0].Message != "checker panicked: bad op" {
		t.Fatalf("%s %+v", v, rs[0])
	}
	if p.n != 2 || rs[1].Verdict != Valid || len(rec.seen) != len(h) || rs[2].Verdict != Valid {
		t.Fatalf("panicky saw %d ops; %+v; recorder saw %d of %d", p.n, rs[1:], len(rec.seen), len(h))
	}
}

// A context done while the stream is read stops the reading: no checker is
// asked, each is Unknown "not checked".
func TestRunStreamCancelledWhileReading(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	yielded := 0
	ops := func(yield func(history.Op, error) bool) {
		for _, op := range h {
			if yielded++; yielded == 3 {
				cancel()
			}
			if !yield(op, nil) {
				return
			}
		}
	}
	rec := &recorder{}
	v, rs, err := RunStream(ctx, ops, rec, &Queue{})
	if err != nil || yielded != 3 || len(rec.seen) != 3 {
		t.Fatalf("err %v; yielded %d, seen %d", err, yielded, len(rec.seen))
	}
	if v != Unknown || rs[0].Message != "not checked: context canceled" || rs[1].Message != "not checked: context canceled" {
		t.Fatalf("%s %+v", v, rs)
	}
	// Done before: nothing is read.
	yielded = 0
	if _, rs, _ := RunStream(ctx, ops, &Queue{}); yielded != 0 || rs[0].Verdict != Unknown {
		t.Fatalf("yielded %d: %+v", yielded, rs)
	}
}
