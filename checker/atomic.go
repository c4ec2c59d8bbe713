package checker

import (
	"slices"

	"jetstorm/history"
)

// Atomic checks the batch workload (history.FBatch): atomic batch publish
// is all or nothing. In the final drain's copy of the stream and in every
// replica's own copy,
//   - a batch whose commit was acked is stored whole, once, in order and
//     contiguous, its last message at the ack's sequence;
//   - a batch whose publish failed is absent;
//   - one whose outcome is unknown is whole or absent, never partial;
//   - every message read belongs to a batch that was published;
//
// complete copies agree on which batches they hold and where (a replica
// with a partial batch is invalid even when the leader's copy is whole).
// During the run, a get (STREAM.MSG.GET or direct get) of the subject's
// last message never shows a batch's message before its last (the server
// isolates those reads from commits), and every batch a reader saw, by
// any path (a consumer may see a prefix), ends up whole.
type Atomic struct {
	ids     history.ValueIDs
	batches []batchFacts // by batch id
	copies  copies[batchCopy, *batchCopy]
	reads   map[string]*ReadPathStats // by read path (its F)
	partial []readExample             // get reads that showed part of a batch
	unread  []readExample             // reads of messages never published
	nunread int
	bad     badOps
	// Unhealed: the cluster was not healthy after the final heal.
	unhealed bool
}

// batchFacts is what the publishes say of one batch.
type batchFacts struct {
	ack  uint64 // the ack's sequence (ok)
	n    uint16 // its size
	out  outcome
	seen uint8 // the read paths (bits: pathBit) that saw one of its messages during the run
}

// batchCopy is one copy of the stream as read back (the drain's, or a
// node's own), judged batch by batch.
type batchCopy struct {
	copyHead
	last        uint64      // the highest sequence read
	st          []copyState // by batch id
	unexpected  []readExample
	nunexpected int
}

// copyState is how much of one batch a copy holds, and whether the
// messages read so far are in order and contiguous.
type copyState struct {
	first, last uint64 // the sequences of its first and last message read
	count, idx  uint16 // messages read; the index of the last one
	torn, twice bool   // out of order or not contiguous; stored again after whole
}

// readExample is one read the check names.
type readExample struct {
	id   int32
	msg  string
	seq  uint64
	node string
	f    string
}

// ReadPathStats are one read path's reads during the run.
type ReadPathStats struct {
	Reads  int `json:"reads"`  // messages read
	Errors int `json:"errors"` // reads that failed (no information)
	// Partial: get reads that showed a message of a batch before its last
	// (never allowed on the get paths; consumers may see a prefix).
	Partial int `json:"partial,omitempty"`
	// SeenThenLost: batches this path saw that the final drain does not
	// hold whole.
	SeenThenLost int `json:"seen_then_lost,omitempty"`
}

func (a *Atomic) Name() string { return "atomic" }

// Observe implements Checker.
func (a *Atomic) Observe(op history.Op) {
	switch op.F {
	case history.FBatch:
		a.publish(op)
	case history.FReadGet, history.FReadDirect, history.FReadConsumer:
		a.read(op)
	case history.FRecover:
		a.unhealed = op.Type == history.Info
	default:
		a.copies.observe(op, func(c *batchCopy, op history.Op) { c.add(a, op) })
	}
}

func (a *Atomic) publish(op history.Op) {
	bid, n, ok := history.ParseBatchName(op.ValueString())
	if !ok || n > 1<<16-1 {
		a.bad.add(op, "not a batch name")
		return
	}
	if op.Type == history.Invoke {
		// Ids are handed out here only, densely: batch id is
		// a.batches[id].
		if _, _, isNew := a.ids.IDKey(bid); !isNew {
			a.bad.add(op, "batch published twice")
			return
		}
		a.batches = append(a.batches, batchFacts{n: uint16(n)})
		return
	}
	id, ok := a.ids.Lookup(bid)
	if !ok || a.batches[id].out != outNone || int(a.batches[id].n) != n {
		a.bad.add(op, "completion without its invoke")
		return
	}
	f := &a.batches[id]
	switch op.Type {
	case history.OK:
		f.out, f.ack = outOK, op.Seq
	case history.Fail:
		f.out = outFail
	case history.Info:
		f.out = outInfo
	default:
		a.bad.add(op, "unknown op type")
	}
}

// message is the published batch a message read belongs to: its id and
// index, false when no batch of that size was published.
func (a *Atomic) message(s string) (id int32, i int, ok bool) {
	bid, i, n, ok := history.ParseBatchMsg(s)
	if !ok {
		return 0, 0, false
	}
	id, ok = a.ids.Lookup(bid)
	if !ok || int(a.batches[id].n) != n {
		return 0, 0, false
	}
	return id, i, true
}

func (a *Atomic) read(op history.Op) {
	if a.reads == nil {
		a.reads = map[string]*ReadPathStats{}
	}
	ps := a.reads[op.F]
	if ps == nil {
		ps = &ReadPathStats{}
		a.reads[op.F] = ps
	}
	if op.Type != history.OK {
		ps.Errors++
		return
	}
	ps.Reads++
	s := op.ValueString()
	ex := readExample{msg: s, seq: op.Seq, node: op.Node, f: op.F}
	id, i, ok := a.message(s)
	if !ok {
		if a.nunread++; len(a.unread) < 10 {
			a.unread = append(a.unread, ex)
		}
		return
	}
	f := &a.batches[id]
	f.seen |= pathBit(op.F)
	if op.F != history.FReadConsumer && i < int(f.n) {
		ps.Partial++
		if ex.id = id; len(a.partial) < 10 {
			a.partial = append(a.partial, ex)
		}
	}
}

// add reads one message into the copy.
func (c *batchCopy) add(a *Atomic, op history.Op) {
	c.last = max(c.last, op.Seq)
	id, i, ok := a.message(op.ValueString())
	if !ok {
		if c.nunexpected++; len(c.unexpected) < 10 {
			c.unexpected = append(c.unexpected, readExample{msg: op.ValueString(), seq: op.Seq, node: op.Node, f: op.F})
		}
		return
	}
	for int(id) >= len(c.st) {
		c.st = append(c.st, copyState{})
	}
	s := &c.st[id]
	n := a.batches[id].n
	switch {
	case s.count == 0:
		s.first, s.torn = op.Seq, i != 1
	case s.idx == n && !s.torn && i == 1 && s.count%n == 0:
		s.twice = true // whole, then from its first message again
	case i != int(s.idx)+1 || op.Seq != s.last+1:
		s.torn = true
	}
	s.count++
	s.idx, s.last = uint16(i), op.Seq
}

// state is what a copy holds of batch id (of n messages).
func (c *batchCopy) state(id int32) copyState {
	if int(id) < len(c.st) {
		return c.st[id]
	}
	return copyState{}
}

func (s copyState) whole(n uint16) bool { return s.count == n && !s.torn && !s.twice }

// judged: whether a copy's read covered where a batch it holds some of
// would be whole, so its holding only part of it is proven (a copy read
// completely covers everything).
func (c *batchCopy) judged(s copyState, n uint16) bool {
	return c.complete || s.first+uint64(n)-1 <= c.last
}

// readPaths are the read functions, in the order of their bits.
var readPaths = []string{history.FReadGet, history.FReadDirect, history.FReadConsumer}

func pathBit(f string) uint8 { return 1 << slices.Index(readPaths, f) }
