package checker

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"jetstorm/history"
)

// Values is what a queue history says about each distinct value: how its
// publishes ended, whether and where the final drain read it, which nodes'
// own copies hold it, when its publish started. The queue and per-node
// checks and the report's loss plots all need these facts of every value,
// so one Values can serve them all (each through its own View), and it
// keeps them in a few bytes a value: about 2.4 of id (history.ValueIDs), a
// byte of state, 2 of stream sequence (history.Near), a bit a node, and
// its process's start ticks run-length coded. It keeps nothing per op.
//
// Ops break the publish protocol when a completion has no invoke, an
// invoke comes while its process has one outstanding, or a publish or read
// value is not a string: those are Bad, and the rest of the op is ignored
// (an outstanding publish taken over counts as indeterminate).
type Values struct {
	taken int64 // ops observed, through every view
	IDs   history.ValueIDs
	st    history.Chunked[uint8] // by id: stOut bits, stPub, drain reads from bit stReadShift
	seq   history.Near[int16]    // by id: the lowest stream sequence the drain read it at

	pubRuns  []idRun // ids in order of their first publish invoke
	procIdx  map[int]int32
	procIDs  []int
	procKeys [][]keyRun // by process: keys of the values it published first, in order
	// Tick, when set, numbers a publish's start time (its invoke's Time):
	// procTicks keeps each process's, for ProcessStarts.
	Tick      func(time.Duration) uint32
	procTicks []tickRuns
	open      map[int]openPub

	// Ids the drain read before any publish of them, in read order.
	readEarly []int32

	nodeIdx map[string]int32
	nodes   []ValuesNode

	// Counts of publish operations (Attempted = the rest summed) and of
	// distinct values read by the drain, more than once among them.
	Attempted, Acked, Failed, Indeterminate int
	Read, Duplicated                        int
	DuplicatedValues                        []string // first maxValues, in read order
	Bad                                     []BadOp  // first 10, in history order
	BadCount                                int
	finished                                bool
}

// outcome is the strongest evidence about a value's publishes, ordered so
// that for a value published more than once (a client retry) an OK ack
// (stored) beats Info (maybe) beats Fail (not stored).
type outcome uint8

const (
	outNone outcome = iota // never published, or never completed (yet)
	outFail
	outInfo
	outOK
)

const (
	stOut       = 3
	stPub       = 4
	stReadShift = 3 // 2 bits: 0, 1, 2 (2 or more)
)

// ValuesNode is what was read of one node's own copy (node-read ops).
type ValuesNode struct {
	Name     string
	Has      history.Bitset // ids read from it
	Complete bool           // a node-drain of it completed (ok)
	// OK: it had an ok node-read or node-drain (a node named only by a
	// failed node-drain is not).
	OK bool
}

// BadOp is an op that breaks the publish protocol: Pos is its position in
// the history (0-based, as observed), for merging with others' lists.
type BadOp struct {
	Pos int64
	Msg string
}

type idRun struct{ start, n int32 }
type keyRun struct {
	start uint64
	n     int32
}

type openPub struct {
	id    int32
	index int64
	value string
}

// View is one observer's access to a Values that others may share: every
// observer shows every op of the history to its own view, in order, and
// the first to show an op applies it. The zero View has a Values of its
// own.
type View struct {
	V *Values
	n int64
}

// Observe shows op (the view's next) to the values.
func (w *View) Observe(op history.Op) {
	if w.V == nil {
		w.V = &Values{}
	}
	if w.n == w.V.taken {
		w.V.observe(op)
		w.V.taken++
	}
	w.n++
}

func (v *Values) bad(format string, args ...any) {
	v.BadCount++
	if len(v.Bad) < 10 {
		v.Bad = append(v.Bad, BadOp{v.taken, fmt.Sprintf(format, args...)})
	}
}

func (v *Values) id(s string) (int32, uint64) {
	id, key, _ := v.IDs.IDKey(s)
	if int(id) == v.st.Len() { // ids are dense: a new one is the next
		v.st.Push(0)
	}
	return id, key
}

func (v *Values) settle(id int32, t history.OpType) {
	o := outInfo
	switch t {
	case history.OK:
		v.Acked++
		o = outOK
	case history.Fail:
		v.Failed++
		o = outFail
	default:
		v.Indeterminate++
	}
	st := v.st.At(int(id))
	if outcome(*st&stOut) < o {
		*st = *st&^stOut | uint8(o)
	}
}

func (v *Values) observe(op history.Op) {
	switch op.F {
	case history.FPublish:
		if v.open == nil {
			v.open, v.procIdx = map[int]openPub{}, map[int]int32{}
		}
		if op.Type == history.Invoke {
			s, ok := op.Value.(string)
			if !ok {
				v.bad("op %d: publish value %v is not a string", op.Index, op.Value)
				return
			}
			if p, busy := v.open[op.Process]; busy {
				// The earlier publish's fate is unknown: count it as Info.
				v.bad("op %d: process %d invoked a publish while op %d was outstanding", op.Index, op.Process, p.index)
				v.settle(p.id, history.Info)
			}
			v.Attempted++
			id, key := v.id(s)
			if st := v.st.At(int(id)); *st&stPub == 0 {
				*st |= stPub
				if r := len(v.pubRuns) - 1; r >= 0 && v.pubRuns[r].start+v.pubRuns[r].n == id {
					v.pubRuns[r].n++
				} else {
					v.pubRuns = append(v.pubRuns, idRun{id, 1})
				}
				pi, ok := v.procIdx[op.Process]
				if !ok {
					pi = int32(len(v.procIDs))
					v.procIdx[op.Process] = pi
					v.procIDs = append(v.procIDs, op.Process)
					v.procKeys = append(v.procKeys, nil)
					v.procTicks = append(v.procTicks, tickRuns{})
				}
				if v.Tick != nil {
					v.procTicks[pi].add(v.Tick(op.Time))
				}
				ks := v.procKeys[pi]
				if r := len(ks) - 1; r >= 0 && ks[r].start+uint64(ks[r].n) == key {
					ks[r].n++
				} else {
					v.procKeys[pi] = append(ks, keyRun{key, 1})
				}
			}
			v.open[op.Process] = openPub{id, op.Index, s}
			return
		}
		p, ok := v.open[op.Process]
		if !ok {
			v.bad("op %d: publish %s by process %d has no invoke", op.Index, op.Type, op.Process)
			return
		}
		delete(v.open, op.Process)
		if s, ok := op.Value.(string); ok && s != p.value {
			v.bad("op %d: publish %s value %q differs from invoke op %d value %q", op.Index, op.Type, s, p.index, p.value)
		}
		v.settle(p.id, op.Type)
	case history.FRead:
		if op.Type != history.OK {
			return
		}
		s, ok := op.Value.(string)
		if !ok {
			v.bad("op %d: read value %v is not a string", op.Index, op.Value)
			return
		}
		id, _ := v.id(s)
		if old := v.seq.Get(int(id)); op.Seq > 0 && (old == 0 || op.Seq < old) {
			v.seq.Set(int(id), op.Seq) // a duplicate's first copy is the one that was stored in order
		}
		st := v.st.At(int(id))
		switch *st >> stReadShift {
		case 0:
			v.Read++
			if *st&stPub == 0 {
				v.readEarly = append(v.readEarly, id)
			}
		case 1:
			v.Duplicated++
			if len(v.DuplicatedValues) < maxValues {
				v.DuplicatedValues = append(v.DuplicatedValues, s)
			}
		default:
			return
		}
		*st += 1 << stReadShift
	case history.FNodeRead:
		if s, ok := op.Value.(string); ok && op.Type == history.OK && op.Node != "" {
			id, _ := v.id(s)
			n := v.node(op.Node)
			n.OK = true
			n.Has.Add(id)
		}
	case history.FNodeDrain:
		if op.Node != "" {
			n := v.node(op.Node)
			if op.Type == history.OK {
				n.OK, n.Complete = true, true
			}
		}
	}
}

func (v *Values) node(name string) *ValuesNode {
	i, ok := v.nodeIdx[name]
	if !ok {
		if v.nodeIdx == nil {
			v.nodeIdx = map[string]int32{}
		}
		i = int32(len(v.nodes))
		v.nodeIdx[name] = i
		v.nodes = append(v.nodes, ValuesNode{Name: name})
	}
	return &v.nodes[i]
}

// Finish ends the history: publishes still outstanding never completed
// and count as indeterminate. Only the first call does anything.
func (v *Values) Finish() {
	if v.finished {
		return
	}
	v.finished = true
	for _, p := range v.open { // order does not matter: settle only counts
		v.settle(p.id, history.Info)
	}
	v.open = nil
}

// Len is how many distinct values there are (ids are 0..Len-1).
func (v *Values) Len() int { return v.IDs.Len() }

// Outcome is how id's publishes ended.
func (v *Values) Outcome(id int32) outcome { return outcome(*v.st.At(int(id)) & stOut) }

// OK is whether a publish of id was acknowledged.
func (v *Values) OK(id int32) bool { return v.Outcome(id) == outOK }

// Published is whether id had a publish invoke.
func (v *Values) Published(id int32) bool { return *v.st.At(int(id))&stPub != 0 }

// Reads is how many times the drain read id, up to 2 (2: more than once).
func (v *Values) Reads(id int32) int { return int(*v.st.At(int(id)) >> stReadShift) }

// Seq is the lowest stream sequence the drain read id at (0: none known).
func (v *Values) Seq(id int32) uint64 { return v.seq.Get(int(id)) }

// PubOrder is every published id, in order of its first publish invoke.
func (v *Values) PubOrder(yield func(int32) bool) {
	for _, r := range v.pubRuns {
		for id := r.start; id < r.start+r.n; id++ {
			if !yield(id) {
				return
			}
		}
	}
}

// PubPosition is a function from a published id to its position in
// PubOrder.
func (v *Values) PubPosition() func(int32) int {
	type span struct{ start, n, pos int32 }
	spans := make([]span, 0, len(v.pubRuns))
	pos := int32(0)
	for _, r := range v.pubRuns {
		spans = append(spans, span{r.start, r.n, pos})
		pos += r.n
	}
	// Runs never overlap (an id is published first once): by start.
	slices.SortFunc(spans, func(a, b span) int { return int(a.start) - int(b.start) })
	return func(id int32) int {
		lo, hi := 0, len(spans)
		for lo < hi {
			m := (lo + hi) / 2
			if spans[m].start+spans[m].n <= id {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return int(spans[lo].pos + id - spans[lo].start)
	}
}

// Processes is how many processes published.
func (v *Values) Processes() int { return len(v.procIDs) }

// Process is the p-th process to publish (0 <= p < Processes).
func (v *Values) Process(p int) int { return v.procIDs[p] }

// ProcessValues are the ids process p published first, in order.
func (v *Values) ProcessValues(p int) func(yield func(int32) bool) {
	return func(yield func(int32) bool) {
		for _, r := range v.procKeys[p] {
			for k := r.start; k < r.start+uint64(r.n); k++ {
				id, _ := v.IDs.KeyID(k)
				if !yield(id) {
					return
				}
			}
		}
	}
}

// ProcessStarts yields the ids ProcessValues(p) yields, each with the Tick
// of its first publish's start (Tick must have been set before the ops).
func (v *Values) ProcessStarts(p int) func(yield func(int32, uint32) bool) {
	return func(yield func(int32, uint32) bool) {
		t := tickReader{runs: &v.procTicks[p]}
		for id := range v.ProcessValues(p) {
			if !yield(id, t.next()) {
				return
			}
		}
	}
}

// tickRuns is a process's ticks, run-length coded: its publishes start in
// time order, so a run of them shares a tick (1/16 s: at 10,000 a second
// over 256 processes, a run of two or three). Each run but the last is a
// uvarint pair in buf: the zigzag delta from the run before's tick, then
// its length.
type tickRuns struct {
	buf        []byte
	prev, tick uint32 // the tick of the last run in buf, and of the open run
	n          uint32 // the open run's length
}

func (t *tickRuns) add(tick uint32) {
	if t.n > 0 && tick == t.tick {
		t.n++
		return
	}
	if t.n > 0 {
		d := int64(t.tick) - int64(t.prev)
		t.buf = binary.AppendUvarint(t.buf, uint64(d<<1^d>>63))
		t.buf = binary.AppendUvarint(t.buf, uint64(t.n))
		t.prev = t.tick
	}
	t.tick, t.n = tick, 1
}

// tickReader reads a tickRuns from the start, one tick at a time.
type tickReader struct {
	runs       *tickRuns
	off        int    // into runs.buf
	tick, left uint32 // the current run's tick and how many are left of it
	open       bool   // reading the open run
}

func (r *tickReader) next() uint32 {
	for r.left == 0 {
		if r.off >= len(r.runs.buf) {
			if r.open {
				return r.tick // past the end (cannot happen: a tick per value)
			}
			r.open, r.tick, r.left = true, r.runs.tick, r.runs.n
			continue
		}
		z, k := binary.Uvarint(r.runs.buf[r.off:])
		n, k2 := binary.Uvarint(r.runs.buf[r.off+k:])
		r.off += k + k2
		r.tick = uint32(int64(r.tick) + (int64(z>>1) ^ -int64(z&1)))
		r.left = uint32(n)
	}
	r.left--
	return r.tick
}

// ReadEarly are the ids the drain read before any publish of them (those
// still unpublished at the end were never published), in read order.
func (v *Values) ReadEarly() []int32 { return v.readEarly }

// Nodes are the nodes whose own copies were read (or whose read was
// tried), in order of first sight.
func (v *Values) Nodes() []ValuesNode { return v.nodes }
