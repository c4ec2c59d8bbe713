package reports

import (
	"time"

	"jetstorm/checker"
)

// lossSlots is how many parts of a second the loss plot's columns keep
// apart: a column stacks its publishes by part, then by outcome, so a
// streak of lost writes shows where in the second it was.
const lossSlots = 16

// lossTally is what the loss plots need of every publish: where it
// started (its slot: second and part) and its outcome. Which acked values
// the drain and each node read are the values' (checker.Values, shared
// with the checks when the digest is given theirs).
type lossTally struct {
	view checker.View       // the values' Tick is slotOf
	bad  map[uint32]*[2]int // slot -> failed, unknown publishes

	drained bool
}

func newLossTally(v *checker.Values) lossTally {
	if v == nil {
		v = &checker.Values{}
	}
	v.Tick = slotOf
	return lossTally{view: checker.View{V: v}, bad: map[uint32]*[2]int{}}
}

// slotOf is the slot of a publish that started at t: second 0 is slots
// lossSlots.. (t < 0 is second -1, as secondOf has it).
func slotOf(t time.Duration) uint32 {
	s := secondOf(t) + 1
	part := int64(0)
	if t >= 0 {
		part = int64(t%time.Second) * lossSlots / int64(time.Second)
	}
	return uint32(s*lossSlots + part)
}

func secondOfSlot(slot uint32) int64 { return int64(slot/lossSlots) - 1 }

func (l *lossTally) failed(start time.Duration)  { l.badAt(start)[0]++ }
func (l *lossTally) unknown(start time.Duration) { l.badAt(start)[1]++ }

func (l *lossTally) badAt(start time.Duration) *[2]int {
	s := slotOf(start)
	b := l.bad[s]
	if b == nil {
		b = new([2]int)
		l.bad[s] = b
	}
	return b
}
