package reports

import (
	"time"

	"jetstorm/history"
)

// lossSlots is how many parts of a second the loss plot's columns keep
// apart: a column stacks its publishes by part, then by outcome, so a
// streak of lost writes shows where in the second it was.
const lossSlots = 16

// lossTally is what the loss plots need of every publish: where it
// started (its slot: second and part), its outcome, and for an acked one
// its value (an id: valueIDs), which the drain and each node read or not.
type lossTally struct {
	ids  history.ValueIDs
	acks []ackRec
	bad  map[uint32]*[2]int // slot -> failed, unknown publishes

	drained     bool
	read        history.Bitset             // values the final drain read
	node        map[string]*history.Bitset // values read from each node's copy
	nodeDrained map[string]bool
}

type ackRec struct {
	slot uint32
	id   int32
}

func newLossTally() lossTally {
	return lossTally{bad: map[uint32]*[2]int{}, node: map[string]*history.Bitset{}, nodeDrained: map[string]bool{}}
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

func (l *lossTally) acked(start time.Duration, value string) {
	l.acks = append(l.acks, ackRec{slotOf(start), l.idOf(value)})
}

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

// drainRead marks a value the final drain read.
func (l *lossTally) drainRead(value string) { l.read.Add(l.idOf(value)) }

func (l *lossTally) nodeRead(node string, ok bool, value string) {
	b := l.nodeSet(node)
	if ok {
		b.Add(l.idOf(value))
	}
}

func (l *lossTally) nodeDrain(node string, ok bool) {
	l.nodeSet(node)
	if ok {
		l.nodeDrained[node] = true
	}
}

func (l *lossTally) nodeSet(node string) *history.Bitset {
	b := l.node[node]
	if b == nil {
		b = &history.Bitset{}
		l.node[node] = b
	}
	return b
}

func (l *lossTally) idOf(v string) int32 {
	id, _ := l.ids.ID(v)
	return id
}
