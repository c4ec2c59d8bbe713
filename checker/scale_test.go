package checker

import (
	"context"
	"io"
	"slices"
	"testing"

	"jetstorm/history"
	"jetstorm/history/histgen"
)

// A million-line history, streamed: the queue check finds exactly the lost
// values histgen left unread, in the prefix, the middle and the postfix.
func TestQueueMillionLines(t *testing.T) {
	pr, pw := io.Pipe()
	expect := make(chan histgen.Expect, 1)
	go func() {
		e, err := histgen.Queue(pw, histgen.Options{Publishes: 333_334, Lost: 250})
		expect <- e
		pw.CloseWithError(err)
	}()
	q := &Queue{}
	v, rs, err := RunStream(context.Background(), history.StreamFrom(pr, "gen.jsonl"), q)
	if err != nil {
		t.Fatal(err)
	}
	e := <-expect
	s := rs[0].Details.(QueueStats)
	if v != Invalid || s.Attempted != 333_334 || s.Lost != e.Lost || s.LostPrefix != e.Prefix || s.LostMiddle != e.Middle || s.LostPostfix != e.Postfix {
		t.Errorf("verdict %s; %d attempted, lost %d (prefix %d, middle %d, postfix %d); want 333334 attempted, lost %d (%d, %d, %d)",
			v, s.Attempted, s.Lost, s.LostPrefix, s.LostMiddle, s.LostPostfix, e.Lost, e.Prefix, e.Middle, e.Postfix)
	}
	if e.Prefix == 0 || e.Middle == 0 || e.Postfix == 0 {
		t.Errorf("the history should lose values in every part: %+v", e)
	}
	if len(s.LostValues) < len(e.FirstLost) || !slices.Equal(s.LostValues[:len(e.FirstLost)], e.FirstLost) {
		t.Errorf("first lost values %v, want %v", s.LostValues, e.FirstLost)
	}
}
